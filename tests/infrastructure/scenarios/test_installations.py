"""libxmtp scenarios about installations through the public API: one welcome per added installation,
update_installations adding a new installation and removing a revoked one, and malformed key
packages (one bad installation is recorded as failed while the good one joins; an inbox whose every
key package is bad cannot be added).
"""

from __future__ import annotations

import pytest

from mlsgroup.domain import errors

from .helpers import agree, group_of, installations_of, joined, member_inboxes, texts

BAD_KEY_PACKAGE = b"\x00\x01 this is not a key package"


def test_second_installation_shares_the_inbox(net, make_client):
    alice = make_client(net)
    alice2 = make_client.track(alice.register_installation())
    assert alice2.inbox_id == alice.inbox_id
    assert alice2.installation_id != alice.installation_id


def test_one_welcome_per_added_installation(any_network, make_client):
    alice, bob, carol = (make_client(any_network) for _ in range(3))
    bob2 = make_client.track(bob.register_installation())
    group = alice.create_group([bob.inbox_id, carol.inbox_id])
    for installation in (bob, bob2, carol):
        assert len(any_network.api.query_welcome_messages(installation.installation_id)) == 1
    assert installations_of(group, bob.inbox_id) == {bob.installation_id, bob2.installation_id}
    copies = [group] + [joined(c, group.group_id) for c in (bob, bob2, carol)]
    agree(copies)
    group.send_text("to all installations")
    for copy in copies[1:]:
        copy.sync()
        assert texts(copy) == [(alice.inbox_id, b"to all installations")]


def test_update_installations_adds_a_new_installation(any_network, make_client):
    alice, bob = make_client(any_network), make_client(any_network)
    a, b = group_of(alice, bob)
    bob2 = make_client.track(bob.register_installation())
    assert bob2.sync_welcomes() == []
    a.update_installations()
    assert installations_of(a, bob.inbox_id) == {bob.installation_id, bob2.installation_id}
    b2 = joined(bob2, a.group_id)
    b.sync()
    agree([a, b, b2])
    b2.send_text("from my second device")
    a.sync()
    b.sync()
    assert texts(a) == texts(b) == [(bob.inbox_id, b"from my second device")]


def test_update_installations_with_nothing_new_commits_nothing(net, make_client):
    alice, bob = make_client(net), make_client(net)
    a, _ = group_of(alice, bob)
    epoch = a.epoch
    a.update_installations()
    assert a.epoch == epoch


def test_update_installations_removes_a_revoked_installation(net, make_client):
    alice, bob = make_client(net), make_client(net)
    bob2 = make_client.track(bob.register_installation())
    a = alice.create_group([bob.inbox_id])
    b, b2 = joined(bob, a.group_id), joined(bob2, a.group_id)
    bob.revoke_installations([bob2.installation_id])
    a.update_installations()
    assert installations_of(a, bob.inbox_id) == {bob.installation_id}
    b.sync()
    b2.sync()
    assert not b2.is_active
    agree([a, b])


def test_one_malformed_key_package_among_an_inboxs_installations(any_network, make_client):
    alice, bob = make_client(any_network), make_client(any_network)
    bob2 = make_client.track(bob.register_installation())
    any_network.api.upload_key_package(bob2.installation_id, BAD_KEY_PACKAGE)
    group = alice.create_group([bob.inbox_id])
    assert member_inboxes(group) == sorted([alice.inbox_id, bob.inbox_id])
    assert installations_of(group, bob.inbox_id) == {bob.installation_id}
    assert any_network.api.query_welcome_messages(bob2.installation_id) == []
    b = joined(bob, group.group_id)
    assert bob2.sync_welcomes() == []
    agree([group, b])
    # The failure is recorded: a later update_installations does not retry the bad package forever.
    epoch = group.epoch
    group.update_installations()
    assert group.epoch == epoch
    assert installations_of(group, bob.inbox_id) == {bob.installation_id}


def test_all_installations_malformed_makes_the_add_fail(net, make_client):
    alice, bob, carol = (make_client(net) for _ in range(3))
    net.api.upload_key_package(bob.installation_id, BAD_KEY_PACKAGE)
    a, c = group_of(alice, carol)
    epoch = a.epoch
    with pytest.raises(errors.GroupError) as caught:
        a.add_members([bob.inbox_id])
    assert str(caught.value).startswith("Failed to verify all installations: failedInstallations=")
    assert bob.installation_id.hex() in str(caught.value)
    assert a.epoch == epoch
    assert member_inboxes(a) == sorted([alice.inbox_id, carol.inbox_id])
    assert bob.sync_welcomes() == []
    # The group keeps working.
    a.send_text("still here")
    c.sync()
    assert texts(c) == [(alice.inbox_id, b"still here")]


def test_key_package_signed_by_another_installation_is_malformed(net, make_client):
    alice, bob, mallory = (make_client(net) for _ in range(3))
    bob2 = make_client.track(bob.register_installation())
    # A well-formed key package, but Mallory's: it cannot stand for Bob's second installation.
    mallory_package = net.api.fetch_key_packages([mallory.installation_id])[mallory.installation_id]
    net.api.upload_key_package(bob2.installation_id, mallory_package)
    group = alice.create_group([bob.inbox_id])
    assert installations_of(group, bob.inbox_id) == {bob.installation_id}
    assert mallory.inbox_id not in member_inboxes(group)
    assert mallory.sync_welcomes() == []
