"""GroupMachine: a hypothesis state machine driving 3-6 clients through XMTP group operations in
random interleavings and comparing every result with the naive model (ARCHITECTURE section 5).

Rules: create groups and DMs, add and remove members (including adds past MAX_GROUP_SIZE), send,
rename (sometimes past the length limit), admin and super-admin changes, permission updates, leave,
key updates, syncs (single groups, welcomes, everything), restarts of stored clients. Key updates and
renames may come from a member whose copy is behind, so commits race and must be rebuilt; the other
commands sync the actor first, as a client would, because their local pre-checks read local state.
Every expected refusal is checked with libxmtp's exact error.

Invariants after every step (``harness``): each local copy shows the model's state at the epoch it
reached (epoch, members, levels, admin lists, name, active flag, PENDING_REMOVE after asking to
leave); copies at one epoch agree on the epoch authenticator; each stored message appears once, and
removed members have nothing sent after their removal. ``sync_everyone`` additionally syncs a whole
group and requires full agreement (epoch, authenticator, members, name, admin lists, permissions).
"""

from __future__ import annotations

import threading
from typing import Any

from hypothesis import event, strategies as st
from hypothesis.stateful import multiple, precondition, rule

from mlsgroup.domain import MAX_GROUP_SIZE, MembershipState, MetadataField, PermissionUpdateType, Preset, errors

from . import checks, strategies
from .harness import CLIENTS as clients
from .harness import GROUPS as groups
from .harness import MAX_GROUPS, PICKS, MachineHarness, NetworkFactory, StoreFactory
from .model import GroupModel, Kind, option_word, policy_key
from .phantoms import phantom_inboxes

__all__ = ["GroupMachine", "make_machine"]

_ADMIN_CHANGES = ("add_admin", "remove_admin", "add_super_admin", "remove_super_admin")


