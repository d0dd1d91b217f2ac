"""Commit validation, rule by rule (spec section 5), and libxmtp's permission-test scenarios run as
whole commits: allow all, deny, the creator flag, and/any conditions, permission updates, unknown
metadata fields, DM permissions."""

import attrs
import pytest

from mlsgroup.domain import errors
from mlsgroup.domain.commit_summary import (
    AddedInstallation,
    CommitViolation,
    LeafIdentity,
    RemovedInstallation,
    ValidatedCommit,
    Violation,
)
from mlsgroup.domain.extensions import (
    GROUP_MEMBERSHIP_EXTENSION_TYPE,
    GROUP_METADATA_EXTENSION_TYPE,
    GROUP_PERMISSIONS_EXTENSION_TYPE,
    MUTABLE_METADATA_EXTENSION_TYPE,
    ConversationType,
    GroupMembership,
    GroupMetadata,
)
from mlsgroup.domain.group_state import XmtpGroupState
from mlsgroup.domain.metadata_fields import MetadataField
from mlsgroup.domain.policies import (
    AndCondition,
    AnyCondition,
    BasePolicy,
    PermissionPolicyOption,
    PermissionUpdateType,
    PolicySet,
)
from mlsgroup.domain.validation import (
    check_commit,
    parse_version,
    required_identity_states,
    validate_commit,
)

from .commit_builder import SEQ, commit, dm, group, identities, inst

EVERYONE = ["alice", "bob", "carol", "dan", "erin", "mallory"]
IDS = identities(EVERYONE)


def verdict(state, summary, ids=IDS, **kwargs):
    return validate_commit(state, summary, ids, **kwargs)


def violation(state, summary, ids=IDS, **kwargs):
    result = verdict(state, summary, ids, **kwargs)
    assert isinstance(result, CommitViolation), result
    return result.violation


def accepted(state, summary, ids=IDS, **kwargs) -> ValidatedCommit:
    result = verdict(state, summary, ids, **kwargs)
    assert isinstance(result, ValidatedCommit), result
    return result


def policies(add=BasePolicy.ALLOW, remove=BasePolicy.ALLOW, metadata=BasePolicy.ALLOW):
    return PolicySet(
        add_member_policy=add,
        remove_member_policy=remove,
        update_metadata_policy={f.value: metadata for f in MetadataField.supported()},
        add_admin_policy=BasePolicy.ALLOW_IF_SUPER_ADMIN,
        remove_admin_policy=BasePolicy.ALLOW_IF_SUPER_ADMIN,
        update_permissions_policy=BasePolicy.ALLOW_IF_SUPER_ADMIN,
    )


# -- libxmtp's permission scenarios -------------------------------------------------------------


def test_allow_all():
    state = group("alice", ["bob", "carol"], permissions=policies())
    accepted(state, commit(state, "bob", add=["dan"], remove=["carol"]))


def test_deny():
    state = group("alice", ["bob", "carol"], permissions=policies(BasePolicy.DENY, BasePolicy.DENY, BasePolicy.DENY))
    assert violation(state, commit(state, "bob", add=["dan"])) is Violation.INSUFFICIENT_PERMISSIONS
    assert violation(state, commit(state, "bob", remove=["carol"])) is Violation.INSUFFICIENT_PERMISSIONS
    assert violation(state, commit(state, "alice", add=["dan"])) is Violation.INSUFFICIENT_PERMISSIONS


def test_creator_flag_grants_nothing():
    supers = policies(BasePolicy.ALLOW_IF_SUPER_ADMIN, BasePolicy.ALLOW_IF_SUPER_ADMIN)
    state = group("alice", ["bob", "carol"], permissions=supers, super_admins=["bob"])
    assert state.actor("alice").is_creator and not state.actor("alice").is_super_admin
    assert violation(state, commit(state, "alice", add=["dan"])) is Violation.INSUFFICIENT_PERMISSIONS
    accepted(state, commit(state, "bob", add=["dan"], remove=["carol"]))
    permission_change = state.permissions.updated(PermissionUpdateType.ADD_MEMBER, PermissionPolicyOption.ALLOW)
    assert violation(state, commit(state, "alice", permissions=permission_change)) is Violation.INSUFFICIENT_PERMISSIONS


def test_and_condition():
    state = group("alice", ["bob"], permissions=policies(add=AndCondition([BasePolicy.DENY, BasePolicy.ALLOW])))
    assert violation(state, commit(state, "bob", add=["dan"])) is Violation.INSUFFICIENT_PERMISSIONS


