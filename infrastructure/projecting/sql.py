"""SQL view storage shared by SQLite and PostgreSQL: table DDL, batched upserts, tracking compare-and-set.

A view's tables are named ``<view>_<table>``; ``<view>_meta`` records the fingerprint the stored
rows were built for (view version and schema, and which cell keys protect them). When the
fingerprint differs on open, the tables are dropped and recreated and the tracking row deleted in
one transaction, so the runner rebuilds the view from the events.

A batch runs in ONE write transaction: claim the tracking row (compare-and-set against the position
the batch started from; another runner having moved it raises :class:`ViewConflict`), read rows
the handlers ask for, write every touched row once (``executemany`` deletes, then upserts), and
move the tracking row to the batch's last notification id. Any exception rolls all of it back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Iterator, Mapping, Sequence

from mlsgroup.projections import BOOL, BYTES, INT, TEXT, ColumnType, View, ViewState

from .errors import ProjectionError, ViewConflict
from .protection import CellKeys, TableCodec
from .query import OneOf, Query

__all__ = ["Dialect", "TableSql", "SqlViewStore", "SqlBatch"]

MAX_IDENTIFIER = 63
_ROWID_NAMES = frozenset({"rowid", "oid", "_rowid_"})
MAX_BULK_ROWS = 500_000
"""Rows of one table a bulk rebuild remembers by key (about 100 MB); past it the table gets its indexes."""


class Dialect:
    """What differs between SQLite and PostgreSQL in the statements we write."""

    def __init__(
        self,
        *,
        placeholder: str,
        types: Mapping[ColumnType | None, str],
        schema: str | None,
        bulk_rebuild: bool = False,
        blob: type | None = None,
    ) -> None:
        self.placeholder = placeholder
        self.types = dict(types)
        self.schema = schema
        self.bulk_rebuild = bulk_rebuild
        """Tables keep their key in a separate unique index, left out while a rebuild fills them (SQLite)."""
        self.blob = blob
        """The type bytes cells are written as (None: bytes), when the driver binds another one faster."""

    @staticmethod
    def quote(name: str) -> str:
        return '"' + name + '"'

    def qualified(self, name: str) -> str:
        if len(name) > MAX_IDENTIFIER:
            raise ProjectionError(f"identifier {name!r} is longer than {MAX_IDENTIFIER} characters")
        return self.quote(name) if self.schema is None else f"{self.quote(self.schema)}.{self.quote(name)}"


SQLITE_TYPES: dict[ColumnType | None, str] = {INT: "INTEGER", TEXT: "TEXT", BYTES: "BLOB", BOOL: "INTEGER", None: "BLOB"}
POSTGRES_TYPES: dict[ColumnType | None, str] = {
    INT: "BIGINT",
    TEXT: 'TEXT COLLATE "C"',  # code-point order, as Python and SQLite compare text
    BYTES: "BYTEA",
    BOOL: "BOOLEAN",
    None: "BYTEA",
}


class TableSql:
    """The statements of one view table."""

    def __init__(self, dialect: Dialect, view_name: str, codec: TableCodec) -> None:
        self.dialect = dialect
        self.codec = codec
        q, p = dialect.quote, dialect.placeholder
        self.name = dialect.qualified(f"{view_name}_{codec.table.name}")
        self.raw_name = f"{view_name}_{codec.table.name}"
        column_defs = []
        for name, kind in zip(codec.stored_columns, codec.stored_types):
            null = "" if name in codec.nullable_stored else " NOT NULL"
            column_defs.append(f"{q(name)} {dialect.types[kind]}{null}")
        key = ", ".join(q(name) for name in codec.stored_key)
        columns = ", ".join(q(name) for name in codec.stored_columns)
        values = ", ".join(p for _ in codec.stored_columns)
        # Bulk rebuild: rows are written by rowid (kept in memory per key) and the key's unique index
        # is built once at the end, instead of inserting every random key into a B-tree as it comes.
        self.bulk = dialect.bulk_rebuild and not _ROWID_NAMES & set(codec.stored_columns)
        if self.bulk:
            self.create = f"CREATE TABLE IF NOT EXISTS {self.name} ({', '.join(column_defs)})"
            key_index = dialect.qualified(f"{self.raw_name}_key").rsplit(".", 1)[-1]
            self.create_key_index: str | None = f"CREATE UNIQUE INDEX IF NOT EXISTS {key_index} ON {self.name} ({key})"
            self.bulk_write = f"INSERT OR REPLACE INTO {self.name} (rowid, {columns}) VALUES ({p}, {values})"
            self.bulk_delete = f"DELETE FROM {self.name} WHERE rowid = {p}"
            self.bulk_select = f"SELECT {columns} FROM {self.name} WHERE rowid = {p}"
        else:
            self.create = f"CREATE TABLE IF NOT EXISTS {self.name} ({', '.join(column_defs)}, PRIMARY KEY ({key}))"
            self.create_key_index = None
        self.create_indexes = []
        for number, index in enumerate(codec.table.indexes):
            indexed = ", ".join(q(codec.storage_filter(name, None)[0]) for name in index)
            index_name = dialect.qualified(f"{self.raw_name}_i{number}")
            unqualified = index_name.rsplit(".", 1)[-1]  # an index always lives in its table's schema
            self.create_indexes.append(f"CREATE INDEX IF NOT EXISTS {unqualified} ON {self.name} ({indexed})")
        self.drop = f"DROP TABLE IF EXISTS {self.name}"
        self.columns = columns
        updates = [f"{q(name)} = excluded.{q(name)}" for name in codec.stored_columns if name not in codec.stored_key]
        conflict = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
        self.upsert = f"INSERT INTO {self.name} ({columns}) VALUES ({values}) ON CONFLICT ({key}) {conflict}"
        match = " AND ".join(f"{q(name)} = {p}" for name in codec.stored_key)
        self.delete = f"DELETE FROM {self.name} WHERE {match}"
        self.select_key = f"SELECT {columns} FROM {self.name} WHERE {match}"
        self.tie_break = [q(name) for name in codec.stored_key]

    def select(self, query: Query, *, count: bool = False) -> tuple[str, list[Any]]:
        """The statement and parameters answering ``query``."""
        q, p = self.dialect.quote, self.dialect.placeholder
        conditions: list[str] = []
        params: list[Any] = []
        for name, value in query.equal:
            if isinstance(value, OneOf):
                options = []
                for candidate in value.values:
                    column, stored = self.codec.storage_filter(name, candidate)
                    if stored is None:
                        options.append(f"{q(column)} IS NULL")
                    else:
                        options.append(f"{q(column)} = {p}")
                        params.append(stored)
                conditions.append(f"({' OR '.join(options)})" if options else "1 = 0")
                continue
            column, stored = self.codec.storage_filter(name, value)
            if stored is None:
                conditions.append(f"{q(column)} IS NULL")
            else:
                conditions.append(f"{q(column)} = {p}")
                params.append(stored)
        for name, op, value in query.ranges:
            conditions.append(f"{q(name)} {op} {p}")
            params.append(value)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        if count:
            return f"SELECT COUNT(*) FROM {self.name}{where}", params
        order = [
            f"{q(name)} DESC NULLS LAST" if descending else f"{q(name)} ASC NULLS FIRST"
            for name, descending in query.order
        ]
        statement = f"SELECT {self.columns} FROM {self.name}{where} ORDER BY {', '.join(order + self.tie_break)}"
        if query.limit is not None:
            statement += f" LIMIT {p}"
            params.append(query.limit)
        return statement, params


class SqlBatch:
    """One batch's write transaction on a SQL view store (see the module docstring).

    While the store is in bulk mode (a rebuild filling tables that have no key index yet), rows of
    those tables are found by the rowid the store remembers for their key: a key it does not know
    has no row, so looking it up costs no query. What the batch adds or removes is applied to the
    store's memory only after the transaction commits.
    """

    def __init__(self, store: SqlViewStore, cursor: Any, application_name: str) -> None:
        self._store = store
        self._cursor = cursor
        self._application_name = application_name
        self._bulk = store._bulk
        self._added: dict[str, dict[tuple[Any, ...], int]] = {}
        self._removed: dict[str, set[tuple[Any, ...]]] = {}
        self._indexed: list[str] = []
        self._next_rowid = dict(store._next_rowid)

    def claim(self, expected: int | None) -> None:
        store, cursor = self._store, self._cursor
        if expected is None:
            cursor.execute(store.claim_new_statement, (self._application_name,))
            # ON CONFLICT DO NOTHING returns no row when another runner created it first.
        else:
            cursor.execute(store.claim_statement, (self._application_name, expected))
        if cursor.fetchone() is None:
            raise ViewConflict(f"view {store.view.name!r} was advanced by another runner")

    def _bulk_rows(self, table: str) -> dict[tuple[Any, ...], int] | None:
        """The committed key -> rowid map of ``table`` if it is filled in bulk, else None."""
        bulk = self._bulk
        if bulk is None or table in self._indexed:
            return None
        return bulk.get(table)

    def _rowid(self, table: str, known: dict[tuple[Any, ...], int], key: tuple[Any, ...]) -> int | None:
        added = self._added.get(table)
        if added is not None and key in added:
            return added[key]
        removed = self._removed.get(table)
        if removed is not None and key in removed:
            return None
        return known.get(key)

    def load(self, table: str, key: tuple[Any, ...]) -> dict[str, Any] | None:
        table_sql = self._store.tables[table]
        known = self._bulk_rows(table)
        if known is not None:
            # Until this batch flushes, the committed rowids are the whole story.
            rowid = self._rowid(table, known, key) if self._added else known.get(key)
            if rowid is None:
                return None
            self._cursor.execute(table_sql.bulk_select, (rowid,))
        else:
            self._cursor.execute(table_sql.select_key, table_sql.codec.encode_key(key))
        row = self._cursor.fetchone()
        return None if row is None else table_sql.codec.decode_row(row)

    def find(self, table: str, where: Mapping[str, Any]) -> list[dict[str, Any]]:
        table_sql = self._store.tables[table]
        if self._bulk_rows(table) is not None:
            # Searched tables get their indexes now (in this transaction): a search must not scan.
            self._store._create_table_indexes(self._cursor, table_sql)
            self._indexed.append(table)
        statement, params = table_sql.select(Query(table_sql.codec.table, tuple(where.items())))
        self._cursor.execute(statement, params)
        decode = table_sql.codec.decode_row
        return [decode(row) for row in self._cursor.fetchall()]

    def flush(self, state: ViewState) -> None:
        cursor = self._cursor
        for name, keys in state.dirty.items():
            if not keys:
                continue
            table_sql = self._store.tables[name]
            codec = table_sql.codec
            rows = state.rows[name]
            known = self._bulk_rows(name)
            if known is not None:
                self._flush_bulk(table_sql, known, keys, rows)
                continue
            deleted = [codec.encode_key(key) for key in keys if rows[key] is None]
            written = codec.encode_rows([row for key in keys if (row := rows[key]) is not None])
            if deleted:
                cursor.executemany(table_sql.delete, deleted)
            if written:
                cursor.executemany(table_sql.upsert, written)

    def _flush_bulk(
        self, table_sql: TableSql, known: dict[tuple[Any, ...], int], keys: Any, rows: Mapping[Any, Any]
    ) -> None:
        name = table_sql.codec.table.name
        added = self._added.setdefault(name, {})
        removed = self._removed.setdefault(name, set())
        deleted: list[tuple[int]] = []
        rowids: list[int] = []
        written: list[dict[str, Any]] = []
        next_rowid = self._next_rowid.get(name, 1)
        for key in keys:
            row = rows[key]
            rowid = added.get(key)  # rowids start at 1: None means not added by this batch
            if rowid is None and key not in removed:
                rowid = known.get(key)
            if row is None:
                if rowid is not None:
                    deleted.append((rowid,))
                    added.pop(key, None)
                    removed.add(key)
                continue
            if rowid is None:
                rowid = next_rowid
                next_rowid += 1
                added[key] = rowid
                if removed:
                    removed.discard(key)
            rowids.append(rowid)
            written.append(row)
        self._next_rowid[name] = next_rowid
        cursor = self._cursor
        if deleted:
            cursor.executemany(table_sql.bulk_delete, deleted)
        if written:
            cursor.executemany(table_sql.bulk_write, table_sql.codec.encode_rows(written, rowids))
        if len(known) + len(added) > MAX_BULK_ROWS:
            # Remembering more keys would cost more memory than the key index costs time.
            self._store._create_table_indexes(cursor, table_sql)
            self._indexed.append(name)

    def advance(self, notification_id: int) -> None:
        self._cursor.execute(self._store.advance_statement, (notification_id, self._application_name))

    def committed(self) -> None:
        """The transaction committed: what it did to bulk-filled tables becomes the store's knowledge."""
        bulk = self._store._bulk
        if bulk is None:
            return
        for name, added in self._added.items():
            known = bulk.get(name)
            if known is not None:
                for key in self._removed[name]:
                    known.pop(key, None)
                known.update(added)
        self._store._next_rowid.update(self._next_rowid)
        for name in self._indexed:
            bulk.pop(name, None)


