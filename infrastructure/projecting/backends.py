"""View stores on the three backends, each an eventsourcing TrackingRecorder (ARCHITECTURE 3).

* :class:`SQLiteViewStore`: the view's own SQLite file (``StoreSettings.for_projection``), whose
  ``tracking`` table holds the position; tables ``<view>_<table>`` beside it.
* :class:`PostgresViewStore`: tables ``<view>_<table>``, ``<view>_meta`` and ``<view>_tracking`` in
  the store's schema.
* :class:`MemoryViewStore`: dictionaries guarded by the recorder's lock; a batch is staged and
  applied with the position at once, so a failure leaves rows and position untouched.

:func:`open_view_store` picks the store for a store's settings.
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import cache
from typing import Any, Iterator

from eventsourcing.persistence import Tracking
from eventsourcing.popo import POPOTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from mlsgroup.infrastructure.persistence import Backend, StoreSettings, open_factory
from mlsgroup.projections import View, ViewState

from .errors import ViewConflict
from .protection import CellKeys
from .query import Query, run_in_memory
from .sql import POSTGRES_TYPES, SQLITE_TYPES, Dialect, SqlViewStore

__all__ = ["SQLiteViewStore", "PostgresViewStore", "MemoryViewStore", "open_view_store", "ViewStore"]


class SQLiteViewStore(SqlViewStore, SQLiteTrackingRecorder):
    """A view in its own SQLite file."""

    def __init__(self, datastore: SQLiteDatastore, *, view: View, keys: CellKeys | None) -> None:
        super().__init__(datastore)
        # sqlite3 binds a bytearray several times faster than bytes (which it first offers to its adapters).
        dialect = Dialect(placeholder="?", types=SQLITE_TYPES, schema=None, bulk_rebuild=True, blob=bytearray)
        self._setup_view(view, dialect, keys, "tracking")

    @contextmanager
    def _write(self) -> Iterator[Any]:
        with self.datastore.get_connection(commit=True) as connection:
            # Rows and position commit together, so a commit lost to a power cut is simply
            # projected again: WAL with synchronous=NORMAL stays consistent and skips an fsync per batch.
            connection.cursor().execute("PRAGMA synchronous=NORMAL")
            with connection.transaction(commit=True) as cursor:
                cursor.sqlite_cursor.row_factory = None  # plain tuples
                yield cursor

    @contextmanager
    def _read(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.sqlite_cursor.row_factory = None
            yield cursor

    def close(self) -> None:
        self.datastore.close()


@cache
def _postgres_store_class() -> type:
    from eventsourcing.postgres import PostgresTrackingRecorder
    from psycopg.rows import tuple_row

    class PostgresViewStore(SqlViewStore, PostgresTrackingRecorder):
        """A view's tables inside the store's PostgreSQL schema."""

        def __init__(self, datastore: Any, *, view: View, keys: CellKeys | None) -> None:
            super().__init__(datastore, tracking_table_name=f"{view.name}_tracking")
            dialect = Dialect(placeholder="%s", types=POSTGRES_TYPES, schema=datastore.schema)
            self._setup_view(view, dialect, keys, f"{view.name}_tracking")

        @contextmanager
        def _write(self) -> Iterator[Any]:
            with self.datastore.get_connection() as conn, conn.transaction():
                yield conn.cursor(row_factory=tuple_row)

        @contextmanager
        def _read(self) -> Iterator[Any]:
            with self.datastore.get_connection() as conn:
                yield conn.cursor(row_factory=tuple_row)

        def close(self) -> None:
            self.datastore.close()

    return PostgresViewStore


def __getattr__(name: str) -> Any:
    # psycopg is optional: the PostgreSQL store class is only built when asked for.
    if name == "PostgresViewStore":
        return _postgres_store_class()
    raise AttributeError(name)


class _MemoryBatch:
    def __init__(self, store: MemoryViewStore, application_name: str) -> None:
        self._store = store
        self._application_name = application_name
        self._staged: list[ViewState] = []
        self._position: int | None = None

    def claim(self, expected: int | None) -> None:
        if self._store.max_tracking_id(self._application_name) != expected:
            raise ViewConflict(f"view {self._store.view.name!r} was advanced by another runner")

    def load(self, table: str, key: tuple[Any, ...]) -> dict[str, Any] | None:
        row = self._store.rows[table].get(key)
        return None if row is None else dict(row)

    def find(self, table: str, where: Any) -> list[dict[str, Any]]:
        items = where.items()
        return [
            dict(row) for row in self._store.rows[table].values()
            if all(row[name] == value for name, value in items)
        ]

    def flush(self, state: ViewState) -> None:
        self._staged.append(state)

    def advance(self, notification_id: int) -> None:
        self._position = notification_id

    def commit(self) -> None:
        for state in self._staged:
            for name, keys in state.dirty.items():
                table = self._store.rows[name]
                for key in keys:
                    row = state.rows[name][key]
                    if row is None:
                        table.pop(key, None)
                    else:
                        table[key] = row
        if self._position is not None:
            self._store._insert_tracking(Tracking(self._application_name, self._position))


class MemoryViewStore(POPOTrackingRecorder):
    """A view held in dictionaries (for the in-memory event store)."""

    def __init__(self, *, view: View) -> None:
        super().__init__()
        self.view = view
        self.rows: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {t.name: {} for t in view.schema.tables}

    def prepare(self, application_name: str) -> bool:
        return False

    def create_indexes(self) -> None:
        pass

    def reset(self, application_name: str, *, indexes: bool = True) -> None:
        with self._database_lock:
            for rows in self.rows.values():
                rows.clear()
            self._max_tracking_ids.pop(application_name, None)

    @contextmanager
    def batch(self, application_name: str) -> Iterator[_MemoryBatch]:
        with self._database_lock:
            batch = _MemoryBatch(self, application_name)
            yield batch
            batch.commit()

    def get(self, table: str, key: tuple[Any, ...]) -> dict[str, Any] | None:
        with self._database_lock:
            row = self.rows[table].get(key)
            return None if row is None else dict(row)

    def select(self, query: Query) -> list[dict[str, Any]]:
        table = query.table
        with self._database_lock:
            rows = list(self.rows[table.name].values())
        return run_in_memory(rows, query, lambda row: tuple(row[name] for name in table.key))

    def count(self, query: Query) -> int:
        unlimited = Query(query.table, query.equal, query.ranges, (), None)
        return len(self.select(unlimited))

    def close(self) -> None:
        pass


ViewStore = Any  # SQLiteViewStore | PostgresViewStore | MemoryViewStore: prepare/reset/batch/get/select/count/close


def open_view_store(settings: StoreSettings, view: View, keys: CellKeys | None) -> Any:
    """The view store of ``view`` for the event store ``settings`` describes (tables created, not yet prepared)."""
    if settings.backend is Backend.MEMORY:
        return MemoryViewStore(view=view)
    view_settings = settings.for_projection(view.name)
    factory: Any = open_factory(view_settings, view.name)
    if settings.backend is Backend.SQLITE:
        store: Any = SQLiteViewStore(factory.datastore, view=view, keys=keys)
    else:
        store = _postgres_store_class()(factory.datastore, view=view, keys=keys)
    try:
        store.create_table()
    except BaseException:
        store.close()
        raise
    return store
