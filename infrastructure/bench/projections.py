"""Projection rebuild throughput on SQLite: events per second from stored records to committed view rows.

``rebuild_rate`` stores N message-like events in an (optionally encrypted) SQLite event store,
then times ``ViewRunner.rebuild()`` of a view shaped like ``group_messages`` + ``groups``: one
message row per event (content and sender inbox encrypted when the store has a key) and a
read-modify-write of the group's ``last_message_ns``. The figure covers reading notifications,
decrypting, decompressing and decoding each record, projecting, encrypting sensitive cells and the
batched writes. ``floor_events_per_second`` is the rate of reading and decoding the same records
the way the runner does, without projecting anything: what any projection of this store pays
before its own work. ``storage_floor_events_per_second`` covers less still: reading the records
and opening them (AES-GCM, zstd) without reading a field, then writing the rows the rebuild wrote,
already encoded and sealed, in the same batches (each message row, the groups' rows again, the
position, a commit) and creating the indexes at the end, through the plain ``sqlite3`` module into a
fresh file: the SQLite and cryptography work alone, which no Python decoding or projecting can go
under (wall clock only). The rebuild and the first floor are also given in CPU time of the
measuring thread (``cpu_*``), which other processes on a busy machine disturb far less than the
wall clock. :func:`rebuild_rates`
measures a clear and an encrypted store in one run.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import attrs

from mlsgroup.domain.eventing import DomainEvent, register_event
from mlsgroup.projections import BYTES, INT, TEXT, Column, Patch, Rows, Table, Upsert, View

from ..persistence import ManualClock, StoreApplication, StoreSettings
from ..projecting import ViewRunner, record_reader

__all__ = ["rebuild_rate", "rebuild_rates", "RebuildFigures", "BenchMessageStored", "bench_view"]

_GROUPS = 20
_KEY = hashlib.sha256(b"mlsgroup bench projections key").digest()


@register_event("mlsgroup.bench.Projections.MessageStored")
@attrs.frozen(kw_only=True)
class BenchMessageStored(DomainEvent):
    """A stored application message, shaped like a decrypted group message."""

    message_id: bytes
    content: bytes
    content_type: str
    sender_inbox_id: str
    sender_installation_id: bytes
    sent_at_ns: int
    sequence_id: int


bench_view = View(
    "bench_messages",
    tables=[
        Table(
            "group_messages",
            [
                Column("id", BYTES),
                Column("group_id", BYTES),
                Column("decrypted_message_bytes", BYTES, sensitive=True),
                Column("sent_at_ns", INT),
                Column("sender_inbox_id", TEXT, sensitive=True),
                Column("sender_installation_id", BYTES, sensitive=True),
                Column("content_type", TEXT),
                Column("sequence_id", INT),
            ],
            key=["id"],
            indexes=[("group_id", "sent_at_ns")],
        ),
        Table("groups", [Column("id", BYTES), Column("last_message_ns", INT), Column("messages", INT)], key=["id"]),
    ],
)


@bench_view.on(BenchMessageStored)
def _stored(rows: Rows, event: BenchMessageStored) -> list[Any]:
    group_id = event.originator_id.bytes
    group = rows.get("groups", (group_id,))
    count = 1 if group is None else group["messages"] + 1
    return [
        Upsert("group_messages", {
            "id": event.message_id, "group_id": group_id, "decrypted_message_bytes": event.content,
            "sent_at_ns": event.sent_at_ns, "sender_inbox_id": event.sender_inbox_id,
            "sender_installation_id": event.sender_installation_id, "content_type": event.content_type,
            "sequence_id": event.sequence_id,
        }),
        Upsert("groups", {"id": group_id, "last_message_ns": event.sent_at_ns, "messages": count})
        if group is None else Patch("groups", (group_id,), {"last_message_ns": event.sent_at_ns, "messages": count}),
    ]


class _BenchStore(StoreApplication):
    pass


@attrs.frozen
class RebuildFigures:
    """One rebuild measurement."""

    events: int
    seconds: float
    floor_seconds: float
    encrypted: bool
    batch_size: int
    cpu_seconds: float = 0.0
    floor_cpu_seconds: float = 0.0
    storage_floor_seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds

    @property
    def floor_events_per_second(self) -> float:
        return self.events / self.floor_seconds

    @property
    def storage_floor_events_per_second(self) -> float:
        return self.events / self.storage_floor_seconds if self.storage_floor_seconds else 0.0

    @property
    def cpu_events_per_second(self) -> float:
        return self.events / self.cpu_seconds if self.cpu_seconds else 0.0

    @property
    def floor_cpu_events_per_second(self) -> float:
        return self.events / self.floor_cpu_seconds if self.floor_cpu_seconds else 0.0

    def __str__(self) -> str:
        mode = "encrypted" if self.encrypted else "clear"
        return (
            f"projection rebuild on SQLite ({mode}, batches of {self.batch_size}): {self.events} events in "
            f"{self.seconds:.2f} s = {self.events_per_second:,.0f} events/s "
            f"(CPU time: {self.cpu_events_per_second:,.0f}/s); reading and decoding the records alone: "
            f"{self.floor_events_per_second:,.0f} events/s (CPU time: {self.floor_cpu_events_per_second:,.0f}/s); "
            f"SQLite and cryptography alone: {self.storage_floor_events_per_second:,.0f} events/s"
        )


def _events(count: int, clock: ManualClock) -> list[BenchMessageStored]:
    groups = [uuid.UUID(bytes=hashlib.sha256(b"group %d" % i).digest()[:16]) for i in range(_GROUPS)]
    versions = [0] * _GROUPS
    events = []
    for n in range(count):
        g = n % _GROUPS
        versions[g] += 1
        content = b"message %d: " % n + b"lorem ipsum dolor sit amet " * 3
        events.append(BenchMessageStored(
            originator_id=groups[g], originator_version=versions[g], timestamp_ns=clock.now_ns(),
            message_id=hashlib.sha256(content).digest(), content=content, content_type="xmtp.org/text:1.0",
            sender_inbox_id="%064x" % (n % 7), sender_installation_id=bytes([n % 7]) * 32,
            sent_at_ns=clock.now_ns(), sequence_id=n + 1,
        ))
    return events


def rebuild_rate(
    events: int = 50_000,
    *,
    encrypted: bool = True,
    batch_size: int = 1000,
    directory: str | os.PathLike[str] | None = None,
    verbose: bool = True,
) -> RebuildFigures:
    """Store ``events`` events in a fresh SQLite store, time a full rebuild of ``bench_view``, print the rate."""
    with tempfile.TemporaryDirectory(dir=directory) as folder:
        settings = StoreSettings.sqlite(Path(folder) / "bench.db", encryption_key=_KEY if encrypted else None)
        with _BenchStore.open(settings) as app:
            recorder, mapper = app.recorder, app.mapper
            batch = []
            for event in _events(events, ManualClock()):
                batch.append(mapper.to_stored_event(event))
                if len(batch) == 1000:
                    recorder.insert_events(batch)
                    batch = []
            if batch:
                recorder.insert_events(batch)
            with ViewRunner.open(app, settings, bench_view, batch_size=batch_size) as runner:
                start, cpu_start = time.perf_counter(), time.thread_time()
                projected = runner.rebuild()
                seconds, cpu_seconds = time.perf_counter() - start, time.thread_time() - cpu_start
                if projected != events or runner.count("group_messages") != events:
                    raise RuntimeError(f"rebuild projected {projected} of {events} events")
                written = _written_rows(runner.store)
            start, cpu_start = time.perf_counter(), time.thread_time()
            decode = mapper.decode_record
            for records in _record_batches(recorder, batch_size):
                for _, originator_id, originator_version, topic, state in records:
                    decode(originator_id, originator_version, topic, state)
            floor_seconds, floor_cpu_seconds = time.perf_counter() - start, time.thread_time() - cpu_start
            storage_seconds = _storage_floor(app, written, Path(folder) / "floor.db", batch_size)
    figures = RebuildFigures(
        events, seconds, floor_seconds, encrypted, batch_size, cpu_seconds, floor_cpu_seconds, storage_seconds
    )
    if verbose:
        print(figures)
    return figures


def _record_batches(recorder: Any, batch_size: int) -> Iterator[list[Any]]:
    """The store's records of the bench view's topics, read as the runner reads them, a batch at a time."""
    read = record_reader(recorder, bench_view.topics)
    position, top = None, recorder.max_notification_id()
    while records := read(position, top, batch_size):
        yield records
        position = records[-1][0]


def _written_rows(store: Any) -> dict[str, tuple[Any, list[tuple[Any, ...]]]]:
    """Each table's SQL (``TableSql``) and its rows as the rebuild stored them, rowid first, in rowid order."""
    written = {}
    with store._read() as cursor:
        for name, table_sql in store.tables.items():
            cursor.execute(f"SELECT rowid, {table_sql.columns} FROM {table_sql.name} ORDER BY rowid")
            written[name] = (table_sql, [tuple(r) for r in cursor.fetchall()])
    return written


