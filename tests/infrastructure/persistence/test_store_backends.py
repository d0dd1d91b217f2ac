"""One store contract, run on every backend (popo, sqlite, postgres): round trips through the encrypted,
compressed store, optimistic-concurrency conflicts, typed errors for wrong keys and tampered rows,
notifications for projections, and snapshots."""

from __future__ import annotations

import os
import sqlite3
import uuid
from dataclasses import replace
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from mlsgroup.domain.eventing import DomainEvent
from mlsgroup.infrastructure.persistence import (
    AesGcmCipher,
    BinaryTranscoder,
    EventMapper,
    ManualClock,
    StoreApplication,
    StoreDecryptionError,
    ZstdCompressor,
)

from .sample_events import (
    Created,
    Member,
    MembersAdded,
    MessageSent,
    PayloadStored,
    Priority,
    Renamed,
    Role,
    SampleSnapshot,
    SampleState,
    project,
)

KEY = bytes(range(32))


class SampleStore(StoreApplication):
    snapshot_class = SampleSnapshot
    is_snapshotting_enabled = True


def history(aggregate: uuid.UUID, clock: ManualClock, start: int = 1, count: int = 6) -> list[DomainEvent]:
    """``count`` events of every sample type, versions ``start`` .. ``start + count - 1``."""
    alice = Member("alice", (b"\x01" * 32,), Role.ADMIN)
    makers = [
        lambda v: Created(originator_id=aggregate, originator_version=v, timestamp_ns=clock.now_ns(),
                          name="group", creator=alice, seed=os.urandom(32)),
        lambda v: MembersAdded(originator_id=aggregate, originator_version=v, timestamp_ns=clock.now_ns(),
                               members=(Member("bob", (b"\x02" * 32, b"\x03" * 32)),), epoch=v,
                               leaf_secrets={1: os.urandom(32), 2: os.urandom(32)}),
        lambda v: MessageSent(originator_id=aggregate, originator_version=v, timestamp_ns=clock.now_ns(),
                              content=b"hello bob " * 20, content_type="text", priority=Priority.LOW,
                              reply_to=None, scores=[1.0], flags=frozenset({"read"})),
        lambda v: Renamed(originator_id=aggregate, originator_version=v, timestamp_ns=clock.now_ns(),
                          name=f"name {v}", previous="group"),
        lambda v: PayloadStored(originator_id=aggregate, originator_version=v, timestamp_ns=clock.now_ns(),
                                payload=os.urandom(100)),
    ]
    events = []
    for version in range(start, start + count):
        maker = makers[0] if version == 1 else makers[1 + (version - 2) % 4]
        events.append(maker(version))
    return events


def test_events_round_trip_through_the_encrypted_store(backend: Any) -> None:
    clock = ManualClock()
    group, other = uuid.uuid4(), uuid.uuid4()
    events, others = history(group, clock, count=9), history(other, clock, count=2)
    with SampleStore.open(backend.settings(encryption_key=KEY)) as app:
        app.save(*events[:4])
        app.save(*others)
        app.save(*events[4:])
        assert list(app.events.get(group)) == events
        assert list(app.events.get(other)) == others
        assert list(app.events.get(group, gt=3, lte=5)) == events[3:5]
        read_back = list(app.events.get(group))
        assert [type(e) for e in read_back] == [type(e) for e in events]
        assert type(read_back[1].members) is tuple and type(read_back[1].leaf_secrets) is dict
        state = app.repository.get(group, projector_func=project)
        assert state == project(None, events)
        assert state.version == 9 and [m.inbox_id for m in state.members][:2] == ["alice", "bob"]
        for stored in app.recorder.select_events(group):
            assert b"alice" not in stored.state and b"hello bob" not in stored.state


def test_notifications_keep_order_and_topics(backend: Any) -> None:
    clock = ManualClock()
    group = uuid.uuid4()
    events = history(group, clock, count=6)
    with SampleStore.open(backend.settings(encryption_key=KEY)) as app:
        for event in events:
            app.save(event)
        notifications = app.recorder.select_notifications(start=None, limit=100)
        assert [n.topic for n in notifications] == [type(e).TOPIC for e in events]
        assert [n.id for n in notifications] == sorted(n.id for n in notifications)
        assert [app.mapper.to_domain_event(n) for n in notifications] == events
        renamed = app.recorder.select_notifications(start=None, limit=100, topics=[Renamed.TOPIC])
        assert [app.mapper.to_domain_event(n) for n in renamed] == [e for e in events if isinstance(e, Renamed)]
        after = app.recorder.select_notifications(start=notifications[2].id, limit=2, inclusive_of_start=False)
        assert [n.id for n in after] == [n.id for n in notifications[3:5]]
        assert app.recorder.max_notification_id() == notifications[-1].id


def test_version_conflict_raises_integrity_error_and_writes_nothing(backend: Any) -> None:
    clock = ManualClock()
    group = uuid.uuid4()
    events = history(group, clock, count=3)
    with SampleStore.open(backend.settings(encryption_key=KEY)) as app:
        app.save(*events)
        # Two writers decided version 4 from the same state: the second one loses.
        mine = history(group, clock, start=4, count=1)[0]
        theirs = history(group, clock, start=4, count=1)[0]
        app.save(mine)
        with pytest.raises(IntegrityError):
            app.save(theirs)
        # A batch that conflicts anywhere is refused as a whole.
        batch = history(group, clock, start=5, count=2) + [history(group, clock, start=2, count=1)[0]]
        with pytest.raises(IntegrityError):
            app.save(*batch)
        assert list(app.events.get(group)) == [*events, mine]