def test_any_condition():
    state = group("alice", ["bob"], permissions=policies(add=AnyCondition([BasePolicy.DENY, BasePolicy.ALLOW])))
    accepted(state, commit(state, "bob", add=["dan"]))


def test_update_group_name():
    for policy, ok in ((BasePolicy.ALLOW, True), (BasePolicy.DENY, False)):
        state = group("alice", ["bob"], permissions=policies(metadata=policy))
        renamed = state.mutable_metadata.with_attribute("group_name", "new")
        result = verdict(state, commit(state, "bob", mutable=renamed))
        assert isinstance(result, ValidatedCommit) is ok


def test_permission_update_needs_a_super_admin():
    state = group("alice", ["bob"], admins=["bob"])
    loosened = state.permissions.updated(PermissionUpdateType.REMOVE_MEMBER, PermissionPolicyOption.ALLOW)
    assert violation(state, commit(state, "bob", permissions=loosened)) is Violation.INSUFFICIENT_PERMISSIONS
    assert accepted(state, commit(state, "alice", permissions=loosened)).permissions_changed


def test_field_with_unknown_policy():
    state = group("alice", ["bob", "carol"], admins=["carol"], permissions=policies())
    plain = state.mutable_metadata.with_attribute("non_existing_field", "v")
    prefixed = state.mutable_metadata.with_attribute("_non_existing_field", "v")
    assert violation(state, commit(state, "bob", mutable=plain)) is Violation.INSUFFICIENT_PERMISSIONS
    accepted(state, commit(state, "carol", mutable=plain))
    assert violation(state, commit(state, "carol", mutable=prefixed)) is Violation.INSUFFICIENT_PERMISSIONS
    accepted(state, commit(state, "alice", mutable=prefixed))
    accepted(state, commit(state, "bob", mutable=state.mutable_metadata.with_attribute("group_name", "x")))


def test_dm_permissions():
    pending = dm("alice", "bob", joined=False)
    assert violation(pending, commit(pending, "alice", add=["carol"])) is Violation.INSUFFICIENT_PERMISSIONS
    assert violation(pending, commit(pending, "alice", add=["bob", "carol"])) is Violation.INSUFFICIENT_PERMISSIONS
    assert accepted(pending, commit(pending, "alice", add=["bob"])).added_inboxes == ("bob",)
    state = dm("alice", "bob")
    assert violation(state, commit(state, "alice", remove=["bob"])) is Violation.INSUFFICIENT_PERMISSIONS
    # removing oneself leaves the committer without a membership entry to verify it against
    assert violation(state, commit(state, "alice", remove=["alice"])) is Violation.SUBJECT_DOES_NOT_EXIST
    renamed = state.mutable_metadata.with_attribute("group_name", "us")
    accepted(state, commit(state, "bob", mutable=renamed))
    assert violation(state, commit(state, "bob", mutable=state.mutable_metadata.with_admin("bob"))) is (
        Violation.INSUFFICIENT_PERMISSIONS
    )
    assert violation(state, commit(state, "bob", mutable=state.mutable_metadata.with_super_admin("bob"))) is (
        Violation.INSUFFICIENT_PERMISSIONS
    )


def test_dm_member_cannot_add_itself():
    # The DM exception needs the added inbox to differ from its adder (libxmtp "can not add themselves").
    base = dm("alice", "bob", joined=False)
    state = attrs.evolve(base, membership=GroupMembership({"bob": SEQ}))
    summary = commit(state, "alice", add=["alice"])
    assert violation(state, summary) is Violation.INSUFFICIENT_PERMISSIONS


# -- rule by rule --------------------------------------------------------------------------------


def test_immutable_metadata_cannot_change():
    state = group("alice", ["bob"])
    as_dm = GroupMetadata(ConversationType.DM, "alice")
    assert violation(state, commit(state, "alice", metadata=as_dm)) is Violation.IMMUTABLE_METADATA_CHANGED
    dropped = commit(state, "alice", drop=[GROUP_METADATA_EXTENSION_TYPE])
    assert violation(state, dropped) is Violation.IMMUTABLE_METADATA_CHANGED


@pytest.mark.parametrize(
    "extension_type, expected",
    [
        (MUTABLE_METADATA_EXTENSION_TYPE, Violation.MISSING_MUTABLE_METADATA),
        (GROUP_PERMISSIONS_EXTENSION_TYPE, Violation.MISSING_GROUP_PERMISSIONS),
        (GROUP_MEMBERSHIP_EXTENSION_TYPE, Violation.MISSING_GROUP_MEMBERSHIP),
    ],
)
def test_missing_extensions(extension_type, expected):
    state = group("alice", ["bob"])
    assert violation(state, commit(state, "alice", drop=[extension_type])) is expected


