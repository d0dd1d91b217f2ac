"""End-to-end scenarios of the public contract (ARCHITECTURE 4) on the in-memory network, and a
representative subset on a SQLite network with SQLite stores and on a PostgreSQL network with
PostgreSQL stores (MLSGROUP_TEST_POSTGRES_DSN).

Clients talk only through the network; every scenario checks what each side sees: members, epochs,
epoch authenticators, messages and transcripts, and the errors libxmtp raises.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from mlsgroup.domain import (
    ConversationType,
    DeliveryStatus,
    MembershipState,
    MessageKind,
    MetadataField,
    PermissionLevel,
    PermissionPolicyOption,
    PermissionUpdateType,
    PolicySet,
    Preset,
    errors,
)
from mlsgroup.domain.configuration import GROUP_KEY_ROTATION_INTERVAL_NS
from mlsgroup.domain.group_aggregate import project
from mlsgroup.domain.errors import FailedToVerifyInstallations
from mlsgroup.domain.group_events import EnvelopeProcessed, EnvelopeSkipped
from mlsgroup.domain.identity_errors import InboxNotFound
from mlsgroup.domain.intents import KeyUpdateData
from mlsgroup.domain.mls_group import MlsGroup
from mlsgroup.infrastructure import Client, Network
from mlsgroup.infrastructure.persistence import ManualClock, StoreDecryptionError, StoreSettings

KEY = bytes(range(32))


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
def net() -> Network:
    return Network.in_memory(clock=ManualClock())


def clients(net: Network, n: int) -> list[Client]:
    return [Client.create(net) for _ in range(n)]


def welcome(client: Client, group: MlsGroup) -> MlsGroup:
    """``client``'s handle on ``group`` after processing its welcomes."""
    client.sync_welcomes()
    return client.group(group.group_id)


def texts(group: MlsGroup) -> list[str]:
    return [m.text for m in group.messages(kind=MessageKind.APPLICATION)]


def transcripts(group: MlsGroup):
    return [m.group_updated for m in group.messages(kind=MessageKind.MEMBERSHIP_CHANGE)]


def member_inboxes(group: MlsGroup) -> set[str]:
    return {m.inbox_id for m in group.members()}


def agree(*groups: MlsGroup) -> None:
    for group in groups:
        group.sync()
    assert len({g.epoch for g in groups}) == 1
    assert len({g.epoch_authenticator for g in groups}) == 1
    assert len({frozenset(member_inboxes(g)) for g in groups}) == 1


def skipped_reasons(group: MlsGroup) -> list[str]:
    events = group.context.group_store.events(group.group_id)
    return [
        e.outcome.reason for e in events if isinstance(e, EnvelopeProcessed) and isinstance(e.outcome, EnvelopeSkipped)
    ]


# -- messages -------------------------------------------------------------------------------------


def test_send_and_receive_both_ways(net: Network) -> None:
    alice, bob = clients(net, 2)
    group = alice.create_group([bob.inbox_id], name="team")
    bobs = welcome(bob, group)
    assert bobs.membership_state is MembershipState.PENDING
    assert group.membership_state is MembershipState.ALLOWED
    first = group.send_text("hello bob")
    bobs.sync()
    assert texts(bobs) == ["hello bob"]
    received = bobs.messages(kind=MessageKind.APPLICATION)[0]
    assert received.id == first and received.sender_inbox_id == alice.inbox_id
    assert received.sender_installation_id == alice.installation_id
    bobs.send_text("hello alice")
    group.sync()
    assert texts(group) == ["hello bob", "hello alice"]
    assert [m.delivery_status for m in group.messages(kind=MessageKind.APPLICATION)] == [DeliveryStatus.PUBLISHED] * 2
    agree(group, bobs)


