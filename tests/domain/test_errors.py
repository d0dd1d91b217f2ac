"""The public error hierarchy of ARCHITECTURE section 4 and libxmtp's messages."""

import pytest

from mlsgroup.domain import errors


@pytest.mark.parametrize(
    "error, message",
    [
        (errors.GroupInactive(), "Group is inactive"),
        (errors.UserLimitExceeded(), "Max user limit exceeded."),
        (errors.GroupNotFound(bytes.fromhex("00ff")), "group with id 00ff not found"),
        (errors.MlsGroupNotFound(bytes.fromhex("abcd")), "MLS Group abcd Not Found"),
        (errors.TooManyCharacters(100), "Exceeded max characters for this field. Must be under: 100"),
        (errors.InvalidGroupMembership(), "invalid group membership"),
        (errors.DmLeaveForbidden(), "cannot leave a DM conversation"),
        (errors.SingleMemberLeaveRejected(), "cannot leave a group that has only one member"),
        (errors.SuperAdminLeaveForbidden(), "super-admin cannot leave a group; must be demoted first"),
        (errors.NotAGroupMember(), "only a member of the group can send a leave request or retract a leave request"),
        (errors.DmGroupMetadataForbidden(), "cannot change metadata of DM"),
        (errors.InvalidPermissionUpdate(), "Metadata update must specify a metadata field"),
        (errors.InsufficientPermissions(), "Commit validation error Insufficient permissions"),
        (errors.ActorNotMember(), "Commit validation error Actor not a member of the group"),
        (errors.NoPSKSupport(), "Commit validation error PSKs are not support"),
        (errors.SequenceIdDecreased(), "Commit validation error Sequence ID can only increase"),
        (errors.InboxValidationFailed("x"), "Commit validation error Inbox validation failed for x"),
        (errors.CommitTooManyCharacters("100"),
         "Commit validation error Exceeded max characters for this field. Must be under: 100"),
        (errors.ProtocolVersionTooLow("9.0.0"),
         "Commit validation error Minimum supported protocol version 9.0.0 exceeds current version"),
    ],
)
def test_messages(error, message):
    assert str(error) == message


def test_hierarchy():
    for cls in (errors.GroupInactive, errors.UserLimitExceeded, errors.GroupNotFound, errors.MlsGroupNotFound,
                errors.TooManyCharacters, errors.LeaveError, errors.MetadataPermissionsError,
                errors.CommitValidationError, errors.SyncError):
        assert issubclass(cls, errors.GroupError)
    for cls in (errors.DmLeaveForbidden, errors.SingleMemberLeaveRejected, errors.SuperAdminLeaveForbidden,
                errors.NotAGroupMember):
        assert issubclass(cls, errors.LeaveError)
    assert issubclass(errors.DmGroupMetadataForbidden, errors.MetadataPermissionsError)
    assert issubclass(errors.DmValidationError, errors.MetadataPermissionsError)
    for cls in (errors.InsufficientPermissions, errors.ActorNotMember, errors.SequenceIdDecreased):
        assert issubclass(cls, errors.CommitValidationError)
    too_long = errors.CommitTooManyCharacters("2048")
    assert isinstance(too_long, errors.TooManyCharacters) and too_long.length == 2048
    assert errors.InsufficientPermissions().reason == "Insufficient permissions"


def test_every_error_has_a_one_line_docstring():
    for name in errors.__all__:
        doc = getattr(errors, name).__doc__
        assert doc and "\n" not in doc.strip(), name
