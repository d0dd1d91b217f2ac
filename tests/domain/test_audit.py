"""The pure audit replay (domain/audit.py): a real history (made through the public API on an
in-memory network) re-derives cleanly; each kind of edit to it is reported by the right check.
Received messages are recorded as ``MessageReceived`` (no ciphertext); the same history rewritten
in the v1 shape (``ApplicationReceived`` beside the envelope's payload) audits the same way."""

from __future__ import annotations

import os

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlsgroup.domain import Preset
from mlsgroup.domain.application_content import LEAVE_REQUEST_CONTENT_TYPE, ApplicationContent, message_id
from mlsgroup.domain.audit import VIOLATION, WARNING, GroupAuditor, _is_plain_message, audit_group
from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.group_aggregate import GroupSnapshot, project
from mlsgroup.domain.group_events import (
    ApplicationReceived,
    EnvelopeProcessed,
    IntentQueued,
    MessageReceived,
    OwnMessageConfirmed,
)
from mlsgroup.domain.intents import SendMessageData
from mlsgroup.infrastructure import Client, Network


@pytest.fixture(scope="module")
def history():
    """(alice's events, bob's events, group id, inboxes, payloads by cursor) of a short group history."""
    with Network.in_memory() as net:
        alice, bob, carol = (Client.create(net) for _ in range(3))
        group = alice.create_group([bob.inbox_id, carol.inbox_id], permissions=Preset.DEFAULT)
        bob.sync_welcomes()
        carol.sync_welcomes()
        g_bob, g_carol = bob.group(group.group_id), carol.group(group.group_id)
        group.send_text("one")
        g_bob.sync()
        g_bob.send_text("two")
        g_carol.sync()
        g_carol.leave()
        group.sync()
        g_bob.sync()
        g_bob.send_text("three")
        group.sync()
        result = (
            alice.group_store.events(group.group_id),
            bob.group_store.events(group.group_id),
            group.group_id,
            {"alice": alice.inbox_id, "bob": bob.inbox_id, "carol": carol.inbox_id},
            {e.cursor: e.payload for e in net.api.query_group_messages(group.group_id)},
        )
        for client in (alice, bob, carol):
            client.close()
    return result


@pytest.fixture(scope="module")
def message_run():
    """(alice's events, group id): bob's six messages received in a row, then alice's own."""
    with Network.in_memory() as net:
        alice, bob = Client.create(net), Client.create(net)
        group = alice.create_group([bob.inbox_id])
        bob.sync_welcomes()
        g_bob = bob.group(group.group_id)
        for n in range(6):
            g_bob.send_text(f"message {n}")
        group.sync()
        group.send_text("mine")
        result = alice.group_store.events(group.group_id), group.group_id
        alice.close()
        bob.close()
    return result


def _checks(audit, severity=VIOLATION):
    return [(f.check, f.version) for f in audit.findings if f.severity == severity]


def _first(events, outcome_type):
    return next(e for e in events if isinstance(e, EnvelopeProcessed) and isinstance(e.outcome, outcome_type))


def _v1(events, payloads):
    """The history as v1 stores held it: received messages as ApplicationReceived beside their payload."""
    old = []
    for event in events:
        outcome = getattr(event, "outcome", None)
        if isinstance(outcome, MessageReceived):
            outcome = ApplicationReceived(
                message_id=outcome.message_id, sender_inbox_id=outcome.sender_inbox_id,
                sender_installation_id=outcome.sender_installation_id, content_type=outcome.content_type,
                content=outcome.content, idempotency_key=outcome.idempotency_key, epoch=outcome.epoch,
            )
            event = attrs.evolve(event, payload=payloads[event.cursor], outcome=outcome)
        elif isinstance(outcome, OwnMessageConfirmed):
            outcome = attrs.evolve(outcome, payload_hash=None)
            event = attrs.evolve(event, payload=payloads[event.cursor], outcome=outcome)
        old.append(event)
    return old


def _with_opened(target, **changes):
    opened = attrs.evolve(target.outcome.opened, **changes)
    return attrs.evolve(target, outcome=MessageReceived.of(opened))


def test_a_real_history_re_derives_cleanly(history) -> None:
    alice_events, bob_events, group_id, inboxes, _ = history
    for events in (alice_events, bob_events):
        audit = audit_group(group_id, events)
        assert audit.findings == ()
        assert audit.events == len(events)
        assert audit.counts["outcomes re-derived"] == sum(isinstance(e, EnvelopeProcessed) for e in events)
        epochs = [r.epoch for r in audit.epochs]
        assert epochs == list(range(epochs[0], epochs[-1] + 1))
        assert audit.epochs[-1].authenticator == project(None, events).mls.epoch_authenticator
        assert audit.timeline[-1].left == (inboxes["carol"],)
        assert set(audit.members) == {inboxes["alice"], inboxes["bob"]}
    counts = audit_group(group_id, alice_events).counts
    assert counts["messages received"] == counts["messages rebuilt and verified"] == 2
    assert all(e.payload == b"" for e in alice_events if isinstance(e, EnvelopeProcessed)
               and isinstance(e.outcome, (MessageReceived, OwnMessageConfirmed)))


