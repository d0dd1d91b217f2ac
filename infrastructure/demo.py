"""``mlsgroup demo``: a scripted conversation among alice, bob, carol and dave on the embedded default
(in-memory network, encrypted SQLite stores), printed as a transcript and checked as it runs.

Every line the demo prints comes from a call it just made: who called what, and whether it returned
(OK, with the epoch the caller's copy reached) or raised (the exception's class and message); then
member lists, roles and messages as each client's own copy shows them. Each step states what it
expects; the demo ends by auditing every client's store (``mlsgroup audit``) and exits 0 only if
every expectation held.
"""

from __future__ import annotations

import enum
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Optional, TextIO

from mlsgroup.domain import (
    MembershipState,
    MessageKind,
    MetadataField,
    PermissionPolicyOption,
    PermissionUpdateType,
    Preset,
    errors,
)

from .client import Client
from .network import Network

__all__ = ["run_demo", "Transcript"]

NAMES = ("alice", "bob", "carol", "dave")


class Transcript:
    """Prints steps and checks; remembers every expectation that did not hold."""

    def __init__(self, out: TextIO, names: dict[str, str]) -> None:
        self.out = out
        self.names = names  # inbox id -> name
        self.failures: list[str] = []
        self.steps = 0
        self.checks = 0

    def say(self, text: str = "") -> None:
        print(text, file=self.out)

    def section(self, title: str) -> None:
        self.say()
        self.say(f"== {title}")

    def name(self, inbox_id: str) -> str:
        return self.names.get(inbox_id, inbox_id[:10] + "…")

    def step(self, who: str, what: str, call: Callable[[], Any], *, raises: Optional[type[BaseException]] = None,
             epoch_of: Any = None, show: Optional[Callable[[Any], str]] = None) -> Any:
        """Run ``call``; print its outcome (``show(result)``, or the epoch ``epoch_of`` reached after it);
        check it returned (or raised ``raises``)."""
        self.steps += 1
        try:
            result = call()
        except Exception as exc:  # noqa: BLE001 - every outcome is shown, then judged
            outcome = f"raised {type(exc).__name__}: {exc}"
            held = raises is not None and isinstance(exc, raises)
            self._outcome(who, what, outcome, held, f"expected {'OK' if raises is None else raises.__name__}")
            return exc
        outcome = "OK"
        if show is not None:
            outcome += f" ({show(result)})"
        elif epoch_of is not None:
            outcome += f" (epoch {epoch_of.epoch})"
        held = raises is None
        self._outcome(who, what, outcome, held, f"expected {raises.__name__ if raises else 'OK'}")
        return result

    def _outcome(self, who: str, what: str, outcome: str, held: bool, expectation: str) -> None:
        mark = "ok " if held else "FAIL"
        self.say(f"  [{mark}] {who:<6} {what} -> {outcome}" + ("" if held else f"   <-- {expectation}"))
        if not held:
            self.failures.append(f"{who} {what}: {outcome} ({expectation})")

    def check(self, description: str, actual: Any, expected: Any) -> bool:
        """Print a fact read from the clients and whether it is what the script expects."""
        self.checks += 1
        held = actual == expected
        shown = _shown(actual) if held else f"{_shown(actual)}, expected {_shown(expected)}"
        self.say(f"  [{'ok ' if held else 'FAIL'}] check  {description}: {shown}")
        if not held:
            self.failures.append(f"{description}: {actual!r} != {expected!r}")
        return held

    # -- views ---------------------------------------------------------------------------------

    def members(self, group: Any) -> list[str]:
        return sorted(self.name(m.inbox_id) for m in group.members())

    def roster(self, who: str, group: Any) -> None:
        members = ", ".join(
            f"{self.name(m.inbox_id)}({m.permission_level.name.lower()})"
            for m in sorted(group.members(), key=lambda m: self.name(m.inbox_id))
        )
        self.say(f"         {who} sees epoch {group.epoch}, members: {members}")

    def describe(self, message: Any) -> str:
        if message.kind is MessageKind.MEMBERSHIP_CHANGE and message.group_updated is not None:
            return "[" + self._transcript(message.group_updated) + "]"
        if message.content_type == "text":
            return f"{self.name(message.sender_inbox_id)}: {message.text!r}"
        return f"{self.name(message.sender_inbox_id)}: <{message.content_type}, {len(message.content)} bytes>"

    def _transcript(self, update: Any) -> str:
        by = self.name(update.initiated_by_inbox_id)
        parts = []
        for label, inboxes in (("added", update.added_inboxes), ("removed", update.removed_inboxes),
                               ("removed (they left)", update.left_inboxes), ("made admin", update.added_admins),
                               ("revoked admin of", update.removed_admins), ("made super admin", update.added_super_admins),
                               ("revoked super admin of", update.removed_super_admins)):
            if inboxes:
                parts.append(f"{label} {', '.join(self.name(i) for i in inboxes)}")
        for change in update.metadata_field_changes:
            parts.append(f"set {change.field_name} {change.old_value or ''!r} -> {change.new_value or ''!r}")
        return f"{by} " + "; ".join(parts) if parts else f"{by} changed the group"

    def messages(self, who: str, group: Any) -> list[str]:
        lines = [self.describe(m) for m in group.messages()]
        self.say(f"         {who} reads {len(lines)} message(s):")
        for line in lines:
            self.say(f"           {line}")
        return lines

    def texts(self, group: Any) -> list[str]:
        return [m.text for m in group.messages() if m.kind is MessageKind.APPLICATION and m.content_type == "text"]