class GroupMachine(MachineHarness):
    """The rules; bind a network with ``make_machine`` (or subclass and set ``network_factory``)."""

    # -- groups and DMs --------------------------------------------------------------------------
    @precondition(lambda self: len(self.models) < MAX_GROUPS)
    @rule(
        target=groups,
        creator=clients,
        invitees=st.lists(clients, max_size=3, unique=True),
        preset=strategies.policy_presets(),
        name=strategies.group_names(),
    )
    def create_group(self, creator: int, invitees: list[int], preset: Preset, name: str) -> int:
        return self._create_group(creator, invitees, preset, name)

    @precondition(lambda self: len(self.models) < MAX_GROUPS)
    @rule(target=groups, pair=st.tuples(clients, clients).filter(lambda pair: pair[0] != pair[1]))
    def create_dm(self, pair: tuple[int, int]) -> Any:
        creator, peer = pair
        inbox, peer_inbox = self.inboxes[creator], self.inboxes[peer]
        existing = [m for m in self.models if m.kind is Kind.DM and {m.creator, *m.latest.members} == {inbox, peer_inbox}]
        if existing:
            model = existing[0]
            if model.local(inbox) is None:
                self._sync_welcomes(creator)
            dm = checks.expect_success(f"client {creator} find_or_create_dm (existing)", lambda: self.clients_[creator].find_or_create_dm(peer_inbox))
            if dm.group_id != model.group_id:
                raise AssertionError(f"client {creator}: find_or_create_dm made a second DM instead of returning {model.group_id.hex()}")
            return multiple()
        dm = checks.expect_success(f"client {creator} find_or_create_dm", lambda: self.clients_[creator].find_or_create_dm(peer_inbox))
        model = GroupModel(dm.group_id, Kind.DM, inbox, Preset.DM)
        self.models.append(model)
        model.add([peer_inbox], by=inbox)
        model.catch_up(inbox)
        if dm.dm_peer_inbox_id != peer_inbox:
            raise AssertionError(f"DM of client {creator}: dm_peer_inbox_id is {dm.dm_peer_inbox_id!r}, expected {peer_inbox!r}")
        return len(self.models) - 1

    @rule(actor=clients)
    def sync_welcomes(self, actor: int) -> None:
        self._sync_welcomes(actor)

    @rule(group=groups, pick=PICKS)
    def sync_group(self, group: int, pick: int) -> None:
        actor = self._pick(group, pick)
        model = self.models[group]
        copy = model.local(self.inboxes[actor])
        if copy is None or copy.inactive:
            self._unusable(actor, model, "sync", lambda g: g.sync())
            return
        self._sync(actor, model)

    @rule(actor=clients, group=groups)
    def outsider_is_refused(self, actor: int, group: int) -> None:
        """A client that never joined has no copy: every lookup raises GroupNotFound."""
        model = self.models[group]
        if model.local(self.inboxes[actor]) is None:
            checks.expect_error(errors.GroupNotFound, f"client {actor} looks up a group it never joined", lambda: self._handle(actor, model))

    @rule(actor=clients)
    def sync_all(self, actor: int) -> None:
        inbox = self.inboxes[actor]
        checks.expect_success(f"client {actor} sync_all", self.clients_[actor].sync_all)
        for model in self.models:
            while model.pending_welcomes.get(inbox):
                model.join(inbox)
            copy = model.local(inbox)
            if copy is not None and not copy.inactive:
                model.catch_up(inbox)
                self._settle_leavers(actor, model)

    @rule(group=groups)
    def sync_everyone(self, group: int) -> None:
        """Every member with a copy syncs (welcomes first) until nobody is behind; then all agree."""
        model = self.models[group]
        for actor, inbox in enumerate(self.inboxes):
            if model.pending_welcomes.get(inbox):
                self._sync_welcomes(actor)
        for _ in range(3):
            behind = [a for a, i in enumerate(self.inboxes) if model.can_act(i) and not model.is_current(i)]
            behind += [a for a, i in enumerate(self.inboxes) if (c := model.local(i)) is not None and not c.inactive and i not in model.latest.members]
            if not behind:
                break
            for actor in behind:
                self._sync(actor, model)
        active = [a for a, i in enumerate(self.inboxes) if model.is_current(i)]
        if sorted(self.inboxes[a] for a in active) != sorted(model.latest.members):
            raise AssertionError(f"after everyone synced, active copies {active} do not match members {sorted(model.latest.members)}")
        views = {a: self._handle(a, model) for a in active}
        summary = {
            a: (g.epoch, g.epoch_authenticator, sorted(m.inbox_id for m in g.members()), g.name, sorted(g.admins()), sorted(g.super_admins()), g.permissions())
            for a, g in views.items()
        }
        if len({repr(s) for s in summary.values()}) > 1:
            raise AssertionError(f"members disagree after everyone synced: {summary!r}")

    # -- messages --------------------------------------------------------------------------------
    @rule(group=groups, pick=PICKS, content=strategies.message_contents())
    def send(self, group: int, pick: int, content: bytes) -> None:
        actor = self._pick(group, pick)
        model = self.models[group]
        inbox = self.inboxes[actor]
        if not self._ensure_current(actor, model):
            self._unusable(actor, model, "send", lambda g: g.send(content))
            return
        handle = self._handle(actor, model)
        message_id = checks.expect_success(f"{self._who(actor, model)} send", lambda: handle.send(content, content_type=checks.TEXT))
        if inbox not in model.rotated:
            # A member's first send rotates its leaf key first (libxmtp section 6).
            model.commit(by=inbox)
            model.rotated.add(inbox)
        model.send(inbox, content, bytes(message_id))
        model.catch_up(inbox)

    # -- membership ------------------------------------------------------------------------------
    @rule(group=groups, pick=PICKS, subjects=st.lists(clients, min_size=1, max_size=3, unique=True))
    def add_members(self, group: int, pick: int, subjects: list[int]) -> None:
        actor = self._pick(group, pick)
        model = self.models[group]
        if not self._ensure_current(actor, model):
            self._unusable(actor, model, "add_members", lambda g: g.add_members([self.inboxes[t] for t in subjects]))
            return
        inbox = self.inboxes[actor]
        # A member already added needs nothing; an ex-member is re-added only once its client saw the
        # removal and has no welcome waiting, so the model knows which welcome it processes.
        wanted = [
            self.inboxes[t]
            for t in subjects
            if not model.pending_welcomes.get(self.inboxes[t])
            and ((copy := model.local(self.inboxes[t])) is None or copy.inactive or self.inboxes[t] in model.latest.members)
        ]
        if not wanted:
            event("add_members: no eligible target")
            return
        handle = self._handle(actor, model)
        new = [t for t in wanted if t not in model.latest.members]
        snapshot = model.latest
        allowed = model.kind is Kind.GROUP and snapshot.allows("add_member", inbox)
        what = f"{self._who(actor, model)} add_members({[i[:8] for i in wanted]})"
        if not new:
            # Nothing to add: no commit (libxmtp "Member already added"); a local permission pre-check may refuse.
            try:
                handle.add_members(wanted)
            except errors.InsufficientPermissions:
                pass
            model.catch_up(inbox)
            if model.latest.epoch != snapshot.epoch:
                raise AssertionError(f"{what}: epoch moved without a change")
            return
        if not allowed:
            checks.expect_error(errors.InsufficientPermissions, what, lambda: handle.add_members(wanted))
        else:
            checks.expect_success(what, lambda: handle.add_members(wanted))
            model.add(new, by=inbox)
        self._after_own_commit(actor, model)

    @rule(group=groups, pick=PICKS)
    def add_past_limit(self, group: int, pick: int) -> None:
        """Adding enough registered inboxes to pass MAX_GROUP_SIZE raises UserLimitExceeded and changes nothing."""
        actor = self._pick(group, pick)
        model = self.models[group]
        if model.kind is not Kind.GROUP or not self._ensure_current(actor, model):
            return
        count = MAX_GROUP_SIZE - len(model.latest.members) + 1
        batch = phantom_inboxes(self.net, count)
        handle = self._handle(actor, model)
        before = handle.epoch
        checks.expect_error(errors.UserLimitExceeded, f"{self._who(actor, model)} add {count} inboxes", lambda: handle.add_members(batch))
        after = self._handle(actor, model)
        if after.epoch != before or len(after.members()) != len(model.latest.members):
            raise AssertionError("a refused add past MAX_GROUP_SIZE changed the group")

    @rule(group=groups, pick=PICKS, subjects=st.lists(clients, min_size=1, max_size=2, unique=True))
    def remove_members(self, group: int, pick: int, subjects: list[int]) -> None:
        actor = self._pick(group, pick)
        model = self.models[group]
        if not self._ensure_current(actor, model):
            others = [self.inboxes[t] for t in subjects if t != actor]
            if others:
                self._unusable(actor, model, "remove_members", lambda g: g.remove_members(others))
            return
        inbox = self.inboxes[actor]
        snapshot = model.latest
        removed = [self.inboxes[t] for t in subjects if self.inboxes[t] in snapshot.members and t != actor]
        if not removed:
            event("remove_members: no eligible target")
            return
        handle = self._handle(actor, model)
        what = f"{self._who(actor, model)} remove_members({[i[:8] for i in removed]})"
        allowed = (
            model.kind is Kind.GROUP
            and not any(r in snapshot.super_admins for r in removed)
            and snapshot.allows("remove_member", inbox)
        )
        if allowed:
            checks.expect_success(what, lambda: handle.remove_members(removed))
            model.remove(removed, by=inbox)
        else:
            checks.expect_error(errors.InsufficientPermissions, what, lambda: handle.remove_members(removed))
        self._after_own_commit(actor, model)

    @rule(group=groups, pick=PICKS)
    def leave(self, group: int, pick: int) -> None:
        """libxmtp's leave checks in order: not a member, sole member, DM, super admin."""
        actor = self._pick(group, pick)
        model = self.models[group]
        inbox = self.inboxes[actor]
        copy = model.local(inbox)
        if copy is None:
            self._unusable(actor, model, "leave", lambda g: g.leave())
            return
        if not copy.inactive and not model.is_current(inbox):
            self._sync(actor, model)
        handle = self._handle(actor, model)
        snapshot = model.latest
        what = f"{self._who(actor, model)} leave"
        if copy.inactive or inbox not in snapshot.members:
            checks.expect_error(errors.NotAGroupMember, what, handle.leave)
        elif len(snapshot.members) == 1:
            checks.expect_error(errors.SingleMemberLeaveRejected, what, handle.leave)
        elif model.kind is Kind.DM:
            checks.expect_error(errors.DmLeaveForbidden, what, handle.leave)
        elif inbox in snapshot.super_admins:
            checks.expect_error(errors.SuperAdminLeaveForbidden, what, handle.leave)
        elif inbox in model.pending_leavers:
            # Already pending: libxmtp sends nothing and reports success.
            checks.expect_success(what, handle.leave)
        else:
            checks.expect_success(what, handle.leave)
            if inbox not in model.rotated:
                # The request is a message, so a member that never rotated its key does so first.
                model.commit(by=inbox)
                model.rotated.add(inbox)
            model.request_leave(inbox)
            model.catch_up(inbox)
        if model.is_current(inbox) and inbox in model.pending_leavers:
            state = self._handle(actor, model).membership_state
            if state is not MembershipState.PENDING_REMOVE:
                raise AssertionError(f"{what}: membership_state is {state}, expected PENDING_REMOVE")

    # -- metadata, admins, permissions, keys -----------------------------------------------------
    @rule(group=groups, pick=PICKS, name=strategies.metadata_values(MetadataField.GROUP_NAME))
    def rename(self, group: int, pick: int, name: str) -> None:
        """Renames may come from a copy that is behind: the commit is rebuilt on the winner's epoch."""
        actor = self._pick(group, pick)
        model = self.models[group]
        inbox = self.inboxes[actor]
        if not model.can_act(inbox):
            if not self._ensure_current(actor, model):
                self._unusable(actor, model, "update_name", lambda g: g.update_name(name))
                return
        if not model.is_current(inbox):
            event("rename from a copy that is behind")
        handle = self._handle(actor, model)
        what = f"{self._who(actor, model)} update_name({name[:12]!r}...)"
        if model.kind is Kind.DM:
            checks.expect_error(errors.DmGroupMetadataForbidden, what, lambda: handle.update_name(name))
            return
        if len(name.encode()) > strategies.LIMITED_FIELDS[MetadataField.GROUP_NAME]:
            checks.expect_error(errors.TooManyCharacters, what, lambda: handle.update_name(name))
            return
        # Setting the current value changes no field, so no metadata policy applies (libxmtp diffs them).
        allowed = model.latest.allows("group_name", inbox) or model.latest.metadata.get("group_name", "") == name
        if allowed:
            checks.expect_success(what, lambda: handle.update_name(name))
            model.commit(by=inbox, metadata={**model.latest.metadata, "group_name": name})
        else:
            checks.expect_error(errors.InsufficientPermissions, what, lambda: handle.update_name(name))
        self._after_own_commit(actor, model)

    @rule(group=groups, pick=PICKS)
    def key_update(self, group: int, pick: int) -> None:
        """Key updates may come from a copy that is behind; they never fail for a member."""
        actor = self._pick(group, pick)
        model = self.models[group]
        inbox = self.inboxes[actor]
        if not model.can_act(inbox):
            if not self._ensure_current(actor, model):
                self._unusable(actor, model, "key_update", lambda g: g.key_update())
                return
        if not model.is_current(inbox):
            event("key update from a copy that is behind")
        handle = self._handle(actor, model)
        checks.expect_success(f"{self._who(actor, model)} key_update", handle.key_update)
        model.commit(by=inbox)
        self._after_own_commit(actor, model)

    @rule(group=groups, picks=st.lists(PICKS, min_size=2, max_size=3, unique=True))
    def racing_key_updates(self, group: int, picks: list[int]) -> None:
        """Members commit at the same moment from their own threads: one commit wins each epoch, the
        others are rebuilt on top of it, and every call succeeds (ARCHITECTURE 5: never a fork)."""
        model = self.models[group]
        actors = sorted({self._pick(group, pick) for pick in picks})
        for actor in actors:
            self._ensure_current(actor, model)
        # A super admin's sync may just have removed one of them: only the current ones race.
        actors = [a for a in actors if model.is_current(self.inboxes[a])]
        if len(actors) < 2:
            return
        handles = [self._handle(a, model) for a in actors]
        failures: list[BaseException] = []

        def update(handle: Any) -> None:
            try:
                handle.key_update()
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(exc)

        threads = [threading.Thread(target=update, args=(h,)) for h in handles]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise AssertionError(f"racing key updates by clients {actors} failed: {failures!r}") from failures[0]
        event("racing key updates")
        first = model.latest.epoch + 1
        for actor in actors:
            model.commit(by=self.inboxes[actor])
            model.rotated.add(self.inboxes[actor])
        # Each call returns once its own commit merged, so an early winner has not seen the later ones.
        for actor in actors:
            epoch = self._handle(actor, model).epoch
            if not first <= epoch <= model.latest.epoch:
                raise AssertionError(f"client {actor} ended its racing key update at epoch {epoch}, not in {first}..{model.latest.epoch}")
            model.stop_at_epoch(self.inboxes[actor], epoch)

    @rule(group=groups, pick=PICKS, change=st.sampled_from(_ADMIN_CHANGES), member=clients)
    def change_admins(self, group: int, pick: int, change: str, member: int) -> None:
        actor = self._pick(group, pick)
        model = self.models[group]
        if not self._ensure_current(actor, model):
            self._unusable(actor, model, change, lambda g: getattr(g, change)(self.inboxes[member]))
            return
        inbox, subject = self.inboxes[actor], self.inboxes[member]
        snapshot = model.latest
        handle = self._handle(actor, model)
        what = f"{self._who(actor, model)} {change}({subject[:8]})"
        call = lambda: getattr(handle, change)(subject)  # noqa: E731
        if model.kind is Kind.DM:
            checks.expect_error(errors.DmGroupMetadataForbidden, what, call)
            return
        admins, supers = set(snapshot.admins), set(snapshot.super_admins)
        lists = {"add_admin": admins, "remove_admin": admins, "add_super_admin": supers, "remove_super_admin": supers}
        target_list = lists[change]
        adding = change.startswith("add")
        if subject not in snapshot.members or (subject in target_list) == adding:
            event(f"{change}: ineligible target")
            return
        if change == "add_admin":
            allowed = snapshot.allows("add_admin", inbox)
        elif change == "remove_admin":
            allowed = snapshot.allows("remove_admin", inbox)
        else:
            allowed = inbox in supers and (adding or len(supers) > 1)
        if not allowed:
            checks.expect_error(errors.InsufficientPermissions, what, call)
        else:
            checks.expect_success(what, call)
            (target_list.add if adding else target_list.discard)(subject)
            model.commit(by=inbox, admins=frozenset(admins), super_admins=frozenset(supers))
        self._after_own_commit(actor, model)

    @rule(group=groups, pick=PICKS, update=strategies.permission_updates())
    def update_permission(self, group: int, pick: int, update: tuple[PermissionUpdateType, Any, MetadataField | None]) -> None:
        actor = self._pick(group, pick)
        model = self.models[group]
        if not self._ensure_current(actor, model):
            self._unusable(actor, model, "update_permission", lambda g: g.update_permission(*update))
            return
        update_type, option, field = update
        inbox = self.inboxes[actor]
        handle = self._handle(actor, model)
        what = f"{self._who(actor, model)} update_permission{update!r}"
        call = lambda: handle.update_permission(update_type, option, metadata_field=field)  # noqa: E731
        if model.kind is Kind.DM:
            checks.expect_error(errors.DmGroupMetadataForbidden, what, call)
            return
        if update_type is PermissionUpdateType.UPDATE_METADATA and field is None:
            checks.expect_error(errors.InvalidPermissionUpdate, what, call)
            return
        policies = {**model.latest.policies, policy_key(update_type, field): option_word(update_type, option)}
        # Only a super admin may change the policy set; an update that changes nothing needs no right.
        allowed = inbox in model.latest.super_admins or policies == model.latest.policies
        if not allowed:
            checks.expect_error(errors.InsufficientPermissions, what, call)
        else:
            checks.expect_success(what, call)
            model.commit(by=inbox, policies=policies)
        self._after_own_commit(actor, model)

    # -- restarts --------------------------------------------------------------------------------
    @precondition(lambda self: type(self).store_factory is not None)
    @rule(actor=clients)
    def restart(self, actor: int) -> None:
        """Closing and reopening a stored client replays its store into the same state."""
        before = self._fingerprints(actor)
        self.clients_[actor].close()
        reopened = checks.expect_success(f"client {actor} Client.open", lambda: self._client_class.open(self.net, **self.stores[actor]))
        self.clients_[actor] = reopened
        if reopened.inbox_id != self.inboxes[actor]:
            raise AssertionError(f"client {actor} reopened as another inbox")
        after = self._fingerprints(actor)
        if after != before:
            raise AssertionError(f"client {actor}: state after reopening differs:\nbefore {before!r}\nafter  {after!r}")


def make_machine(
    network_factory: NetworkFactory,
    store_factory: StoreFactory | None = None,
    *,
    name: str = "GroupMachine",
) -> type[GroupMachine]:
    """A GroupMachine subclass bound to ``network_factory`` (called once per run, closed at teardown)
    and, optionally, ``store_factory`` (per-client store arguments; enables the ``restart`` rule).

    Run it with ``TestX = make_machine(...).TestCase`` under pytest, or
    ``hypothesis.stateful.run_state_machine_as_test(make_machine(...), settings=...)``.
    """
    attributes = {
        "network_factory": staticmethod(network_factory),
        "store_factory": staticmethod(store_factory) if store_factory is not None else None,
        "__module__": __name__,
    }
    return type(name, (GroupMachine,), attributes)
