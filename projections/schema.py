"""The schema of a read model: typed columns, tables with a primary key, indexes (ARCHITECTURE 1, projections).

A view describes its rows here once; the infrastructure turns the description into SQLite or
PostgreSQL tables (or dictionaries in memory). Cell values are plain Python scalars so every
backend stores them the same way: ``int`` (signed 64-bit), ``str``, ``bytes``, ``bool`` or ``None``.

A column marked ``sensitive`` (message content, metadata values, inbox ids) never reaches a file in
clear when the store has an encryption key: the runner encrypts it cell by cell. A sensitive column
can only be matched by equality, and only when it is part of the key or declared ``lookup``: such
columns are stored with a keyed blind index beside the ciphertext. Ordering and range filters need
clear columns (timestamps, sequence ids, enum codes).
"""

from __future__ import annotations

import enum
import functools
import hashlib
import re
from operator import itemgetter
from typing import Any, Callable, Iterable, Mapping

import attrs

from .errors import RowError, ViewDefinitionError

__all__ = ["ColumnType", "Column", "Table", "ViewSchema", "INT", "TEXT", "BYTES", "BOOL", "INT64_MIN", "INT64_MAX"]

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
_NAME = re.compile(r"[a-z][a-z0-9_]{0,40}")
RESERVED_TABLE_NAMES = frozenset({"meta", "tracking"})


class ColumnType(enum.Enum):
    """The type of a column's values (``None`` is allowed when the column is nullable)."""

    INT = "int"
    TEXT = "text"
    BYTES = "bytes"
    BOOL = "bool"


INT = ColumnType.INT
TEXT = ColumnType.TEXT
BYTES = ColumnType.BYTES
BOOL = ColumnType.BOOL

_PYTHON_TYPES: dict[ColumnType, type] = {INT: int, TEXT: str, BYTES: bytes, BOOL: bool}


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or "__" in name:
        raise ViewDefinitionError(f"{kind} name {name!r} must match {_NAME.pattern} without '__'")


@attrs.frozen
class Column:
    """One column: its name, value type, whether it may hold None, and how it is protected."""

    name: str
    type: ColumnType
    nullable: bool = False
    sensitive: bool = False
    lookup: bool = False
    """For a sensitive column outside the key: keep a blind index so equality filters work."""
    python_type: type = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _check_name("column", self.name)
        if not isinstance(self.type, ColumnType):
            raise ViewDefinitionError(f"column {self.name!r}: type must be a ColumnType")
        object.__setattr__(self, "python_type", _PYTHON_TYPES[self.type])
        if self.lookup and not self.sensitive:
            raise ViewDefinitionError(f"column {self.name!r}: only sensitive columns need lookup=True")

    def check(self, table: str, value: Any) -> None:
        """Raise RowError unless ``value`` fits this column."""
        if value is None:
            if not self.nullable:
                raise RowError(f"{table}.{self.name} is not nullable")
            return
        if type(value) is not self.python_type:
            raise RowError(f"{table}.{self.name} takes {self.type.value}, not {type(value).__name__}")
        if self.python_type is int and not INT64_MIN <= value <= INT64_MAX:
            raise RowError(f"{table}.{self.name}: {value} does not fit in a signed 64-bit integer")


