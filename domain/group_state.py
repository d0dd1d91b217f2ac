"""The XMTP view of an MLS group at one epoch: its four XMTP extensions, decoded, plus the ratchet
tree's members (installation id -> inbox id). Commit validation and the conversation rules are pure
functions of this value.
"""

from __future__ import annotations

from typing import Mapping

import attrs

from .extensions import (
    GROUP_MEMBERSHIP_EXTENSION_TYPE,
    GROUP_METADATA_EXTENSION_TYPE,
    GROUP_PERMISSIONS_EXTENSION_TYPE,
    MUTABLE_METADATA_EXTENSION_TYPE,
    ConversationType,
    DmMembers,
    GroupMembership,
    GroupMetadata,
    GroupMutableMetadata,
    GroupMutablePermissions,
)
from .frozen_map import FrozenMap
from .policies import Actor, PermissionLevel, PolicySet
from .protobuf import DecodeError

__all__ = ["XmtpGroupState"]


def _leaves(value: Mapping[bytes, str]) -> FrozenMap[bytes, str]:
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


@attrs.frozen
class XmtpGroupState:
    """Decoded XMTP extensions of the group context and the tree's installations."""

    metadata: GroupMetadata
    mutable_metadata: GroupMutableMetadata
    membership: GroupMembership
    permissions: PolicySet
    leaves: FrozenMap[bytes, str] = attrs.field(converter=_leaves)

    @classmethod
    def new_group(
        cls,
        creator_inbox_id: str,
        creator_installation_id: bytes,
        permissions: PolicySet | None = None,
        *,
        name: str = "",
        description: str = "",
        image_url_square: str = "",
        app_data: str = "",
    ) -> XmtpGroupState:
        """A new GROUP: the creator is the sole member (sequence id placeholder 0) and super admin."""
        return cls(
            metadata=GroupMetadata(ConversationType.GROUP, creator_inbox_id),
            mutable_metadata=GroupMutableMetadata.new_group(
                creator_inbox_id, name=name, description=description,
                image_url_square=image_url_square, app_data=app_data,
            ),
            membership=GroupMembership({creator_inbox_id: 0}),
            permissions=PolicySet.default() if permissions is None else permissions,
            leaves={creator_installation_id: creator_inbox_id},
        )

    @classmethod
    def new_dm(cls, creator_inbox_id: str, creator_installation_id: bytes, target_inbox_id: str) -> XmtpGroupState:
        """A new DM before the target is added: DM policies, no admins, dm_members {creator, target}."""
        return cls(
            metadata=GroupMetadata(
                ConversationType.DM, creator_inbox_id, dm_members=DmMembers(creator_inbox_id, target_inbox_id)
            ),
            mutable_metadata=GroupMutableMetadata.new_dm(),
            membership=GroupMembership({creator_inbox_id: 0}),
            permissions=PolicySet.dm(),
            leaves={creator_installation_id: creator_inbox_id},
        )

    @property
    def conversation_type(self) -> ConversationType:
        return self.metadata.conversation_type

    def member_inboxes(self) -> frozenset[str]:
        return self.membership.inboxes()

    def is_member(self, inbox_id: str) -> bool:
        return inbox_id in self.membership.members

    def installations_of(self, inbox_id: str) -> frozenset[bytes]:
        """The installations of ``inbox_id`` that have a leaf in the tree."""
        return frozenset(inst for inst, inbox in self.leaves.items() if inbox == inbox_id)

    def permission_level(self, inbox_id: str) -> PermissionLevel:
        return self.mutable_metadata.permission_level(inbox_id)

    def actor(self, inbox_id: str) -> Actor:
        """``inbox_id`` as a policy sees it in this (pre-commit) state."""
        return Actor(
            inbox_id=inbox_id,
            is_admin=self.mutable_metadata.is_admin(inbox_id),
            is_super_admin=self.mutable_metadata.is_super_admin(inbox_id),
            is_creator=inbox_id == self.metadata.creator_inbox_id,
        )

    def extensions(self) -> FrozenMap[int, bytes]:
        """The four extensions as (extension type -> protobuf bytes) for the MLS group context."""
        return FrozenMap(
            {
                GROUP_METADATA_EXTENSION_TYPE: self.metadata.encode(),
                MUTABLE_METADATA_EXTENSION_TYPE: self.mutable_metadata.encode(),
                GROUP_MEMBERSHIP_EXTENSION_TYPE: self.membership.encode(),
                GROUP_PERMISSIONS_EXTENSION_TYPE: GroupMutablePermissions(self.permissions).encode(),
            }
        )

    @classmethod
    def from_extensions(cls, extensions: Mapping[int, bytes], leaves: Mapping[bytes, str]) -> XmtpGroupState:
        """Decode a group context's XMTP extensions (DecodeError if one is missing or malformed)."""
        def required(extension_type: int) -> bytes:
            data = extensions.get(extension_type)
            if data is None:
                raise DecodeError(f"group context lacks extension 0x{extension_type:04x}")
            return data

        return cls(
            metadata=GroupMetadata.decode(required(GROUP_METADATA_EXTENSION_TYPE)),
            mutable_metadata=GroupMutableMetadata.decode(required(MUTABLE_METADATA_EXTENSION_TYPE)),
            membership=GroupMembership.decode(required(GROUP_MEMBERSHIP_EXTENSION_TYPE)),
            permissions=GroupMutablePermissions.decode(required(GROUP_PERMISSIONS_EXTENSION_TYPE)).policies,
            leaves=leaves,
        )
