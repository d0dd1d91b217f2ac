"""libxmtp group scenarios about membership through the public API: concurrent adds of one member
converge, unregistered inboxes are refused, removal writes a transcript, removed members can neither
send nor read what follows, re-adding makes them active again, and MAX_GROUP_SIZE holds.
"""

from __future__ import annotations

import os
import threading

import pytest

from mlsgroup.domain import MAX_GROUP_SIZE, MessageKind, errors
from mlsgroup.domain.identity import inbox_id_for
from mlsgroup.infrastructure.testing import phantom_inboxes

from .helpers import agree, envelope_count, group_of, joined, member_inboxes, texts, transcripts


def test_adding_a_member_writes_a_transcript_on_every_side(net, make_client):
    alice, bob, carol = make_client(net), make_client(net), make_client(net)
    a, b = group_of(alice, bob)
    a.add_members([carol.inbox_id])
    c = joined(carol, a.group_id)
    b.sync()
    for group in (a, b):
        last = transcripts(group)[-1]
        assert last.initiated_by_inbox_id == alice.inbox_id
        assert list(last.added_inboxes) == [carol.inbox_id]
        assert list(last.removed_inboxes) == []
    agree([a, b, c])


def test_concurrent_adds_of_the_same_member_converge(any_network, make_client):
    alice, bob, carol = (make_client(any_network) for _ in range(3))
    a, b = group_of(alice, bob)
    a.add_members([carol.inbox_id])
    # Bob has not seen Alice's commit: his commit loses the epoch, is rebuilt, and has nothing left to do.
    b.add_members([carol.inbox_id])
    a.sync()
    assert member_inboxes(a) == member_inboxes(b) == sorted([alice.inbox_id, bob.inbox_id, carol.inbox_id])
    assert len(any_network.api.query_welcome_messages(carol.installation_id)) == 1
    c = joined(carol, a.group_id)
    agree([a, b, c])


def test_truly_concurrent_adds_converge(net, make_client):
    alice, bob, carol, dave = (make_client(net) for _ in range(4))
    a, b = group_of(alice, bob)
    failures: list[BaseException] = []

    def add(group_id: bytes, client) -> None:
        try:
            client.group(group_id).add_members([carol.inbox_id, dave.inbox_id])
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=add, args=(a.group_id, c)) for c in (alice, bob)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    a.sync()
    b.sync()
    everyone = sorted(c.inbox_id for c in (alice, bob, carol, dave))
    assert member_inboxes(a) == member_inboxes(b) == everyone
    c, d = joined(carol, a.group_id), joined(dave, a.group_id)
    agree([a, b, c, d])


def test_adding_an_existing_member_changes_nothing(net, make_client):
    alice, bob = make_client(net), make_client(net)
    a, _ = group_of(alice, bob)
    epoch, count = a.epoch, envelope_count(net, a.group_id)
    a.add_members([bob.inbox_id])
    assert (a.epoch, envelope_count(net, a.group_id)) == (epoch, count)


def test_adding_an_unregistered_inbox_fails_and_changes_nothing(any_network, make_client):
    alice, bob = make_client(any_network), make_client(any_network)
    a, _ = group_of(alice, bob)
    epoch = a.epoch
    stranger = inbox_id_for(os.urandom(32))
    with pytest.raises(errors.AddressNotFound) as caught:
        a.add_members([stranger])
    assert str(caught.value) == f"Addresses not found {[stranger]}"
    assert a.epoch == epoch
    assert stranger not in member_inboxes(a)
    with pytest.raises(errors.AddressNotFound):
        alice.create_group([stranger])
    assert [g.group_id for g in alice.groups()] == [a.group_id]


def test_remove_produces_a_transcript(any_network, make_client):
    alice, bob, carol = (make_client(any_network) for _ in range(3))
    a, b, c = group_of(alice, bob, carol)
    a.remove_members([carol.inbox_id])
    b.sync()
    for group in (a, b):
        assert member_inboxes(group) == sorted([alice.inbox_id, bob.inbox_id])
        last = transcripts(group)[-1]
        assert last.initiated_by_inbox_id == alice.inbox_id
        assert list(last.removed_inboxes) == [carol.inbox_id]
        assert list(last.added_inboxes) == list(last.left_inboxes) == []
    agree([a, b])