def test_members_seen_from_both_sides(net: Network) -> None:
    alice, bob = clients(net, 2)
    group = alice.create_group([bob.inbox_id])
    bobs = welcome(bob, group)
    for handle in (group, bobs):
        levels = {m.inbox_id: m.permission_level for m in handle.members()}
        assert levels == {alice.inbox_id: PermissionLevel.SUPER_ADMIN, bob.inbox_id: PermissionLevel.MEMBER}
        installations = {m.inbox_id: m.installation_ids for m in handle.members()}
        assert installations[bob.inbox_id] == (bob.installation_id,)
        assert handle.creator_inbox_id == alice.inbox_id
        assert handle.super_admins() == [alice.inbox_id] and handle.admins() == []
        assert handle.conversation_type is ConversationType.GROUP
    assert bobs.added_by_inbox_id == alice.inbox_id
    assert transcripts(bobs)[0].added_inboxes == (bob.inbox_id,)
    assert transcripts(group)[-1].added_inboxes == (bob.inbox_id,)
    agree(group, bobs)


def test_messages_filters_and_optimistic_ids(net: Network) -> None:
    alice, bob = clients(net, 2)
    group = alice.create_group([bob.inbox_id])
    ids = [group.send_text(f"m{i}") for i in range(4)]
    assert len(set(ids)) == 4
    everything = group.messages()
    applications = group.messages(kind=MessageKind.APPLICATION)
    assert [m.id for m in applications] == ids
    assert group.messages(kind=MessageKind.APPLICATION, limit=2) == applications[:2]
    after = group.messages(sent_after_ns=applications[1].sent_at_ns, kind=MessageKind.APPLICATION)
    assert [m.text for m in after] == ["m2", "m3"]
    assert len(everything) == len(applications) + len(group.messages(kind=MessageKind.MEMBERSHIP_CHANGE))
    bobs = welcome(bob, group)
    bobs.sync()
    assert texts(bobs) == ["m0", "m1", "m2", "m3"]  # sent after the commit that added bob


def test_send_raw_content_type(net: Network) -> None:
    alice, bob = clients(net, 2)
    group = alice.create_group([bob.inbox_id])
    bobs = welcome(bob, group)
    group.send(b"\x00\x01binary", content_type="application/octet-stream")
    bobs.sync()
    message = bobs.messages(kind=MessageKind.APPLICATION)[0]
    assert (message.content, message.content_type) == (b"\x00\x01binary", "application/octet-stream")


# -- membership -----------------------------------------------------------------------------------


def test_remove_writes_a_transcript_and_the_removed_member_goes_inactive(net: Network) -> None:
    alice, bob, carol = clients(net, 3)
    group = alice.create_group([bob.inbox_id, carol.inbox_id])
    bobs, carols = welcome(bob, group), welcome(carol, group)
    group.remove_members([carol.inbox_id])
    assert member_inboxes(group) == {alice.inbox_id, bob.inbox_id}
    removal = transcripts(group)[-1]
    assert removal.removed_inboxes == (carol.inbox_id,) and removal.initiated_by_inbox_id == alice.inbox_id
    carols.sync()
    assert not carols.is_active
    assert transcripts(carols)[-1].removed_inboxes == (carol.inbox_id,)
    with pytest.raises(errors.GroupInactive):
        carols.send_text("still here?")
    with pytest.raises(errors.GroupInactive):
        carols.sync()
    group.send_text("after carol left")
    bobs.sync()
    assert texts(bobs) == ["after carol left"]
    assert texts(carols) == []
    agree(group, bobs)


def test_readding_a_removed_member(net: Network) -> None:
    alice, bob = clients(net, 2)
    group = alice.create_group([bob.inbox_id])
    bobs = welcome(bob, group)
    group.remove_members([bob.inbox_id])
    bobs.sync()
    assert not bobs.is_active
    group.add_members([bob.inbox_id])
    assert [g.group_id for g in bob.sync_welcomes()] == [group.group_id]
    assert bobs.is_active
    group.send_text("welcome back")
    bobs.sync()
    assert texts(bobs)[-1] == "welcome back"
    agree(group, bobs)