class SqlViewStore(ABC):
    """The SQL half of a view store; SQLite and PostgreSQL recorders mix it in."""

    view: View
    dialect: Dialect
    tables: dict[str, TableSql]
    codecs: dict[str, TableCodec]
    tracking_table: str

    def _setup_view(self, view: View, dialect: Dialect, keys: CellKeys | None, tracking_table: str) -> None:
        self.view = view
        self.dialect = dialect
        self.keys = keys
        self.codecs = {t.name: TableCodec(view.name, t, keys, blob=dialect.blob) for t in view.schema.tables}
        self.tables = {name: TableSql(dialect, view.name, codec) for name, codec in self.codecs.items()}
        self.tracking_table = dialect.qualified(tracking_table)
        self.meta_table = dialect.qualified(f"{view.name}_meta")
        p = dialect.placeholder
        t = self.tracking_table
        self.claim_new_statement = (
            f"INSERT INTO {t} (application_name, notification_id) VALUES ({p}, 0) "
            "ON CONFLICT (application_name) DO NOTHING RETURNING notification_id"
        )
        self.claim_statement = (
            f"UPDATE {t} SET notification_id = notification_id "
            f"WHERE application_name = {p} AND notification_id = {p} RETURNING notification_id"
        )
        self.advance_statement = f"UPDATE {t} SET notification_id = {p} WHERE application_name = {p}"
        protection = "clear" if keys is None else f"cells:{keys.check}"
        layout = ":keys-indexed" if dialect.bulk_rebuild else ""  # SQLite's key index is its own
        self.fingerprint = f"{view.fingerprint()}:{protection}{layout}"
        # Bulk mode (see SqlBatch): table -> {key: rowid} of the rows of tables without a key index yet.
        self._bulk: dict[str, dict[tuple[Any, ...], int]] | None = None
        self._next_rowid: dict[str, int] = {}

    @property
    def meta_create(self) -> str:
        return f"CREATE TABLE IF NOT EXISTS {self.meta_table} (name TEXT PRIMARY KEY, fingerprint TEXT, tables TEXT)"

    @abstractmethod
    def _write(self) -> AbstractContextManager[Any]:
        """A write transaction yielding a cursor whose rows are tuples."""

    @abstractmethod
    def _read(self) -> AbstractContextManager[Any]:
        """A read-only transaction yielding a cursor whose rows are tuples."""

    def prepare(self, application_name: str) -> bool:
        """Make the stored view match this view's fingerprint; True if it had to be reset."""
        p = self.dialect.placeholder
        self._end_bulk()
        with self._write() as cursor:
            cursor.execute(self.meta_create)
            cursor.execute(f"SELECT fingerprint, tables FROM {self.meta_table} WHERE name = {p}", (self.view.name,))
            found = cursor.fetchone()
            if found is not None and found[0] == self.fingerprint:
                self._create_indexes(cursor)  # a rebuild interrupted before its indexes were made
                return False
            old_tables = found[1].split(",") if found is not None and found[1] else []
            self._reset(cursor, application_name, old_tables)
            self._create_indexes(cursor)
            return True

    def reset(self, application_name: str, *, indexes: bool = True) -> None:
        """Drop every row and the tracking position of the view (a rebuild starts from here).

        ``indexes=False`` leaves the indexes out: a rebuild fills the tables faster without them and
        calls :meth:`create_indexes` at the end. On SQLite that includes the key's unique index:
        until then the store keeps each written row's rowid by key in memory (bulk mode).
        """
        self._end_bulk()
        with self._write() as cursor:
            cursor.execute(self.meta_create)
            self._reset(cursor, application_name, [])
            if indexes:
                self._create_indexes(cursor)
            else:
                for table_sql in self.tables.values():
                    if not table_sql.bulk and table_sql.create_key_index is not None:
                        cursor.execute(table_sql.create_key_index)
        if not indexes:
            self._bulk = {name: {} for name, table_sql in self.tables.items() if table_sql.bulk}
            self._next_rowid = {name: 1 for name in self._bulk}

    def create_indexes(self) -> None:
        """Create every missing index (ending bulk mode)."""
        with self._write() as cursor:
            self._create_indexes(cursor)
        self._end_bulk()

    def _end_bulk(self) -> None:
        self._bulk = None
        self._next_rowid = {}

    def _create_indexes(self, cursor: Any) -> None:
        for table_sql in self.tables.values():
            self._create_table_indexes(cursor, table_sql)

    @staticmethod
    def _create_table_indexes(cursor: Any, table_sql: TableSql) -> None:
        if table_sql.create_key_index is not None:
            cursor.execute(table_sql.create_key_index)
        for statement in table_sql.create_indexes:
            cursor.execute(statement)

    def _reset(self, cursor: Any, application_name: str, old_tables: Sequence[str]) -> None:
        p = self.dialect.placeholder
        for raw in old_tables:
            cursor.execute(f"DROP TABLE IF EXISTS {self.dialect.qualified(raw)}")
        for table_sql in self.tables.values():
            cursor.execute(table_sql.drop)
            cursor.execute(table_sql.create)
        cursor.execute(f"DELETE FROM {self.tracking_table} WHERE application_name = {p}", (application_name,))
        cursor.execute(f"DELETE FROM {self.meta_table} WHERE name = {p}", (self.view.name,))
        tables = ",".join(t.raw_name for t in self.tables.values())
        cursor.execute(
            f"INSERT INTO {self.meta_table} (name, fingerprint, tables) VALUES ({p}, {p}, {p})",
            (self.view.name, self.fingerprint, tables),
        )

    @contextmanager
    def batch(self, application_name: str) -> Iterator[SqlBatch]:
        with self._write() as cursor:
            batch = SqlBatch(self, cursor, application_name)
            yield batch
        batch.committed()

    def get(self, table: str, key: tuple[Any, ...]) -> dict[str, Any] | None:
        table_sql = self.tables[table]
        with self._read() as cursor:
            cursor.execute(table_sql.select_key, table_sql.codec.encode_key(key))
            row = cursor.fetchone()
        return None if row is None else table_sql.codec.decode_row(row)

    def select(self, query: Query) -> list[dict[str, Any]]:
        table_sql = self.tables[query.table.name]
        statement, params = table_sql.select(query)
        with self._read() as cursor:
            cursor.execute(statement, params)
            rows = cursor.fetchall()
        decode = table_sql.codec.decode_row
        return [decode(row) for row in rows]

    def count(self, query: Query) -> int:
        statement, params = self.tables[query.table.name].select(query, count=True)
        with self._read() as cursor:
            cursor.execute(statement, params)
            return int(cursor.fetchone()[0])
