"""Pins the stored event format: a recorded stream (tests/fixtures/persistence/sample_stream_v1.json) must
still replay to the same events, and today's encoder must still write the same transcoded bytes.

Each fixture record holds a stored event's columns: ``topic``, ``originator_id``,
``originator_version`` and ``state`` (hex). ``plain`` records are transcoded only; ``sealed``
records went through the whole pipeline (transcoder, zstd, AES-256-GCM with FIXTURE_KEY). A change
that breaks this test breaks every store on disk: keep the old format readable (upcasters,
``class_version``) instead of editing the fixture.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from eventsourcing.persistence import StoredEvent

from mlsgroup.domain.eventing import DomainEvent
from mlsgroup.infrastructure.persistence import AesGcmCipher, BinaryTranscoder, EventMapper, ZstdCompressor

from .sample_events import Created, Member, MembersAdded, MessageSent, PayloadStored, Priority, Renamed, Role

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "persistence" / "sample_stream_v1.json"
FIXTURE_KEY = bytes.fromhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
GROUP = uuid.UUID("6d6c7367-726f-7570-2d66-697874757265")


def expected_stream() -> list[DomainEvent]:
    alice = Member("alice", (bytes(range(32)),), Role.ADMIN)
    bob = Member("bob", (b"\x42" * 32, b"\x43" * 32))
    return [
        Created(originator_id=GROUP, originator_version=1, timestamp_ns=1_700_000_000_000_000_000,
                name="fixture group", creator=alice, seed=bytes(range(100, 132))),
        MembersAdded(originator_id=GROUP, originator_version=2, timestamp_ns=1_700_000_000_000_001_000,
                     members=(bob,), epoch=1, leaf_secrets={0: b"\x01" * 32, 2: b"\x02" * 32}),
        MessageSent(originator_id=GROUP, originator_version=3, timestamp_ns=1_700_000_000_000_002_000,
                    content="héllo ✓".encode(), content_type="text", priority=Priority.HIGH,
                    reply_to=uuid.UUID(int=7), scores=[0.25, -3.5], flags=frozenset({"pinned", "edited"})),
        Renamed(originator_id=GROUP, originator_version=4, timestamp_ns=1_700_000_000_000_003_000,
                name="renamed", previous="fixture group"),
        PayloadStored(originator_id=GROUP, originator_version=5, timestamp_ns=1_700_000_000_000_004_000,
                      payload=bytes(range(256)) * 2),
    ]


def load(kind: str) -> list[StoredEvent]:
    records = json.loads(FIXTURE.read_text())[kind]
    return [
        StoredEvent(
            originator_id=uuid.UUID(r["originator_id"]),
            originator_version=r["originator_version"],
            topic=r["topic"],
            state=bytes.fromhex(r["state"]),
        )
        for r in records
    ]


def test_plain_records_replay_and_are_written_byte_for_byte_the_same() -> None:
    mapper = EventMapper(BinaryTranscoder())
    stored = load("plain")
    assert [mapper.to_domain_event(s) for s in stored] == expected_stream()
    assert [mapper.to_stored_event(e) for e in expected_stream()] == stored


def test_sealed_records_replay_through_the_full_pipeline() -> None:
    mapper = EventMapper(BinaryTranscoder(), ZstdCompressor(), AesGcmCipher.from_key(FIXTURE_KEY))
    assert [mapper.to_domain_event(s) for s in load("sealed")] == expected_stream()
