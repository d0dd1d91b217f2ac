"""XMTP's group-context extensions in their protobuf wire format (package xmtp.mls.message_contents):
GroupMetadataV1 (0xf000, immutable), GroupMutableMetadataV1 (0xff00), GroupMembership (0xff01) and
GroupMutablePermissionsV1 (0xff02).

Each value is frozen, has ``encode()`` and ``decode(data)``; decoding raises ``DecodeError`` only.
Fields libxmtp requires (the admin lists, the policies, both DM members) are required here too.
"""

from __future__ import annotations

import enum
import functools
from typing import Callable, Iterable, Mapping, TypeVar

import attrs

from .frozen_map import FrozenMap
from .metadata_fields import MetadataField
from .policies import PermissionLevel, PolicySet
from .protobuf import WIRE_LEN, WIRE_VARINT, DecodeError, ProtoMessage, ProtoWriter, decode_map_entry, to_int32

__all__ = [
    "GROUP_METADATA_EXTENSION_TYPE",
    "MUTABLE_METADATA_EXTENSION_TYPE",
    "GROUP_MEMBERSHIP_EXTENSION_TYPE",
    "GROUP_PERMISSIONS_EXTENSION_TYPE",
    "ConversationType",
    "DmMembers",
    "GroupMetadata",
    "GroupMutableMetadata",
    "GroupMembership",
    "MembershipDiff",
    "GroupMutablePermissions",
]

T = TypeVar("T")


def _memoized(decode: Callable[[type[T], bytes], T]) -> Callable[[type[T], bytes], T]:
    """Cache a decoder: the values are immutable, and a commit's extensions are decoded more than
    once (identity look-ups, validation, the new state) while most of them do not change."""
    cached = functools.lru_cache(maxsize=256)(decode)

    @functools.wraps(decode)
    def wrapper(cls: type[T], data: bytes) -> T:
        return cached(cls, bytes(data))

    return wrapper


@functools.lru_cache(maxsize=4096)
def _membership_entry(inbox_id: str, sequence_id: int) -> bytes:
    # Every commit re-encodes the whole membership map while at most a few entries change.
    return ProtoWriter().string(1, inbox_id).varint(2, sequence_id).finish()


GROUP_METADATA_EXTENSION_TYPE = 0xF000
MUTABLE_METADATA_EXTENSION_TYPE = 0xFF00
GROUP_MEMBERSHIP_EXTENSION_TYPE = 0xFF01
GROUP_PERMISSIONS_EXTENSION_TYPE = 0xFF02


class ConversationType(enum.Enum):
    """The kind of conversation (protobuf ConversationType numbering)."""

    GROUP = 1
    DM = 2
    SYNC = 3
    ONESHOT = 4

    @property
    def is_virtual(self) -> bool:
        """Internal conversations (device sync, one-shot) skip installation updates and auto-consent."""
        return self in (ConversationType.SYNC, ConversationType.ONESHOT)


def _inbox_message(inbox_id: str) -> bytes:
    return ProtoWriter().string(1, inbox_id).finish()


def _decode_inbox(data: bytes) -> str:
    return ProtoMessage(data).string(1) or ""


@attrs.frozen
class DmMembers:
    """The two inboxes of a DM (order carries no meaning)."""

    member_one_inbox_id: str
    member_two_inbox_id: str

    def inboxes(self) -> frozenset[str]:
        return frozenset((self.member_one_inbox_id, self.member_two_inbox_id))

    def encode(self) -> bytes:
        writer = ProtoWriter()
        writer.message(1, _inbox_message(self.member_one_inbox_id))
        writer.message(2, _inbox_message(self.member_two_inbox_id))
        return writer.finish()

    @classmethod
    def decode(cls, data: bytes) -> DmMembers:
        message = ProtoMessage(data)
        one, two = message.message(1), message.message(2)
        if one is None or two is None:
            raise DecodeError("DmMembers needs both members")
        return cls(_decode_inbox(one), _decode_inbox(two))


