"""Public errors of XMTP groups (libxmtp's GroupError family), with libxmtp's messages.

Local misuse (the caller broke a precondition) and remote bad data (a peer's commit broke a rule) are
kept apart: ``CommitValidationError`` and ``DmValidationError`` blame the remote party, the leave,
metadata-permission and limit errors blame the local caller. A ``CommitValidationError`` prints as
libxmtp's ``GroupError::CommitValidation`` does ("Commit validation error <reason>"); its ``reason``
attribute holds the inner message alone.
"""

from __future__ import annotations

__all__ = [
    "GroupError",
    "GroupInactive",
    "UserLimitExceeded",
    "GroupNotFound",
    "MlsGroupNotFound",
    "TooManyCharacters",
    "AddressNotFound",
    "FailedToVerifyInstallations",
    "CannotRemoveSelf",
    "InvalidGroupMembership",
    "MissingSequenceId",
    "NoWelcomesToSend",
    "MissingPendingCommit",
    "LeaveError",
    "DmLeaveForbidden",
    "SingleMemberLeaveRejected",
    "SuperAdminLeaveForbidden",
    "NotAGroupMember",
    "InboxAlreadyInPendingList",
    "InboxNotInPendingList",
    "MetadataPermissionsError",
    "DmGroupMetadataForbidden",
    "InvalidPermissionUpdate",
    "DmValidationError",
    "OurInboxMustBeMember",
    "MustHaveMembersSet",
    "InvalidConversationType",
    "ExpectedInboxesDoNotMatch",
    "MustHaveEmptyAdminAndSuperAdmin",
    "InvalidPermissions",
    "CommitValidationError",
    "InsufficientPermissions",
    "ActorNotMember",
    "NoPSKSupport",
    "SequenceIdDecreased",
    "UnexpectedInstallationAdded",
    "UnexpectedInstallationsRemoved",
    "InboxValidationFailed",
    "SubjectDoesNotExist",
    "MissingGroupMembership",
    "MissingMutableMetadata",
    "MissingGroupPermissions",
    "ImmutableMetadataChanged",
    "MalformedExtension",
    "CommitTooManyCharacters",
    "InvalidVersionFormat",
    "ProtocolVersionTooLow",
    "SyncError",
    "MissingIdentityState",
]


class GroupError(Exception):
    """Base of every public group error."""

    message = "group error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(self.message if message is None else message)


class GroupInactive(GroupError):
    """The group is inactive (we were removed), so it cannot send or sync."""

    message = "Group is inactive"


class UserLimitExceeded(GroupError):
    """Adding these inboxes would take the group past MAX_GROUP_SIZE inboxes."""

    message = "Max user limit exceeded."


class GroupNotFound(GroupError):
    """No group with this id is stored (libxmtp NotFound::GroupById)."""

    def __init__(self, group_id: bytes) -> None:
        self.group_id = group_id
        super().__init__(f"group with id {group_id.hex()} not found")


class MlsGroupNotFound(GroupError):
    """The group's MLS state is missing from the store (libxmtp NotFound::MlsGroup)."""

    def __init__(self, group_id: bytes) -> None:
        self.group_id = group_id
        super().__init__(f"MLS Group {group_id.hex()} Not Found")


class TooManyCharacters(GroupError):
    """A metadata value is longer (in UTF-8 bytes) than its field allows."""

    def __init__(self, length: int) -> None:
        self.length = length
        super().__init__(f"Exceeded max characters for this field. Must be under: {length}")


class AddressNotFound(GroupError):
    """Inboxes named in a membership change have no identity (libxmtp's AddressNotFound)."""

    message = "Addresses not found"

    def __init__(self, inbox_ids: "str | list[str] | tuple[str, ...]" = ()) -> None:
        self.inbox_ids = (inbox_ids,) if isinstance(inbox_ids, str) else tuple(inbox_ids)
        super().__init__(f"Addresses not found {list(self.inbox_ids)}")


class FailedToVerifyInstallations(GroupError):
    """No installation of an inbox to add has a usable key package, so the inbox cannot join."""

    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        super().__init__(f"Failed to verify all installations: failedInstallations={detail}")


class CannotRemoveSelf(GroupError):
    """A member cannot commit its own removal; it leaves with a leave request."""

    message = "Cannot remove own leaf node"


class InvalidGroupMembership(GroupError):
    """A welcome's ratchet tree does not match the installations its membership extension implies."""

    message = "invalid group membership"


class MissingSequenceId(GroupError):
    """An inbox's identity sequence id is not known locally."""

    message = "SequenceId not found in local db"


class NoWelcomesToSend(GroupError):
    """A commit that adds installations produced no welcome."""

    message = "no welcomes to send"


class MissingPendingCommit(GroupError):
    """A published intent has no staged commit to merge."""

    message = "Missing pending commit"


class LeaveError(GroupError):
    """A leave request is not allowed in the group's current state (local caller's fault)."""


class DmLeaveForbidden(LeaveError):
    """Nobody can leave a DM."""

    message = "cannot leave a DM conversation"


class SingleMemberLeaveRejected(LeaveError):
    """The sole member of a group cannot leave it."""

    message = "cannot leave a group that has only one member"


class SuperAdminLeaveForbidden(LeaveError):
    """A super admin must be demoted before leaving."""

    message = "super-admin cannot leave a group; must be demoted first"


class NotAGroupMember(LeaveError):
    """Only a member can send or retract a leave request."""

    message = "only a member of the group can send a leave request or retract a leave request"


