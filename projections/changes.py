"""What a view's projection returns for one event: row upserts, partial updates and deletions (pure values).

A handler reads the rows it needs through :class:`Rows` (lookups by primary key, or by equality
on searchable columns, seeing every change made earlier in the same batch) and returns changes; it never writes anything itself. The
semantics of a change are fixed by :class:`mlsgroup.projections.state.ViewState`, which every
backend follows:

* ``Upsert(table, row)``: the row replaces whatever had its key (missing nullable columns are None);
* ``Patch(table, key, values)``: update some non-key columns of an existing row; no row, no change;
* ``Delete(table, key)``: remove the row if there is one.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol, Union

import attrs

__all__ = ["Upsert", "Patch", "Delete", "Change", "Rows"]


@attrs.frozen(slots=True)
class Upsert:
    """Insert ``row`` or replace the row with the same key."""

    table: str
    row: Mapping[str, Any]


@attrs.frozen(slots=True)
class Patch:
    """Set ``values`` on the row with primary key ``key`` if it exists."""

    table: str
    key: tuple[Any, ...]
    values: Mapping[str, Any]


@attrs.frozen(slots=True)
class Delete:
    """Remove the row with primary key ``key`` if it exists."""

    table: str
    key: tuple[Any, ...]


Change = Union[Upsert, Patch, Delete]


class Rows(Protocol):
    """Read access a handler gets to the view's current rows (read-only mappings)."""

    def get(self, table: str, key: tuple[Any, ...]) -> Mapping[str, Any] | None:
        """The row of ``table`` with primary key ``key`` (a tuple in key-column order), or None."""
        ...

    def find(self, table: str, where: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """Every row of ``table`` whose columns equal ``where`` (searchable columns only), by key."""
        ...
