"""Assertions the group kit makes about the public API (ARCHITECTURE section 5), usable outside pytest.

Each raises ``AssertionError`` with a message naming the client, the group and what differed, so a
failure read in a hypothesis report explains itself.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from mlsgroup.domain import MessageKind, PermissionLevel

from .model import GroupModel, Snapshot

__all__ = ["expect_error", "expect_success", "check_view", "check_messages", "check_transcripts", "view_fingerprint", "TEXT"]

T = TypeVar("T")

TEXT = "text"
"""The content type the kit sends with; other stored messages (transcripts, leave requests) are ignored."""


def expect_error(expected: type[BaseException], what: str, call: Callable[[], Any]) -> BaseException:
    """Run ``call`` and require it to raise ``expected`` (or a subclass)."""
    try:
        result = call()
    except expected as exc:
        return exc
    except Exception as exc:
        raise AssertionError(f"{what}: expected {expected.__name__}, got {type(exc).__name__}: {exc}") from exc
    raise AssertionError(f"{what}: expected {expected.__name__}, but it succeeded and returned {result!r}")


def expect_success(what: str, call: Callable[[], T]) -> T:
    """Run ``call`` and turn any exception into an AssertionError that says what was attempted."""
    try:
        return call()
    except Exception as exc:
        raise AssertionError(f"{what}: expected success, got {type(exc).__name__}: {exc}") from exc


def _level(snapshot: Snapshot, inbox: str) -> PermissionLevel:
    if inbox in snapshot.super_admins:
        return PermissionLevel.SUPER_ADMIN
    if inbox in snapshot.admins:
        return PermissionLevel.ADMIN
    return PermissionLevel.MEMBER


def _differ(who: str, field: str, actual: object, expected: object) -> AssertionError:
    return AssertionError(f"{who}: {field} is {actual!r}, the model expects {expected!r}")


def check_view(who: str, group: Any, snapshot: Snapshot, model: GroupModel) -> None:
    """An active local copy shows exactly the model's state at the epoch it has reached."""
    checks: list[tuple[str, object, object]] = [
        ("is_active", group.is_active, True),
        ("epoch", group.epoch, snapshot.epoch),
        ("creator_inbox_id", group.creator_inbox_id, model.creator),
    ]
    members = group.members()
    checks.append(("member inboxes", sorted(m.inbox_id for m in members), sorted(snapshot.members)))
    checks.append(
        (
            "permission levels",
            sorted((m.inbox_id, m.permission_level.name) for m in members),
            sorted((inbox, _level(snapshot, inbox).name) for inbox in snapshot.members),
        )
    )
    checks.append(("admins", sorted(group.admins()), sorted(snapshot.admins)))
    checks.append(("super_admins", sorted(group.super_admins()), sorted(snapshot.super_admins)))
    checks.append(("name", group.name, snapshot.metadata.get("group_name", "")))
    for field, actual, expected in checks:
        if actual != expected:
            raise _differ(who, field, actual, expected)


def check_messages(who: str, group: Any, model: GroupModel, inbox: str) -> None:
    """The copy stores each message it could decrypt exactly once, and nothing sent while it had no keys."""
    stored = group.messages()
    ids = [m.id for m in stored]
    if len(ids) != len(set(ids)):
        raise AssertionError(f"{who}: a message id is stored twice: {sorted(i.hex() for i in ids)}")
    actual = sorted(
        (m.sender_inbox_id, bytes(m.content), bytes(m.id))
        for m in stored
        if m.kind is MessageKind.APPLICATION and m.content_type == TEXT
    )
    expected = sorted((e.sender, e.content, e.message_id) for e in model.visible_messages(inbox))
    if actual != expected:
        missing = [e for e in expected if e not in actual]
        extra = [a for a in actual if a not in expected]
        raise AssertionError(f"{who}: messages differ from the model; missing {missing!r}, unexpected {extra!r}")


def _transcript(update: Any) -> tuple[object, ...]:
    return (
        update.initiated_by_inbox_id,
        tuple(sorted(update.added_inboxes)),
        tuple(sorted(update.removed_inboxes)),
        tuple(sorted(update.left_inboxes)),
        tuple(sorted((c.field_name, c.old_value, c.new_value) for c in update.metadata_field_changes)),
        tuple(sorted(update.added_admins)),
        tuple(sorted(update.removed_admins)),
        tuple(sorted(update.added_super_admins)),
        tuple(sorted(update.removed_super_admins)),
    )


def check_transcripts(who: str, group: Any, model: GroupModel, inbox: str) -> None:
    """Each commit the copy processed by syncing left its GroupUpdated transcript, in topic order.
    Other transcripts (the welcome's) may sit in between."""
    actual = [_transcript(m.group_updated) for m in group.messages(kind=MessageKind.MEMBERSHIP_CHANGE) if m.group_updated is not None]
    expected = [
        (c.initiated_by, c.added, tuple(x for x in c.removed if x not in left), left, c.metadata, c.added_admins,
         c.removed_admins, c.added_super_admins, c.removed_super_admins)
        for c, left in model.transcripts(inbox)
    ]
    remaining = iter(actual)
    for transcript in expected:
        if not any(found == transcript for found in remaining):
            raise AssertionError(f"{who}: no transcript {transcript!r} in order among {actual!r}")


def view_fingerprint(group: Any) -> tuple[object, ...]:
    """Everything the public API shows of one local copy, to compare a store before and after a reopen."""
    active = group.is_active
    return (
        active,
        group.epoch,
        group.epoch_authenticator if active else None,
        sorted((m.inbox_id, tuple(sorted(m.installation_ids)), m.permission_level.name) for m in group.members()) if active else None,
        sorted(group.admins()),
        sorted(group.super_admins()),
        group.name,
        group.membership_state,
        sorted((bytes(m.id), m.kind.name, m.sender_inbox_id, bytes(m.content)) for m in group.messages()),
    )