@pytest.mark.parametrize(
    "extension_type",
    [GROUP_METADATA_EXTENSION_TYPE, MUTABLE_METADATA_EXTENSION_TYPE, GROUP_PERMISSIONS_EXTENSION_TYPE,
     GROUP_MEMBERSHIP_EXTENSION_TYPE],
)
def test_malformed_extensions(extension_type):
    state = group("alice", ["bob"])
    summary = commit(state, "alice")
    broken = attrs.evolve(summary, new_extensions=summary.new_extensions.set(extension_type, b"\x0a\x05"))
    assert violation(state, broken) is Violation.MALFORMED_EXTENSION
    assert required_identity_states(state, broken) == frozenset() or extension_type != GROUP_MEMBERSHIP_EXTENSION_TYPE


@pytest.mark.parametrize("field, limit", [("group_name", 100), ("description", 1000),
                                          ("group_image_url_square", 2048), ("app_data", 8192)])
def test_length_limits_on_receive(field, limit):
    state = group("alice", ["bob"])
    at_limit = state.mutable_metadata.with_attribute(field, "x" * limit)
    accepted(state, commit(state, "alice", mutable=at_limit))
    over = state.mutable_metadata.with_attribute(field, "x" * (limit + 1))
    result = verdict(state, commit(state, "alice", mutable=over))
    assert result == CommitViolation(Violation.TOO_MANY_CHARACTERS, str(limit))
    error = result.error()
    assert isinstance(error, errors.TooManyCharacters) and error.length == limit


def test_actor_must_be_a_member():
    state = group("alice", ["bob"])
    outsider = commit(state, "mallory")
    assert violation(state, outsider) is Violation.ACTOR_NOT_MEMBER
    assert violation(state, attrs.evolve(outsider, sender=None)) is Violation.ACTOR_NOT_MEMBER
    forged = attrs.evolve(commit(state, "bob"), sender=LeafIdentity("alice", inst("bob")))
    assert violation(state, forged) is Violation.ACTOR_NOT_MEMBER
    by_outsider = commit(state, "alice", add=["dan"], proposer="mallory")
    assert violation(state, by_outsider) is Violation.ACTOR_NOT_MEMBER
    external = attrs.evolve(commit(state, "alice"), has_external_proposals=True)
    assert violation(state, external) is Violation.ACTOR_NOT_MEMBER


def test_update_path_cannot_switch_inbox():
    state = group("alice", ["bob"])
    switched = attrs.evolve(commit(state, "bob"), path_leaf=LeafIdentity("alice", inst("bob")))
    assert violation(state, switched) is Violation.INBOX_VALIDATION_FAILED


def test_no_psk_proposals():
    state = group("alice", ["bob"])
    assert violation(state, commit(state, "alice", has_psk_proposals=True)) is Violation.NO_PSK_SUPPORT


def test_removed_installation_must_exist():
    state = group("alice", ["bob"])
    ghost = attrs.evolve(commit(state, "alice"), removed_installations=[RemovedInstallation(b"ghost")])
    assert violation(state, ghost) is Violation.SUBJECT_DOES_NOT_EXIST


def test_sequence_ids_only_increase():
    state = attrs.evolve(group("alice", ["bob"]), membership=GroupMembership({"alice": 1, "bob": 2}))
    ids = {**IDS, ("bob", 2): {inst("bob")}}
    lowered = commit(state, "alice", membership=GroupMembership({"alice": 1, "bob": 1}))
    assert violation(state, lowered, ids) is Violation.SEQUENCE_ID_DECREASED
    raised_ids = {**ids, ("bob", 3): {inst("bob")}}
    accepted(state, commit(state, "alice", membership=GroupMembership({"alice": 1, "bob": 3})), raised_ids)


def test_unexpected_installation_added():
    state = group("alice", ["bob"])
    sneaky = commit(state, "alice", add=["carol"])
    extra = AddedInstallation(b"rogue", "carol")
    sneaky = attrs.evolve(sneaky, added_installations=(*sneaky.added_installations, extra))
    assert violation(state, sneaky) is Violation.UNEXPECTED_INSTALLATION_ADDED
    # adding an installation with no membership change at all
    silent = attrs.evolve(commit(state, "alice"), added_installations=[AddedInstallation(inst("carol"), "carol")])
    assert violation(state, silent) is Violation.UNEXPECTED_INSTALLATION_ADDED


