"""ViewState: the reference semantics of Upsert / Patch / Delete, lookups through a loader, and find."""

from __future__ import annotations

from typing import Any

import pytest

from mlsgroup.projections import (
    BYTES,
    INT,
    TEXT,
    Column,
    Delete,
    Patch,
    RowError,
    Table,
    Upsert,
    ViewSchema,
    ViewState,
)

SCHEMA = ViewSchema.of([
    Table("t", [Column("k", BYTES), Column("n", INT), Column("who", TEXT, sensitive=True, lookup=True),
                Column("note", TEXT, nullable=True, sensitive=True)], key=["k"]),
])


def test_upsert_replaces_the_whole_row() -> None:
    state = ViewState(SCHEMA)
    state.apply(Upsert("t", {"k": b"a", "n": 1, "who": "x", "note": "hi"}))
    state.apply(Upsert("t", {"k": b"a", "n": 2, "who": "y"}))
    assert state.tables() == {"t": {(b"a",): {"k": b"a", "n": 2, "who": "y", "note": None}}}
    assert state.dirty == {"t": {(b"a",)}}


def test_patch_changes_existing_rows_only() -> None:
    state = ViewState(SCHEMA)
    state.apply(Patch("t", (b"a",), {"n": 5}))
    assert state.tables() == {"t": {}}
    state.apply(Upsert("t", {"k": b"a", "n": 1, "who": "x"}))
    state.apply(Patch("t", (b"a",), {"n": 5, "note": "n"}))
    assert state.get("t", (b"a",)) == {"k": b"a", "n": 5, "who": "x", "note": "n"}


def test_delete_removes_and_is_idempotent() -> None:
    state = ViewState(SCHEMA)
    state.apply(Upsert("t", {"k": b"a", "n": 1, "who": "x"}))
    state.apply(Delete("t", (b"a",)))
    state.apply(Delete("t", (b"b",)))
    assert state.get("t", (b"a",)) is None and state.tables() == {"t": {}}
    assert state.dirty["t"] == {(b"a",), (b"b",)}


def test_rows_handed_out_are_read_only() -> None:
    state = ViewState(SCHEMA)
    state.apply(Upsert("t", {"k": b"a", "n": 1, "who": "x"}))
    row = state.get("t", (b"a",))
    with pytest.raises(TypeError):
        row["n"] = 2  # type: ignore[index]


@pytest.mark.parametrize(
    "change",
    [
        Upsert("nope", {"k": b"a"}),
        Upsert("t", {"n": 1, "who": "x"}),
        Upsert("t", {"k": b"a", "n": "1", "who": "x"}),
        Patch("t", (b"a",), {"k": b"b"}),
        Patch("t", ("a",), {"n": 1}),
        Delete("t", b"a"),  # type: ignore[arg-type]
        "not a change",
    ],
)
def test_bad_changes_raise_row_error(change: Any) -> None:
    with pytest.raises(RowError):
        ViewState(SCHEMA).apply(change)


def test_loader_is_asked_once_per_key_and_overlay_wins() -> None:
    stored = {(b"a",): {"k": b"a", "n": 1, "who": "x", "note": None}}
    asked: list[tuple[Any, ...]] = []

    def load(table: str, key: tuple[Any, ...]) -> dict[str, Any] | None:
        asked.append(key)
        row = stored.get(key)
        return None if row is None else dict(row)

    state = ViewState(SCHEMA, load=load)
    assert state.get("t", (b"a",))["n"] == 1  # type: ignore[index]
    assert state.get("t", (b"b",)) is None
    state.apply(Patch("t", (b"a",), {"n": 2}))
    state.apply(Patch("t", (b"b",), {"n": 2}))
    assert state.get("t", (b"a",))["n"] == 2  # type: ignore[index]
    assert asked == [(b"a",), (b"b",)]
    assert stored[(b"a",)]["n"] == 1  # the loader's rows are never changed in place
    assert state.dirty["t"] == {(b"a",)}


def test_find_merges_stored_rows_with_the_batch() -> None:
    stored = {
        (b"a",): {"k": b"a", "n": 1, "who": "x", "note": None},
        (b"b",): {"k": b"b", "n": 2, "who": "x", "note": None},
        (b"c",): {"k": b"c", "n": 3, "who": "y", "note": None},
    }

    def find(table: str, where: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in stored.values() if all(r[c] == v for c, v in where.items())]

    state = ViewState(SCHEMA, load=lambda t, k: dict(stored[k]) if k in stored else None, find=find)
    state.apply(Delete("t", (b"a",)))
    state.apply(Patch("t", (b"c",), {"who": "x"}))
    state.apply(Upsert("t", {"k": b"d", "n": 4, "who": "x"}))
    state.apply(Patch("t", (b"b",), {"who": "z"}))
    assert [row["k"] for row in state.find("t", {"who": "x"})] == [b"c", b"d"]
    assert [row["k"] for row in state.find("t", {"who": "z"})] == [b"b"]
    with pytest.raises(RowError, match="not searchable"):
        state.find("t", {"note": None})
    with pytest.raises(RowError):
        state.find("t", {"nope": 1})