def test_default_lets_members_add_and_rename_but_not_remove(net: Network) -> None:
    alice, bob, carol = clients(net, 3)
    group = alice.create_group([bob.inbox_id])
    bobs = welcome(bob, group)
    bobs.add_members([carol.inbox_id])
    bobs.update_name("bob's name")
    carols = welcome(carol, group)
    group.sync()
    carols.sync()
    assert group.name == carols.name == "bob's name"
    assert member_inboxes(group) == {alice.inbox_id, bob.inbox_id, carol.inbox_id}
    epoch = bobs.epoch
    with pytest.raises(errors.InsufficientPermissions):
        bobs.remove_members([carol.inbox_id])
    assert bobs.epoch == epoch and carol.inbox_id in member_inboxes(bobs)
    agree(group, bobs, carols)


def test_admins_only_blocks_members(net: Network) -> None:
    alice, bob, carol = clients(net, 3)
    group = alice.create_group([bob.inbox_id], permissions=Preset.ADMINS_ONLY)
    bobs = welcome(bob, group)
    with pytest.raises(errors.InsufficientPermissions):
        bobs.add_members([carol.inbox_id])
    with pytest.raises(errors.InsufficientPermissions):
        bobs.update_description("nope")
    group.add_admin(bob.inbox_id)
    bobs.sync()
    assert bobs.is_admin(bob.inbox_id)
    bobs.add_members([carol.inbox_id])
    group.sync()
    assert carol.inbox_id in member_inboxes(group)
    agree(group, bobs, welcome(carol, group))


def test_add_unknown_inbox_and_group_size_limit_change_nothing(net: Network) -> None:
    (alice,) = clients(net, 1)
    group = alice.create_group()
    epoch, versions = group.epoch, group.state().version
    with pytest.raises(InboxNotFound):
        group.add_members(["0" * 64])
    with pytest.raises(errors.UserLimitExceeded):
        group.add_members([f"{i:064x}" for i in range(1, 251)])
    assert (group.epoch, group.state().version) == (epoch, versions)
    with pytest.raises(errors.UserLimitExceeded):
        alice.create_group([f"{i:064x}" for i in range(1, 251)])


def test_concurrent_adds_of_the_same_member_converge(net: Network) -> None:
    alice, bob, carol = clients(net, 3)
    group = alice.create_group([bob.inbox_id])
    bobs = welcome(bob, group)
    # Both queue and publish at the same epoch before either sees the other's commit.
    from mlsgroup.domain.intents import UpdateGroupMembershipData

    ours = group._sync.queue(UpdateGroupMembershipData(add_inbox_ids=(carol.inbox_id,)))
    theirs = bobs._sync.queue(UpdateGroupMembershipData(add_inbox_ids=(carol.inbox_id,)))
    group.publish_intents()
    bobs.publish_intents()
    assert len(net.api.query_group_messages(group.group_id, after_cursor=group.state().cursor)) == 2
    group._sync.wait_for(ours)
    bobs._sync.wait_for(theirs)
    assert bobs.state().intent(theirs).state.name == "PROCESSED"
    carols = welcome(carol, group)
    agree(group, bobs, carols)
    assert member_inboxes(group) == {alice.inbox_id, bob.inbox_id, carol.inbox_id}
    assert [t.added_inboxes for t in transcripts(bobs)].count((carol.inbox_id,)) == 1


