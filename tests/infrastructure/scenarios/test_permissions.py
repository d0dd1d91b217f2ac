"""libxmtp group scenarios about permissions through the public API: the ADMINS_ONLY and DEFAULT
presets, admin and super-admin list rules, permission-policy updates, metadata length limits, and a
failed admin change that must not wedge later metadata updates.
"""

from __future__ import annotations

import pytest

from mlsgroup.domain import (
    MetadataField,
    PermissionLevel,
    PermissionPolicyOption,
    PermissionUpdateType,
    PolicySet,
    Preset,
    errors,
)

from .helpers import agree, group_of, member_inboxes


def test_admins_only_blocks_members(any_network, make_client):
    alice, bob, carol = (make_client(any_network) for _ in range(3))
    a, b = group_of(alice, bob, permissions=Preset.ADMINS_ONLY)
    epoch = b.epoch
    with pytest.raises(errors.InsufficientPermissions):
        b.add_members([carol.inbox_id])
    with pytest.raises(errors.InsufficientPermissions):
        b.update_name("bob's group")
    a.sync()
    b.sync()
    assert a.epoch == b.epoch == epoch
    assert member_inboxes(a) == sorted([alice.inbox_id, bob.inbox_id])
    assert a.name == b.name == ""
    # The super admin can, and so can an admin.
    a.add_admin(bob.inbox_id)
    b.sync()
    b.update_name("now allowed")
    b.add_members([carol.inbox_id])
    a.sync()
    assert a.name == "now allowed"
    assert carol.inbox_id in member_inboxes(a)
    agree([a, b])


def test_default_lets_members_add_and_rename_but_not_remove(any_network, make_client):
    alice, bob, carol = (make_client(any_network) for _ in range(3))
    a, b = group_of(alice, bob)
    b.add_members([carol.inbox_id])
    b.update_name("bob renamed it")
    with pytest.raises(errors.InsufficientPermissions):
        b.remove_members([carol.inbox_id])
    a.sync()
    assert carol.inbox_id in member_inboxes(a)
    assert a.name == "bob renamed it"
    agree([a, b])


def test_preset_policy_sets(net, make_client):
    alice = make_client(net)
    assert alice.create_group([]).permissions() == PolicySet.default()
    assert alice.create_group([], permissions=Preset.ADMINS_ONLY).permissions() == PolicySet.admins_only()


def test_admin_lists(net, make_client):
    alice, bob, carol = (make_client(net) for _ in range(3))
    a, b, c = group_of(alice, bob, carol)
    assert a.super_admins() == [alice.inbox_id] and a.admins() == []
    a.add_admin(bob.inbox_id)
    a.add_super_admin(carol.inbox_id)
    b.sync()
    c.sync()
    for group in (a, b, c):
        assert group.admins() == [bob.inbox_id]
        assert sorted(group.super_admins()) == sorted([alice.inbox_id, carol.inbox_id])
        assert group.is_admin(bob.inbox_id) and not group.is_admin(alice.inbox_id)
        assert group.is_super_admin(carol.inbox_id) and not group.is_super_admin(bob.inbox_id)
        levels = {m.inbox_id: m.permission_level for m in group.members()}
        assert levels == {
            alice.inbox_id: PermissionLevel.SUPER_ADMIN,
            bob.inbox_id: PermissionLevel.ADMIN,
            carol.inbox_id: PermissionLevel.SUPER_ADMIN,
        }
    # An admin is not a super admin: it cannot manage admins under DEFAULT.
    with pytest.raises(errors.InsufficientPermissions):
        b.add_admin(carol.inbox_id)
    with pytest.raises(errors.InsufficientPermissions):
        b.add_super_admin(bob.inbox_id)
    c.remove_admin(bob.inbox_id)
    c.remove_super_admin(alice.inbox_id)
    a.sync()
    b.sync()
    assert a.admins() == [] and a.super_admins() == [carol.inbox_id]
    agree([a, b, c])


def test_last_super_admin_cannot_be_demoted(net, make_client):
    alice, bob = make_client(net), make_client(net)
    a, b = group_of(alice, bob)
    epoch = a.epoch
    with pytest.raises(errors.InsufficientPermissions):
        a.remove_super_admin(alice.inbox_id)
    assert a.super_admins() == [alice.inbox_id]
    assert a.epoch == epoch
    a.add_super_admin(bob.inbox_id)
    a.remove_super_admin(alice.inbox_id)
    b.sync()
    with pytest.raises(errors.InsufficientPermissions):
        b.remove_super_admin(bob.inbox_id)
    assert b.super_admins() == [bob.inbox_id]