def _tuple_getter(names: tuple[str, ...]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """``row -> tuple(row[name] for name in names)`` in one C call."""
    if len(names) == 1:
        name = names[0]
        return lambda row: (row[name],)
    return itemgetter(*names)  # type: ignore[return-value]


def _type_checks(
    table: Table, columns: Iterable[Column], variables: Iterable[str], namespace: dict[str, Any]
) -> list[str]:
    """Lines checking each variable against its column (the column's own ``check`` explains a misfit)."""
    lines = []
    for column, value in zip(columns, variables):
        number = len(namespace)
        namespace[f"T{number}"] = column.python_type
        namespace[f"check{number}"] = functools.partial(column.check, table.name)
        lines.append(f"if type({value}) is not T{number}:")
        lines.append(f"    check{number}({value})")
        if column.python_type is int:
            lines.append(f"elif not MIN <= {value} <= MAX:")
            lines.append(f"    check{number}({value})")
    return lines


def _row_completer(table: Table) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """``Table.complete`` written out for ``table``'s columns: a rebuild completes one row per event,
    and straight-line type checks cost a fraction of a loop over the columns. A dict naming every
    column and nothing else (the usual case) is read by subscripts and checked for unknown columns
    by its length; any other row takes the general path."""
    namespace: dict[str, Any] = {"refuse": table._refuse_unknown, "names": table._names, "MIN": INT64_MIN,
                                 "MAX": INT64_MAX, "KeyError": KeyError, "len": len, "type": type, "dict": dict}
    variables = [f"v{number}" for number in range(len(table.columns))]
    checks = _type_checks(table, table.columns, variables, namespace)
    result = f"    return {{{', '.join(f'{c.name!r}: {v}' for c, v in zip(table.columns, variables))}}}"
    lines = ["def complete(row):", "    if type(row) is not dict:", "        return general(row)", "    try:"]
    lines += [f"        {value} = row[{column.name!r}]" for column, value in zip(table.columns, variables)]
    lines += ["    except KeyError:", "        return general(row)", f"    if len(row) != {len(table.columns)}:",
              "        refuse(row)"]
    lines += ["    " + line for line in checks]
    lines.append(result)
    lines += ["def general(row):", "    if not row.keys() <= names:", "        refuse(row)", "    get = row.get"]
    lines += [f"    {value} = get({column.name!r})" for column, value in zip(table.columns, variables)]
    lines += ["    " + line for line in checks]
    lines.append(result)
    exec("\n".join(lines), namespace)  # noqa: S102 - the code is built from validated column names only
    return namespace["complete"]  # type: ignore[no-any-return]


def _key_checker(table: Table) -> Callable[[tuple[Any, ...]], None]:
    """``Table.check_key`` written out for ``table``'s key columns."""
    namespace: dict[str, Any] = {"MIN": INT64_MIN, "MAX": INT64_MAX, "tuple": tuple, "len": len, "type": type,
                                 "refuse": table._refuse_key}
    variables = [f"k{number}" for number in range(len(table.key))]
    lines = ["def check_key(key):", f"    if type(key) is not tuple or len(key) != {len(table.key)}:",
             "        refuse()", f"    {', '.join(variables)}, = key"]
    lines += ["    " + line for line in _type_checks(table, table._key_columns, variables, namespace)]
    exec("\n".join(lines), namespace)  # noqa: S102 - the code is built from validated column names only
    return namespace["check_key"]  # type: ignore[no-any-return]


@attrs.frozen
class Table:
    """A table of a view: columns in storage order, the primary key, and extra indexes."""

    name: str
    columns: tuple[Column, ...] = attrs.field(converter=tuple)
    key: tuple[str, ...] = attrs.field(converter=tuple)
    indexes: tuple[tuple[str, ...], ...] = attrs.field(default=(), converter=lambda v: tuple(tuple(i) for i in v))
    by_name: Mapping[str, Column] = attrs.field(init=False, eq=False, repr=False)
    key_positions: tuple[int, ...] = attrs.field(init=False, eq=False, repr=False)
    _names: frozenset[str] = attrs.field(init=False, eq=False, repr=False)
    _key_columns: tuple[Column, ...] = attrs.field(init=False, eq=False, repr=False)
    key_of: Callable[[Mapping[str, Any]], tuple[Any, ...]] = attrs.field(init=False, eq=False, repr=False)
    """``row -> its primary key tuple`` (the row must hold every key column)."""
    _complete: Callable[[Mapping[str, Any]], dict[str, Any]] = attrs.field(init=False, eq=False, repr=False)
    _patchable: Mapping[str, Column] = attrs.field(init=False, eq=False, repr=False)
    _patch_types: Mapping[str, type] = attrs.field(init=False, eq=False, repr=False)
    check_key: Callable[[tuple[Any, ...]], None] = attrs.field(init=False, eq=False, repr=False)
    """Raise RowError unless ``key`` is a tuple of values fitting the key columns."""

    def __attrs_post_init__(self) -> None:
        _check_name("table", self.name)
        if self.name in RESERVED_TABLE_NAMES:
            raise ViewDefinitionError(f"table name {self.name!r} is reserved for the runner's bookkeeping")
        by_name = {column.name: column for column in self.columns}
        if len(by_name) != len(self.columns) or not self.columns:
            raise ViewDefinitionError(f"table {self.name!r}: columns must be non-empty and uniquely named")
        if not self.key or len(set(self.key)) != len(self.key):
            raise ViewDefinitionError(f"table {self.name!r}: the key must name distinct columns")
        for name in self.key:
            if name not in by_name:
                raise ViewDefinitionError(f"table {self.name!r}: key column {name!r} is not a column")
            if by_name[name].nullable:
                raise ViewDefinitionError(f"table {self.name!r}: key column {name!r} cannot be nullable")
        for index in self.indexes:
            if not index:
                raise ViewDefinitionError(f"table {self.name!r}: an index needs columns")
            for name in index:
                column = by_name.get(name)
                if column is None:
                    raise ViewDefinitionError(f"table {self.name!r}: index column {name!r} is not a column")
                if column.sensitive and not (column.lookup or name in self.key):
                    raise ViewDefinitionError(
                        f"table {self.name!r}: sensitive index column {name!r} needs lookup=True"
                    )
        object.__setattr__(self, "by_name", by_name)
        names = [column.name for column in self.columns]
        object.__setattr__(self, "key_positions", tuple(names.index(name) for name in self.key))
        object.__setattr__(self, "_names", frozenset(names))
        object.__setattr__(self, "_key_columns", tuple(by_name[name] for name in self.key))
        object.__setattr__(self, "key_of", _tuple_getter(self.key))
        object.__setattr__(self, "_patchable", {c.name: c for c in self.columns if c.name not in self.key})
        object.__setattr__(self, "_patch_types", {c.name: c.python_type for c in self._patchable.values()})
        object.__setattr__(self, "_complete", _row_completer(self))
        object.__setattr__(self, "check_key", _key_checker(self))

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def searchable(self, name: str) -> bool:
        """Whether equality filters on column ``name`` can be answered (clear, key, or blind-indexed)."""
        column = self.by_name[name]
        return not column.sensitive or column.lookup or name in self.key

    def row_key(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        try:
            return tuple(row[name] for name in self.key)
        except KeyError as exc:
            raise RowError(f"{self.name}: row lacks key column {exc.args[0]!r}") from None

    def complete(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A full, checked copy of ``row``: unknown columns refused, missing nullable ones set to None."""
        return self._complete(row)

    def _refuse_unknown(self, row: Mapping[str, Any]) -> None:
        raise RowError(f"{self.name}: unknown columns {sorted(set(row) - self._names)}")

    def check_values(self, values: Mapping[str, Any]) -> None:
        """Check a partial update: known, non-key columns with fitting values."""
        types = self._patch_types
        for name, value in values.items():
            python_type = types.get(name)
            # An unknown or key column (no type) and None both take the general check below.
            if type(value) is not python_type or (python_type is int and not INT64_MIN <= value <= INT64_MAX):
                self._check_value(name, value)

    def _check_value(self, name: str, value: Any) -> None:
        column = self._patchable.get(name)
        if column is None:
            if name in self.key:
                raise RowError(f"{self.name}: key column {name!r} cannot be patched")
            raise RowError(f"{self.name}: unknown column {name!r}")
        column.check(self.name, value)

    def _refuse_key(self) -> None:
        raise RowError(f"{self.name}: a key is a tuple of {len(self.key)} values {self.key}")


@attrs.frozen
class ViewSchema:
    """All tables of one view, and a fingerprint that changes whenever their shape does."""

    tables: tuple[Table, ...] = attrs.field(converter=tuple)
    by_name: Mapping[str, Table] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        by_name = {table.name: table for table in self.tables}
        if len(by_name) != len(self.tables) or not self.tables:
            raise ViewDefinitionError("a view needs at least one table and unique table names")
        object.__setattr__(self, "by_name", by_name)

    def table(self, name: str) -> Table:
        try:
            return self.by_name[name]
        except KeyError:
            raise RowError(f"the view has no table {name!r}") from None

    def fingerprint(self) -> str:
        """A digest of every table, column, key and index: stored rows built for another shape are stale."""
        parts: list[str] = []
        for table in self.tables:
            parts.append(f"T{table.name}|{','.join(table.key)}")
            parts.extend(
                f"C{c.name}:{c.type.value}:{int(c.nullable)}{int(c.sensitive)}{int(c.lookup)}" for c in table.columns
            )
            parts.extend(f"I{','.join(index)}" for index in table.indexes)
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]

    @classmethod
    def of(cls, tables: Iterable[Table]) -> ViewSchema:
        return cls(tuple(tables))
