"""The pure audit replay (domain/audit.py): a real history (made through the public API on an
in-memory network) re-derives cleanly; each kind of edit to it is reported by the right check."""

from __future__ import annotations

import os

import attrs
import pytest

from mlsgroup.domain import Preset
from mlsgroup.domain.application_content import LEAVE_REQUEST_CONTENT_TYPE, message_id
from mlsgroup.domain.audit import VIOLATION, WARNING, audit_group
from mlsgroup.domain.group_aggregate import GroupSnapshot, project
from mlsgroup.domain.group_events import ApplicationReceived, EnvelopeProcessed, IntentQueued
from mlsgroup.domain.intents import SendMessageData
from mlsgroup.infrastructure import Client, Network


@pytest.fixture(scope="module")
def history():
    """(alice's events, bob's events, group id, inboxes) of a short group history."""
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
        )
        for client in (alice, bob, carol):
            client.close()
    return result


def _checks(audit, severity=VIOLATION):
    return [(f.check, f.version) for f in audit.findings if f.severity == severity]


def _first(events, outcome_type):
    return next(e for e in events if isinstance(e, EnvelopeProcessed) and isinstance(e.outcome, outcome_type))


def test_a_real_history_re_derives_cleanly(history) -> None:
    alice_events, bob_events, group_id, inboxes = history
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
    assert audit_group(group_id, alice_events).counts["messages decrypted"] == 2


def test_an_edited_message_is_reported_by_the_outcome_check(history) -> None:
    events, _, group_id, _ = history
    target = _first(events, ApplicationReceived)
    edited = attrs.evolve(target, outcome=attrs.evolve(target.outcome, content=b"edited"))
    audit = audit_group(group_id, [edited if e is target else e for e in events])
    assert _checks(audit) == [("outcome", target.originator_version)]


def test_an_edited_payload_no_longer_decrypts_to_the_recorded_message(history) -> None:
    events, _, group_id, _ = history
    target = _first(events, ApplicationReceived)
    payload = bytearray(target.payload)
    payload[-1] ^= 1
    edited = attrs.evolve(target, payload=bytes(payload))
    audit = audit_group(group_id, [edited if e is target else e for e in events])
    first = audit.violations[0]
    assert (first.check, first.version) == ("outcome", target.originator_version)
    assert "re-derived EnvelopeSkipped" in first.message


def test_a_missing_event_halts_the_replay_and_a_later_snapshot_resumes_it(history) -> None:
    events, _, group_id, _ = history
    dropped = events[5]
    kept = [e for e in events if e is not dropped]
    assert _checks(audit_group(group_id, kept))[0] == ("sequence", dropped.originator_version + 1)
    later = project(None, events[:12])
    resumed = audit_group(group_id, kept, [GroupSnapshot.take(later)])
    assert ("replay", 12) in _checks(resumed, WARNING)
    assert [c for c, _ in _checks(resumed)] == ["sequence"]


def test_a_snapshot_that_differs_from_the_replay_is_reported(history) -> None:
    events, _, group_id, _ = history
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
    events, _, group_id, _ = history
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
    events, _, group_id, _ = history
    audit = audit_group(group_id, events[1:])
    assert _checks(audit)[0] == ("sequence", 2)


def test_an_outcome_stripped_of_its_identity_states_cannot_be_re_derived(history) -> None:
    from mlsgroup.domain.group_events import CommitMerged

    events, _, group_id, _ = history
    target = _first(events, CommitMerged)
    assert target.outcome.identity_states  # validation read identity states, and the event kept them
    stripped = attrs.evolve(target, outcome=attrs.evolve(target.outcome, identity_states=()))
    audit = audit_group(group_id, [stripped if e is target else e for e in events])
    first = audit.violations[0]
    assert (first.check, first.version) == ("outcome", target.originator_version)
    assert "needs identity states the event does not record" in first.message