def test_added_installation_must_belong_to_its_credential_inbox():
    state = group("alice", ["bob"])
    summary = commit(state, "alice", add=["carol"])
    mislabeled = attrs.evolve(summary, added_installations=[AddedInstallation(inst("carol"), "dan")])
    assert violation(state, mislabeled) is Violation.INBOX_VALIDATION_FAILED


def test_new_installations_may_be_missing():
    state = group("alice", ["bob"])
    summary = attrs.evolve(commit(state, "alice", add=["carol"]), added_installations=())
    assert accepted(state, summary).added_inboxes == ("carol",)


def test_unexpected_installations_removed():
    state = group("alice", ["bob", "carol"])
    kept_leaf = attrs.evolve(commit(state, "alice", remove=["bob"]), removed_installations=())
    assert violation(state, kept_leaf) is Violation.UNEXPECTED_INSTALLATIONS_REMOVED
    leaf_only = attrs.evolve(commit(state, "alice"), removed_installations=[RemovedInstallation(inst("bob"))])
    assert violation(state, leaf_only) is Violation.UNEXPECTED_INSTALLATIONS_REMOVED


def test_failed_installations_are_not_expected_to_be_removed():
    state = group("alice", ["bob"])
    ids = {**IDS, ("bob", 1): {inst("bob"), b"bob-failed"}}
    with_failure = attrs.evolve(state, membership=state.membership.with_failed_installations([b"bob-failed"]))
    accepted(with_failure, commit(with_failure, "alice", remove=["bob"]), ids)
    assert violation(state, commit(state, "alice", remove=["bob"]), ids) is Violation.UNEXPECTED_INSTALLATIONS_REMOVED


def test_credentials_are_verified_against_identity():
    state = group("alice", ["bob"])
    revoked = {**IDS, ("bob", SEQ): frozenset()}
    assert violation(state, commit(state, "bob"), revoked) is Violation.INBOX_VALIDATION_FAILED
    updated = attrs.evolve(commit(state, "alice"), updated_leaves=[LeafIdentity("bob", b"other")])
    assert violation(state, updated) is Violation.INBOX_VALIDATION_FAILED
    unknown = attrs.evolve(commit(state, "alice"), updated_leaves=[LeafIdentity("zed", b"z")])
    assert violation(state, unknown) is Violation.SUBJECT_DOES_NOT_EXIST


def test_placeholder_creator_is_verified_by_its_leaf():
    state = XmtpGroupState.new_group("alice", inst("alice"))
    summary = commit(state, "alice", add=["bob"], membership=GroupMembership({"alice": 0, "bob": SEQ}))
    assert required_identity_states(state, summary) == {("bob", SEQ)}
    accepted(state, summary, identities(["bob"]))
    rotated = attrs.evolve(summary, path_leaf=LeafIdentity("alice", b"new-key"))
    assert violation(state, rotated, identities(["bob"])) is Violation.INBOX_VALIDATION_FAILED


def test_super_admin_is_never_removed():
    state = group("alice", ["bob", "carol"], super_admins=["alice", "bob"])
    assert violation(state, commit(state, "alice", remove=["bob"])) is Violation.INSUFFICIENT_PERMISSIONS
    demoted = state.mutable_metadata.without_super_admin("bob")
    # demoting and removing in one commit is still removing a (pre-commit) super admin
    both = commit(state, "alice", remove=["bob"], mutable=demoted)
    assert violation(state, both) is Violation.INSUFFICIENT_PERMISSIONS
    after = accepted(state, commit(state, "alice", mutable=demoted)).state_after(state.leaves)
    accepted(after, commit(after, "alice", remove=["bob"]))


def test_remove_policy_uses_the_proposer():
    state = group("alice", ["bob", "carol", "dan"], admins=["carol"])
    accepted(state, commit(state, "carol", remove=["dan"]))
    accepted(state, commit(state, "bob", remove=["dan"], proposer="carol"))
    assert violation(state, commit(state, "carol", remove=["dan"], proposer="bob")) is (
        Violation.INSUFFICIENT_PERMISSIONS
    )


def test_add_policy_uses_the_proposer_else_the_committer():
    admins_only = PolicySet.admins_only()
    state = group("alice", ["bob", "carol"], admins=["carol"], permissions=admins_only)
    assert violation(state, commit(state, "bob", add=["dan"])) is Violation.INSUFFICIENT_PERMISSIONS
    accepted(state, commit(state, "bob", add=["dan"], proposer="carol"))
    assert violation(state, commit(state, "carol", add=["dan"], proposer="bob")) is Violation.INSUFFICIENT_PERMISSIONS