@attrs.frozen
class GroupMetadata:
    """Immutable metadata set at creation (GroupMetadataV1, extension 0xf000)."""

    conversation_type: ConversationType
    creator_inbox_id: str
    creator_account_address: str = ""
    dm_members: DmMembers | None = None
    # A OneshotMessage (field 5) is carried as its encoded bytes: nothing here reads it.
    oneshot_message: bytes | None = None

    def encode(self) -> bytes:
        writer = ProtoWriter()
        writer.varint(1, self.conversation_type.value)
        writer.string(2, self.creator_account_address)
        writer.string(3, self.creator_inbox_id)
        if self.dm_members is not None:
            writer.message(4, self.dm_members.encode())
        if self.oneshot_message is not None:
            writer.message(5, self.oneshot_message)
        return writer.finish()

    @classmethod
    @_memoized
    def decode(cls, data: bytes) -> GroupMetadata:
        message = ProtoMessage(data)
        number = to_int32(message.varint(1))
        try:
            conversation_type = ConversationType(number)
        except ValueError:
            raise DecodeError(f"invalid conversation type {number}") from None
        raw_dm = message.message(4)
        oneshot = message.message(5)
        if oneshot is not None:
            ProtoMessage(oneshot)  # well-formed protobuf, even though its fields are not read
        return cls(
            conversation_type=conversation_type,
            creator_inbox_id=message.string(3) or "",
            creator_account_address=message.string(2) or "",
            dm_members=None if raw_dm is None else DmMembers.decode(raw_dm),
            oneshot_message=oneshot,
        )


