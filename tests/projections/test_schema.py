"""The view schema: column, table and schema declarations, row checking and the fingerprint."""

from __future__ import annotations

from collections import defaultdict
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsgroup.projections import (
    BOOL,
    BYTES,
    INT,
    INT64_MAX,
    INT64_MIN,
    TEXT,
    Column,
    RowError,
    Table,
    ViewDefinitionError,
    ViewSchema,
)


def _table(**changes: object) -> Table:
    spec: dict[str, object] = {
        "name": "items",
        "columns": [Column("id", BYTES), Column("n", INT), Column("label", TEXT, nullable=True),
                    Column("secret", TEXT, sensitive=True), Column("flag", BOOL)],
        "key": ["id"],
    }
    spec.update(changes)
    return Table(**spec)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["", "Items", "1x", "a__b", "x" * 42, "with-dash"])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(ViewDefinitionError):
        Column(name, INT)
    with pytest.raises(ViewDefinitionError):
        _table(name=name)


@pytest.mark.parametrize("name", ["meta", "tracking"])
def test_reserved_table_names_are_refused(name: str) -> None:
    with pytest.raises(ViewDefinitionError):
        _table(name=name)


def test_lookup_only_for_sensitive_columns() -> None:
    with pytest.raises(ViewDefinitionError):
        Column("x", TEXT, lookup=True)
    assert Column("x", TEXT, sensitive=True, lookup=True).lookup


@pytest.mark.parametrize(
    "changes",
    [
        {"key": []},
        {"key": ["id", "id"]},
        {"key": ["missing"]},
        {"key": ["label"]},  # nullable key column
        {"columns": []},
        {"columns": [Column("id", BYTES), Column("id", INT)]},
        {"indexes": [()]},
        {"indexes": [("missing",)]},
        {"indexes": [("secret",)]},  # sensitive, neither key nor lookup
    ],
)
def test_inconsistent_tables_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ViewDefinitionError):
        _table(**changes)


def test_sensitive_key_and_lookup_columns_are_searchable() -> None:
    table = Table(
        "t",
        [Column("k", TEXT, sensitive=True), Column("l", TEXT, sensitive=True, lookup=True),
         Column("s", TEXT, sensitive=True), Column("c", INT)],
        key=["k"],
        indexes=[("l", "c")],
    )
    assert [table.searchable(name) for name in ("k", "l", "s", "c")] == [True, True, False, True]


def test_complete_fills_nullable_columns_and_checks_types() -> None:
    table = _table()
    row = table.complete({"id": b"1", "n": 5, "secret": "s", "flag": True})
    assert row == {"id": b"1", "n": 5, "label": None, "secret": "s", "flag": True}
    assert list(row) == list(table.column_names)
    with pytest.raises(RowError, match="unknown columns"):
        table.complete({**row, "extra": 1})
    with pytest.raises(RowError, match="not nullable"):
        table.complete({"id": b"1", "secret": "s", "flag": True})
    with pytest.raises(RowError, match="takes int"):
        table.complete({**row, "n": "5"})
    with pytest.raises(RowError, match="takes int"):
        table.complete({**row, "n": True})  # a bool is not an int column's value
    with pytest.raises(RowError, match="takes bool"):
        table.complete({**row, "flag": 1})
    with pytest.raises(RowError, match="takes bytes"):
        table.complete({**row, "id": bytearray(b"1")})


@pytest.mark.parametrize("value", [INT64_MIN - 1, INT64_MAX + 1, 1 << 70])
def test_ints_must_fit_in_64_bits(value: int) -> None:
    table = _table()
    with pytest.raises(RowError, match="64-bit"):
        table.complete({"id": b"1", "n": value, "secret": "s", "flag": False})
    with pytest.raises(RowError, match="64-bit"):
        table.check_values({"n": value})
    assert table.complete({"id": b"1", "n": INT64_MAX, "secret": "s", "flag": False})["n"] == INT64_MAX