def test_a_v1_history_re_derives_cleanly_and_replays_to_the_same_state(history) -> None:
    alice_events, bob_events, group_id, _, payloads = history
    for events in (alice_events, bob_events):
        old = _v1(events, payloads)
        audit = audit_group(group_id, old)
        assert audit.findings == ()
        assert project(None, old) == project(None, events)
    assert audit_group(group_id, _v1(alice_events, payloads)).counts["messages decrypted"] == 2


def test_edited_message_content_fails_the_signature_check(history) -> None:
    events, _, group_id, _, _ = history
    target = _first(events, MessageReceived)
    content = target.outcome.application_content
    forged = attrs.evolve(content, content=b"I never said that").encode()
    audit = audit_group(group_id, [_with_opened(target, data=forged) if e is target else e for e in events])
    assert _checks(audit) == [("outcome", target.originator_version)]
    assert "cannot be rebuilt" in audit.violations[0].message and "SignatureError" in audit.violations[0].message


@pytest.mark.parametrize(
    "changes, named",
    [
        (dict(sender_inbox_id="ab" * 32), "sender_inbox_id"),
        (dict(sender_installation_id=b"\x01" * 32), "sender_installation_id"),
        (dict(payload_hash=b"\x00" * 32), "payload_hash"),
    ],
)
def test_an_edited_opening_record_is_reported_by_the_outcome_check(history, changes, named) -> None:
    events, _, group_id, _, _ = history
    target = _first(events, MessageReceived)
    audit = audit_group(group_id, [_with_opened(target, **changes) if e is target else e for e in events])
    assert _checks(audit) == [("outcome", target.originator_version)]
    assert named in audit.violations[0].message


@pytest.mark.parametrize("changes", [dict(generation=7), dict(leaf=5), dict(reuse_guard=b"\x00" * 4), dict(padding=3)])
def test_edited_opening_fields_do_not_rebuild_the_recorded_message(history, changes) -> None:
    events, _, group_id, _, _ = history
    target = _first(events, MessageReceived)
    audit = audit_group(group_id, [_with_opened(target, **changes) if e is target else e for e in events])
    first = audit.violations[0]
    assert (first.check, first.version) == ("outcome", target.originator_version)


def test_a_confirmation_of_a_message_we_never_published_is_reported(history) -> None:
    events, _, group_id, _, _ = history
    target = _first(events, OwnMessageConfirmed)
    forged = attrs.evolve(target, outcome=attrs.evolve(target.outcome, intent_id=b"?" * 16))
    audit = audit_group(group_id, [forged if e is target else e for e in events])
    assert _checks(audit)[0] == ("outcome", target.originator_version)


def test_an_edited_v1_message_is_reported_by_the_outcome_check(history) -> None:
    events, _, group_id, _, payloads = history
    events = _v1(events, payloads)
    target = _first(events, ApplicationReceived)
    edited = attrs.evolve(target, outcome=attrs.evolve(target.outcome, content=b"edited"))
    audit = audit_group(group_id, [edited if e is target else e for e in events])
    assert _checks(audit) == [("outcome", target.originator_version)]


def test_an_edited_v1_payload_no_longer_decrypts_to_the_recorded_message(history) -> None:
    events, _, group_id, _, payloads = history
    events = _v1(events, payloads)
    target = _first(events, ApplicationReceived)
    payload = bytearray(target.payload)
    payload[-1] ^= 1
    edited = attrs.evolve(target, payload=bytes(payload))
    audit = audit_group(group_id, [edited if e is target else e for e in events])
    first = audit.violations[0]
    assert (first.check, first.version) == ("outcome", target.originator_version)
    assert "re-derived EnvelopeSkipped" in first.message


def test_a_missing_event_halts_the_replay_and_a_later_snapshot_resumes_it(history) -> None:
    events, _, group_id, _, _ = history
    dropped = events[5]
    kept = [e for e in events if e is not dropped]
    assert _checks(audit_group(group_id, kept))[0] == ("sequence", dropped.originator_version + 1)
    later = project(None, events[:12])
    resumed = audit_group(group_id, kept, [GroupSnapshot.take(later)])
    assert ("replay", 12) in _checks(resumed, WARNING)
    assert [c for c, _ in _checks(resumed)] == ["sequence"]


def test_a_snapshot_that_differs_from_the_replay_is_reported(history) -> None:
    events, _, group_id, _, _ = history
    honest = project(None, events[:10])
    later = project(None, events)
    forged = GroupSnapshot.take(attrs.evolve(later, version=honest.version, modified_ns=honest.modified_ns))
    assert ("authenticator", honest.version) in _checks(audit_group(group_id, events, [forged]))
    renamed = GroupSnapshot.take(attrs.evolve(honest, added_by_inbox_id="someone else"))
    found = audit_group(group_id, events, [renamed]).violations
    assert [(f.check, f.version) for f in found] == [("snapshot", honest.version)]
    assert "added_by_inbox_id" in found[0].message
    assert audit_group(group_id, events, [GroupSnapshot.take(honest)]).findings == ()