def test_wrong_key_raises_typed_error_on_stored_records(backend: Any) -> None:
    group = uuid.uuid4()
    with SampleStore.open(backend.settings(encryption_key=KEY)) as app:
        app.save(*history(group, ManualClock(), count=3))
        wrong = EventMapper(BinaryTranscoder(), ZstdCompressor(), AesGcmCipher.from_key(os.urandom(32)))
        for stored in app.recorder.select_events(group):
            with pytest.raises(StoreDecryptionError):
                wrong.to_domain_event(stored)


def _corrupt_row(backend: Any, app: StoreApplication, aggregate: uuid.UUID, version: int) -> None:
    """Flip one byte of a stored row in the backend's own storage."""
    stored = app.recorder.select_events(aggregate, gt=version - 1, lte=version)[0]
    flipped = bytearray(stored.state)
    flipped[len(flipped) // 2] ^= 0x01
    if backend.name == "popo":
        rows = app.recorder._stored_events  # the in-memory table
        index = app.recorder._stored_events_index[str(aggregate)][version]
        rows[index] = replace(rows[index], state=bytes(flipped))
    elif backend.name == "sqlite":
        with sqlite3.connect(app.env["SQLITE_DBNAME"]) as conn:
            conn.execute(
                "UPDATE stored_events SET state=? WHERE originator_id=? AND originator_version=?",
                (bytes(flipped), aggregate.hex, version),
            )
    else:
        import psycopg
        from psycopg import sql

        from mlsgroup.infrastructure.persistence.settings import postgres_connect_kwargs

        table = sql.Identifier(app.env["POSTGRES_SCHEMA"], f"{app.name.lower()}_events")
        with psycopg.connect(**postgres_connect_kwargs(app.env)) as conn:
            conn.execute(
                sql.SQL("UPDATE {} SET state=%s WHERE originator_id=%s AND originator_version=%s").format(table),
                (bytes(flipped), aggregate, version),
            )


def test_tampered_row_raises_typed_error(backend: Any) -> None:
    group = uuid.uuid4()
    with SampleStore.open(backend.settings(encryption_key=KEY)) as app:
        events = history(group, ManualClock(), count=4)
        app.save(*events)
        _corrupt_row(backend, app, group, 3)
        assert list(app.events.get(group, lte=2)) == events[:2]
        with pytest.raises(StoreDecryptionError):
            list(app.events.get(group))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_reopened_store_reads_back_and_rejects_another_key(backend: Any) -> None:
    group = uuid.uuid4()
    settings = backend.settings(encryption_key=KEY)
    events = history(group, ManualClock(), count=5)
    with SampleStore.open(settings) as app:
        app.save(*events)
    with SampleStore.open(settings) as app:
        assert list(app.events.get(group)) == events
    with SampleStore.open(backend.same_store(settings, encryption_key=os.urandom(32))) as app:
        with pytest.raises(StoreDecryptionError):
            list(app.events.get(group))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_two_applications_on_one_store_conflict_on_the_same_version(backend: Any) -> None:
    clock = ManualClock()
    group = uuid.uuid4()
    settings = backend.settings(encryption_key=KEY)
    with SampleStore.open(settings) as first, SampleStore.open(settings) as second:
        first.save(*history(group, clock, count=2))
        assert second.repository.get(group, projector_func=project).version == 2
        first.save(history(group, clock, start=3, count=1)[0])
        with pytest.raises(IntegrityError):
            second.save(history(group, clock, start=3, count=1)[0])
        assert second.repository.get(group, projector_func=project).version == 3


def test_snapshot_plus_tail_equals_full_replay(backend: Any) -> None:
    clock = ManualClock()
    group = uuid.uuid4()
    events = history(group, clock, count=11)
    with SampleStore.open(backend.settings(encryption_key=KEY)) as app:
        for event in events:
            app.save(event)
            if event.originator_version % 4 == 0:
                app.take_snapshot(group, version=event.originator_version, projector_func=project)
        assert app.snapshots is not None
        latest = list(app.snapshots.get(group, desc=True, limit=1))
        assert [s.originator_version for s in latest] == [8]
        assert isinstance(latest[0].state, SampleState) and latest[0].timestamp_ns == events[7].timestamp_ns
        from_snapshot = app.repository.get(group, projector_func=project)
        full_replay = project(None, app.events.get(group))
        assert from_snapshot == full_replay == project(None, events)
        assert app.repository.get(group, version=6, projector_func=project) == project(None, events[:6])


def test_unencrypted_uncompressed_store_round_trips(backend: Any) -> None:
    group = uuid.uuid4()
    events = history(group, ManualClock(), count=4)
    with SampleStore.open(backend.settings(encryption_key=None, compress=False)) as app:
        app.save(*events)
        assert list(app.events.get(group)) == events
        assert app.mapper.cipher is None and app.mapper.compressor is None
