"""Group intents (libxmtp section 6): the mutations a member queues, their data, and their life cycle.

An intent is queued ``TO_PUBLISH``, becomes ``PUBLISHED`` once its payload is built (a staged commit
or an application message) and handed to the delivery service, and ends ``COMMITTED`` /
``PROCESSED`` when the payload came back and was merged, ``ERROR`` when validation refused it or
publishing failed ``MAX_INTENT_PUBLISH_ATTEMPTS`` times. A commit that lost its epoch to another
member's goes back to ``TO_PUBLISH`` and is rebuilt at the new epoch.

The data of each kind is a small frozen value; the ``Intent`` value is the aggregate's record of one
intent. A published commit keeps its ``CommitPlan`` and publish seed, so the staged commit can be
re-derived byte for byte when the commit comes back (the plan holds every I/O input it used).
"""

from __future__ import annotations

import enum
from typing import Any, Optional, Union

import attrs

from .eventing import register_value

__all__ = [
    "IntentKind",
    "IntentState",
    "AdminListAction",
    "SendMessageData",
    "KeyUpdateData",
    "MetadataUpdateData",
    "UpdateGroupMembershipData",
    "UpdateAdminListData",
    "UpdatePermissionData",
    "IntentData",
    "kind_of",
    "CommitPlan",
    "Intent",
    "COMMIT_KINDS",
    "FINAL_STATES",
]


@register_value("mlsgroup.IntentKind")
class IntentKind(enum.IntEnum):
    """What an intent does (libxmtp numbering)."""

    SEND_MESSAGE = 1
    KEY_UPDATE = 2
    METADATA_UPDATE = 3
    UPDATE_GROUP_MEMBERSHIP = 4
    UPDATE_ADMIN_LIST = 5
    UPDATE_PERMISSION = 6


@register_value("mlsgroup.IntentState")
class IntentState(enum.IntEnum):
    """Where an intent is in its life cycle (libxmtp numbering)."""

    TO_PUBLISH = 1
    PUBLISHED = 2
    COMMITTED = 3
    ERROR = 4
    PROCESSED = 5
    SUPERSEDED = 6


COMMIT_KINDS = frozenset(IntentKind) - {IntentKind.SEND_MESSAGE}
FINAL_STATES = frozenset({IntentState.ERROR, IntentState.PROCESSED, IntentState.SUPERSEDED})


@register_value("mlsgroup.AdminListAction")
class AdminListAction(enum.IntEnum):
    """Which admin list an UpdateAdminList intent changes, and how (libxmtp numbering)."""

    ADD_ADMIN = 1
    REMOVE_ADMIN = 2
    ADD_SUPER_ADMIN = 3
    REMOVE_SUPER_ADMIN = 4


@register_value("mlsgroup.SendMessageData")
@attrs.frozen(kw_only=True)
class SendMessageData:
    """An application message: its content, content type, idempotency key and message id."""

    content: bytes
    content_type: str
    idempotency_key: bytes
    message_id: bytes


@register_value("mlsgroup.KeyUpdateData")
@attrs.frozen(kw_only=True)
class KeyUpdateData:
    """A commit that only rotates our leaf's keys."""


@register_value("mlsgroup.MetadataUpdateData")
@attrs.frozen(kw_only=True)
class MetadataUpdateData:
    """Set one mutable-metadata attribute."""

    field_name: str
    value: str


@register_value("mlsgroup.UpdateGroupMembershipData")
@attrs.frozen(kw_only=True)
class UpdateGroupMembershipData:
    """Add and remove inboxes; recomputed against the membership when published (empty: only sync
    every member's installations with its identity)."""

    add_inbox_ids: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    remove_inbox_ids: tuple[str, ...] = attrs.field(default=(), converter=tuple)


@register_value("mlsgroup.UpdateAdminListData")
@attrs.frozen(kw_only=True)
class UpdateAdminListData:
    """Add an inbox to, or remove it from, the admin or super-admin list."""

    action: AdminListAction
    inbox_id: str


@register_value("mlsgroup.UpdatePermissionData")
@attrs.frozen(kw_only=True)
class UpdatePermissionData:
    """Replace one policy of the group's policy set (numbers of PermissionUpdateType and
    PermissionPolicyOption; the metadata field for UPDATE_METADATA)."""

    update_type: int
    policy_option: int
    metadata_field: Optional[str] = None


IntentData = Union[
    SendMessageData,
    KeyUpdateData,
    MetadataUpdateData,
    UpdateGroupMembershipData,
    UpdateAdminListData,
    UpdatePermissionData,
]

_KIND_OF_DATA: dict[type, IntentKind] = {
    SendMessageData: IntentKind.SEND_MESSAGE,
    KeyUpdateData: IntentKind.KEY_UPDATE,
    MetadataUpdateData: IntentKind.METADATA_UPDATE,
    UpdateGroupMembershipData: IntentKind.UPDATE_GROUP_MEMBERSHIP,
    UpdateAdminListData: IntentKind.UPDATE_ADMIN_LIST,
    UpdatePermissionData: IntentKind.UPDATE_PERMISSION,
}


def kind_of(data: IntentData) -> IntentKind:
    """The kind an intent with ``data`` has."""
    return _KIND_OF_DATA[type(data)]


@register_value("mlsgroup.CommitPlan")
@attrs.frozen(kw_only=True)
class CommitPlan:
    """Exactly what a commit contains, resolved at publish time from the intent and its I/O inputs.

    ``adds`` are key packages (encoded MLSMessages, as fetched), ``removes`` leaf indices,
    ``extensions`` the new GroupContext extensions as (type, data) pairs or None when unchanged.
    ``added_installations`` pairs each add with the installation it is for (welcome recipients).
    """

    adds: tuple[bytes, ...] = ()
    added_installations: tuple[bytes, ...] = ()
    removes: tuple[int, ...] = ()
    extensions: Optional[tuple[tuple[int, bytes], ...]] = None
    update_path: bool = True


@register_value("mlsgroup.Intent")
@attrs.frozen(kw_only=True)
class Intent:
    """One intent as the group aggregate tracks it."""

    intent_id: bytes
    kind: IntentKind
    data: IntentData
    state: IntentState = IntentState.TO_PUBLISH
    queued_at_ns: int = 0
    publish_attempts: int = 0
    published_in_epoch: Optional[int] = None
    payload_hash: Optional[bytes] = None
    payload: Optional[bytes] = attrs.field(default=None, repr=False)
    publish_seed: Optional[bytes] = attrs.field(default=None, repr=False)
    plan: Optional[CommitPlan] = None
    resend: bool = False
    welcome: Optional[bytes] = attrs.field(default=None, repr=False)
    welcome_installations: tuple[bytes, ...] = ()
    error: Optional[str] = None
    error_detail: str = ""
    #: The StagedCommit built when the intent was published (never stored; re-derived on replay).
    staged_cache: Any = attrs.field(default=None, init=False, eq=False, repr=False)

    @property
    def is_commit(self) -> bool:
        return self.kind in COMMIT_KINDS

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def is_resolved(self) -> bool:
        """Whether a caller waiting on this intent can stop (merged, processed, or failed)."""
        return self.state in FINAL_STATES or self.state is IntentState.COMMITTED