def test_super_admin_cannot_be_removed(net, make_client):
    alice, bob = make_client(net), make_client(net)
    a, b = group_of(alice, bob)
    a.add_super_admin(bob.inbox_id)
    epoch = a.epoch
    with pytest.raises(errors.InsufficientPermissions):
        a.remove_members([bob.inbox_id])
    assert bob.inbox_id in member_inboxes(a)
    assert a.epoch == epoch


def test_permission_policy_update_by_super_admin_only(any_network, make_client):
    alice, bob, carol = (make_client(any_network) for _ in range(3))
    a, b = group_of(alice, bob)
    a.add_admin(bob.inbox_id)
    b.sync()
    with pytest.raises(errors.InsufficientPermissions):
        b.update_permission(PermissionUpdateType.ADD_MEMBER, PermissionPolicyOption.DENY)
    a.update_permission(PermissionUpdateType.ADD_MEMBER, PermissionPolicyOption.SUPER_ADMIN_ONLY)
    b.sync()
    assert b.permissions() == PolicySet.default().updated(PermissionUpdateType.ADD_MEMBER, PermissionPolicyOption.SUPER_ADMIN_ONLY)
    with pytest.raises(errors.InsufficientPermissions):
        b.add_members([carol.inbox_id])
    a.add_members([carol.inbox_id])
    b.sync()
    assert carol.inbox_id in member_inboxes(b)


def test_metadata_permission_update(net, make_client):
    alice, bob = make_client(net), make_client(net)
    a, b = group_of(alice, bob)
    with pytest.raises(errors.InvalidPermissionUpdate):
        a.update_permission(PermissionUpdateType.UPDATE_METADATA, PermissionPolicyOption.DENY)
    a.update_permission(PermissionUpdateType.UPDATE_METADATA, PermissionPolicyOption.ADMIN_ONLY, metadata_field=MetadataField.DESCRIPTION)
    b.sync()
    with pytest.raises(errors.InsufficientPermissions):
        b.update_description("bob's description")
    b.update_name("names are still open")
    a.sync()
    assert a.description == "" and a.name == "names are still open"


LIMITS = [
    ("update_name", "name", 100),
    ("update_description", "description", 1000),
    ("update_image_url_square", "image_url_square", 2048),
    ("update_app_data", "app_data", 8192),
]


@pytest.mark.parametrize(("method", "attribute", "limit"), LIMITS, ids=[row[1] for row in LIMITS])
def test_metadata_length_limits_on_send(net, make_client, method, attribute, limit):
    alice, bob = make_client(net), make_client(net)
    a, b = group_of(alice, bob)
    getattr(a, method)("x" * limit)
    epoch = a.epoch
    with pytest.raises(errors.TooManyCharacters) as caught:
        getattr(a, method)("x" * (limit + 1))
    assert str(caught.value) == f"Exceeded max characters for this field. Must be under: {limit}"
    # Limits count UTF-8 bytes, not characters.
    with pytest.raises(errors.TooManyCharacters):
        getattr(a, method)("€" * (limit // 3 + 1))
    assert a.epoch == epoch
    b.sync()
    assert getattr(b, attribute) == "x" * limit


def test_create_group_checks_metadata_lengths(net, make_client):
    alice = make_client(net)
    with pytest.raises(errors.TooManyCharacters):
        alice.create_group([], name="n" * 101)
    assert alice.groups() == []


def test_failed_admin_change_does_not_wedge_later_metadata_updates(any_network, make_client):
    alice, bob, carol = (make_client(any_network) for _ in range(3))
    a, b, c = group_of(alice, bob, carol)
    with pytest.raises(errors.InsufficientPermissions):
        b.add_admin(carol.inbox_id)
    b.update_name("still works")
    b.update_description("and this")
    a.update_name("alice too")
    for group in (a, b, c):
        group.sync()
    assert (a.name, a.description) == ("alice too", "and this")
    assert a.admins() == []
    agree([a, b, c])


@pytest.mark.parametrize(("attribute", "field", "limit"), [
    ("name", "group_name", 100),
    ("description", "description", 1000),
    ("image_url_square", "group_image_url_square", 2048),
    ("app_data", "app_data", 8192),
], ids=["name", "description", "image_url_square", "app_data"])
def test_metadata_length_limits_on_receive(net, make_client, attribute, field, limit):
    """A peer that skips the sender's check cannot push an over-long value: receivers reject the
    commit, and a commit at the limit from the same epoch is accepted."""
    from .forgery import Attacker

    bob = make_client(net)
    mallory = Attacker(net)
    state = mallory.group_with(bob)
    (b,) = bob.sync_welcomes()
    epoch = b.epoch
    mallory.set_attribute(state, field, "y" * (limit + 1))
    b.sync()
    assert (b.epoch, getattr(b, attribute)) == (epoch, "")
    mallory.set_attribute(state, field, "y" * limit)
    b.sync()
    assert (b.epoch, getattr(b, attribute)) == (epoch + 1, "y" * limit)
