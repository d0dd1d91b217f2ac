"""SQL delivery service and identity registry over a ``SqlDatabase`` (SQLite or PostgreSQL), ports of
``mlsgroup.domain.ports``.

The database, not this process, orders each topic: a payload's cursor comes from the topic's
counter row in ``topics``, advanced with ``INSERT .. ON CONFLICT DO UPDATE .. RETURNING`` inside the
same transaction that inserts the payloads. That row stays locked until commit (PostgreSQL row
lock; SQLite ``BEGIN IMMEDIATE`` write lock), so concurrent writers in other processes or hosts
wait, get the next cursors, and can only commit after every lower cursor is visible: readers never
see a gap that later fills. Identity updates are validated with ``domain.identity.apply_update``
against the stored chain, under a registry-wide lock, before they are stored.
"""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from contextlib import AbstractContextManager
from typing import Any, Iterable, Protocol, Sequence

from mlsgroup.domain import identity_errors
from mlsgroup.domain.identity import AddInstallation, CreateInbox, IdentityUpdate, InboxState, apply_update
from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.ports import Clock, Envelope

from .arguments import check_payloads, check_query, check_topic, check_welcomes, unique_ids
from .errors import StoredDataError

__all__ = ["TABLES", "SqlDatabase", "SqlDeliveryService", "SqlIdentityRegistry", "GROUP_TOPIC", "WELCOME_TOPIC"]

# Table definitions for both dialects: {bytes}, {int} and {serial} are the dialect's column types.
TABLES = (
    "CREATE TABLE IF NOT EXISTS {p}topics (kind {int} NOT NULL, topic {bytes} NOT NULL, "
    "last_cursor {int} NOT NULL, last_time_ns {int} NOT NULL, PRIMARY KEY (kind, topic))",
    "CREATE TABLE IF NOT EXISTS {p}group_messages (group_id {bytes} NOT NULL, cursor {int} NOT NULL, "
    "payload {bytes} NOT NULL, server_time_ns {int} NOT NULL, payload_hash {bytes} NOT NULL, "
    "PRIMARY KEY (group_id, cursor))",
    "CREATE TABLE IF NOT EXISTS {p}welcome_messages (installation_id {bytes} NOT NULL, cursor {int} NOT NULL, "
    "payload {bytes} NOT NULL, server_time_ns {int} NOT NULL, payload_hash {bytes} NOT NULL, "
    "PRIMARY KEY (installation_id, cursor))",
    "CREATE TABLE IF NOT EXISTS {p}key_packages (id {serial}, installation_id {bytes} NOT NULL, "
    "key_package {bytes} NOT NULL, uploaded_at_ns {int} NOT NULL)",
    "CREATE INDEX IF NOT EXISTS key_packages_by_installation ON {p}key_packages (installation_id, id)",
    "CREATE TABLE IF NOT EXISTS {p}last_resort_key_packages (installation_id {bytes} PRIMARY KEY, "
    "key_package {bytes} NOT NULL, uploaded_at_ns {int} NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {p}identity_updates (inbox_id TEXT NOT NULL, sequence_id {int} NOT NULL, "
    "payload {bytes} NOT NULL, server_time_ns {int} NOT NULL, PRIMARY KEY (inbox_id, sequence_id))",
    "CREATE TABLE IF NOT EXISTS {p}installations (installation_id {bytes} PRIMARY KEY, inbox_id TEXT NOT NULL)",
)

GROUP_TOPIC = 1
WELCOME_TOPIC = 2
# Bound IN (...) lists well under SQLite's variable limit.
_CHUNK = 500


class SqlDatabase(Protocol):
    """What the SQL adapters need from a database: compiled statements and two kinds of transaction."""

    no_limit: Any

    def sql(self, template: str) -> str:
        """``template`` with ``%s`` placeholders, ``{p}`` table prefix and dialect tokens made concrete."""
        ...

    def write(self) -> AbstractContextManager[Any]:
        """A cursor in a write transaction that holds the database's write lock where it has one."""
        ...

    def read(self) -> AbstractContextManager[Any]:
        """A cursor for reads; every statement sees a committed snapshot."""
        ...

    def lock_identity_registry(self, cursor: Any) -> None:
        """Serialise identity publishing for the rest of the write transaction."""
        ...


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _marks(n: int) -> str:
    return ", ".join(["%s"] * n)