def _storage_floor(
    app: StoreApplication, written: dict[str, tuple[Any, list[tuple[Any, ...]]]], path: Path, batch_size: int
) -> float:
    """Seconds of the rebuild's SQLite and cryptography work alone (see the module docstring)."""
    (messages_sql, messages), (groups_sql, groups) = written["group_messages"], written["groups"]
    blob = [tuple(bytearray(v) if type(v) is bytes else v for v in row) for row in messages]
    group_rows = [tuple(bytearray(v) if type(v) is bytes else v for v in row) for row in groups]
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        for table_sql in (messages_sql, groups_sql):
            connection.execute(table_sql.create)
        connection.execute("CREATE TABLE position (name TEXT PRIMARY KEY, notification_id INTEGER)")
        connection.execute("INSERT INTO position VALUES ('bench', 0)")
        open_record, done = app.mapper.open_record, 0
        start = time.perf_counter()
        for records in _record_batches(app.recorder, batch_size):
            for _, originator_id, originator_version, topic, state in records:
                open_record(originator_id, originator_version, topic, state)
            position = records[-1][0]
            connection.execute("BEGIN")
            connection.executemany(messages_sql.bulk_write, blob[done:done + len(records)])
            connection.executemany(groups_sql.bulk_write, group_rows)
            connection.execute("UPDATE position SET notification_id = ? WHERE name = 'bench'", (position,))
            connection.execute("COMMIT")
            done += len(records)
        for table_sql in (messages_sql, groups_sql):
            for statement in filter(None, [table_sql.create_key_index, *table_sql.create_indexes]):
                connection.execute(statement)
        return time.perf_counter() - start
    finally:
        connection.close()


def rebuild_rates(
    events: int = 50_000,
    *,
    batch_size: int = 1000,
    directory: str | os.PathLike[str] | None = None,
    verbose: bool = True,
) -> tuple[RebuildFigures, RebuildFigures]:
    """:func:`rebuild_rate` of an unencrypted, then an encrypted store, in one run: (clear, encrypted)."""
    clear = rebuild_rate(events, encrypted=False, batch_size=batch_size, directory=directory, verbose=verbose)
    encrypted = rebuild_rate(events, encrypted=True, batch_size=batch_size, directory=directory, verbose=verbose)
    return clear, encrypted
