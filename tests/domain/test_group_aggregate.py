"""The group aggregate as pure decide/evolve: commands return events, the projector folds them.

Two members are driven without any infrastructure: identities and key packages are built in the
test, envelopes are numbered by hand. Checked: each command's events and the state they lead to,
own and foreign commits (merged, rejected, lost epoch race), application messages, skipped
envelopes, idempotence at the cursor, replay determinism (events without the live ``derived``
shortcut re-derive the same state byte for byte) and snapshot + tail == full replay at every
position of a history.
"""

from __future__ import annotations

import hashlib
from typing import Iterable

import attrs
import pytest

from mlsgroup.domain import Preset
from mlsgroup.domain.application_content import message_id
from mlsgroup.domain.envelope_processing import process_envelope
from mlsgroup.domain.group_aggregate import GroupAggregateState, GroupSnapshot, ReplayMismatch, project, stage_commit
from mlsgroup.domain.group_decisions import (
    create_group,
    join_group,
    plan_commit,
    publish_commit,
    publish_message,
    queue_intent,
)
from mlsgroup.domain.group_events import (
    CommitMerged,
    CommitRejected,
    EnvelopeSkipped,
    IntentFailed,
    IntentProcessed,
    IntentPublished,
    MessageReceived,
    OwnCommitMerged,
    OwnMessageConfirmed,
)
from mlsgroup.domain.group_state import XmtpGroupState
from mlsgroup.domain.identity import apply_update, create_inbox, inbox_id_for, installation_key_pair
from mlsgroup.domain.intents import (
    IntentState,
    KeyUpdateData,
    MetadataUpdateData,
    SendMessageData,
    UpdateGroupMembershipData,
)
from mlsgroup.domain.membership_plan import membership_change, plan_membership_commit
from mlsgroup.domain.ports import Envelope
from mlsgroup.domain.welcomes import open_welcome_for
from mlsgroup.domain.xmtp_mls import generate_xmtp_key_package

T0 = 1_700_000_000_000_000_000