def test_parallel_syncs_publish_exactly_one_commit(net: Network) -> None:
    alice, bob = clients(net, 2)
    group = alice.create_group([bob.inbox_id])
    before = len(net.api.query_group_messages(group.group_id))
    group._sync.queue(KeyUpdateData())
    threads = [threading.Thread(target=group.sync) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(net.api.query_group_messages(group.group_id)) == before + 1
    agree(group, welcome(bob, group))


def test_threads_sending_concurrently(net: Network) -> None:
    alice, bob = clients(net, 2)
    group = alice.create_group([bob.inbox_id])
    bobs = welcome(bob, group)
    failures: list[BaseException] = []

    def send(i: int) -> None:
        try:
            group.send_text(f"t{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    bobs.sync()
    assert sorted(texts(bobs)) == sorted(f"t{i}" for i in range(8))


# -- leaving --------------------------------------------------------------------------------------


def test_leave_rules_in_libxmtp_order(net: Network) -> None:
    alice, bob = clients(net, 2)
    solo = alice.create_group()
    with pytest.raises(errors.SingleMemberLeaveRejected):
        solo.leave()
    group = alice.create_group([bob.inbox_id])
    with pytest.raises(errors.SuperAdminLeaveForbidden):
        group.leave()
    dm = alice.find_or_create_dm(bob.inbox_id)
    with pytest.raises(errors.DmLeaveForbidden):
        dm.leave()


def test_member_leaves_and_a_super_admins_sync_removes_it(net: Network) -> None:
    alice, bob, carol = clients(net, 3)
    group = alice.create_group([bob.inbox_id, carol.inbox_id])
    bobs, carols = welcome(bob, group), welcome(carol, group)
    bobs.leave()
    assert bobs.membership_state is MembershipState.PENDING_REMOVE
    carols.sync()
    assert carols.pending_leave_inbox_ids() == (bob.inbox_id,)
    assert member_inboxes(carols) == {alice.inbox_id, bob.inbox_id, carol.inbox_id}  # carol is no super admin
    group.sync()
    assert member_inboxes(group) == {alice.inbox_id, carol.inbox_id}
    left = transcripts(group)[-1]
    assert left.left_inboxes == (bob.inbox_id,) and left.removed_inboxes == ()
    carols.sync()
    assert transcripts(carols)[-1].left_inboxes == (bob.inbox_id,)
    assert not carols.has_pending_leave_request
    bobs.sync()
    assert not bobs.is_active
    agree(group, carols)


# -- DMs ------------------------------------------------------------------------------------------


def test_dm_rules(net: Network) -> None:
    alice, bob, carol = clients(net, 3)
    dm = alice.find_or_create_dm(bob.inbox_id)
    assert alice.find_or_create_dm(bob.inbox_id) == dm
    assert dm.conversation_type is ConversationType.DM and dm.dm_peer_inbox_id == bob.inbox_id
    bobs = welcome(bob, dm)
    assert bobs.dm_peer_inbox_id == alice.inbox_id
    assert bobs.admins() == bobs.super_admins() == []
    with pytest.raises(errors.DmLeaveForbidden):
        bobs.leave()
    with pytest.raises(errors.InsufficientPermissions):
        dm.add_members([carol.inbox_id])
    with pytest.raises(errors.InsufficientPermissions):
        bobs.remove_members([alice.inbox_id])
    for rename in (dm.update_name, dm.update_description, dm.update_image_url_square, dm.update_app_data):
        with pytest.raises(errors.DmGroupMetadataForbidden):
            rename("x")
    with pytest.raises(errors.DmGroupMetadataForbidden):
        dm.add_admin(bob.inbox_id)
    with pytest.raises(errors.DmGroupMetadataForbidden):
        dm.update_permission(PermissionUpdateType.ADD_MEMBER, PermissionPolicyOption.ALLOW)
    dm.send_text("hi")
    bobs.sync()
    assert texts(bobs) == ["hi"]
    assert [g.group_id for g in bob.groups(ConversationType.DM)] == [dm.group_id]
    agree(dm, bobs)


def test_a_joined_conversations_last_message_time_is_the_welcomes(net: Network) -> None:
    alice, bob = clients(net, 2)
    for conversation in (alice.find_or_create_dm(bob.inbox_id), alice.create_group([bob.inbox_id])):
        bobs = welcome(bob, conversation)
        [added] = bobs.messages()  # the "you were added" message, sent at the welcome's server time
        assert bobs.last_message_ns == added.sent_at_ns < bobs.created_at_ns  # libxmtp: a DM's welcome time


def test_duplicate_dms_are_stitched_into_one_conversation(net: Network) -> None:
    alice, bob = clients(net, 2)
    theirs = bob.find_or_create_dm(alice.inbox_id)
    ours = alice.find_or_create_dm(bob.inbox_id)  # alice has not seen bob's welcome yet
    assert ours.group_id != theirs.group_id and ours.dm_id == theirs.dm_id
    ours.send_text("from alice")
    theirs.send_text("from bob")
    alice.sync_all()
    bob.sync_all()
    assert len(alice.groups(ConversationType.DM)) == len(bob.groups(ConversationType.DM)) == 1
    for client in (alice, bob):
        [conversation] = client.groups(ConversationType.DM)
        assert sorted(texts(conversation)) == ["from alice", "from bob"]
        assert client.find_or_create_dm(conversation.dm_peer_inbox_id).dm_id == ours.dm_id


# -- metadata, admins, permissions ----------------------------------------------------------------


def test_metadata_updates_and_length_limits(net: Network) -> None:
    alice, bob = clients(net, 2)
    group = alice.create_group([bob.inbox_id], name="n", description="d", image_url_square="i", app_data="a")
    bobs = welcome(bob, group)
    assert (bobs.name, bobs.description, bobs.image_url_square, bobs.app_data) == ("n", "d", "i", "a")
    group.update_name("name 2")
    group.update_description("desc 2")
    group.update_image_url_square("https://example.org/x.png")
    group.update_app_data("{}")
    bobs.sync()
    assert (bobs.name, bobs.description, bobs.image_url_square, bobs.app_data) == (
        "name 2", "desc 2", "https://example.org/x.png", "{}"
    )
    change = transcripts(bobs)[-4].metadata_field_changes[0]
    assert (change.field_name, change.old_value, change.new_value) == ("group_name", "n", "name 2")
    epoch = group.epoch
    for update, limit in ((group.update_name, 100), (group.update_description, 1000),
                          (group.update_image_url_square, 2048), (group.update_app_data, 8192)):
        with pytest.raises(errors.TooManyCharacters) as caught:
            update("x" * (limit + 1))
        assert str(caught.value) == f"Exceeded max characters for this field. Must be under: {limit}"
    assert group.epoch == epoch
    with pytest.raises(errors.TooManyCharacters):
        alice.create_group(name="x" * 101)


def test_admin_lists(net: Network) -> None:
    alice, bob, carol = clients(net, 3)
    group = alice.create_group([bob.inbox_id, carol.inbox_id])
    bobs, carols = welcome(bob, group), welcome(carol, group)
    with pytest.raises(errors.InsufficientPermissions):
        bobs.add_admin(bob.inbox_id)
    group.add_admin(bob.inbox_id)
    group.add_super_admin(carol.inbox_id)
    bobs.sync()
    assert bobs.is_admin(bob.inbox_id) and bobs.is_super_admin(carol.inbox_id)
    assert {m.inbox_id: m.permission_level for m in bobs.members()}[carol.inbox_id] is PermissionLevel.SUPER_ADMIN
    carols.sync()
    carols.remove_super_admin(alice.inbox_id)
    with pytest.raises(errors.InsufficientPermissions):  # the last super admin cannot be demoted
        carols.remove_super_admin(carol.inbox_id)
    carols.remove_admin(bob.inbox_id)
    group.sync()
    assert group.super_admins() == [carol.inbox_id] and group.admins() == []
    assert transcripts(group)[-1].removed_admins == (bob.inbox_id,)
    agree(group, bobs, carols)


def test_permission_updates(net: Network) -> None:
    alice, bob, carol = clients(net, 3)
    group = alice.create_group([bob.inbox_id])
    bobs = welcome(bob, group)
    with pytest.raises(errors.InsufficientPermissions):
        bobs.update_permission(PermissionUpdateType.ADD_MEMBER, PermissionPolicyOption.DENY)
    with pytest.raises(errors.InvalidPermissionUpdate):
        group.update_permission(PermissionUpdateType.UPDATE_METADATA, PermissionPolicyOption.DENY)
    group.update_permission(PermissionUpdateType.ADD_MEMBER, PermissionPolicyOption.ADMIN_ONLY)
    group.update_permission(
        PermissionUpdateType.UPDATE_METADATA, PermissionPolicyOption.DENY, metadata_field=MetadataField.GROUP_NAME
    )
    bobs.sync()
    assert bobs.permissions() == group.permissions() != PolicySet.default()
    with pytest.raises(errors.InsufficientPermissions):
        bobs.add_members([carol.inbox_id])
    with pytest.raises(errors.InsufficientPermissions):
        group.update_name("denied for everyone")
    agree(group, bobs)


# -- installations --------------------------------------------------------------------------------


def test_second_installation_joins_on_update_and_leaves_on_revoke(net: Network) -> None:
    alice, bob = clients(net, 2)
    group = alice.create_group([bob.inbox_id])
    bobs = welcome(bob, group)
    bob2 = bob.register_installation()
    assert bob2.inbox_id == bob.inbox_id and bob2.installation_id != bob.installation_id
    group.update_installations()
    bobs2 = welcome(bob2, group)
    assert set({m.inbox_id: m.installation_ids for m in group.members()}[bob.inbox_id]) == {
        bob.installation_id, bob2.installation_id,
    }
    group.send_text("to both of bob's devices")
    bobs.sync()
    bobs2.sync()
    assert texts(bobs)[-1] == texts(bobs2)[-1] == "to both of bob's devices"
    bob.revoke_installations([bob2.installation_id])
    bobs.update_installations()
    group.sync()
    assert {m.inbox_id: m.installation_ids for m in group.members()}[bob.inbox_id] == (bob.installation_id,)
    bobs2.sync()
    assert not bobs2.is_active
    agree(group, bobs)


def test_creator_with_two_installations_brings_both(net: Network) -> None:
    alice, bob = clients(net, 2)
    alice2 = alice.register_installation()
    group = alice.create_group([bob.inbox_id])
    alices2 = welcome(alice2, group)
    assert alices2.membership_state is MembershipState.ALLOWED  # our own inbox added us
    group.send_text("synced to my other device")
    alices2.sync()
    assert texts(alices2) == ["synced to my other device"]
    agree(group, alices2, welcome(bob, group))


def test_malformed_key_packages(net: Network) -> None:
    alice, bob, carol = clients(net, 3)
    bob2 = bob.register_installation()
    net.api.upload_key_package(bob2.installation_id, b"not a key package")
    group = alice.create_group([bob.inbox_id])
    assert group.failed_installations() == (bob2.installation_id,)
    assert {m.inbox_id: m.installation_ids for m in group.members()}[bob.inbox_id] == (bob.installation_id,)
    assert bob2.sync_welcomes() == []
    bobs = welcome(bob, group)
    assert bobs.failed_installations() == (bob2.installation_id,)
    net.api.upload_key_package(carol.installation_id, b"garbage too")
    epoch = group.epoch
    with pytest.raises(FailedToVerifyInstallations):
        group.add_members([carol.inbox_id])
    assert group.epoch == epoch
    agree(group, bobs)


def test_key_rotation_after_thirty_days(net: Network) -> None:
    alice, bob = clients(net, 2)
    group = alice.create_group([bob.inbox_id])
    bobs = welcome(bob, group)
    bobs.send_text("first send rotates a joiner's key")
    group.sync()
    epoch = group.epoch
    group.send_text("no rotation yet")
    assert group.epoch == epoch
    net.clock.advance(GROUP_KEY_ROTATION_INTERVAL_NS + 1)
    group.send_text("rotated first")
    assert group.epoch == epoch + 1
    bobs.sync()
    assert texts(bobs)[-2:] == ["no rotation yet", "rotated first"]
    group.key_update()
    agree(group, bobs)


# -- adversarial envelopes ----------------------------------------------------------------------


def test_garbage_replayed_and_forged_envelopes_are_skipped(net: Network) -> None:
    alice, bob, mallory = clients(net, 3)
    group = alice.create_group([bob.inbox_id])
    bobs = welcome(bob, group)
    group.send_text("genuine")
    envelopes = net.api.query_group_messages(group.group_id)
    commit, message = envelopes[0].payload, envelopes[-1].payload
    forged = bytearray(message)
    forged[-5] ^= 0x01
    outsider = mallory.create_group()  # a valid message of another group, re-addressed
    outsider.send_text("not for you")
    foreign = net.api.query_group_messages(outsider.group_id)[-1].payload
    net.api.send_group_messages(group.group_id, [b"garbage", message, commit, bytes(forged), foreign])
    bobs.sync()
    group.sync()
    assert texts(bobs) == ["genuine"]
    reasons = skipped_reasons(bobs)
    assert len(reasons) == 5 and "DecodeError" in reasons
    assert len(skipped_reasons(group)) == 5
    group.send_text("still working")
    bobs.send_text("me too")
    group.sync()
    assert texts(group) == ["genuine", "still working", "me too"]
    agree(group, bobs)


def test_processing_is_idempotent_at_the_cursor(net: Network) -> None:
    alice, bob = clients(net, 2)
    group = alice.create_group([bob.inbox_id])
    bobs = welcome(bob, group)
    group.send_text("once")
    bobs.sync()
    state = bobs.state()
    bobs._sync.receive()
    assert bobs.state().version == state.version
    assert texts(bobs) == ["once"]


# -- errors, lookups, replay ------------------------------------------------------------------------


def test_group_lookup(net: Network) -> None:
    alice, bob = clients(net, 2)
    with pytest.raises(errors.GroupNotFound) as caught:
        alice.group(b"\x01" * 16)
    assert str(caught.value) == f"group with id {'01' * 16} not found"
    group = alice.create_group([bob.inbox_id])
    dm = alice.find_or_create_dm(bob.inbox_id)
    assert alice.group(group.group_id) == group
    assert [g.group_id for g in alice.groups()] == [group.group_id, dm.group_id]
    assert [g.group_id for g in alice.groups(ConversationType.GROUP)] == [group.group_id]
    assert [g.group_id for g in bob.sync_welcomes()] == [group.group_id, dm.group_id]
    assert bob.sync_welcomes() == []


def test_replaying_the_events_reproduces_the_state(net: Network) -> None:
    alice, bob, carol = clients(net, 3)
    group = alice.create_group([bob.inbox_id, carol.inbox_id])
    bobs = welcome(bob, group)
    for i in range(3):
        group.send_text(f"a{i}")
        bobs.send_text(f"b{i}")
    group.update_name("replayed")
    group.remove_members([carol.inbox_id])
    bobs.sync()
    for handle in (group, bobs):
        store = handle.context.group_store
        replayed = project(None, store.events(handle.group_id))
        assert replayed == handle.state()
        assert replayed.mls.encode() == handle.state().mls.encode()
        assert replayed.mls.epoch_authenticator == handle.epoch_authenticator


def test_snapshots_restore_the_state(net: Network) -> None:
    alice = Client.create(net, snapshot_interval=5)
    bob = Client.create(net)
    group = alice.create_group([bob.inbox_id])
    for i in range(7):
        group.send_text(f"m{i}")
    store = alice.group_store
    (latest,) = store.app.snapshots.get(group.state().id)  # the latest only: older ones are deleted
    assert 5 <= latest.originator_version <= group.state().version
    assert store.replay(group.group_id, use_snapshots=True) == store.replay(group.group_id) == group.state()


# -- persistence and backends ---------------------------------------------------------------------


class Stack:
    """A network and client stores on one backend."""

    def __init__(self, kind: str, tmp_path: Path, postgres: Any) -> None:
        self.kind = kind
        self.tmp_path = tmp_path
        self.postgres = postgres
        self.clients: list[Client] = []
        if kind == "memory":
            self.net = Network.in_memory()
        elif kind == "sqlite":
            self.net = Network.sqlite(tmp_path / "network.db")
        else:
            postgres.check_reachable()
            self.net = Network.postgres(postgres.dsn, schema=postgres.new_schema(), pool_size=2)

    def store(self, name: str) -> Any:
        if self.kind == "memory":
            return None
        if self.kind == "sqlite":
            return self.tmp_path / f"{name}.db"
        return StoreSettings.postgres(self.postgres.dsn, schema=self.postgres.new_schema(), pool_size=2)

    def client(self, name: str) -> Client:
        client = Client.create(self.net, store=self.store(name), encryption_key=KEY)
        self.clients.append(client)
        return client

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.net.close()


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def stack(request: pytest.FixtureRequest, tmp_path: Path, postgres_server: Any) -> Iterator[Stack]:
    if request.param == "postgres" and postgres_server is None:
        pytest.skip("PostgreSQL not configured: set MLSGROUP_TEST_POSTGRES_DSN")
    made = Stack(request.param, tmp_path, postgres_server)
    yield made
    made.close()


def test_conversation_on_every_backend(stack: Stack) -> None:
    alice, bob, carol = stack.client("alice"), stack.client("bob"), stack.client("carol")
    group = alice.create_group([bob.inbox_id, carol.inbox_id], name="backends")
    bobs, carols = welcome(bob, group), welcome(carol, group)
    group.send_text("hello")
    bobs.send_text("hi")
    group.remove_members([carol.inbox_id])
    carols.sync()
    assert not carols.is_active
    group.sync()
    bobs.sync()
    assert texts(group) == texts(bobs) == ["hello", "hi"]
    dm = alice.find_or_create_dm(bob.inbox_id)
    dm.send_text("private")
    bob.sync_all()
    assert texts(bob.find_or_create_dm(alice.inbox_id)) == ["private"]
    agree(group, bobs)


def test_member_leaves_on_every_backend(stack: Stack) -> None:
    alice, bob = stack.client("alice"), stack.client("bob")
    group = alice.create_group([bob.inbox_id])
    bobs = welcome(bob, group)
    bobs.leave()
    group.sync()
    assert member_inboxes(group) == {alice.inbox_id}
    assert transcripts(group)[-1].left_inboxes == (bob.inbox_id,)


def test_client_open_restores_groups_and_messages(stack: Stack) -> None:
    if stack.kind == "memory":
        pytest.skip("an in-memory store does not outlive its client")
    alice_store = stack.store("alice")
    alice = Client.create(stack.net, store=alice_store, encryption_key=KEY)
    bob = stack.client("bob")
    group = alice.create_group([bob.inbox_id], name="persistent")
    bobs = welcome(bob, group)
    group.send_text("before restart")
    bobs.send_text("reply")
    group.sync()
    state, inbox, installation = group.state(), alice.inbox_id, alice.installation_id
    alice.close()
    with Client.open(stack.net, store=alice_store, encryption_key=KEY) as reopened:
        assert (reopened.inbox_id, reopened.installation_id) == (inbox, installation)
        restored = reopened.group(group.group_id)
        assert restored.state() == state
        assert restored.name == "persistent"
        assert texts(restored) == ["before restart", "reply"]
        restored.send_text("after restart")
        bobs.sync()
        assert texts(bobs)[-1] == "after restart"
        agree(restored, bobs)
    if stack.kind == "sqlite":
        with pytest.raises(StoreDecryptionError):
            Client.open(stack.net, store=alice_store, encryption_key=bytes(32))


# -- delivery failures ---------------------------------------------------------------------------------


class FlakyApi:
    """The in-memory delivery service, refusing the next ``failures`` group sends."""

    def __init__(self, api: Any) -> None:
        self._api = api
        self.failures = 0

    def send_group_messages(self, group_id: bytes, payloads: Any) -> list[int]:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("delivery service unavailable")
        return self._api.send_group_messages(group_id, payloads)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)


def test_a_refused_send_is_retried_and_fails_after_three_attempts() -> None:
    base = Network.in_memory(clock=ManualClock())
    flaky = FlakyApi(base.api)
    net = Network(flaky, base.identity, base.clock)
    alice, bob = clients(net, 2)
    group = alice.create_group([bob.inbox_id])
    bobs = welcome(bob, group)
    flaky.failures = 1
    group.send_text("second attempt")
    flaky.failures = 3
    with pytest.raises(errors.SyncError):
        group.send_text("never delivered")
    statuses = [(m.text, m.delivery_status) for m in group.messages(kind=MessageKind.APPLICATION)]
    assert statuses == [("second attempt", DeliveryStatus.PUBLISHED), ("never delivered", DeliveryStatus.FAILED)]
    flaky.failures = 1
    group.update_name("after a failed commit send")
    bobs.sync()
    assert texts(bobs) == ["second attempt"] and bobs.name == "after a failed commit send"
    agree(group, bobs)
