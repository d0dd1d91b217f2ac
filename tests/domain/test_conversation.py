"""Conversation rules: dm_id, the group size limit (in inboxes), metadata length limits, what DMs
refuse, leave pre-checks in libxmtp's order, DM welcome validation (each DmValidationError), members."""

import attrs
import pytest

from mlsgroup.domain import errors
from mlsgroup.domain.conversation import (
    MAX_GROUP_SIZE,
    MembershipState,
    check_admin_list_update,
    check_group_size,
    check_leave,
    check_metadata_length,
    check_metadata_update,
    check_permission_update,
    dm_id,
    group_members,
    validate_dm_welcome,
)
from mlsgroup.domain.group_state import XmtpGroupState
from mlsgroup.domain.metadata_fields import MetadataField
from mlsgroup.domain.policies import BasePolicy, PermissionLevel

from .commit_builder import dm, group, inst


def test_dm_id_is_sorted_and_lowercased():
    assert dm_id("Bob", "alice") == "dm:alice:bob" == dm_id("alice", "BOB")


def test_membership_state_numbering():
    assert [s.value for s in MembershipState] == [1, 2, 3, 4, 5]


def test_group_size_counts_inboxes():
    members = [f"m{i}" for i in range(MAX_GROUP_SIZE - 1)]
    check_group_size(members, ["new"])
    check_group_size(members, ["new", "new", members[0]])  # duplicates and members are not new
    with pytest.raises(errors.UserLimitExceeded):
        check_group_size(members, ["new", "newer"])
    assert MAX_GROUP_SIZE == 250


def test_metadata_length_limits_in_utf8_bytes():
    check_metadata_length(MetadataField.GROUP_NAME, "x" * 100)
    with pytest.raises(errors.TooManyCharacters) as raised:
        check_metadata_length(MetadataField.GROUP_NAME, "x" * 101)
    assert raised.value.length == 100
    with pytest.raises(errors.TooManyCharacters):
        check_metadata_length("group_name", "é" * 51)  # 102 bytes
    check_metadata_length(MetadataField.APP_DATA, "a" * 8192)
    with pytest.raises(errors.TooManyCharacters):
        check_metadata_length(MetadataField.GROUP_IMAGE_URL_SQUARE, "a" * 2049)
    with pytest.raises(errors.TooManyCharacters):
        check_metadata_length(MetadataField.DESCRIPTION, "a" * 1001)
    check_metadata_length("custom", "a" * 100_000)


def test_dm_refuses_metadata_admin_and_permission_updates():
    state = dm("alice", "bob")
    for field in (MetadataField.GROUP_NAME, MetadataField.DESCRIPTION, MetadataField.GROUP_IMAGE_URL_SQUARE,
                  MetadataField.APP_DATA):
        with pytest.raises(errors.DmGroupMetadataForbidden):
            check_metadata_update(state, field, "x")
    check_metadata_update(state, MetadataField.MESSAGE_DISAPPEAR_IN_NS, "100")
    with pytest.raises(errors.DmGroupMetadataForbidden):
        check_admin_list_update(state)
    with pytest.raises(errors.DmGroupMetadataForbidden):
        check_permission_update(state)
    normal = group("alice", ["bob"])
    check_metadata_update(normal, MetadataField.GROUP_NAME, "x")
    check_admin_list_update(normal)
    check_permission_update(normal)
    with pytest.raises(errors.TooManyCharacters):
        check_metadata_update(normal, MetadataField.GROUP_NAME, "x" * 101)