def test_removed_member_cannot_send_and_reads_nothing_after_removal(any_network, make_client):
    alice, bob, carol = (make_client(any_network) for _ in range(3))
    a, b, c = group_of(alice, bob, carol)
    a.send_text("before")
    a.remove_members([carol.inbox_id])
    a.send_text("after")
    c.sync()
    assert not c.is_active
    assert c.epoch == a.epoch  # libxmtp: the removing commit's epoch, though carol holds none of its secrets
    assert texts(c) == [(alice.inbox_id, b"before")]
    with pytest.raises(errors.GroupInactive):
        c.send_text("let me in")
    with pytest.raises(errors.GroupInactive):
        c.sync()
    b.sync()
    assert texts(b) == [(alice.inbox_id, b"before"), (alice.inbox_id, b"after")]


def test_removed_member_that_never_synced_reads_nothing_after_removal(net, make_client):
    alice, bob, carol = (make_client(net) for _ in range(3))
    a, b, c = group_of(alice, bob, carol)
    a.remove_members([carol.inbox_id])
    for n in range(4):
        a.send_text(f"secret {n}")
        a.key_update()
    carol.sync_all()
    assert not c.is_active
    assert texts(c) == []


def test_readding_a_removed_member_makes_it_active_again(any_network, make_client):
    alice, bob = make_client(any_network), make_client(any_network)
    a, b = group_of(alice, bob)
    a.remove_members([bob.inbox_id])
    b.sync()
    assert not b.is_active
    a.send_text("while bob is out")
    a.add_members([bob.inbox_id])
    rejoined = joined(bob, a.group_id)
    assert rejoined.is_active
    a.send_text("welcome back")
    rejoined.sync()
    assert texts(rejoined) == [(alice.inbox_id, b"welcome back")]
    rejoined.send_text("glad to be back")
    a.sync()
    assert texts(a)[-1] == (bob.inbox_id, b"glad to be back")
    agree([a, rejoined])


def test_cannot_remove_ones_own_inbox(net, make_client):
    alice, bob = make_client(net), make_client(net)
    a, b = group_of(alice, bob)
    epoch = b.epoch
    with pytest.raises(errors.GroupError) as caught:
        b.remove_members([bob.inbox_id])
    assert str(caught.value) == "Cannot remove own leaf node"
    assert b.epoch == epoch


def test_max_group_size_counts_inboxes(net, make_client):
    alice, bob = make_client(net), make_client(net)
    a, _ = group_of(alice, bob)
    epoch = a.epoch
    too_many = phantom_inboxes(net, MAX_GROUP_SIZE - 1)
    with pytest.raises(errors.UserLimitExceeded) as caught:
        a.add_members(too_many)
    assert str(caught.value) == "Max user limit exceeded."
    assert a.epoch == epoch
    assert len(a.members()) == 2
    with pytest.raises(errors.UserLimitExceeded):
        alice.create_group(phantom_inboxes(net, MAX_GROUP_SIZE))


def test_transcripts_are_membership_change_messages(net, make_client):
    alice, bob = make_client(net), make_client(net)
    a, b = group_of(alice, bob)
    a.update_name("n")
    b.sync()
    kinds = {m.content_type for m in b.messages(kind=MessageKind.MEMBERSHIP_CHANGE)}
    assert kinds == {"xmtp.org/group_updated:1.0"}
    (change,) = transcripts(b)[-1].metadata_field_changes
    assert (change.field_name, change.old_value, change.new_value) == ("group_name", "", "n")


def test_welcome_with_doctored_membership_is_rejected(any_network, make_client):
    from .forgery import Attacker

    bob, carol = make_client(any_network), make_client(any_network)
    mallory = Attacker(any_network)
    # The control: the attacker's honest welcome is accepted, so the path itself is sound.
    honest = mallory.welcome(bob)
    assert [g.group_id for g in bob.sync_welcomes()] == [honest]
    # Doctored: the membership lists Carol, whose installation is not in the tree nor failed.
    carol_sequence_id = any_network.identity.get_inbox_state(carol.inbox_id).sequence_id
    doctored = mallory.welcome(bob, lambda m: m.with_members({carol.inbox_id: carol_sequence_id}))
    # Doctored: the membership leaves out Bob although his leaf is in the tree.
    missing = mallory.welcome(bob, lambda m: m.without_members([bob.inbox_id]))
    assert bob.sync_welcomes() == []
    for group_id in (doctored, missing):
        with pytest.raises(errors.GroupNotFound):
            bob.group(group_id)
    assert [g.group_id for g in bob.groups()] == [honest]
