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


class Dialect:
    """What differs between SQLite and PostgreSQL in the statements we write."""

    def __init__(self, *, placeholder: str, types: Mapping[ColumnType | None, str], schema: str | None) -> None:
        self.placeholder = placeholder
        self.types = dict(types)
        self.schema = schema

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
        self.create = f"CREATE TABLE IF NOT EXISTS {self.name} ({', '.join(column_defs)}, PRIMARY KEY ({key}))"
        self.create_indexes = []
        for number, index in enumerate(codec.table.indexes):
            columns = ", ".join(q(codec.storage_filter(name, None)[0]) for name in index)
            index_name = dialect.qualified(f"{self.raw_name}_i{number}")
            unqualified = index_name.rsplit(".", 1)[-1]  # an index always lives in its table's schema
            self.create_indexes.append(f"CREATE INDEX IF NOT EXISTS {unqualified} ON {self.name} ({columns})")
        self.drop = f"DROP TABLE IF EXISTS {self.name}"
        columns = ", ".join(q(name) for name in codec.stored_columns)
        self.columns = columns
        values = ", ".join(p for _ in codec.stored_columns)
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
    """One batch's write transaction on a SQL view store (see the module docstring)."""

    def __init__(self, store: SqlViewStore, cursor: Any, application_name: str) -> None:
        self._store = store
        self._cursor = cursor
        self._application_name = application_name

    def claim(self, expected: int | None) -> None:
        store, cursor = self._store, self._cursor
        if expected is None:
            cursor.execute(store.claim_new_statement, (self._application_name,))
            # ON CONFLICT DO NOTHING returns no row when another runner created it first.
        else:
            cursor.execute(store.claim_statement, (self._application_name, expected))
        if cursor.fetchone() is None:
            raise ViewConflict(f"view {store.view.name!r} was advanced by another runner")

    def load(self, table: str, key: tuple[Any, ...]) -> dict[str, Any] | None:
        table_sql = self._store.tables[table]
        self._cursor.execute(table_sql.select_key, table_sql.codec.encode_key(key))
        row = self._cursor.fetchone()
        return None if row is None else table_sql.codec.decode_row(row)

    def find(self, table: str, where: Mapping[str, Any]) -> list[dict[str, Any]]:
        table_sql = self._store.tables[table]
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
            deleted = [codec.encode_key(key) for key in keys if rows[key] is None]
            written = codec.encode_rows([row for key in keys if (row := rows[key]) is not None])
            if deleted:
                cursor.executemany(table_sql.delete, deleted)
            if written:
                cursor.executemany(table_sql.upsert, written)

    def advance(self, notification_id: int) -> None:
        self._cursor.execute(self._store.advance_statement, (notification_id, self._application_name))


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
        self.codecs = {t.name: TableCodec(view.name, t, keys) for t in view.schema.tables}
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
        self.fingerprint = f"{view.fingerprint()}:{protection}"

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

        ``indexes=False`` leaves the secondary indexes out: a rebuild fills the tables faster
        without them and calls :meth:`create_indexes` at the end.
        """
        with self._write() as cursor:
            cursor.execute(self.meta_create)
            self._reset(cursor, application_name, [])
            if indexes:
                self._create_indexes(cursor)

    def create_indexes(self) -> None:
        with self._write() as cursor:
            self._create_indexes(cursor)

    def _create_indexes(self, cursor: Any) -> None:
        for table_sql in self.tables.values():
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
            yield SqlBatch(self, cursor, application_name)

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