def _utf8_value(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("invalid UTF-8 in an attribute value") from None


def _attributes(value: Mapping[str, str]) -> FrozenMap[str, str]:
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


def _without(items: tuple[str, ...], inbox_id: str) -> tuple[str, ...]:
    return tuple(item for item in items if item != inbox_id)


def _decode_inbox_list(data: bytes | None, name: str) -> tuple[str, ...]:
    if data is None:
        raise DecodeError(f"GroupMutableMetadata is missing its {name}")
    return tuple(ProtoMessage(data).repeated_strings(1))


@attrs.frozen
class GroupMutableMetadata:
    """Attributes and admin lists (GroupMutableMetadataV1, extension 0xff00)."""

    attributes: FrozenMap[str, str] = attrs.field(converter=_attributes)
    admin_list: tuple[str, ...] = attrs.field(converter=tuple)
    super_admin_list: tuple[str, ...] = attrs.field(converter=tuple)

    @classmethod
    def new_group(
        cls,
        creator_inbox_id: str,
        *,
        name: str = "",
        description: str = "",
        image_url_square: str = "",
        app_data: str = "",
        extra_attributes: Mapping[str, str] | None = None,
    ) -> GroupMutableMetadata:
        """A new group's metadata: the creator is the only super admin, nobody is admin."""
        attributes = dict(extra_attributes or {})
        attributes[MetadataField.GROUP_NAME.value] = name
        attributes[MetadataField.DESCRIPTION.value] = description
        attributes[MetadataField.GROUP_IMAGE_URL_SQUARE.value] = image_url_square
        attributes[MetadataField.APP_DATA.value] = app_data
        return cls(attributes, (), (creator_inbox_id,))

    @classmethod
    def new_dm(cls, extra_attributes: Mapping[str, str] | None = None) -> GroupMutableMetadata:
        """A new DM's metadata: empty name, description and image; no admins, no super admins."""
        attributes = dict(extra_attributes or {})
        for field in (MetadataField.GROUP_NAME, MetadataField.DESCRIPTION, MetadataField.GROUP_IMAGE_URL_SQUARE):
            attributes[field.value] = ""
        return cls(attributes, (), ())

    def get(self, field: MetadataField | str) -> str | None:
        key = field.value if isinstance(field, MetadataField) else field
        return self.attributes.get(key)

    def is_admin(self, inbox_id: str) -> bool:
        return inbox_id in self.admin_list

    def is_super_admin(self, inbox_id: str) -> bool:
        return inbox_id in self.super_admin_list

    def permission_level(self, inbox_id: str) -> PermissionLevel:
        if self.is_super_admin(inbox_id):
            return PermissionLevel.SUPER_ADMIN
        if self.is_admin(inbox_id):
            return PermissionLevel.ADMIN
        return PermissionLevel.MEMBER

    def with_attribute(self, field: MetadataField | str, value: str) -> GroupMutableMetadata:
        key = field.value if isinstance(field, MetadataField) else field
        return attrs.evolve(self, attributes=self.attributes.set(key, value))

    def with_admin(self, inbox_id: str) -> GroupMutableMetadata:
        if self.is_admin(inbox_id):
            return self
        return attrs.evolve(self, admin_list=self.admin_list + (inbox_id,))

    def without_admin(self, inbox_id: str) -> GroupMutableMetadata:
        return attrs.evolve(self, admin_list=_without(self.admin_list, inbox_id))

    def with_super_admin(self, inbox_id: str) -> GroupMutableMetadata:
        if self.is_super_admin(inbox_id):
            return self
        return attrs.evolve(self, super_admin_list=self.super_admin_list + (inbox_id,))

    def without_super_admin(self, inbox_id: str) -> GroupMutableMetadata:
        return attrs.evolve(self, super_admin_list=_without(self.super_admin_list, inbox_id))

    def encode(self) -> bytes:
        writer = ProtoWriter()
        for key, value in self.attributes.items():
            writer.message(1, ProtoWriter().string(1, key).string(2, value).finish())
        writer.message(2, ProtoWriter().repeated_strings(1, self.admin_list).finish())
        writer.message(3, ProtoWriter().repeated_strings(1, self.super_admin_list).finish())
        return writer.finish()

    @classmethod
    @_memoized
    def decode(cls, data: bytes) -> GroupMutableMetadata:
        message = ProtoMessage(data)
        attributes: dict[str, str] = {}
        for raw_entry in message.repeated_messages(1):
            key, value = decode_map_entry(raw_entry, WIRE_LEN)
            attributes[key] = "" if value is None else _utf8_value(value)
        return cls(
            attributes,
            _decode_inbox_list(message.message(2), "admin_list"),
            _decode_inbox_list(message.message(3), "super_admin_list"),
        )


def _members(value: Mapping[str, int]) -> FrozenMap[str, int]:
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


@attrs.frozen
class MembershipDiff:
    """Inboxes added, removed, and kept with a changed sequence id between two memberships."""

    added_inboxes: tuple[str, ...]
    removed_inboxes: tuple[str, ...]
    updated_inboxes: tuple[str, ...]


@attrs.frozen
class GroupMembership:
    """Member inboxes with their identity sequence ids (GroupMembership, extension 0xff01)."""

    members: FrozenMap[str, int] = attrs.field(converter=_members)
    failed_installations: tuple[bytes, ...] = attrs.field(default=(), converter=tuple)

    def __attrs_post_init__(self) -> None:
        for sequence_id in self.members.values():
            if not 0 <= sequence_id < 1 << 64:
                raise ValueError(f"sequence id {sequence_id} is not a uint64")

    def inboxes(self) -> frozenset[str]:
        return frozenset(self.members)

    def sequence_id(self, inbox_id: str) -> int | None:
        return self.members.get(inbox_id)

    def with_members(self, sequence_ids: Mapping[str, int]) -> GroupMembership:
        """Members added or moved to new sequence ids."""
        merged = dict(self.members)
        merged.update(sequence_ids)
        return attrs.evolve(self, members=merged)

    def without_members(self, inbox_ids: Iterable[str]) -> GroupMembership:
        return attrs.evolve(self, members=self.members.delete(*inbox_ids))

    def with_failed_installations(self, installation_ids: Iterable[bytes]) -> GroupMembership:
        return attrs.evolve(self, failed_installations=tuple(installation_ids))

    def diff(self, new: GroupMembership) -> MembershipDiff:
        added = tuple(inbox for inbox in new.members if inbox not in self.members)
        removed = tuple(inbox for inbox in self.members if inbox not in new.members)
        updated = tuple(
            inbox for inbox, seq in new.members.items() if inbox in self.members and self.members[inbox] != seq
        )
        return MembershipDiff(added, removed, updated)

    def encode(self) -> bytes:
        writer = ProtoWriter()
        entry = _membership_entry
        for inbox_id, sequence_id in self.members.items():
            writer.message(1, entry(inbox_id, sequence_id))
        writer.repeated_bytes(2, self.failed_installations)
        return writer.finish()

    @classmethod
    @_memoized
    def decode(cls, data: bytes) -> GroupMembership:
        message = ProtoMessage(data)
        members: dict[str, int] = {}
        for raw_entry in message.repeated_messages(1):
            key, sequence_id = decode_map_entry(raw_entry, WIRE_VARINT)
            members[key] = sequence_id or 0
        return cls(members, tuple(message.repeated_bytes(2)))


@attrs.frozen
class GroupMutablePermissions:
    """The group's policy set (GroupMutablePermissionsV1, extension 0xff02)."""

    policies: PolicySet

    def encode(self) -> bytes:
        return ProtoWriter().message(1, self.policies.encode()).finish()

    @classmethod
    @_memoized
    def decode(cls, data: bytes) -> GroupMutablePermissions:
        raw = ProtoMessage(data).message(1)
        if raw is None:
            raise DecodeError("GroupMutablePermissions has no policies")
        return cls(PolicySet.decode(raw))
