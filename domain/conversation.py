"""XMTP conversation rules enforced by the local client (libxmtp spec sections 1-3): the group size
limit, metadata length limits, what DMs refuse, the leave pre-checks in libxmtp's order, DM ids,
DM welcome validation, and the members view.
"""

from __future__ import annotations

import enum
from typing import Iterable

import attrs

from . import errors
from .extensions import ConversationType
from .group_state import XmtpGroupState
from .metadata_fields import MetadataField, length_limit
from .policies import PermissionLevel, PolicySet

__all__ = [
    "joined_standing",
    "ConversationType",
    "MembershipState",
    "ConsentState",
    "MAX_GROUP_SIZE",
    "GroupMember",
    "group_members",
    "dm_id",
    "check_group_size",
    "check_metadata_length",
    "check_metadata_update",
    "check_admin_list_update",
    "check_permission_update",
    "check_leave",
    "validate_dm_welcome",
]

MAX_GROUP_SIZE = 250
"""The most inboxes (not installations) a group may hold."""


class MembershipState(enum.Enum):
    """Our standing in a group (libxmtp numbering)."""

    ALLOWED = 1
    REJECTED = 2
    PENDING = 3
    RESTORED = 4
    PENDING_REMOVE = 5


class ConsentState(enum.Enum):
    """Whether the user accepts a conversation (libxmtp numbering)."""

    UNKNOWN = 0
    ALLOWED = 1
    DENIED = 2


def joined_standing(inbox_id: str, added_by_inbox_id: str) -> tuple[MembershipState, ConsentState]:
    """Membership and consent on first joining a group: a group that our own inbox (another of its
    installations) created or added us to is ours already; anyone else's invitation is PENDING."""
    if added_by_inbox_id == inbox_id:
        return MembershipState.ALLOWED, ConsentState.ALLOWED
    return MembershipState.PENDING, ConsentState.UNKNOWN


@attrs.frozen
class GroupMember:
    """A member inbox, its installations in the tree, and its rank."""

    inbox_id: str
    installation_ids: tuple[bytes, ...] = attrs.field(converter=tuple)
    permission_level: PermissionLevel


def group_members(state: XmtpGroupState, *, include_placeholders: bool = False) -> list[GroupMember]:
    """Members in inbox order. Like libxmtp, inboxes still at the sequence-id placeholder 0 are left
    out unless ``include_placeholders``."""
    return [
        GroupMember(inbox, tuple(sorted(state.installations_of(inbox))), state.permission_level(inbox))
        for inbox, sequence_id in state.membership.members.items()
        if sequence_id != 0 or include_placeholders
    ]


def dm_id(inbox_a: str, inbox_b: str) -> str:
    """The id every MLS group of a DM between two inboxes shares ("stitching")."""
    return "dm:" + ":".join(sorted((inbox_a.lower(), inbox_b.lower())))


def check_group_size(member_inboxes: Iterable[str], new_inboxes: Iterable[str]) -> None:
    """Raise UserLimitExceeded if adding ``new_inboxes`` would exceed MAX_GROUP_SIZE inboxes.

    Only inboxes not already members count as new; ``member_inboxes`` is what libxmtp's members()
    counts."""
    members = set(member_inboxes)
    additions = set(new_inboxes) - members
    if len(members) + len(additions) > MAX_GROUP_SIZE:
        raise errors.UserLimitExceeded()


def check_metadata_length(field: MetadataField | str, value: str) -> None:
    """Raise TooManyCharacters if ``value`` is longer (UTF-8 bytes) than ``field`` allows."""
    key = field.value if isinstance(field, MetadataField) else field
    limit = length_limit(key)
    if limit is not None and len(value.encode("utf-8")) > limit:
        raise errors.TooManyCharacters(limit)


_DM_FORBIDDEN_FIELDS = frozenset(
    field.value
    for field in (MetadataField.GROUP_NAME, MetadataField.DESCRIPTION, MetadataField.GROUP_IMAGE_URL_SQUARE, MetadataField.APP_DATA)
)


def check_metadata_update(state: XmtpGroupState, field: MetadataField | str, value: str) -> None:
    """The sender's checks before a metadata update: DMs refuse name, description, image and app data
    (DmGroupMetadataForbidden, disappearing-message settings stay allowed), then the length limit."""
    key = field.value if isinstance(field, MetadataField) else field
    if state.conversation_type is ConversationType.DM and key in _DM_FORBIDDEN_FIELDS:
        raise errors.DmGroupMetadataForbidden()
    check_metadata_length(key, value)


def check_admin_list_update(state: XmtpGroupState) -> None:
    """DMs refuse admin and super-admin list updates."""
    if state.conversation_type is ConversationType.DM:
        raise errors.DmGroupMetadataForbidden()


def check_permission_update(state: XmtpGroupState) -> None:
    """DMs refuse permission-policy updates."""
    if state.conversation_type is ConversationType.DM:
        raise errors.DmGroupMetadataForbidden()


def check_leave(state: XmtpGroupState, inbox_id: str) -> None:
    """libxmtp's leave pre-checks, in its order: not a member, sole member, DM, super admin."""
    if not state.is_member(inbox_id):
        raise errors.NotAGroupMember()
    if len(state.membership.members) == 1:
        raise errors.SingleMemberLeaveRejected()
    if state.conversation_type is ConversationType.DM:
        raise errors.DmLeaveForbidden()
    if state.mutable_metadata.is_super_admin(inbox_id):
        raise errors.SuperAdminLeaveForbidden()


def validate_dm_welcome(state: XmtpGroupState, our_inbox_id: str, added_by_inbox_id: str) -> None:
    """Validate a DM we were welcomed into (libxmtp validate_dm_group), raising a DmValidationError.

    If we added ourselves (another installation of ours created it) we only need to be a DM member.
    Otherwise the DM members must be exactly {adder, us}, the admin lists empty, and the membership,
    admin and permission policies those of the DM policy set (metadata policies are not checked:
    they cannot change membership)."""
    if state.conversation_type is not ConversationType.DM:
        raise errors.InvalidConversationType()
    dm_members = state.metadata.dm_members
    if dm_members is None:
        raise errors.MustHaveMembersSet()
    if added_by_inbox_id == our_inbox_id:
        if our_inbox_id not in dm_members.inboxes():
            raise errors.OurInboxMustBeMember()
        return
    expected = {
        (added_by_inbox_id, our_inbox_id),
        (our_inbox_id, added_by_inbox_id),
    }
    if (dm_members.member_one_inbox_id, dm_members.member_two_inbox_id) not in expected:
        raise errors.ExpectedInboxesDoNotMatch()
    metadata = state.mutable_metadata
    if metadata.admin_list or metadata.super_admin_list:
        raise errors.MustHaveEmptyAdminAndSuperAdmin()
    # libxmtp combines these comparisons with && (rejecting only when all differ); we require each
    # to match, which every libxmtp-created DM does.
    expected_policies = PolicySet.dm()
    policies = state.permissions
    if (
        policies.add_member_policy != expected_policies.add_member_policy
        or policies.remove_member_policy != expected_policies.remove_member_policy
        or policies.add_admin_policy != expected_policies.add_admin_policy
        or policies.remove_admin_policy != expected_policies.remove_admin_policy
        or policies.update_permissions_policy != expected_policies.update_permissions_policy
    ):
        raise errors.InvalidPermissions()