def _shown(value: Any) -> str:
    if isinstance(value, bytes):
        return value.hex()[:16] + ("…" if len(value) > 8 else "")
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) if isinstance(v, (bytes, enum.Enum)) else repr(v) for v in value) + "]"
    return str(value)


def _group(group: Any) -> str:
    return f"{group.conversation_type.name.lower()} {group.group_id.hex()[:8]}…, epoch {group.epoch}"


def _joined(groups: list[Any]) -> str:
    return "joined " + (", ".join(_group(g) for g in groups) if groups else "nothing")


def _clients(folder: Path, net: Network) -> dict[str, Client]:
    clients = {}
    for name in NAMES:
        key = os.urandom(32)
        (folder / f"{name}.key").write_text(key.hex() + "\n")
        clients[name] = Client.create(net, store=folder / f"{name}.db", encryption_key=key)
    return clients


def _script(t: Transcript, c: dict[str, Client]) -> None:
    alice, bob, carol, dave = (c[n] for n in NAMES)

    t.section("1. alice creates a group with the ADMINS_ONLY preset")
    group = t.step("alice", "create_group([bob, carol], ADMINS_ONLY, name='Project X')",
                   lambda: alice.create_group([bob.inbox_id, carol.inbox_id], permissions=Preset.ADMINS_ONLY, name="Project X"),
                   show=_group)
    t.roster("alice", group)
    t.check("alice's copy: members", t.members(group), ["alice", "bob", "carol"])
    t.check("super admins", [t.name(i) for i in group.super_admins()], ["alice"])
    joined_bob = t.step("bob", "sync_welcomes()", bob.sync_welcomes, show=_joined)
    joined_carol = t.step("carol", "sync_welcomes()", carol.sync_welcomes, show=_joined)
    t.check("bob joined alice's group", [g.group_id for g in joined_bob], [group.group_id])
    t.check("carol joined alice's group", [g.group_id for g in joined_carol], [group.group_id])
    g_bob, g_carol = bob.group(group.group_id), carol.group(group.group_id)
    t.check("bob's membership state", g_bob.membership_state, MembershipState.PENDING)
    t.check("bob sees the name", g_bob.name, "Project X")

    t.section("2. messages both ways")
    t.step("alice", "send_text('hi team')", lambda: group.send_text("hi team"))
    t.step("bob", "sync()", g_bob.sync)
    t.step("bob", "send_text('hello alice')", lambda: g_bob.send_text("hello alice"))
    t.step("carol", "sync()", g_carol.sync)
    t.step("alice", "sync()", group.sync)
    t.check("carol reads", t.texts(g_carol), ["hi team", "hello alice"])
    t.check("alice reads", t.texts(group), ["hi team", "hello alice"])

    t.section("3. carol, a plain member, is denied by the group's permissions")
    epoch = group.epoch
    t.step("carol", "remove_members([bob])", lambda: g_carol.remove_members([bob.inbox_id]), raises=errors.InsufficientPermissions)
    t.step("carol", "add_members([dave])", lambda: g_carol.add_members([dave.inbox_id]), raises=errors.InsufficientPermissions)
    t.step("carol", "update_name('Carol was here')", lambda: g_carol.update_name("Carol was here"), raises=errors.InsufficientPermissions)
    t.step("alice", "sync()", group.sync)
    t.check("the group did not change (alice's epoch)", group.epoch, epoch)
    t.check("members", t.members(group), ["alice", "bob", "carol"])

    t.section("4. admin changes: bob becomes admin and adds dave; a policy is relaxed")
    t.step("alice", "add_admin(bob)", lambda: group.add_admin(bob.inbox_id), epoch_of=group)
    t.step("bob", "sync()", g_bob.sync)
    t.check("bob is admin (bob's copy)", g_bob.is_admin(bob.inbox_id), True)
    t.step("bob", "update_permission(ADD_MEMBER, ALLOW)",
           lambda: g_bob.update_permission(PermissionUpdateType.ADD_MEMBER, PermissionPolicyOption.ALLOW),
           raises=errors.InsufficientPermissions)
    t.step("bob", "add_members([dave])", lambda: g_bob.add_members([dave.inbox_id]), epoch_of=g_bob)
    t.step("dave", "sync_welcomes()", dave.sync_welcomes, show=_joined)
    g_dave = dave.group(group.group_id)
    t.step("alice", "update_permission(UPDATE_METADATA, ALLOW, GROUP_NAME)",
           lambda: group.update_permission(PermissionUpdateType.UPDATE_METADATA, PermissionPolicyOption.ALLOW,
                                           MetadataField.GROUP_NAME), epoch_of=group)
    t.step("carol", "sync()", g_carol.sync)
    t.step("carol", "update_name('Project X (with dave)')", lambda: g_carol.update_name("Project X (with dave)"), epoch_of=g_carol)
    for who, g in (("alice", group), ("bob", g_bob), ("dave", g_dave)):
        t.step(who, "sync()", g.sync)
    t.roster("alice", group)
    t.check("dave sees the new name", g_dave.name, "Project X (with dave)")
    t.check("members", t.members(group), ["alice", "bob", "carol", "dave"])

    t.section("5. dave leaves: a leave request, then a super admin's sync removes him")
    t.step("alice", "leave()", group.leave, raises=errors.SuperAdminLeaveForbidden)
    t.step("dave", "send_text('bye all')", lambda: g_dave.send_text("bye all"))
    t.step("dave", "leave()", g_dave.leave)
    t.check("dave's membership state", g_dave.membership_state, MembershipState.PENDING_REMOVE)
    t.step("alice", "sync()", group.sync, epoch_of=group)
    t.check("members after alice's sync", t.members(group), ["alice", "bob", "carol"])
    t.step("dave", "sync()", g_dave.sync)
    t.check("dave's copy is active", g_dave.is_active, False)
    t.step("dave", "send_text('still here?')", lambda: g_dave.send_text("still here?"), raises=errors.GroupInactive)

    t.section("6. bob (admin) removes carol; the removed members cannot read on")
    t.step("bob", "sync()", g_bob.sync)
    t.step("bob", "remove_members([carol])", lambda: g_bob.remove_members([carol.inbox_id]), epoch_of=g_bob)
    t.step("carol", "sync()", g_carol.sync)
    t.check("carol's copy is active", g_carol.is_active, False)
    t.step("carol", "send_text('can anyone hear me?')", lambda: g_carol.send_text("can anyone hear me?"), raises=errors.GroupInactive)
    t.step("alice", "send_text('just the two of us now')", lambda: group.send_text("just the two of us now"), epoch_of=group)
    t.step("carol", "sync()", g_carol.sync, raises=errors.GroupInactive)
    t.step("dave", "sync()", g_dave.sync, raises=errors.GroupInactive)
    t.check("carol never reads it", "just the two of us now" in t.texts(g_carol), False)
    t.check("dave never reads it", "just the two of us now" in t.texts(g_dave), False)
    t.step("bob", "sync()", g_bob.sync)
    t.check("bob reads it", t.texts(g_bob)[-1], "just the two of us now")

    t.section("7. a DM between alice and bob")
    dm = t.step("alice", "find_or_create_dm(bob)", lambda: alice.find_or_create_dm(bob.inbox_id), show=_group)
    t.step("alice", "send_text('psst, bob')", lambda: dm.send_text("psst, bob"))
    t.step("bob", "sync_welcomes()", bob.sync_welcomes, show=_joined)
    dm_bob = t.step("bob", "find_or_create_dm(alice)", lambda: bob.find_or_create_dm(alice.inbox_id), show=_group)
    t.check("both ends hold the same DM", dm_bob.group_id, dm.group_id)
    t.check("bob's DM peer", t.name(dm_bob.dm_peer_inbox_id or ""), "alice")
    t.step("bob", "sync()", dm_bob.sync)
    t.step("bob", "send_text('yes?')", lambda: dm_bob.send_text("yes?"))
    t.step("bob", "leave()", dm_bob.leave, raises=errors.DmLeaveForbidden)
    t.step("bob", "update_name('secret')", lambda: dm_bob.update_name("secret"), raises=errors.DmGroupMetadataForbidden)
    t.step("alice", "sync()", dm.sync)
    t.check("alice's DM reads", t.texts(dm), ["psst, bob", "yes?"])

    t.section("8. what each member's copy shows")
    for who, g in (("alice", group), ("bob", g_bob)):
        t.step(who, "sync()", g.sync)
    for who, g in (("alice", group), ("bob", g_bob), ("carol", g_carol), ("dave", g_dave)):
        t.say(f"         {who}: epoch {g.epoch}, active={g.is_active}, authenticator {g.epoch_authenticator.hex()[:16]}…")
        t.messages(who, g)
    t.check("alice and bob agree on the epoch", g_bob.epoch, group.epoch)
    t.check("alice and bob agree on the epoch authenticator", g_bob.epoch_authenticator, group.epoch_authenticator)
    t.check("alice and bob read the same messages", t.texts(g_bob), t.texts(group))