def test_leave_checks_in_libxmtp_order():
    with pytest.raises(errors.NotAGroupMember):
        check_leave(group("alice", ["bob"]), "carol")
    with pytest.raises(errors.SingleMemberLeaveRejected):
        check_leave(group("alice"), "alice")  # sole member, though also super admin
    with pytest.raises(errors.SingleMemberLeaveRejected):
        check_leave(dm("alice", "bob", joined=False), "alice")
    with pytest.raises(errors.DmLeaveForbidden):
        check_leave(dm("alice", "bob"), "bob")
    with pytest.raises(errors.SuperAdminLeaveForbidden):
        check_leave(group("alice", ["bob"]), "alice")
    with pytest.raises(errors.SuperAdminLeaveForbidden):
        check_leave(group("alice", ["bob"], super_admins=["alice", "bob"]), "bob")
    check_leave(group("alice", ["bob"], admins=["bob"]), "bob")


def test_group_members():
    state = group("alice", ["bob", "carol"], admins=["bob"])
    members = group_members(state)
    assert [(m.inbox_id, m.permission_level) for m in members] == [
        ("alice", PermissionLevel.SUPER_ADMIN), ("bob", PermissionLevel.ADMIN), ("carol", PermissionLevel.MEMBER)
    ]
    assert members[0].installation_ids == (inst("alice"),)
    fresh = XmtpGroupState.new_group("alice", inst("alice"))
    assert group_members(fresh) == []  # the creator's sequence id is still the placeholder 0
    assert [m.inbox_id for m in group_members(fresh, include_placeholders=True)] == ["alice"]


class TestDmWelcome:
    def test_valid_welcome_from_the_other_party(self):
        validate_dm_welcome(dm("alice", "bob"), "bob", "alice")
        validate_dm_welcome(dm("bob", "alice"), "bob", "alice")

    def test_not_a_dm(self):
        with pytest.raises(errors.InvalidConversationType):
            validate_dm_welcome(group("alice", ["bob"]), "bob", "alice")

    def test_dm_members_missing(self):
        state = dm("alice", "bob")
        state = attrs.evolve(state, metadata=attrs.evolve(state.metadata, dm_members=None))
        with pytest.raises(errors.MustHaveMembersSet):
            validate_dm_welcome(state, "bob", "alice")

    def test_self_added_must_be_a_member(self):
        validate_dm_welcome(dm("alice", "bob"), "alice", "alice")
        with pytest.raises(errors.OurInboxMustBeMember):
            validate_dm_welcome(dm("alice", "bob"), "carol", "carol")

    def test_members_must_be_adder_and_us(self):
        for us, adder in (("carol", "alice"), ("bob", "carol"), ("alice", "alice_other")):
            with pytest.raises(errors.ExpectedInboxesDoNotMatch):
                validate_dm_welcome(dm("alice", "bob"), us, adder)

    def test_admin_lists_must_be_empty(self):
        state = dm("alice", "bob")
        state = attrs.evolve(state, mutable_metadata=state.mutable_metadata.with_super_admin("alice"))
        with pytest.raises(errors.MustHaveEmptyAdminAndSuperAdmin):
            validate_dm_welcome(state, "bob", "alice")

    @pytest.mark.parametrize("field", ["add_member_policy", "remove_member_policy", "add_admin_policy",
                                       "remove_admin_policy", "update_permissions_policy"])
    def test_policies_must_be_the_dm_set(self, field):
        state = dm("alice", "bob")
        loose = BasePolicy.ALLOW_IF_SUPER_ADMIN
        state = attrs.evolve(state, permissions=attrs.evolve(state.permissions, **{field: loose}))
        with pytest.raises(errors.InvalidPermissions):
            validate_dm_welcome(state, "bob", "alice")

    def test_metadata_policies_are_not_checked(self):
        state = dm("alice", "bob")
        relaxed = attrs.evolve(state.permissions, update_metadata_policy={})
        validate_dm_welcome(attrs.evolve(state, permissions=relaxed), "bob", "alice")


def test_joined_standing_trusts_only_our_own_inbox() -> None:
    from mlsgroup.domain.conversation import ConsentState, MembershipState, joined_standing

    assert joined_standing("me", "me") == (MembershipState.ALLOWED, ConsentState.ALLOWED)
    assert joined_standing("me", "someone else") == (MembershipState.PENDING, ConsentState.UNKNOWN)
