"""libxmtp group scenarios about messages through the public API: sending and receiving both ways,
members seen from both sides, key updates, already processed envelopes and intents skipped, and
parallel syncs publishing exactly one commit. The first scenarios also run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading

import pytest

from mlsgroup.domain import ConversationType, DeliveryStatus, MembershipState, MessageKind, PermissionLevel, errors

from .helpers import agree, envelope_count, group_of, joined, member_inboxes, texts


def test_send_and_receive_both_ways(any_network, make_client):
    alice, bob = make_client(any_network), make_client(any_network)
    a, b = group_of(alice, bob)

    first = a.send_text("hello bob")
    b.sync()
    second = b.send(b"hi alice")
    a.sync()

    expected = [(alice.inbox_id, b"hello bob"), (bob.inbox_id, b"hi alice")]
    assert texts(a) == expected
    assert texts(b) == expected
    assert [m.id for m in a.messages(kind=MessageKind.APPLICATION)] == [first, second]
    assert [m.id for m in b.messages(kind=MessageKind.APPLICATION)] == [first, second]


def test_stored_message_fields(net, make_client):
    alice, bob = make_client(net), make_client(net)
    a, b = group_of(alice, bob)
    message_id = a.send(b"\x00\xffbytes", content_type="test/binary")
    b.sync()
    (sent,) = [m for m in a.messages() if m.id == message_id]
    (received,) = [m for m in b.messages() if m.id == message_id]
    for message in (sent, received):
        assert message.group_id == a.group_id
        assert message.sender_inbox_id == alice.inbox_id
        assert message.sender_installation_id == alice.installation_id
        assert message.content == b"\x00\xffbytes"
        assert message.content_type == "test/binary"
        assert message.kind is MessageKind.APPLICATION
        assert message.group_updated is None
    assert sent.delivery_status is DeliveryStatus.PUBLISHED
    assert received.delivery_status is DeliveryStatus.PUBLISHED
    assert received.sent_at_ns > 0


def test_messages_filters(net, make_client):
    alice, bob = make_client(net), make_client(net)
    a, _ = group_of(alice, bob)
    for n in range(4):
        a.send_text(f"m{n}")
    application = a.messages(kind=MessageKind.APPLICATION)
    assert [m.content for m in application] == [b"m0", b"m1", b"m2", b"m3"]
    assert [m.content for m in a.messages(kind=MessageKind.APPLICATION, limit=2)] == [b"m0", b"m1"]
    after = application[1].sent_at_ns
    assert [m.content for m in a.messages(kind=MessageKind.APPLICATION, sent_after_ns=after)] == [b"m2", b"m3"]
    assert all(m.kind is MessageKind.MEMBERSHIP_CHANGE for m in a.messages(kind=MessageKind.MEMBERSHIP_CHANGE))


def test_members_seen_from_both_sides(any_network, make_client):
    alice, bob = make_client(any_network), make_client(any_network)
    a, b = group_of(alice, bob)
    for group in (a, b):
        members = {m.inbox_id: m for m in group.members()}
        assert set(members) == {alice.inbox_id, bob.inbox_id}
        assert members[alice.inbox_id].installation_ids == (alice.installation_id,)
        assert members[bob.inbox_id].installation_ids == (bob.installation_id,)
        assert members[alice.inbox_id].permission_level is PermissionLevel.SUPER_ADMIN
        assert members[bob.inbox_id].permission_level is PermissionLevel.MEMBER
        assert group.creator_inbox_id == alice.inbox_id
        assert group.conversation_type is ConversationType.GROUP
        assert group.is_active
    assert a.membership_state is MembershipState.ALLOWED
    assert b.membership_state is MembershipState.PENDING
    agree([a, b])


def test_new_group_lists_its_creator_and_adding_commits_once(net, make_client):
    alice, bob = make_client(net), make_client(net)
    alone = alice.create_group([])
    assert member_inboxes(alone) == [alice.inbox_id]
    assert alone.super_admins() == [alice.inbox_id]
    a, b = group_of(alice, bob)
    assert a.epoch == b.epoch
    assert envelope_count(net, a.group_id) == 1


def test_group_lookup(net, make_client):
    alice = make_client(net)
    group = alice.create_group([], name="lookup")
    assert alice.group(group.group_id).name == "lookup"
    assert [g.group_id for g in alice.groups()] == [group.group_id]
    assert alice.groups(conversation_type=ConversationType.DM) == []
    missing = bytes(16)
    with pytest.raises(errors.GroupNotFound) as caught:
        alice.group(missing)
    assert str(caught.value) == f"group with id {missing.hex()} not found"


def test_key_update_advances_the_epoch_for_everyone(any_network, make_client):
    alice, bob = make_client(any_network), make_client(any_network)
    a, b = group_of(alice, bob)
    before = (a.epoch, bytes(a.epoch_authenticator))
    transcripts_before = len(a.messages(kind=MessageKind.MEMBERSHIP_CHANGE))
    b.key_update()
    a.sync()
    assert a.epoch == before[0] + 1
    assert bytes(a.epoch_authenticator) != before[1]
    agree([a, b])
    # A pure key update writes no transcript.
    assert len(a.messages(kind=MessageKind.MEMBERSHIP_CHANGE)) == transcripts_before
    a.send_text("after the update")
    b.sync()
    assert texts(b)[-1] == (alice.inbox_id, b"after the update")


def test_a_joiners_first_send_rotates_its_key(net, make_client):
    alice, bob = make_client(net), make_client(net)
    a, b = group_of(alice, bob)
    epoch = b.epoch
    b.send_text("first")
    assert b.epoch == epoch + 1
    b.send_text("second")
    assert b.epoch == epoch + 1
    a.sync()
    assert texts(a) == [(bob.inbox_id, b"first"), (bob.inbox_id, b"second")]
    agree([a, b])


def test_syncing_again_skips_processed_envelopes_and_intents(net, make_client):
    alice, bob = make_client(net), make_client(net)
    a, b = group_of(alice, bob)
    a.send_text("once")
    a.update_name("renamed")
    published = envelope_count(net, a.group_id)
    for _ in range(3):
        a.sync()
        b.sync()
    assert envelope_count(net, a.group_id) == published, "a resolved intent was published again"
    assert texts(b) == [(alice.inbox_id, b"once")]
    assert b.name == "renamed"
    assert len([t for t in [m.group_updated for m in b.messages(kind=MessageKind.MEMBERSHIP_CHANGE)] if t.metadata_field_changes]) == 1
    agree([a, b])


def test_reopened_client_does_not_reprocess(tmp_path, net, make_client):
    from mlsgroup.infrastructure import Client

    key = bytes(range(32))
    alice = make_client(net)
    bob = Client.create(net, store=str(tmp_path / "bob.db"), encryption_key=key)
    a, b = group_of(alice, bob)
    a.send_text("before restart")
    b.sync()
    bob.close()
    a.send_text("after restart")
    bob = make_client.track(Client.open(net, store=str(tmp_path / "bob.db"), encryption_key=key))
    b = bob.group(a.group_id)
    b.sync()
    b.sync()
    assert texts(b) == [(alice.inbox_id, b"before restart"), (alice.inbox_id, b"after restart")]
    agree([a, b])


def test_parallel_syncs_publish_exactly_one_commit(net, make_client):
    """libxmtp test_parallel_syncs: many concurrent resolutions of the same installation change publish
    one commit and send one welcome."""
    alice = make_client(net)
    group = alice.create_group([])
    alice2 = make_client.track(alice.register_installation())
    before = envelope_count(net, group.group_id)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            alice.group(group.group_id).update_installations()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    assert envelope_count(net, group.group_id) == before + 1
    assert len(net.api.query_welcome_messages(alice2.installation_id)) == 1
    second = joined(alice2, group.group_id)
    group.sync()
    agree([group, second])


def test_parallel_syncs_of_one_group_are_safe(net, make_client):
    alice, bob = make_client(net), make_client(net)
    a, b = group_of(alice, bob)
    for n in range(5):
        a.send_text(f"m{n}")
    failures: list[BaseException] = []

    def run() -> None:
        try:
            bob.group(b.group_id).sync()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    assert texts(b) == [(alice.inbox_id, f"m{n}".encode()) for n in range(5)]