def test_a_leave_request_queued_by_a_super_admin_breaks_the_leave_rules(history) -> None:
    events, _, group_id, _, _ = history
    last = events[-1]
    key = b"leave"
    data = SendMessageData(
        content=b"", content_type=LEAVE_REQUEST_CONTENT_TYPE, idempotency_key=key, message_id=message_id(group_id, key, b"")
    )
    queued = IntentQueued(
        originator_id=last.originator_id, originator_version=last.originator_version + 1,
        timestamp_ns=last.timestamp_ns, intent_id=os.urandom(16), data=data,
    )
    audit = audit_group(group_id, [*events, queued])
    assert _checks(audit) == [("leave", queued.originator_version)]
    assert "SuperAdminLeaveForbidden" in audit.violations[0].message


def test_a_history_must_begin_with_the_group_s_creation(history) -> None:
    events, _, group_id, _, _ = history
    audit = audit_group(group_id, events[1:])
    assert _checks(audit)[0] == ("sequence", 2)


def test_an_outcome_stripped_of_its_identity_states_cannot_be_re_derived(history) -> None:
    from mlsgroup.domain.group_events import CommitMerged

    events, _, group_id, _, _ = history
    target = _first(events, CommitMerged)
    assert target.outcome.identity_states  # validation read identity states, and the event kept them
    stripped = attrs.evolve(target, outcome=attrs.evolve(target.outcome, identity_states=()))
    audit = audit_group(group_id, [stripped if e is target else e for e in events])
    first = audit.violations[0]
    assert (first.check, first.version) == ("outcome", target.originator_version)
    assert "needs identity states the event does not record" in first.message


def _received(events):
    return [e for e in events if isinstance(e, EnvelopeProcessed) and isinstance(e.outcome, MessageReceived)]


def test_a_run_of_received_messages_replays_to_the_projected_state(message_run) -> None:
    events, group_id = message_run
    auditor = GroupAuditor(group_id)
    for event in events:
        auditor.feed(event)
    assert auditor.state == project(None, events)
    audit = auditor.finish()
    assert audit.findings == ()
    assert audit.counts["messages rebuilt and verified"] == audit.counts["messages received"] == 6


def test_an_edited_message_inside_a_run_is_reported_and_the_rest_still_checked(message_run) -> None:
    events, group_id = message_run
    target = _received(events)[2]
    forged = attrs.evolve(target.outcome.application_content, content=b"I never said that").encode()
    audit = audit_group(group_id, [_with_opened(target, data=forged) if e is target else e for e in events])
    assert _checks(audit) == [("outcome", target.originator_version)]
    assert "SignatureError" in audit.violations[0].message
    assert audit.counts["messages rebuilt and verified"] == 5


def test_a_snapshot_inside_a_run_is_compared(message_run) -> None:
    events, group_id = message_run
    target = _received(events)[3]
    honest = project(None, events[: target.originator_version])
    audit = audit_group(group_id, events, [GroupSnapshot.take(honest)])
    assert audit.findings == () and audit.counts["snapshots compared"] == 1
    renamed = GroupSnapshot.take(attrs.evolve(honest, added_by_inbox_id="someone else"))
    assert _checks(audit_group(group_id, events, [renamed])) == [("snapshot", target.originator_version)]


def test_a_message_missing_from_a_run_halts_it(message_run) -> None:
    events, group_id = message_run
    dropped = _received(events)[1]
    audit = audit_group(group_id, [e for e in events if e is not dropped])
    assert _checks(audit)[0] == ("sequence", dropped.originator_version + 1)


def _plain_by_decoding(data: bytes) -> bool:
    try:
        return not ApplicationContent.decode(data).is_leave_request
    except DecodeError:
        return False


_PROTOBUF_PIECES = st.one_of(
    st.binary(max_size=6),
    st.sampled_from([b"\x0a", b"\x12", b"\x1a", b"\x0a\x04text", b"\x0a\x02\xc3\x28", b"\x12\x80", b"\xff\x01",
                     b"\x0a" + bytes([len(LEAVE_REQUEST_CONTENT_TYPE)]) + LEAVE_REQUEST_CONTENT_TYPE.encode()]),
)


@given(st.one_of(
    st.builds(lambda t, c, k: ApplicationContent(t, c, k).encode(),
              st.sampled_from(["", "text", LEAVE_REQUEST_CONTENT_TYPE]) | st.text(max_size=8),
              st.binary(max_size=200), st.binary(max_size=20)),
    st.lists(_PROTOBUF_PIECES, max_size=8).map(b"".join),
))
def test_the_plain_message_check_agrees_with_decoding(data: bytes) -> None:
    assert _is_plain_message(data) == _plain_by_decoding(data)
