"""Small steps the scenario tests share: make a group everyone joined, read what each member sees."""

from __future__ import annotations

from typing import Any, Iterable

from mlsgroup.domain import MessageKind


def joined(client: Any, group_id: bytes) -> Any:
    """``client`` processes its welcomes and returns its copy of ``group_id`` (failing if it was not welcomed)."""
    welcomed = {g.group_id: g for g in client.sync_welcomes()}
    assert group_id in welcomed, f"{client.inbox_id[:8]} got no welcome to {group_id.hex()}"
    return client.group(group_id)


def group_of(creator: Any, *members: Any, **options: Any) -> tuple[Any, ...]:
    """A group created by ``creator`` with ``members``; returns every member's copy, creator first."""
    group = creator.create_group([m.inbox_id for m in members], **options)
    return (group, *(joined(m, group.group_id) for m in members))


def sync_all(*groups: Any) -> None:
    for group in groups:
        group.sync()


def texts(group: Any) -> list[tuple[str, bytes]]:
    """(sender inbox, content) of the application messages ``group`` stores, oldest first."""
    return [(m.sender_inbox_id, bytes(m.content)) for m in group.messages(kind=MessageKind.APPLICATION) if m.content_type == "text"]


def transcripts(group: Any) -> list[Any]:
    """The GroupUpdated values of the membership-change messages ``group`` stores, oldest first."""
    return [m.group_updated for m in group.messages(kind=MessageKind.MEMBERSHIP_CHANGE)]


def member_inboxes(group: Any) -> list[str]:
    return sorted(m.inbox_id for m in group.members())


def installations_of(group: Any, inbox_id: str) -> set[bytes]:
    for member in group.members():
        if member.inbox_id == inbox_id:
            return set(member.installation_ids)
    return set()


def envelope_count(net: Any, group_id: bytes) -> int:
    return len(net.api.query_group_messages(group_id))


def agree(groups: Iterable[Any]) -> None:
    """All copies agree on epoch, authenticator, members, name and admin lists."""
    views = [
        (g.epoch, bytes(g.epoch_authenticator), member_inboxes(g), g.name, sorted(g.admins()), sorted(g.super_admins()))
        for g in groups
    ]
    assert all(view == views[0] for view in views), views
