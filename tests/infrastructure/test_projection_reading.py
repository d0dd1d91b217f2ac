"""The projection runner's fast paths: the record reader returns what ``select_notifications`` returns on every
backend, and sealing a batch of rows at once gives rows that open like rows sealed one by one."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsgroup.infrastructure.persistence import ManualClock, StoreApplication
from mlsgroup.infrastructure.projecting import TableCodec, derive_cell_keys
from mlsgroup.infrastructure.projecting.reading import _SQLiteReader, record_reader
from mlsgroup.projections import BOOL, BYTES, INT, INT64_MAX, INT64_MIN, TEXT, Column, Table

from tests.infrastructure.persistence.test_store_backends import history
from tests.projections.sample_views import sample_view

KEY = bytes(range(32))


class ReadStore(StoreApplication):
    pass


def _expected(app: Any, after: int | None, stop: int, limit: int, topics: tuple[str, ...]) -> list[tuple[Any, ...]]:
    notifications = app.recorder.select_notifications(
        start=after, limit=limit, stop=stop, topics=topics, inclusive_of_start=False
    )
    return [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]


def test_the_reader_returns_what_select_notifications_returns(backend: Any) -> None:
    clock = ManualClock()
    events = history(uuid.uuid4(), clock, count=7) + history(uuid.uuid4(), clock, count=5)
    with ReadStore.open(backend.settings(encryption_key=KEY)) as app:
        app.save(*events)
        top = app.recorder.max_notification_id()
        if backend.name == "sqlite":
            assert isinstance(record_reader(app.recorder, ()), _SQLiteReader)
        for topics in ((), sample_view.topics[:2], ("no.such.Topic",)):
            read = record_reader(app.recorder, topics)
            for after, stop, limit in ((None, top, 100), (None, top, 3), (2, top - 1, 4), (top, top, 10)):
                records = read(after, stop, limit)
                assert records == _expected(app, after, stop, limit, topics)
                assert all(type(record[1]) is uuid.UUID for record in records)
        if backend.name == "sqlite":
            one_aggregate = record_reader(app.recorder, ())(None, top, 100)
            assert len({id(record[1]) for record in one_aggregate[:7]}) == 1  # each aggregate id parsed once


def _messages_codec(keys: Any) -> TableCodec:
    return TableCodec("sample", sample_view.schema.table("messages"), keys)


@pytest.mark.parametrize("protected", [True, False])
def test_rows_sealed_in_a_batch_open_like_rows_sealed_one_by_one(protected: bool) -> None:
    codec = _messages_codec(derive_cell_keys(KEY) if protected else None)
    rows = [
        {"aggregate_id": bytes([n]) * 16, "version": n, "content": bytes([n]) * n, "content_type": "text",
         "priority": n % 3, "sent_ns": 10 * n, "reply_to": None if n % 2 else b"r" * 16, "flagged": n % 3 == 0}
        for n in range(1, 40)
    ]
    batch = codec.encode_rows(rows)
    assert [codec.decode_row(stored) for stored in batch] == rows
    assert [codec.decode_row(codec.encode_row(row)) for row in rows] == rows
    assert codec.encode_rows([]) == []
    if protected:
        boxes = [stored[codec.stored_columns.index("__sealed")] for stored in batch]
        assert len({box[1:13] for box in boxes}) == len(rows)  # a fresh nonce per row
        assert all(b"\x07" * 7 not in box for box in boxes)
    else:
        assert batch == [tuple(row.values()) for row in rows]


def test_rows_sealed_in_a_batch_keep_blind_indexes_and_key_binding() -> None:
    keys = derive_cell_keys(KEY)
    members = TableCodec("sample", sample_view.schema.table("members"), keys)
    rows = [{"aggregate_id": b"g", "inbox_id": f"inbox {n}", "installations": n, "role": "member",
             "added_in_epoch": 1} for n in range(3)]
    batch = members.encode_rows(rows)
    assert [members.decode_row(stored) for stored in batch] == rows
    index_column = members.stored_columns.index("inbox_id__idx")
    expected = [members.encode_key((b"g", row["inbox_id"]))[1] for row in rows]
    assert [stored[index_column] for stored in batch] == expected
    sealed = members.stored_columns.index("__sealed")
    swapped = list(batch[0])
    swapped[sealed] = batch[1][sealed]
    with pytest.raises(Exception, match="authentication"):
        members.decode_row(tuple(swapped))


_MIXED = Table(
    "mixed",
    [Column("k", BYTES, sensitive=True), Column("n", INT),
     Column("t", TEXT, nullable=True, sensitive=True, lookup=True),
     Column("b", BOOL, nullable=True, sensitive=True), Column("i", INT, nullable=True, sensitive=True),
     Column("y", BYTES, nullable=True, sensitive=True, lookup=True), Column("c", BYTES, nullable=True),
     Column("f", BOOL), Column("s", TEXT)],
    key=["k", "n"],
)
_mixed_rows = st.lists(
    st.fixed_dictionaries({
        "k": st.binary(max_size=20), "n": st.integers(INT64_MIN, INT64_MAX), "t": st.none() | st.text(max_size=10),
        "b": st.none() | st.booleans(), "i": st.none() | st.integers(INT64_MIN, INT64_MAX),
        "y": st.none() | st.binary(max_size=10), "c": st.none() | st.binary(max_size=10), "f": st.booleans(),
        "s": st.text(max_size=10),
    }),
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(rows=_mixed_rows, protected=st.booleans())
def test_rows_written_for_sqlite_hold_the_cells_of_rows_written_as_bytes(
    rows: list[dict[str, Any]], protected: bool
) -> None:
    """The SQLite write path (bytes cells as bytearray, a leading rowid) stores what the plain path stores."""
    keys = derive_cell_keys(KEY) if protected else None
    plain = TableCodec("sample", _MIXED, keys)
    sqlite = TableCodec("sample", _MIXED, keys, blob=bytearray)
    rowids = list(range(7, 7 + len(rows)))
    written, led = plain.encode_rows(rows), sqlite.encode_rows(rows, rowids)
    assert [stored[0] for stored in led] == rowids
    sealed = plain.stored_columns.index("__sealed") if protected else None
    for row, mine, theirs in zip(rows, written, led):
        cells = theirs[1:]
        assert all(type(cell) is not bytes for cell in cells)  # every bytes cell is bound as a bytearray
        as_bytes = tuple(bytes(cell) if type(cell) is bytearray else cell for cell in cells)
        assert plain.decode_row(mine) == row and plain.decode_row(as_bytes) == row
        same = [n for n in range(len(mine)) if n != sealed]  # a box differs by its nonce only
        assert [as_bytes[n] for n in same] == [mine[n] for n in same]
