"""The public contract of ``mlsgroup.domain`` (ARCHITECTURE section 4) that this package provides."""

import enum

import mlsgroup.domain as domain
from mlsgroup.domain import errors


def test_contract_names():
    for name in ("ConversationType", "MembershipState", "PermissionLevel", "Preset", "PolicySet",
                 "PermissionUpdateType", "PermissionPolicyOption", "MetadataField", "MessageKind",
                 "DeliveryStatus", "MAX_GROUP_SIZE", "GroupMember", "GroupUpdated", "errors"):
        assert name in domain.__all__
        assert hasattr(domain, name)
    assert domain.errors is errors
    assert domain.MAX_GROUP_SIZE == 250


def test_enum_members_are_upper_case():
    for name in domain.__all__:
        value = getattr(domain, name)
        if isinstance(value, type) and issubclass(value, enum.Enum):
            assert all(member.isupper() for member in value.__members__), name
    assert domain.ConversationType.DM and domain.MembershipState.PENDING_REMOVE
    assert domain.PermissionLevel.SUPER_ADMIN and domain.MetadataField.GROUP_NAME
