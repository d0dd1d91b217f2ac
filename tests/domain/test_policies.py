"""Permission policies: evaluation of base rules and And/Any conditions, the creator flag granting
nothing, serialization (PolicySet protobuf round trips, empty conditions invalid), the presets and
their equality rules, the unknown-field rule, permission updates (ALLOW -> super admin for the
permissions policy), mirroring libxmtp's group_permissions tests."""

import pytest
from hypothesis import given, settings, strategies as st

from mlsgroup.domain import errors
from mlsgroup.domain.metadata_fields import MetadataField
from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.policies import (
    Actor,
    AndCondition,
    AnyCondition,
    BasePolicy,
    PermissionPolicyOption,
    PermissionUpdateType,
    PolicyFamily,
    PolicySet,
    Preset,
    decode_policy,
    encode_policy,
    evaluate,
)
from mlsgroup.domain.protobuf import ProtoWriter

from . import strategies as s

MEMBER = Actor("m")
ADMIN = Actor("a", is_admin=True)
SUPER = Actor("s", is_super_admin=True)
CREATOR = Actor("c", is_creator=True)


@pytest.mark.parametrize(
    "policy, member, admin, super_admin",
    [
        (BasePolicy.ALLOW, True, True, True),
        (BasePolicy.DENY, False, False, False),
        (BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN, False, True, True),
        (BasePolicy.ALLOW_IF_SUPER_ADMIN, False, False, True),
    ],
)
def test_base_policies(policy, member, admin, super_admin):
    assert [evaluate(policy, a) for a in (MEMBER, ADMIN, SUPER)] == [member, admin, super_admin]


def test_creator_flag_grants_nothing():
    for policy in (BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN, BasePolicy.ALLOW_IF_SUPER_ADMIN, BasePolicy.DENY):
        assert not evaluate(policy, CREATOR)


def test_and_condition():
    assert not evaluate(AndCondition([BasePolicy.DENY, BasePolicy.ALLOW]), MEMBER)
    assert evaluate(AndCondition([BasePolicy.ALLOW, BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN]), ADMIN)


def test_any_condition():
    assert evaluate(AnyCondition([BasePolicy.DENY, BasePolicy.ALLOW]), MEMBER)
    assert not evaluate(AnyCondition([BasePolicy.DENY, BasePolicy.ALLOW_IF_SUPER_ADMIN]), ADMIN)


def test_empty_conditions_are_invalid():
    with pytest.raises(ValueError):
        AndCondition([])
    with pytest.raises(ValueError):
        AnyCondition(())
    empty_and = ProtoWriter().message(2, b"").finish()
    empty_any = ProtoWriter().message(3, b"").finish()
    for family in PolicyFamily:
        for data in (empty_and, empty_any, b""):
            with pytest.raises(DecodeError):
                decode_policy(data, family)


def test_permissions_family_has_no_allow():
    with pytest.raises(ValueError):
        attrs_evolve_update_permissions(BasePolicy.ALLOW)
    with pytest.raises(ValueError):
        attrs_evolve_update_permissions(AnyCondition([BasePolicy.DENY, BasePolicy.ALLOW]))
    with pytest.raises(DecodeError):
        decode_policy(ProtoWriter().varint(1, 4).finish(), PolicyFamily.PERMISSIONS)


def attrs_evolve_update_permissions(policy):
    default = PolicySet.default()
    return PolicySet(
        default.add_member_policy, default.remove_member_policy, default.update_metadata_policy,
        default.add_admin_policy, default.remove_admin_policy, policy,
    )


def test_base_numbering_per_family():
    assert encode_policy(BasePolicy.ALLOW_IF_SUPER_ADMIN, PolicyFamily.MEMBERSHIP) == b"\x08\x04"
    assert encode_policy(BasePolicy.ALLOW_IF_SUPER_ADMIN, PolicyFamily.METADATA) == b"\x08\x04"
    assert encode_policy(BasePolicy.ALLOW_IF_SUPER_ADMIN, PolicyFamily.PERMISSIONS) == b"\x08\x03"
    assert encode_policy(BasePolicy.DENY, PolicyFamily.PERMISSIONS) == b"\x08\x01"


