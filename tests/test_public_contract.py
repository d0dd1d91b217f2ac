"""ARCHITECTURE.md section 4: every public name that code outside the project calls exists."""

from __future__ import annotations

import pytest

import mlsgroup.domain as domain
from mlsgroup.domain import errors
from mlsgroup.infrastructure import Client, Network

DOMAIN_NAMES = [
    "MlsGroup", "ConversationType", "MembershipState", "PermissionLevel", "Preset", "PolicySet",
    "PermissionUpdateType", "PermissionPolicyOption", "MetadataField", "MessageKind", "DeliveryStatus",
    "MAX_GROUP_SIZE",
]
ERRORS = {
    "GroupError": Exception, "GroupInactive": "GroupError", "UserLimitExceeded": "GroupError",
    "GroupNotFound": "GroupError", "MlsGroupNotFound": "GroupError", "TooManyCharacters": "GroupError",
    "LeaveError": "GroupError", "DmLeaveForbidden": "LeaveError", "SingleMemberLeaveRejected": "LeaveError",
    "SuperAdminLeaveForbidden": "LeaveError", "NotAGroupMember": "LeaveError",
    "MetadataPermissionsError": "GroupError", "DmGroupMetadataForbidden": "MetadataPermissionsError",
    "CommitValidationError": "GroupError", "InsufficientPermissions": "CommitValidationError",
    "ActorNotMember": "CommitValidationError", "SyncError": "GroupError",
}
CLIENT_METHODS = [
    "create", "open", "close", "register_installation", "revoke_installations", "create_group",
    "find_or_create_dm", "group", "groups", "sync_welcomes", "sync_all", "__enter__", "__exit__",
]
GROUP_MEMBERS = [
    "group_id", "conversation_type", "epoch", "is_active", "membership_state", "epoch_authenticator",
    "members", "creator_inbox_id", "dm_peer_inbox_id", "name", "description", "image_url_square", "app_data",
    "admins", "super_admins", "is_admin", "is_super_admin", "permissions", "add_members", "remove_members",
    "send", "send_text", "messages", "sync", "update_name", "update_description", "update_image_url_square",
    "update_app_data", "add_admin", "remove_admin", "add_super_admin", "remove_super_admin",
    "update_permission", "update_installations", "key_update", "leave",
]


@pytest.mark.parametrize("name", DOMAIN_NAMES)
def test_domain_exports(name: str) -> None:
    assert hasattr(domain, name)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_hierarchy(name: str) -> None:
    base = ERRORS[name]
    base_class = base if isinstance(base, type) else getattr(errors, base)
    assert issubclass(getattr(errors, name), base_class)


@pytest.mark.parametrize("name", CLIENT_METHODS)
def test_client_methods(name: str) -> None:
    assert callable(getattr(Client, name))


@pytest.mark.parametrize("name", ["in_memory", "sqlite", "postgres"])
def test_network_constructors(name: str) -> None:
    assert callable(getattr(Network, name))


@pytest.mark.parametrize("name", GROUP_MEMBERS)
def test_group_members(name: str) -> None:
    assert hasattr(domain.MlsGroup, name)


def test_enum_members_are_upper_case() -> None:
    assert {m.name for m in domain.ConversationType} >= {"GROUP", "DM"}
    assert {m.name for m in domain.MembershipState} >= {"ALLOWED", "PENDING", "PENDING_REMOVE"}
    assert {m.name for m in domain.Preset} >= {"DEFAULT", "ADMINS_ONLY"}
    assert {m.name for m in domain.PermissionUpdateType} == {
        "ADD_MEMBER", "REMOVE_MEMBER", "ADD_ADMIN", "REMOVE_ADMIN", "UPDATE_METADATA"}
    assert {m.name for m in domain.PermissionPolicyOption} >= {"ALLOW", "DENY", "ADMIN_ONLY", "SUPER_ADMIN_ONLY"}
    assert {m.name for m in domain.PermissionLevel} == {"MEMBER", "ADMIN", "SUPER_ADMIN"}
    assert {m.name for m in domain.MessageKind} == {"APPLICATION", "MEMBERSHIP_CHANGE"}
    assert "GROUP_NAME" in {m.name for m in domain.MetadataField}


def test_envelope_shape_and_api_port() -> None:
    with Network.in_memory() as net:
        group_id = bytes(16)
        net.api.send_group_messages(group_id, [b"payload"])
        (envelope,) = net.api.query_group_messages(group_id, after_cursor=0)
        assert (envelope.payload, envelope.cursor > 0, envelope.server_time_ns > 0) == (b"payload", True, True)


def test_adding_an_unregistered_inbox_raises_a_group_error_and_changes_nothing() -> None:
    with Network.in_memory() as net:
        alice = Client.create(net)
        group = alice.create_group([])
        epoch = group.epoch
        with pytest.raises(errors.AddressNotFound) as raised:
            group.add_members(["f" * 64])
        assert isinstance(raised.value, errors.GroupError)
        assert "Addresses not found" in str(raised.value)
        assert group.epoch == epoch and [m.inbox_id for m in group.members()] == [alice.inbox_id]
        alice.close()