def seed(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


class Member:
    """An inbox with one installation and one key package, all from fixed seeds."""

    def __init__(self, name: str) -> None:
        self.key, self.installation_id = installation_key_pair(seed(name + " key"))
        self.inbox_id = inbox_id_for(self.installation_id)
        self.inbox_state = apply_update(None, create_inbox(self.key, T0))
        self.bundle = generate_xmtp_key_package(self.inbox_id, self.key, seed(name + " kp"), T0 // 10**9 - 60)


ALICE, BOB, CAROL = Member("alice"), Member("bob"), Member("carol")
MEMBERS = {m.inbox_id: m for m in (ALICE, BOB, CAROL)}


def fetch(needed: Iterable[tuple[str, int]]) -> dict[tuple[str, int], frozenset[bytes]]:
    return {(inbox, seq): MEMBERS[inbox].inbox_state.installations_at(seq) for inbox, seq in needed}


class History:
    """One member's events and state."""

    def __init__(self, events: list) -> None:
        self.events = list(events)
        self.state: GroupAggregateState = project(None, self.events)  # type: ignore[assignment]
        self.now = T0

    def apply(self, events: list) -> list:
        self.events += events
        self.state = project(self.state, events)  # type: ignore[assignment]
        return events

    def tick(self) -> int:
        self.now += 1_000
        return self.now


class Topic:
    """The group's topic: envelopes numbered 1, 2, ..."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    def send(self, payload: bytes) -> Envelope:
        envelope = Envelope(len(self.envelopes) + 1, payload, T0 + len(self.envelopes))
        self.envelopes.append(envelope)
        return envelope


def new_group(permissions=Preset.DEFAULT) -> History:
    xmtp = XmtpGroupState.new_group(ALICE.inbox_id, ALICE.installation_id, permissions.policy_set())
    return History(
        create_group(
            group_id=b"G" * 16,
            inbox_id=ALICE.inbox_id,
            installation_id=ALICE.installation_id,
            signature_private=ALICE.key,
            xmtp=xmtp,
            dm_id=None,
            seed=seed("group"),
            timestamp_ns=T0,
        )
    )


def publish_membership(history: History, intent_id: bytes, add=(), remove=(), label="publish") -> list:
    history.apply(queue_intent(history.state, intent_id, UpdateGroupMembershipData(add_inbox_ids=add, remove_inbox_ids=remove), history.tick()))
    state = history.state
    data = state.intent(intent_id).data
    states = {inbox: MEMBERS[inbox].inbox_state for inbox in (*state.xmtp.membership.members, *add)}
    change = membership_change(state.xmtp, data, states)
    key_packages = {i: MEMBERS[inbox].bundle.message() for i, inbox in change.to_add.items()}
    plan = plan_membership_commit(state.mls, state.xmtp, change, key_packages, history.now // 10**9)
    return history.apply(publish_commit(state, state.intent(intent_id), plan, seed(label), history.tick(), fetch))


def deliver(history: History, envelope: Envelope) -> list:
    return history.apply(process_envelope(history.state, envelope, fetch, history.tick()))


def joined(member: Member, payload: bytes) -> History:
    found = open_welcome_for(payload, member.inbox_id, {member.bundle.ref: member.bundle}.get, fetch)
    return History(join_group(None, found, inbox_id=member.inbox_id, installation_id=member.installation_id, timestamp_ns=T0))


def two_member_group(permissions=Preset.DEFAULT) -> tuple[History, History, Topic]:
    alice, topic = new_group(permissions), Topic()
    [published] = publish_membership(alice, b"i1" * 8, add=(BOB.inbox_id,))
    [merged] = deliver(alice, topic.send(published.payload))
    assert isinstance(merged.outcome, OwnCommitMerged)
    intent = alice.state.intent(b"i1" * 8)
    return alice, joined(BOB, intent.welcome), topic


def send(history: History, intent_id: bytes, text: str, topic: Topic) -> Envelope:
    data = SendMessageData(content=text.encode(), content_type="text", idempotency_key=intent_id, message_id=intent_id)
    history.apply(queue_intent(history.state, intent_id, data, history.tick()))
    [published] = history.apply(
        publish_message(history.state, history.state.intent(intent_id), seed(text), history.tick())
    )
    assert published.payload is None  # the record keeps the hash; applying it rebuilds the payload from the seed
    return topic.send(history.state.intent(intent_id).payload)


def stripped(events: list) -> list:
    """The events as a store returns them: without the live ``derived`` shortcut."""
    return [attrs.evolve(event) for event in events]


# -- decide / evolve ----------------------------------------------------------------------------------


def test_creating_and_adding_a_member() -> None:
    alice, bob, _topic = two_member_group()
    for history in (alice, bob):
        state = history.state
        assert state.epoch == 1
        assert set(state.xmtp.membership.members) == {ALICE.inbox_id, BOB.inbox_id}
        assert state.xmtp.membership.members[ALICE.inbox_id] == 1  # off the creation placeholder
    assert alice.state.mls.epoch_authenticator == bob.state.mls.epoch_authenticator
    intent = alice.state.intent(b"i1" * 8)
    assert intent.state is IntentState.COMMITTED and intent.welcome_installations == (BOB.installation_id,)
    assert bob.state.cursor == 1 and bob.state.added_by_inbox_id == ALICE.inbox_id


def test_application_messages_are_confirmed_and_received() -> None:
    alice, bob, topic = two_member_group()
    envelope = send(alice, b"m1" * 8, "hello", topic)
    assert alice.state.intent(b"m1" * 8).state is IntentState.PUBLISHED
    [confirmed] = deliver(alice, envelope)
    digest = hashlib.sha256(envelope.payload).digest()
    assert confirmed.outcome == OwnMessageConfirmed(intent_id=b"m1" * 8, message_id=b"m1" * 8, payload_hash=digest)
    assert confirmed.payload == b""  # the published intent holds it
    assert alice.state.intent(b"m1" * 8).state is IntentState.PROCESSED
    [received] = deliver(bob, envelope)
    outcome = received.outcome
    assert isinstance(outcome, MessageReceived) and received.payload == b""
    assert (outcome.content, outcome.sender_inbox_id, outcome.sender_installation_id) == (
        b"hello", ALICE.inbox_id, ALICE.installation_id,
    )
    assert (outcome.content_type, outcome.idempotency_key, outcome.epoch) == ("text", b"m1" * 8, 1)
    assert outcome.message_id == message_id(b"G" * 16, b"m1" * 8, b"hello") and outcome.payload_hash == digest
    assert outcome.opened.leaf == 0 and outcome.opened.generation == 0


def test_envelopes_at_or_below_the_cursor_are_ignored() -> None:
    alice, bob, topic = two_member_group()
    envelope = send(alice, b"m1" * 8, "once", topic)
    deliver(bob, envelope)
    assert process_envelope(bob.state, envelope, fetch, bob.tick()) == []
    replay = topic.send(envelope.payload)
    [skipped] = deliver(bob, replay)
    assert isinstance(skipped.outcome, EnvelopeSkipped) and bob.state.cursor == replay.cursor


def test_garbage_is_skipped_with_its_reason() -> None:
    alice, _bob, topic = two_member_group()
    before = alice.state
    [event] = deliver(alice, topic.send(b"\x00\x01garbage"))
    assert event.outcome.reason == "DecodeError"
    assert alice.state.mls.encode() == before.mls.encode() and alice.state.cursor == 2


def test_foreign_commit_is_validated_and_merged_with_a_transcript() -> None:
    alice, bob, topic = two_member_group()
    bob.apply(queue_intent(bob.state, b"n1" * 8, MetadataUpdateData(field_name="group_name", value="bob's"), bob.tick()))
    plan = plan_commit(bob.state, bob.state.intent(b"n1" * 8))
    [published] = bob.apply(publish_commit(bob.state, bob.state.intent(b"n1" * 8), plan, seed("n1"), bob.tick(), fetch))
    envelope = topic.send(published.payload)
    [merged] = deliver(alice, envelope)
    assert isinstance(merged.outcome, CommitMerged) and merged.outcome.committer_inbox_id == BOB.inbox_id
    assert alice.state.xmtp.mutable_metadata.get("group_name") == "bob's"
    deliver(bob, envelope)
    assert bob.state.mls.epoch_authenticator == alice.state.mls.epoch_authenticator


def test_own_commit_that_validation_rejects_is_never_published() -> None:
    alice, bob, _topic = two_member_group(Preset.ADMINS_ONLY)
    bob.apply(queue_intent(bob.state, b"n1" * 8, MetadataUpdateData(field_name="group_name", value="x"), bob.tick()))
    plan = plan_commit(bob.state, bob.state.intent(b"n1" * 8))
    [failed] = bob.apply(publish_commit(bob.state, bob.state.intent(b"n1" * 8), plan, seed("x"), bob.tick(), fetch))
    assert isinstance(failed, IntentFailed) and failed.error == "InsufficientPermissions"
    assert bob.state.intent(b"n1" * 8).state is IntentState.ERROR


def test_foreign_commit_breaking_the_rules_is_rejected_and_changes_nothing() -> None:
    alice, bob, topic = two_member_group(Preset.ADMINS_ONLY)
    bob.apply(queue_intent(bob.state, b"n1" * 8, MetadataUpdateData(field_name="group_name", value="x"), bob.tick()))
    intent = attrs.evolve(bob.state.intent(b"n1" * 8), plan=plan_commit(bob.state, bob.state.intent(b"n1" * 8)), publish_seed=seed("x"))
    forced = stage_commit(bob.state.mls, intent)  # what a client skipping the pre-check would send
    before = alice.state
    [event] = deliver(alice, topic.send(forced.message))
    assert isinstance(event.outcome, CommitRejected) and event.outcome.error == "InsufficientPermissions"
    assert event.outcome.intent_id is None
    assert alice.state.mls.encode() == before.mls.encode() and alice.state.epoch == before.epoch


def test_a_commit_that_loses_its_epoch_is_rebuilt_and_finds_nothing_to_do() -> None:
    alice, bob, topic = two_member_group()
    [theirs] = publish_membership(bob, b"b1" * 8, add=(CAROL.inbox_id,), label="bob")
    [ours] = publish_membership(alice, b"a1" * 8, add=(CAROL.inbox_id,), label="alice")
    first, second = topic.send(theirs.payload), topic.send(ours.payload)
    [merged] = deliver(alice, first)
    assert isinstance(merged.outcome, CommitMerged)
    assert alice.state.intent(b"a1" * 8).state is IntentState.TO_PUBLISH
    [skipped] = deliver(alice, second)
    assert skipped.outcome.reason == "WrongEpoch"
    state = alice.state
    data = state.intent(b"a1" * 8).data
    change = membership_change(state.xmtp, data, {i: MEMBERS[i].inbox_state for i in state.xmtp.membership.members})
    plan = plan_membership_commit(state.mls, state.xmtp, change, {}, None)
    [done] = alice.apply(publish_commit(state, state.intent(b"a1" * 8), plan, seed("again"), alice.tick(), fetch))
    assert isinstance(done, IntentProcessed)
    deliver(bob, first)
    deliver(bob, second)
    assert bob.state.mls.epoch_authenticator == alice.state.mls.epoch_authenticator


def test_a_tampered_record_is_caught_on_replay() -> None:
    alice, _bob, topic = two_member_group()
    send(alice, b"m1" * 8, "hello", topic)
    events = stripped(alice.events)
    published = events[-1]
    assert isinstance(published, IntentPublished)
    events[-1] = attrs.evolve(published, payload_hash=b"\x00" * 32)
    with pytest.raises(ReplayMismatch):
        project(None, events)


# -- replay ---------------------------------------------------------------------------------------------


def rich_history() -> tuple[History, History]:
    alice, bob, topic = two_member_group()
    for i in range(3):
        deliver(alice, send(alice, b"a%d" % i * 8, f"a{i}", topic))
        deliver(bob, topic.envelopes[-1])
        deliver(bob, send(bob, b"b%d" % i * 8, f"b{i}", topic))
        deliver(alice, topic.envelopes[-1])
    [published] = publish_membership(alice, b"c1" * 8, add=(CAROL.inbox_id,), label="carol")
    envelope = topic.send(published.payload)
    deliver(alice, envelope)
    deliver(bob, envelope)
    alice.apply(queue_intent(alice.state, b"k1" * 8, KeyUpdateData(), alice.tick()))
    plan = plan_commit(alice.state, alice.state.intent(b"k1" * 8))
    [published] = alice.apply(publish_commit(alice.state, alice.state.intent(b"k1" * 8), plan, seed("k"), alice.tick(), fetch))
    envelope = topic.send(published.payload)
    deliver(alice, envelope)
    deliver(bob, envelope)
    deliver(bob, topic.send(b"noise"))
    [published] = publish_membership(alice, b"r1" * 8, remove=(BOB.inbox_id,), label="remove")
    envelope = topic.send(published.payload)
    deliver(alice, envelope)
    deliver(bob, envelope)
    assert not bob.state.is_active
    return alice, bob


def test_replay_reproduces_the_state_byte_for_byte() -> None:
    for history in rich_history():
        replayed = project(None, stripped(history.events))
        assert replayed == history.state
        assert replayed.mls.encode() == history.state.mls.encode()
        assert replayed.mls.epoch_authenticator == history.state.mls.epoch_authenticator


@pytest.mark.parametrize("member", [0, 1], ids=["alice", "bob"])
def test_snapshot_plus_tail_equals_full_replay_at_every_position(member: int) -> None:
    history = rich_history()[member]
    events = stripped(history.events)
    full = project(None, events)
    for position in range(1, len(events) + 1):
        snapshot = GroupSnapshot.take(project(None, events[:position]))
        assert project(None, [snapshot, *events[position:]]) == full
