"""Queries on a view's tables: equality and range filters, ordering, limit; checked against the schema.

One :class:`Query` is answered the same way by every backend: SQL for SQLite and PostgreSQL, and
:func:`run_in_memory` for the in-memory store. Equality with ``None`` matches NULL; a range filter
never matches NULL; NULL sorts first ascending and last descending; ties are broken by the stored
primary key (so results are deterministic). Sensitive columns can only be matched by equality, and
only when searchable (key or ``lookup``); they can never be ordered or range-filtered.
"""

from __future__ import annotations

import operator
from typing import Any, Callable, Iterable, Mapping, Sequence

import attrs

from mlsgroup.projections import RowError, Table, ViewSchema

from .errors import ViewQueryError

__all__ = ["Query", "OneOf", "build_query", "run_in_memory", "RANGE_OPERATORS"]

RANGE_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@attrs.frozen
class OneOf:
    """A ``where`` value matching any of ``values`` (SQL ``IN``); e.g. the messages of several groups."""

    values: tuple[Any, ...] = attrs.field(converter=tuple)


@attrs.frozen
class Query:
    """A checked query: ``equal`` and ``ranges`` filters, ``order`` as (column, descending), ``limit``."""

    table: Table
    equal: tuple[tuple[str, Any], ...] = ()
    ranges: tuple[tuple[str, str, Any], ...] = ()
    order: tuple[tuple[str, bool], ...] = ()
    limit: int | None = None


def _column(table: Table, name: str) -> None:
    if name not in table.by_name:
        raise ViewQueryError(f"table {table.name!r} has no column {name!r}")


def build_query(
    schema: ViewSchema,
    table_name: str,
    where: Mapping[str, Any] | None = None,
    ranges: Sequence[tuple[str, str, Any]] = (),
    order_by: Sequence[str] = (),
    limit: int | None = None,
) -> Query:
    """Check a query against the schema. ``order_by`` items are column names, ``-name`` for descending."""
    try:
        table = schema.table(table_name)
    except RowError as exc:
        raise ViewQueryError(str(exc)) from None
    equal = []
    for name, value in (where or {}).items():
        _column(table, name)
        if not table.searchable(name):
            raise ViewQueryError(f"{table.name}.{name} is sensitive and not searchable (declare lookup=True)")
        candidates = value.values if isinstance(value, OneOf) else (value,)
        for candidate in candidates:
            if candidate is not None:
                try:
                    table.by_name[name].check(table.name, candidate)
                except RowError as exc:
                    raise ViewQueryError(str(exc)) from None
        equal.append((name, value))
    checked_ranges = []
    for item in ranges:
        if len(item) != 3:
            raise ViewQueryError(f"a range filter is (column, operator, value), not {item!r}")
        name, op, value = item
        _column(table, name)
        if op not in RANGE_OPERATORS:
            raise ViewQueryError(f"unknown range operator {op!r}; use one of {sorted(RANGE_OPERATORS)}")
        if table.by_name[name].sensitive:
            raise ViewQueryError(f"{table.name}.{name} is sensitive: no range filters")
        if value is None:
            raise ViewQueryError(f"a range filter on {table.name}.{name} needs a value")
        try:
            table.by_name[name].check(table.name, value)
        except RowError as exc:
            raise ViewQueryError(str(exc)) from None
        checked_ranges.append((name, op, value))
    order = []
    for item in order_by:
        descending = item.startswith("-")
        name = item[1:] if descending else item
        _column(table, name)
        if table.by_name[name].sensitive:
            raise ViewQueryError(f"{table.name}.{name} is sensitive: cannot order by it")
        order.append((name, descending))
    if limit is not None and (type(limit) is not int or limit < 0):
        raise ViewQueryError(f"limit must be an int >= 0, got {limit!r}")
    return Query(table, tuple(equal), tuple(checked_ranges), tuple(order), limit)


def _matches(cell: Any, value: Any) -> bool:
    if isinstance(value, OneOf):
        return any(_matches(cell, candidate) for candidate in value.values)
    return cell is None if value is None else cell == value


def _sort_key(name: str) -> Callable[[dict[str, Any]], tuple[bool, Any]]:
    return lambda row: (row[name] is not None, row[name])


def run_in_memory(
    rows: Iterable[dict[str, Any]], query: Query, tie_break: Callable[[dict[str, Any]], Any]
) -> list[dict[str, Any]]:
    """Answer ``query`` over plain rows (the in-memory store), with the SQL backends' semantics."""
    selected = []
    for row in rows:
        if not all(_matches(row[name], value) for name, value in query.equal):
            continue
        if any(row[name] is None or not RANGE_OPERATORS[op](row[name], value) for name, op, value in query.ranges):
            continue
        selected.append(row)
    selected.sort(key=tie_break)
    for name, descending in reversed(query.order):
        selected.sort(key=_sort_key(name), reverse=descending)
    if query.limit is not None:
        selected = selected[: query.limit]
    return [dict(row) for row in selected]