class InboxAlreadyInPendingList(LeaveError):
    """The inbox has already asked to leave."""

    message = "inbox ID already exists in the pending leave list"


class InboxNotInPendingList(LeaveError):
    """The inbox has no leave request to retract."""

    message = "inbox ID does not exist in the pending leave list"


class MetadataPermissionsError(GroupError):
    """A metadata, admin-list or permission update is not allowed for this conversation."""


class DmGroupMetadataForbidden(MetadataPermissionsError):
    """DMs refuse metadata, admin-list and permission-policy updates."""

    message = "cannot change metadata of DM"


class InvalidPermissionUpdate(MetadataPermissionsError):
    """An UPDATE_METADATA permission change named no metadata field."""

    message = "Metadata update must specify a metadata field"


class DmValidationError(MetadataPermissionsError):
    """A DM we were welcomed into is malformed (remote party's fault)."""


# The messages of the first two DM errors are swapped in libxmtp itself; they are kept verbatim.
class OurInboxMustBeMember(DmValidationError):
    """We created this DM but our inbox is not one of its dm_members."""

    message = "DM group must have DmMembers set"


class MustHaveMembersSet(DmValidationError):
    """The DM's immutable metadata has no dm_members."""

    message = "DM group must have our inbox as one of the dm members"


class InvalidConversationType(DmValidationError):
    """The welcome claimed a DM but its conversation type is not DM."""

    message = "Invalid conversation type for DM group"


class ExpectedInboxesDoNotMatch(DmValidationError):
    """The DM's members are not exactly {the inbox that added us, us}."""

    message = "DM members do not match expected inboxes"


class MustHaveEmptyAdminAndSuperAdmin(DmValidationError):
    """A DM must have empty admin and super-admin lists."""

    message = "DM group must have empty admin and super admin lists"


class InvalidPermissions(DmValidationError):
    """The DM's membership, admin or permission policies differ from the DM policy set."""

    message = "Invalid permissions for DM group"


class CommitValidationError(GroupError):
    """A commit breaks one of XMTP's commit-validation rules (remote party's fault)."""

    template = "Commit validation failed"

    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        self.reason = self.template.format(detail=detail)
        GroupError.__init__(self, f"Commit validation error {self.reason}")


class InsufficientPermissions(CommitValidationError):
    """The pre-commit policies do not allow the actor to make this change."""

    template = "Insufficient permissions"


class ActorNotMember(CommitValidationError):
    """The committer or a proposer is not a member of the group."""

    template = "Actor not a member of the group"


class NoPSKSupport(CommitValidationError):
    """The commit carries a pre-shared-key proposal."""

    template = "PSKs are not support"


class SequenceIdDecreased(CommitValidationError):
    """An inbox's identity sequence id in the membership extension went down."""

    template = "Sequence ID can only increase"


class UnexpectedInstallationAdded(CommitValidationError):
    """The commit adds an installation that no identity update accounts for."""

    template = "Unexpected installations added:"


class UnexpectedInstallationsRemoved(CommitValidationError):
    """The removed installations differ from those the identity updates imply."""

    template = "Unexpected installations removed: {detail}"


class InboxValidationFailed(CommitValidationError):
    """A credential's installation does not belong to its inbox at the recorded sequence id."""

    template = "Inbox validation failed for {detail}"


class SubjectDoesNotExist(CommitValidationError):
    """A referenced inbox or leaf is not in the group."""

    template = "Subject not a member of the group"


class MissingGroupMembership(CommitValidationError):
    """The new group context has no GroupMembership extension."""

    template = "Missing group membership"


class MissingMutableMetadata(CommitValidationError):
    """The new group context has no GroupMutableMetadata extension."""

    template = "Missing mutable metadata"


class MissingGroupPermissions(CommitValidationError):
    """The new group context has no GroupMutablePermissions extension."""

    template = "Failed to parse group mutable permissions: missing extension"


class ImmutableMetadataChanged(CommitValidationError):
    """The commit changes or drops the immutable GroupMetadata extension."""

    template = "mutable extension updates only"


class MalformedExtension(CommitValidationError):
    """An XMTP extension in the new group context is not valid protobuf for its type."""

    template = "failed to decode Protobuf message: {detail}"


class CommitTooManyCharacters(CommitValidationError, TooManyCharacters):
    """A received commit sets a metadata value longer than its field allows."""

    template = "Exceeded max characters for this field. Must be under: {detail}"

    def __init__(self, detail: str = "") -> None:
        self.length = int(detail) if detail.isdigit() else 0
        CommitValidationError.__init__(self, detail)


class InvalidVersionFormat(CommitValidationError):
    """The minimum supported protocol version is not MAJOR.MINOR.PATCH[-suffix]."""

    template = "Invalid version format: {detail}"


class ProtocolVersionTooLow(CommitValidationError):
    """The group requires a newer protocol version than ours."""

    template = "Minimum supported protocol version {detail} exceeds current version"


class SyncError(GroupError):
    """Syncing failed to resolve an intent (it ended in Error or was superseded)."""

    message = "Sync failed to wait for intent"


class MissingIdentityState(LookupError):
    """Local misuse: validation needed an inbox's installations at a sequence id the caller did not supply."""

    def __init__(self, inbox_id: str, sequence_id: int) -> None:
        self.inbox_id = inbox_id
        self.sequence_id = sequence_id
        super().__init__(f"no identity state for inbox {inbox_id} at sequence id {sequence_id}")