def test_serialize_libxmtp_example():
    policies = PolicySet(
        add_member_policy=AnyCondition([BasePolicy.ALLOW, BasePolicy.DENY]),
        remove_member_policy=AndCondition([BasePolicy.ALLOW_IF_SUPER_ADMIN, BasePolicy.DENY]),
        update_metadata_policy={f.value: BasePolicy.DENY for f in MetadataField.supported()},
        add_admin_policy=BasePolicy.ALLOW_IF_SUPER_ADMIN,
        remove_admin_policy=BasePolicy.ALLOW_IF_SUPER_ADMIN,
        update_permissions_policy=BasePolicy.ALLOW_IF_SUPER_ADMIN,
    )
    assert PolicySet.decode(policies.encode()) == policies


@settings(max_examples=80)
@given(s.policy_sets)
def test_policy_set_round_trip(policies):
    assert PolicySet.decode(policies.encode()) == policies


def test_deeply_nested_policy_hits_the_recursion_limit():
    data = encode_policy(BasePolicy.ALLOW, PolicyFamily.MEMBERSHIP)
    for _ in range(150):
        data = ProtoWriter().message(2, ProtoWriter().message(1, data).finish()).finish()
    with pytest.raises(DecodeError):
        decode_policy(data, PolicyFamily.MEMBERSHIP)


def test_default_preset():
    policies = Preset.DEFAULT.policy_set()
    assert policies.add_member_policy is BasePolicy.ALLOW
    assert policies.remove_member_policy is BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN
    metadata = policies.update_metadata_policy
    for field in (MetadataField.GROUP_NAME, MetadataField.DESCRIPTION, MetadataField.GROUP_IMAGE_URL_SQUARE, MetadataField.APP_DATA):
        assert metadata[field.value] is BasePolicy.ALLOW
    assert metadata[MetadataField.MESSAGE_DISAPPEAR_FROM_NS.value] is BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN
    assert metadata[MetadataField.MESSAGE_DISAPPEAR_IN_NS.value] is BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN
    assert metadata[MetadataField.MINIMUM_SUPPORTED_PROTOCOL_VERSION.value] is BasePolicy.ALLOW_IF_SUPER_ADMIN
    assert MetadataField.COMMIT_LOG_SIGNER.value not in metadata
    for policy in (policies.add_admin_policy, policies.remove_admin_policy, policies.update_permissions_policy):
        assert policy is BasePolicy.ALLOW_IF_SUPER_ADMIN


def test_admins_only_preset():
    policies = Preset.ADMINS_ONLY.policy_set()
    assert policies.add_member_policy is BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN
    for key, policy in policies.update_metadata_policy.items():
        expected = (
            BasePolicy.ALLOW_IF_SUPER_ADMIN
            if key == MetadataField.MINIMUM_SUPPORTED_PROTOCOL_VERSION.value
            else BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN
        )
        assert policy is expected


def test_dm_policy_set():
    policies = Preset.DM.policy_set()
    assert policies.add_member_policy is BasePolicy.DENY and policies.remove_member_policy is BasePolicy.DENY
    assert set(policies.update_metadata_policy.values()) == {BasePolicy.ALLOW}
    assert len(policies.update_metadata_policy) == len(MetadataField.supported())
    for policy in (policies.add_admin_policy, policies.remove_admin_policy, policies.update_permissions_policy):
        assert policy is BasePolicy.DENY


def test_preset_detection():
    assert Preset.DEFAULT.policy_set().preset() is Preset.DEFAULT
    assert Preset.ADMINS_ONLY.policy_set().preset() is Preset.ADMINS_ONLY
    assert Preset.DM.policy_set().preset() is Preset.DM
    custom = Preset.DEFAULT.policy_set().updated(PermissionUpdateType.ADD_MEMBER, PermissionPolicyOption.DENY)
    assert custom.preset() is None


