"""Pins the group aggregate's stored event format: recorded histories of two members
(tests/fixtures/group/group_stream_v*.json) must still decode, replay to the recorded MLS state
(epoch, epoch authenticator, members, cursor) and project to the same views; the newest one must
be written byte for byte the same today.

v1 predates GroupJoined v2 (joined epoch and extensions, upcast by joining again) and CommitMerged v2
(``still_member`` and the new extensions, which a v1 record cannot give: upcast to None).

v2 records an application message's ciphertext in its IntentPublished; v3 records None there (the
seed rebuilds it when the event is applied, checked against ``payload_hash``).

The history is the deterministic scenario of tests/domain/test_group_aggregate.py (fixed seeds and
times): alice creates a group and adds bob, messages go both ways, bob renames the group, alice
rotates her key and removes bob; bob's copy ends inactive. A change that breaks this test breaks
every store on disk: keep the old format readable (``class_version`` and upcasters) and the MLS
derivations stable instead of editing the fixture. Regenerate only for a deliberate format version:
``python -m tests.infrastructure.test_group_event_fixture`` (writes the newest version's file).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import attrs
from eventsourcing.persistence import StoredEvent

import pytest

from mlsgroup.domain.group_aggregate import project
from mlsgroup.domain.group_events import CommitMerged, GroupJoined
from mlsgroup.domain.intents import KeyUpdateData, MetadataUpdateData
from mlsgroup.infrastructure.persistence import BinaryTranscoder, EventMapper
from mlsgroup.projections import group_views, replay

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "group"
FIXTURE = FIXTURES / "group_stream_v3.json"
ALL_FIXTURES = [FIXTURES / "group_stream_v1.json", FIXTURES / "group_stream_v2.json", FIXTURE]


def _history():
    from mlsgroup.domain.group_decisions import plan_commit, publish_commit, queue_intent
    from tests.domain import test_group_aggregate as scenario

    alice, bob, topic = scenario.two_member_group()
    scenario.deliver(alice, scenario.send(alice, b"a0" * 8, "hello bob", topic))
    scenario.deliver(bob, topic.envelopes[-1])
    scenario.deliver(bob, scenario.send(bob, b"b0" * 8, "hello alice", topic))
    scenario.deliver(alice, topic.envelopes[-1])
    for history, intent_id, data in (
        (bob, b"n1" * 8, MetadataUpdateData(field_name="group_name", value="pinned")),
        (alice, b"k1" * 8, KeyUpdateData()),
    ):
        history.apply(queue_intent(history.state, intent_id, data, history.tick()))
        plan = plan_commit(history.state, history.state.intent(intent_id))
        [published] = history.apply(
            publish_commit(history.state, history.state.intent(intent_id), plan, scenario.seed(intent_id.hex()),
                           history.tick(), scenario.fetch)
        )
        envelope = topic.send(published.payload)
        scenario.deliver(alice, envelope)
        scenario.deliver(bob, envelope)
    [published] = scenario.publish_membership(alice, b"r1" * 8, remove=(scenario.BOB.inbox_id,), label="remove")
    envelope = topic.send(published.payload)
    scenario.deliver(alice, envelope)
    scenario.deliver(bob, envelope)
    return {"alice": alice, "bob": bob}


def _summary(state) -> dict:
    return {
        "version": state.version,
        "epoch": state.epoch,
        "cursor": state.cursor,
        "active": state.is_active,
        "epoch_authenticator": bytes(state.mls.epoch_authenticator).hex(),
        "members": sorted(state.xmtp.membership.members),
        "name": state.xmtp.mutable_metadata.get("group_name"),
    }


def _records(events) -> list[dict]:
    mapper = EventMapper(BinaryTranscoder())
    return [
        {
            "topic": stored.topic,
            "originator_id": str(stored.originator_id),
            "originator_version": stored.originator_version,
            "state": stored.state.hex(),
        }
        for stored in map(mapper.to_stored_event, events)
    ]


def _load(records: list[dict]) -> list[StoredEvent]:
    return [
        StoredEvent(uuid.UUID(r["originator_id"]), r["originator_version"], r["topic"], bytes.fromhex(r["state"]))
        for r in records
    ]


@pytest.mark.parametrize("path", ALL_FIXTURES, ids=lambda p: p.stem)
def test_recorded_group_streams_replay_to_the_recorded_states(path: Path) -> None:
    fixture = json.loads(path.read_text())
    mapper = EventMapper(BinaryTranscoder())
    for member in ("alice", "bob"):
        events = [mapper.to_domain_event(s) for s in _load(fixture[member]["records"])]
        state = project(None, events)
        assert _summary(state) == fixture[member]["state"]
        group = replay(group_views, events)["groups"][(state.group_id,)]
        assert (group["epoch"], group["is_active"]) == (state.epoch, state.is_active)


def test_v1_joins_are_upcast_to_the_epoch_and_extensions_they_joined_at() -> None:
    fixture = json.loads(ALL_FIXTURES[0].read_text())
    mapper = EventMapper(BinaryTranscoder())
    events = [mapper.to_domain_event(s) for s in _load(fixture["bob"]["records"])]
    joined = events[0]
    assert isinstance(joined, GroupJoined)
    state = project(None, [joined])
    assert joined.epoch == state.epoch == 1
    xmtp = dict(state.xmtp.extensions())
    assert {kind: data for kind, data in joined.extensions if kind in xmtp} == xmtp
    merged = [e.outcome for e in events if isinstance(getattr(e, "outcome", None), CommitMerged)]
    assert merged and all(m.still_member is None and m.extensions is None for m in merged)


def test_todays_decisions_write_the_recorded_bytes() -> None:
    fixture = json.loads(FIXTURE.read_text())
    for member, history in _history().items():
        events = [attrs.evolve(e) for e in history.events]
        assert _records(events) == fixture[member]["records"]
        assert _summary(history.state) == fixture[member]["state"]


def _write() -> None:
    data = {
        member: {"state": _summary(history.state), "records": _records(history.events)}
        for member, history in _history().items()
    }
    FIXTURE.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    _write()
