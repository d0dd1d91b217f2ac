"""What a view's projection returns for one event: row upserts, partial updates and deletions (pure values).

A handler reads the rows it needs through :class:`Rows` (lookups by primary key, or by equality
on searchable columns, seeing every change made earlier in the same batch) and returns changes; it never writes anything itself. The
semantics of a change are fixed by :class:`mlsgroup.projections.state.ViewState`, which every
backend follows:

* ``Upsert(table, row)``: the row replaces whatever had its key (missing nullable columns are None);
* ``Patch(table, key, values)``: update some non-key columns of an existing row; no row, no change;
* ``Delete(table, key)``: remove the row if there is one.

Changes are immutable tuples (a rebuild makes one or two per event, and a tuple is built in a
fraction of the time a frozen attrs instance takes); two changes are equal only if they are of
the same kind with equal fields.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Mapping, Protocol, Self, Union

__all__ = ["Upsert", "Patch", "Delete", "Change", "Rows"]


class _Change(tuple):  # type: ignore[type-arg]
    __slots__ = ()
    _fields: tuple[str, ...] = ()

    table: str = property(itemgetter(0))  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and tuple.__eq__(self, other)  # type: ignore[arg-type]

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((type(self).__name__, tuple(self)))


class Upsert(_Change):
    """Insert ``row`` or replace the row with the same key."""

    __slots__ = ()
    _fields = ("table", "row")
    row: Mapping[str, Any] = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, table: str, row: Mapping[str, Any]) -> Self:
        return tuple.__new__(cls, (table, row))


class Patch(_Change):
    """Set ``values`` on the row with primary key ``key`` if it exists."""

    __slots__ = ()
    _fields = ("table", "key", "values")
    key: tuple[Any, ...] = property(itemgetter(1))  # type: ignore[assignment]
    values: Mapping[str, Any] = property(itemgetter(2))  # type: ignore[assignment]

    def __new__(cls, table: str, key: tuple[Any, ...], values: Mapping[str, Any]) -> Self:
        return tuple.__new__(cls, (table, key, values))


class Delete(_Change):
    """Remove the row with primary key ``key`` if it exists."""

    __slots__ = ()
    _fields = ("table", "key")
    key: tuple[Any, ...] = property(itemgetter(1))  # type: ignore[assignment]

    def __new__(cls, table: str, key: tuple[Any, ...]) -> Self:
        return tuple.__new__(cls, (table, key))


Change = Union[Upsert, Patch, Delete]


class Rows(Protocol):
    """Read access a handler gets to the view's current rows (read-only mappings)."""

    def get(self, table: str, key: tuple[Any, ...]) -> Mapping[str, Any] | None:
        """The row of ``table`` with primary key ``key`` (a tuple in key-column order), or None."""
        ...

    def find(self, table: str, where: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """Every row of ``table`` whose columns equal ``where`` (searchable columns only), by key."""
        ...