def _audit(t: Transcript, folder: Path) -> None:
    from .audit import audit_store

    t.section("9. every store passes `mlsgroup audit` (replay, re-derived outcomes, invariants)")
    for name in NAMES:
        key = bytes.fromhex((folder / f"{name}.key").read_text().strip())
        audit = audit_store(folder / f"{name}.db", key)
        counts: dict[str, int] = {}
        for group in audit.groups:
            for label, n in group.counts.items():
                counts[label] = counts.get(label, 0) + n
        t.say(f"         {name}.db: {len(audit.groups)} group(s), {audit.events} events, "
              f"{counts.get('outcomes re-derived', 0)} outcomes re-derived, {counts.get('commits re-validated', 0)} commits re-validated, "
              f"{audit.violations} violation(s)")
        t.check(f"{name}'s store audits clean", audit.ok, True)


def run_demo(out: Optional[TextIO] = None, keep: Optional[str] = None) -> int:
    """Run the scripted conversation; 0 when every expectation held, 1 otherwise."""
    import sys

    out = out if out is not None else sys.stdout
    folder = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="mlsgroup-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with Network.in_memory() as net:
            clients = _clients(folder, net)
            t = Transcript(out, {client.inbox_id: name for name, client in clients.items()})
            t.say("mlsgroup demo: four clients on an in-memory network, each with an encrypted SQLite store")
            t.say(f"  stores and keys in {folder}" + ("" if keep else " (removed at the end; --keep DIR keeps them)"))
            for name, client in clients.items():
                t.say(f"  {name:<6} inbox {client.inbox_id[:16]}…  installation {client.installation_id.hex()[:16]}…")
            try:
                _script(t, clients)
            except Exception as exc:  # noqa: BLE001 - an unexpected failure ends the script, reported
                t.failures.append(f"the script stopped: {type(exc).__name__}: {exc}")
                t.say(f"  [FAIL] the script stopped: {type(exc).__name__}: {exc}")
            finally:
                for client in clients.values():
                    client.close()
        if not t.failures:
            _audit(t, folder)
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    t.say()
    if t.failures:
        t.say(f"demo FAILED: {len(t.failures)} of {t.steps + t.checks} expectations did not hold:")
        for failure in t.failures:
            t.say(f"  - {failure}")
        return 1
    t.say(f"demo OK: {t.steps} calls and {t.checks} checks, every expectation held")
    return 0
