"""The reference semantics of applying changes to a view's rows, and pure replay of a view over events.

:class:`ViewState` holds rows per table and applies :mod:`changes <mlsgroup.projections.changes>`.
Used alone it is a complete in-memory view (``replay`` folds a view over events from scratch: the
oracle that incrementally maintained views are compared with). Given a ``load`` function it becomes
the write overlay of one batch: rows it has not seen are read through ``load`` once, and ``dirty``
lists the keys the batch changed, so a backend writes each touched row once per batch.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping

from .changes import Change, Delete, Patch, Upsert
from .errors import RowError
from .schema import ViewSchema

__all__ = ["ViewState", "Loader", "Finder", "replay"]

Loader = Callable[[str, tuple[Any, ...]], "dict[str, Any] | None"]
Finder = Callable[[str, Mapping[str, Any]], "list[dict[str, Any]]"]


class ViewState:
    """Rows of one view keyed by primary key, with the change semantics every backend follows."""

    __slots__ = ("schema", "rows", "dirty", "_load", "_find", "_tables", "_entries")

    def __init__(self, schema: ViewSchema, load: Loader | None = None, find: Finder | None = None) -> None:
        self.schema = schema
        # rows[table][key] is the row, or None when the row is known to be absent (deleted or never made).
        self.rows: dict[str, dict[tuple[Any, ...], dict[str, Any] | None]] = {t.name: {} for t in schema.tables}
        self.dirty: dict[str, set[tuple[Any, ...]]] = {t.name: set() for t in schema.tables}
        self._load = load
        self._find = find
        self._tables = dict(schema.by_name)
        # table name -> (its schema, its rows, its dirty keys): one lookup per change.
        self._entries = {name: (table, self.rows[name], self.dirty[name]) for name, table in self._tables.items()}

    def _lookup(self, table: str, key: tuple[Any, ...]) -> dict[str, Any] | None:
        rows = self.rows[table]
        try:
            return rows[key]
        except KeyError:
            pass
        row = self._load(table, key) if self._load is not None else None
        rows[key] = row
        return row

    def get(self, table: str, key: tuple[Any, ...]) -> Mapping[str, Any] | None:
        try:
            row = self.rows[table][key]
        except KeyError:
            if table not in self.rows:
                raise RowError(f"the view has no table {table!r}") from None
            row = self._lookup(table, key)
        return None if row is None else MappingProxyType(row)

    def find(self, table: str, where: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        schema_table = self._tables.get(table)
        if schema_table is None:
            raise RowError(f"the view has no table {table!r}")
        for name in where:
            if name not in schema_table.by_name:
                raise RowError(f"{table}: unknown column {name!r}")
            if not schema_table.searchable(name):
                raise RowError(f"{table}.{name} is sensitive and not searchable (declare lookup=True)")
        rows = self.rows[table]
        if self._find is not None:
            key_columns = schema_table.key
            for row in self._find(table, where):
                key = tuple([row[column] for column in key_columns])
                if key not in rows:  # rows this batch already holds (or deleted) are judged below
                    rows[key] = row
        items = where.items()
        found = [
            (key, row) for key, row in rows.items()
            if row is not None and all(row[name] == value for name, value in items)
        ]
        found.sort(key=lambda item: item[0])
        return [MappingProxyType(row) for _, row in found]

    def apply(self, change: Change) -> None:
        kind = type(change)
        if kind is not Upsert and kind is not Patch and kind is not Delete:
            raise RowError(f"{change!r} is not an Upsert, Patch or Delete")
        entry = self._entries.get(change[0])
        if entry is None:
            raise RowError(f"the view has no table {change[0]!r}")
        table, rows, dirty = entry
        if kind is Upsert:
            row = table._complete(change[1])
            key = table.key_of(row)
            rows[key] = row
        elif kind is Patch:
            key = change[1]
            table.check_key(key)
            values = change[2]
            table.check_values(values)
            try:
                current = rows[key]
            except KeyError:
                current = self._lookup(change[0], key)
            if current is None:
                return
            rows[key] = {**current, **values}
        else:  # Delete
            key = change[1]
            table.check_key(key)
            rows[key] = None
        dirty.add(key)

    def apply_all(self, changes: Iterable[Change]) -> None:
        for change in changes:
            self.apply(change)

    def tables(self) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
        """The present rows of every table (absent markers dropped), as plain dicts."""
        return {name: {k: dict(r) for k, r in rows.items() if r is not None} for name, rows in self.rows.items()}

    def clear_dirty(self) -> None:
        for keys in self.dirty.values():
            keys.clear()


def replay(view: Any, events: Iterable[Any]) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
    """The rows ``view`` holds after projecting ``events`` from an empty state."""
    state = ViewState(view.schema)
    for event in events:
        state.apply_all(view.project(state, event))
    return state.tables()
