"""The GroupUpdated transcript message (xmtp.mls.message_contents.GroupUpdated) recorded for each
commit that changes inboxes, metadata or admin lists.

Wire fields: 1 initiated_by_inbox_id, 2 added_inboxes, 3 removed_inboxes, 4 metadata_field_changes
{1 field_name, 2 optional old_value, 3 optional new_value}, 5 left_inboxes, 6/7 added/removed admins,
8/9 added/removed super admins; every inbox list is ``repeated Inbox {1 inbox_id}``.
"""

from __future__ import annotations

import attrs

from .protobuf import ProtoMessage, ProtoWriter

__all__ = ["MetadataFieldChange", "GroupUpdated", "GROUP_UPDATED_CONTENT_TYPE"]

# The content type libxmtp tags transcript messages with (authority xmtp.org, type group_updated).
GROUP_UPDATED_CONTENT_TYPE = "xmtp.org/group_updated:1.0"


@attrs.frozen
class MetadataFieldChange:
    """One attribute's change; None means the attribute was absent before / is absent after."""

    field_name: str
    old_value: str | None = None
    new_value: str | None = None

    def encode(self) -> bytes:
        writer = ProtoWriter().string(1, self.field_name)
        if self.old_value is not None:
            writer.string(2, self.old_value, present=True)
        if self.new_value is not None:
            writer.string(3, self.new_value, present=True)
        return writer.finish()

    @classmethod
    def decode(cls, data: bytes) -> MetadataFieldChange:
        message = ProtoMessage(data)
        return cls(message.string(1) or "", message.string(2), message.string(3))


_INBOX_LISTS = (
    (2, "added_inboxes"),
    (3, "removed_inboxes"),
    (5, "left_inboxes"),
    (6, "added_admins"),
    (7, "removed_admins"),
    (8, "added_super_admins"),
    (9, "removed_super_admins"),
)

@attrs.frozen
class GroupUpdated:
    """What a commit changed, as every member's transcript records it."""

    initiated_by_inbox_id: str
    added_inboxes: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    removed_inboxes: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    left_inboxes: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    metadata_field_changes: tuple[MetadataFieldChange, ...] = attrs.field(default=(), converter=tuple)
    added_admins: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    removed_admins: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    added_super_admins: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    removed_super_admins: tuple[str, ...] = attrs.field(default=(), converter=tuple)

    def encode(self) -> bytes:
        writer = ProtoWriter().string(1, self.initiated_by_inbox_id)
        lists = {name: getattr(self, name) for _, name in _INBOX_LISTS}
        writer.repeated_messages(2, (_inbox(i) for i in lists["added_inboxes"]))
        writer.repeated_messages(3, (_inbox(i) for i in lists["removed_inboxes"]))
        writer.repeated_messages(4, (change.encode() for change in self.metadata_field_changes))
        for number, name in _INBOX_LISTS[2:]:
            writer.repeated_messages(number, (_inbox(i) for i in lists[name]))
        return writer.finish()

    @classmethod
    def decode(cls, data: bytes) -> GroupUpdated:
        message = ProtoMessage(data)
        lists = {
            name: tuple(ProtoMessage(raw).string(1) or "" for raw in message.repeated_messages(number))
            for number, name in _INBOX_LISTS
        }
        changes = tuple(MetadataFieldChange.decode(raw) for raw in message.repeated_messages(4))
        return cls(message.string(1) or "", metadata_field_changes=changes, **lists)


def _inbox(inbox_id: str) -> bytes:
    return ProtoWriter().string(1, inbox_id).finish()