def test_admin_list_changes():
    state = group("alice", ["bob", "carol"], admins=["bob"])
    promote = state.mutable_metadata.with_admin("carol")
    demote = state.mutable_metadata.without_admin("bob")
    assert violation(state, commit(state, "bob", mutable=promote)) is Violation.INSUFFICIENT_PERMISSIONS
    assert violation(state, commit(state, "bob", mutable=demote)) is Violation.INSUFFICIENT_PERMISSIONS
    assert accepted(state, commit(state, "alice", mutable=promote)).added_admins == ("carol",)
    assert accepted(state, commit(state, "alice", mutable=demote)).removed_admins == ("bob",)
    loose = state.permissions.updated(PermissionUpdateType.ADD_ADMIN, PermissionPolicyOption.ADMIN_ONLY)
    loose_state = attrs.evolve(state, permissions=loose)
    accepted(loose_state, commit(loose_state, "bob", mutable=promote))


def test_super_admin_list_changes():
    state = group("alice", ["bob", "carol"], admins=["bob"])
    crown = state.mutable_metadata.with_super_admin("carol")
    assert violation(state, commit(state, "bob", mutable=crown)) is Violation.INSUFFICIENT_PERMISSIONS
    two = accepted(state, commit(state, "alice", mutable=crown)).state_after(state.leaves)
    step_down = two.mutable_metadata.without_super_admin("alice")
    assert violation(two, commit(two, "bob", mutable=step_down)) is Violation.INSUFFICIENT_PERMISSIONS
    assert accepted(two, commit(two, "carol", mutable=step_down)).removed_super_admins == ("alice",)


def test_last_super_admin_cannot_be_demoted():
    state = group("alice", ["bob"])
    empty = state.mutable_metadata.without_super_admin("alice")
    assert violation(state, commit(state, "alice", mutable=empty)) is Violation.INSUFFICIENT_PERMISSIONS
    swap = empty.with_super_admin("bob")
    accepted(state, commit(state, "alice", mutable=swap))


def test_protocol_version():
    state = group("alice", ["bob"], attributes={"minimum_supported_protocol_version": "1.10.0"})
    key_update = commit(state, "bob")
    accepted(state, key_update, protocol_version="1.10.0")
    accepted(state, key_update, protocol_version="1.11.0-rc1")
    accepted(state, key_update)  # the check is skipped without our version
    assert violation(state, key_update, protocol_version="1.9.9") is Violation.PROTOCOL_VERSION_TOO_LOW
    bad = group("alice", ["bob"], attributes={"minimum_supported_protocol_version": "one"})
    assert violation(bad, commit(bad, "bob"), protocol_version="1.0.0") is Violation.INVALID_VERSION_FORMAT


def test_parse_version():
    assert parse_version("1.2.3") < parse_version("1.2.3-rc") < parse_version("1.2.4") < parse_version("1.10.0")
    for bad in ("1.2", "1.2.3.4", "a.b.c", "1.2.-1", ""):
        assert parse_version(bad) is None


def test_check_commit_raises_the_error():
    state = group("alice", ["bob"])
    with pytest.raises(errors.ActorNotMember):
        check_commit(state, commit(state, "mallory"), IDS)


def test_identity_states_needed_are_exactly_required():
    state = group("alice", ["bob", "carol"], admins=["bob"])
    summary = commit(state, "bob", add=["dan"], remove=["carol"])
    needed = required_identity_states(state, summary)
    assert needed == {("dan", SEQ), ("carol", SEQ), ("bob", SEQ)}
    accepted(state, summary, {key: IDS[key] for key in needed})
    with pytest.raises(errors.MissingIdentityState):
        validate_commit(state, summary, {})


def test_validated_commit_summarises_changes():
    state = group("alice", ["bob", "carol"])
    mutable = state.mutable_metadata.with_attribute("description", "d").with_admin("bob")
    result = accepted(state, commit(state, "alice", add=["erin", "dan"], remove=["carol"], mutable=mutable))
    assert result.added_inboxes == ("dan", "erin") and result.removed_inboxes == ("carol",)
    assert [c.field_name for c in result.metadata_field_changes] == ["description"]
    assert result.installations_changed and not result.permissions_changed
    assert result.actor.is_super_admin