class SqlDeliveryService:
    """Group topics, welcome topics and key packages in SQL tables."""

    def __init__(self, db: SqlDatabase, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._reserve = db.sql(
            "INSERT INTO {p}topics AS t (kind, topic, last_cursor, last_time_ns) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (kind, topic) DO UPDATE SET last_cursor = t.last_cursor + excluded.last_cursor, "
            "last_time_ns = {greatest}(t.last_time_ns + %s, excluded.last_time_ns) "
            "RETURNING last_cursor, last_time_ns"
        )
        self._insert = {
            GROUP_TOPIC: db.sql(
                "INSERT INTO {p}group_messages (group_id, cursor, payload, server_time_ns, payload_hash) "
                "VALUES (%s, %s, %s, %s, %s)"
            ),
            WELCOME_TOPIC: db.sql(
                "INSERT INTO {p}welcome_messages (installation_id, cursor, payload, server_time_ns, payload_hash) "
                "VALUES (%s, %s, %s, %s, %s)"
            ),
        }
        self._query = {
            GROUP_TOPIC: db.sql(
                "SELECT cursor, payload, server_time_ns FROM {p}group_messages "
                "WHERE group_id = %s AND cursor > %s ORDER BY cursor LIMIT %s"
            ),
            WELCOME_TOPIC: db.sql(
                "SELECT cursor, payload, server_time_ns FROM {p}welcome_messages "
                "WHERE installation_id = %s AND cursor > %s ORDER BY cursor LIMIT %s"
            ),
        }
        self._put_last_resort = db.sql(
            "INSERT INTO {p}last_resort_key_packages (installation_id, key_package, uploaded_at_ns) "
            "VALUES (%s, %s, %s) ON CONFLICT (installation_id) DO UPDATE SET "
            "key_package = excluded.key_package, uploaded_at_ns = excluded.uploaded_at_ns"
        )
        self._put_one_time = db.sql(
            "INSERT INTO {p}key_packages (installation_id, key_package, uploaded_at_ns) VALUES (%s, %s, %s)"
        )
        self._take_one_time = db.sql(
            "DELETE FROM {p}key_packages WHERE id = (SELECT id FROM {p}key_packages WHERE installation_id = %s "
            "ORDER BY id LIMIT 1 {skip_locked}) RETURNING key_package"
        )

    def _append(self, cursor: Any, kind: int, topic: bytes, payloads: list[bytes], now_ns: int) -> list[int]:
        n = len(payloads)
        cursor.execute(self._reserve, (kind, topic, n, now_ns + n - 1, n))
        last_cursor, last_time = cursor.fetchone()
        first_cursor, first_time = last_cursor - n + 1, last_time - n + 1
        cursor.executemany(
            self._insert[kind],
            [
                (topic, first_cursor + i, payload, first_time + i, hashlib.sha256(payload).digest())
                for i, payload in enumerate(payloads)
            ],
        )
        return list(range(first_cursor, last_cursor + 1))

    def _select(self, kind: int, topic: bytes, after_cursor: int, limit: int | None) -> list[Envelope]:
        with self._db.read() as cursor:
            cursor.execute(self._query[kind], (topic, after_cursor, self._db.no_limit if limit is None else limit))
            rows = cursor.fetchall()
        return [Envelope(c, bytes(payload), t) for c, payload, t in rows]

    def send_group_messages(self, group_id: bytes, payloads: Sequence[bytes]) -> list[int]:
        group_id = check_topic(group_id)
        payloads = check_payloads(payloads)
        if not payloads:
            return []
        with self._db.write() as cursor:
            return self._append(cursor, GROUP_TOPIC, group_id, payloads, self._clock.now_ns())

    def query_group_messages(self, group_id: bytes, after_cursor: int = 0, limit: int | None = None) -> list[Envelope]:
        group_id = check_topic(group_id)
        check_query(after_cursor, limit)
        return self._select(GROUP_TOPIC, group_id, after_cursor, limit)

    def send_welcome_messages(self, messages: Sequence[tuple[bytes, bytes]]) -> list[int]:
        messages = check_welcomes(messages)
        if not messages:
            return []
        by_installation: dict[bytes, list[int]] = defaultdict(list)
        for index, (installation_id, _) in enumerate(messages):
            by_installation[installation_id].append(index)
        cursors = [0] * len(messages)
        with self._db.write() as cursor:
            now_ns = self._clock.now_ns()
            # Counter rows are locked in one global order so two batches cannot deadlock.
            for installation_id in sorted(by_installation):
                indexes = by_installation[installation_id]
                assigned = self._append(
                    cursor, WELCOME_TOPIC, installation_id, [messages[i][1] for i in indexes], now_ns
                )
                for index, value in zip(indexes, assigned):
                    cursors[index] = value
        return cursors

    def query_welcome_messages(
        self, installation_id: bytes, after_cursor: int = 0, limit: int | None = None
    ) -> list[Envelope]:
        installation_id = check_topic(installation_id, "installation_id")
        check_query(after_cursor, limit)
        return self._select(WELCOME_TOPIC, installation_id, after_cursor, limit)

    def upload_key_package(self, installation_id: bytes, key_package: bytes, is_last_resort: bool = True) -> None:
        installation_id = check_topic(installation_id, "installation_id")
        key_package = check_payloads([key_package])[0]
        statement = self._put_last_resort if is_last_resort else self._put_one_time
        with self._db.write() as cursor:
            cursor.execute(statement, (installation_id, key_package, self._clock.now_ns()))

    def fetch_key_packages(self, installation_ids: Iterable[bytes]) -> dict[bytes, bytes]:
        ids = unique_ids(installation_ids)
        found: dict[bytes, bytes] = {}
        if not ids:
            return found
        last_resort: dict[bytes, bytes] = {}
        with self._db.write() as cursor:
            with_one_time: set[bytes] = set()
            for chunk in _chunks(ids):
                cursor.execute(
                    self._db.sql(f"SELECT DISTINCT installation_id FROM {{p}}key_packages WHERE installation_id IN ({_marks(len(chunk))})"),
                    chunk,
                )
                with_one_time.update(bytes(row[0]) for row in cursor.fetchall())
                cursor.execute(
                    self._db.sql(
                        "SELECT installation_id, key_package FROM {p}last_resort_key_packages "
                        f"WHERE installation_id IN ({_marks(len(chunk))})"
                    ),
                    chunk,
                )
                last_resort.update((bytes(i), bytes(k)) for i, k in cursor.fetchall())
            for installation_id in ids:
                if installation_id in with_one_time:
                    cursor.execute(self._take_one_time, (installation_id,))
                    row = cursor.fetchone()
                    if row is not None:
                        found[installation_id] = bytes(row[0])
                        continue
                if installation_id in last_resort:
                    found[installation_id] = last_resort[installation_id]
        return {i: found[i] for i in ids if i in found}


class SqlIdentityRegistry:
    """Identity update chains in SQL tables; each update is validated against the stored chain first.

    Validated states are cached per process and extended incrementally with the updates stored
    since (by any process), so each stored update is verified once per process.
    """

    def __init__(self, db: SqlDatabase, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, InboxState] = {}
        self._after = db.sql(
            "SELECT sequence_id, payload FROM {p}identity_updates WHERE inbox_id = %s AND sequence_id > %s "
            "ORDER BY sequence_id"
        )
        self._exists = db.sql("SELECT 1 FROM {p}identity_updates WHERE inbox_id = %s LIMIT 1")
        self._owner = db.sql("SELECT inbox_id FROM {p}installations WHERE installation_id = %s")
        self._claim = db.sql("INSERT INTO {p}installations (installation_id, inbox_id) VALUES (%s, %s)")
        self._store = db.sql(
            "INSERT INTO {p}identity_updates (inbox_id, sequence_id, payload, server_time_ns) VALUES (%s, %s, %s, %s)"
        )

    def _extend(self, inbox_id: str, state: InboxState | None, rows: Iterable[tuple[int, bytes]]) -> InboxState | None:
        for sequence_id, payload in rows:
            if state is not None and sequence_id <= state.sequence_id:
                continue
            try:
                state = apply_update(state, IdentityUpdate.decode(bytes(payload)))
            except (DecodeError, identity_errors.IdentityUpdateRejected) as exc:
                raise StoredDataError(f"stored identity update {inbox_id}#{sequence_id} is invalid: {exc}") from exc
        return state

    def _remember(self, state: InboxState) -> None:
        with self._lock:
            cached = self._cache.get(state.inbox_id)
            if cached is None or cached.sequence_id < state.sequence_id:
                self._cache[state.inbox_id] = state

    def _load(self, cursor: Any, inbox_id: str) -> InboxState | None:
        cached = self._cache.get(inbox_id)
        cursor.execute(self._after, (inbox_id, 0 if cached is None else cached.sequence_id))
        return self._extend(inbox_id, cached, cursor.fetchall())

    def publish_identity_update(self, update: IdentityUpdate) -> InboxState:
        if not isinstance(update, IdentityUpdate):
            raise TypeError(f"expected an IdentityUpdate, not {type(update).__name__}")
        inbox_id = update.inbox_id
        with self._db.write() as cursor:
            self._db.lock_identity_registry(cursor)
            state = apply_update(self._load(cursor, inbox_id), update)
            action = update.action
            if isinstance(action, (CreateInbox, AddInstallation)):
                cursor.execute(self._owner, (action.installation_id,))
                row = cursor.fetchone()
                if row is not None:
                    raise identity_errors.InstallationOwnedByAnotherInbox(
                        f"installation {action.installation_id.hex()} belongs to inbox {row[0]}"
                    )
                cursor.execute(self._claim, (action.installation_id, inbox_id))
            cursor.execute(self._store, (inbox_id, update.sequence_id, update.encode(), self._clock.now_ns()))
        self._remember(state)
        return state

    def get_inbox_state(self, inbox_id: str) -> InboxState:
        with self._db.read() as cursor:
            state = self._load(cursor, inbox_id)
        if state is None:
            raise identity_errors.InboxNotFound(inbox_id)
        self._remember(state)
        return state

    def get_inbox_states(self, inbox_ids: Iterable[str]) -> dict[str, InboxState]:
        wanted = list(dict.fromkeys(inbox_ids))
        rows: dict[str, list[tuple[int, bytes]]] = defaultdict(list)
        with self._db.read() as cursor:
            for chunk in _chunks(wanted):
                cursor.execute(
                    self._db.sql(
                        "SELECT inbox_id, sequence_id, payload FROM {p}identity_updates "
                        f"WHERE inbox_id IN ({_marks(len(chunk))}) ORDER BY inbox_id, sequence_id"
                    ),
                    chunk,
                )
                for inbox_id, sequence_id, payload in cursor.fetchall():
                    rows[inbox_id].append((sequence_id, payload))
        found: dict[str, InboxState] = {}
        for inbox_id in wanted:
            state = self._extend(inbox_id, self._cache.get(inbox_id), rows.get(inbox_id, ()))
            if state is not None:
                self._remember(state)
                found[inbox_id] = state
        missing = [i for i in wanted if i not in found]
        if missing:
            raise identity_errors.InboxNotFound(missing)
        return found

    def get_identity_updates(self, inbox_id: str, after_sequence_id: int = 0) -> list[IdentityUpdate]:
        check_query(after_sequence_id, None)
        with self._db.read() as cursor:
            cursor.execute(self._after, (inbox_id, after_sequence_id))
            rows = cursor.fetchall()
            if not rows:
                cursor.execute(self._exists, (inbox_id,))
                if cursor.fetchone() is None:
                    raise identity_errors.InboxNotFound(inbox_id)
        try:
            return [IdentityUpdate.decode(bytes(payload)) for _, payload in rows]
        except DecodeError as exc:
            raise StoredDataError(f"a stored identity update of {inbox_id} does not decode: {exc}") from exc