def test_partial_updates_and_keys_are_checked() -> None:
    table = _table()
    table.check_values({"n": 1, "label": None})
    with pytest.raises(RowError, match="cannot be patched"):
        table.check_values({"id": b"2"})
    with pytest.raises(RowError, match="unknown column"):
        table.check_values({"nope": 1})
    table.check_key((b"1",))
    for bad in ([b"1"], (b"1", b"2"), ("1",)):
        with pytest.raises(RowError):
            table.check_key(bad)  # type: ignore[arg-type]


def test_schema_needs_unique_tables_and_fingerprints_shape() -> None:
    with pytest.raises(ViewDefinitionError):
        ViewSchema.of([_table(), _table()])
    with pytest.raises(ViewDefinitionError):
        ViewSchema.of([])
    base = ViewSchema.of([_table()]).fingerprint()
    assert base == ViewSchema.of([_table()]).fingerprint()
    variants = [
        _table(indexes=[("n",)]),
        _table(key=["id", "n"]),
        _table(columns=[*_table().columns[:-1], Column("flag", INT)]),
        _table(columns=[*_table().columns[:3], Column("secret", TEXT), _table().columns[4]]),
    ]
    assert len({base, *(ViewSchema.of([t]).fingerprint() for t in variants)}) == 1 + len(variants)
    with pytest.raises(RowError):
        ViewSchema.of([_table()]).table("other")


def _outcome(check: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", check(*args)
    except RowError as exc:
        return "refused", str(exc)


def _complete_by_the_rules(table: Table, row: Any) -> dict[str, Any]:
    unknown = set(row) - set(table.column_names)
    if unknown:
        raise RowError(f"{table.name}: unknown columns {sorted(unknown)}")
    for column in table.columns:
        column.check(table.name, row.get(column.name))
    return {column.name: row.get(column.name) for column in table.columns}


def _check_key_by_the_rules(table: Table, key: Any) -> None:
    if type(key) is not tuple or len(key) != len(table.key):
        raise RowError(f"{table.name}: a key is a tuple of {len(table.key)} values {table.key}")
    for name, value in zip(table.key, key):
        table.by_name[name].check(table.name, value)


def _check_values_by_the_rules(table: Table, values: Any) -> None:
    for name, value in values.items():
        if name in table.key:
            raise RowError(f"{table.name}: key column {name!r} cannot be patched")
        if name not in table.by_name:
            raise RowError(f"{table.name}: unknown column {name!r}")
        table.by_name[name].check(table.name, value)


_CHECKED = Table("items", [Column("id", BYTES), Column("n", INT), Column("label", TEXT, nullable=True),
                           Column("flag", BOOL), Column("at", INT, nullable=True)], key=["id", "n"])
_cell = (st.none() | st.booleans() | st.integers(INT64_MIN - 2, INT64_MAX + 2) | st.text(max_size=3)
         | st.binary(max_size=3))
_names = st.sampled_from([*_CHECKED.column_names, "extra"])


@settings(max_examples=300)
@given(row=st.dictionaries(_names, _cell), proxy=st.booleans())
def test_the_written_out_row_check_follows_the_column_rules(row: dict[str, Any], proxy: bool) -> None:
    checked = MappingProxyType(row) if proxy else row
    assert _outcome(_CHECKED.complete, checked) == _outcome(_complete_by_the_rules, _CHECKED, checked)
    defaulting = defaultdict(int, row)  # subscripts would add missing columns: it must be read with get()
    assert _outcome(_CHECKED.complete, defaulting) == _outcome(_complete_by_the_rules, _CHECKED, row)
    assert defaulting == row
    if "extra" not in row and set(row) == set(_CHECKED.column_names):
        reordered = dict(reversed(row.items()))
        assert _outcome(_CHECKED.complete, reordered) == _outcome(_complete_by_the_rules, _CHECKED, row)


@settings(max_examples=300)
@given(key=st.tuples(_cell, _cell) | st.tuples(_cell) | st.lists(_cell, max_size=2),
       values=st.dictionaries(_names, _cell))
def test_the_key_and_patch_checks_follow_the_column_rules(key: Any, values: dict[str, Any]) -> None:
    assert _outcome(_CHECKED.check_key, key) == _outcome(_check_key_by_the_rules, _CHECKED, key)
    assert _outcome(_CHECKED.check_values, values) == _outcome(_check_values_by_the_rules, _CHECKED, values)
