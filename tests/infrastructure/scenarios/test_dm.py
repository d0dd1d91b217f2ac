"""libxmtp DM scenarios through the public API (spec section 2): a DM has two members and no admins;
nobody can leave it, add a third party, remove the peer, rename it or change its admins and
permissions; find_or_create_dm finds the existing DM.
"""

from __future__ import annotations

import pytest

from mlsgroup.domain import (
    ConversationType,
    PermissionPolicyOption,
    PermissionUpdateType,
    PolicySet,
    errors,
)

from .helpers import agree, joined, member_inboxes, texts


@pytest.fixture
def dm_pair(net, make_client):
    alice, bob = make_client(net), make_client(net)
    dm = alice.find_or_create_dm(bob.inbox_id)
    return alice, bob, dm, joined(bob, dm.group_id)


def test_dm_shape(dm_pair):
    alice, bob, a, b = dm_pair
    for group, peer in ((a, bob), (b, alice)):
        assert group.conversation_type is ConversationType.DM
        assert group.dm_peer_inbox_id == peer.inbox_id
        assert member_inboxes(group) == sorted([alice.inbox_id, bob.inbox_id])
        assert group.admins() == [] and group.super_admins() == []
        assert group.permissions() == PolicySet.dm()
    assert [g.group_id for g in alice.groups(conversation_type=ConversationType.DM)] == [a.group_id]
    assert alice.groups(conversation_type=ConversationType.GROUP) == []
    agree([a, b])


def test_dm_messages_both_ways(any_network, make_client):
    alice, bob = make_client(any_network), make_client(any_network)
    a = alice.find_or_create_dm(bob.inbox_id)
    b = joined(bob, a.group_id)
    a.send_text("hi")
    b.sync()
    b.send_text("hey")
    a.sync()
    assert texts(a) == texts(b) == [(alice.inbox_id, b"hi"), (bob.inbox_id, b"hey")]


def test_find_or_create_dm_finds_the_existing_dm(dm_pair):
    alice, bob, a, b = dm_pair
    assert alice.find_or_create_dm(bob.inbox_id).group_id == a.group_id
    assert bob.find_or_create_dm(alice.inbox_id).group_id == a.group_id


def test_nobody_can_leave_a_dm(dm_pair):
    _, _, a, b = dm_pair
    for group in (a, b):
        with pytest.raises(errors.DmLeaveForbidden) as caught:
            group.leave()
    assert str(caught.value) == "cannot leave a DM conversation"


def test_dm_refuses_a_third_party_and_removals(net, make_client, dm_pair):
    alice, bob, a, b = dm_pair
    carol = make_client(net)
    epoch = a.epoch
    with pytest.raises(errors.InsufficientPermissions):
        a.add_members([carol.inbox_id])
    with pytest.raises(errors.InsufficientPermissions):
        b.remove_members([alice.inbox_id])
    a.sync()
    assert a.epoch == epoch
    assert member_inboxes(a) == sorted([alice.inbox_id, bob.inbox_id])
    assert carol.sync_welcomes() == []


@pytest.mark.parametrize(
    "change",
    [
        lambda g, peer: g.update_name("n"),
        lambda g, peer: g.update_description("d"),
        lambda g, peer: g.update_image_url_square("https://example.com/i.png"),
        lambda g, peer: g.update_app_data("{}"),
        lambda g, peer: g.add_admin(peer),
        lambda g, peer: g.remove_admin(peer),
        lambda g, peer: g.add_super_admin(peer),
        lambda g, peer: g.remove_super_admin(peer),
        lambda g, peer: g.update_permission(PermissionUpdateType.ADD_MEMBER, PermissionPolicyOption.ALLOW),
    ],
    ids=["name", "description", "image", "app_data", "add_admin", "remove_admin", "add_super_admin", "remove_super_admin", "permission"],
)
def test_dm_metadata_admins_and_permissions_are_forbidden(dm_pair, change):
    _, bob, a, _ = dm_pair
    epoch = a.epoch
    with pytest.raises(errors.DmGroupMetadataForbidden) as caught:
        change(a, bob.inbox_id)
    assert str(caught.value) == "cannot change metadata of DM"
    assert a.epoch == epoch


def test_dm_with_an_unregistered_inbox_fails(net, make_client):
    from mlsgroup.domain.identity import inbox_id_for

    alice = make_client(net)
    with pytest.raises(errors.AddressNotFound):
        alice.find_or_create_dm(inbox_id_for(bytes(32)))
    assert alice.groups() == []