def test_preset_equality_tolerates_new_metadata_fields():
    default = PolicySet.default()
    newer = default.updated(PermissionUpdateType.UPDATE_METADATA, PermissionPolicyOption.ALLOW, "new_metadata_field")
    assert newer != default and newer.preset() is Preset.DEFAULT
    admins = PolicySet.admins_only().updated(
        PermissionUpdateType.UPDATE_METADATA, PermissionPolicyOption.ADMIN_ONLY, "new_metadata_field_2"
    )
    assert admins.preset() is Preset.ADMINS_ONLY
    odd = default.updated(PermissionUpdateType.UPDATE_METADATA, PermissionPolicyOption.DENY, "new_metadata_field")
    assert odd.preset() is None


def test_unknown_field_policy():
    policies = PolicySet.default()
    assert policies.metadata_policy("group_name") is BasePolicy.ALLOW
    assert policies.metadata_policy("non_existing_field") is BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN
    assert policies.metadata_policy("_non_existing_field") is BasePolicy.ALLOW_IF_SUPER_ADMIN
    assert policies.metadata_policy(MetadataField.COMMIT_LOG_SIGNER.value) is BasePolicy.ALLOW_IF_SUPER_ADMIN


@pytest.mark.parametrize(
    "option, membership, permissions",
    [
        (PermissionPolicyOption.ALLOW, BasePolicy.ALLOW, BasePolicy.ALLOW_IF_SUPER_ADMIN),
        (PermissionPolicyOption.DENY, BasePolicy.DENY, BasePolicy.DENY),
        (PermissionPolicyOption.ADMIN_ONLY, BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN, BasePolicy.ALLOW_IF_ADMIN_OR_SUPER_ADMIN),
        (PermissionPolicyOption.SUPER_ADMIN_ONLY, BasePolicy.ALLOW_IF_SUPER_ADMIN, BasePolicy.ALLOW_IF_SUPER_ADMIN),
    ],
)
def test_permission_updates(option, membership, permissions):
    base = PolicySet.default()
    assert base.updated(PermissionUpdateType.ADD_MEMBER, option).add_member_policy is membership
    assert base.updated(PermissionUpdateType.REMOVE_MEMBER, option).remove_member_policy is membership
    assert base.updated(PermissionUpdateType.ADD_ADMIN, option).add_admin_policy is permissions
    assert base.updated(PermissionUpdateType.REMOVE_ADMIN, option).remove_admin_policy is permissions
    by_field = base.updated(PermissionUpdateType.UPDATE_METADATA, option, MetadataField.DESCRIPTION)
    assert by_field.update_metadata_policy["description"] is membership


def test_metadata_permission_update_needs_a_field():
    with pytest.raises(errors.InvalidPermissionUpdate) as raised:
        PolicySet.default().updated(PermissionUpdateType.UPDATE_METADATA, PermissionPolicyOption.ALLOW)
    assert str(raised.value) == "Metadata update must specify a metadata field"


def test_enum_numbering_matches_libxmtp():
    assert [t.value for t in PermissionUpdateType] == [1, 2, 3, 4, 5]
    assert [o.value for o in PermissionPolicyOption] == [1, 2, 3, 4]


@settings(max_examples=100)
@given(policy=s.policies(), admin=st.booleans(), super_admin=st.booleans())
def test_conditions_are_boolean_algebra(policy, admin, super_admin):
    actor = Actor("x", is_admin=admin, is_super_admin=super_admin)
    assert evaluate(AndCondition([policy]), actor) == evaluate(policy, actor)
    assert evaluate(AnyCondition([policy]), actor) == evaluate(policy, actor)
    assert not evaluate(AndCondition([policy, BasePolicy.DENY]), actor)
    assert evaluate(AnyCondition([policy, BasePolicy.ALLOW]), actor)
