"""Reads a view's stored events in batches, as plain rows the store's mapper decodes (ARCHITECTURE 3).

A batch is a list of :data:`Record` tuples ``(notification id, originator id, originator version,
topic, state)`` after a position, up to a stop, of the view's topics, in notification order.

On SQLite the rows come straight from the recorder's table: eventsourcing's
``select_notifications`` builds a ``sqlite3.Row``, a frozen ``Notification`` and a fresh ``UUID``
(parsed from text) per record, which cost more than reading the row. Here a row is a tuple and
each aggregate's id is parsed once per reader (a rebuild reads many events of few aggregates).
Other recorders go through ``select_notifications``.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence
from uuid import UUID

from eventsourcing.sqlite import SQLiteApplicationRecorder

__all__ = ["Record", "RecordReader", "record_reader"]

Record = tuple[int, Any, int, str, bytes]
RecordReader = Callable[[int | None, int, int], list[Record]]
"""``read(after, stop, limit)``: up to ``limit`` records with ``after < id <= stop`` (after None: from the start)."""

_MAX_CACHED_IDS = 65536


def record_reader(recorder: Any, topics: Sequence[str]) -> RecordReader:
    """The fastest reader of ``recorder``'s records of ``topics`` (every topic when empty)."""
    if isinstance(recorder, SQLiteApplicationRecorder) and recorder.datastore.originator_id_type == "uuid":
        return _SQLiteReader(recorder, tuple(topics))
    return _NotificationReader(recorder, tuple(topics))


class _NotificationReader:
    def __init__(self, recorder: Any, topics: tuple[str, ...]) -> None:
        self._recorder = recorder
        self._topics = topics

    def __call__(self, after: int | None, stop: int, limit: int) -> list[Record]:
        notifications = self._recorder.select_notifications(
            start=after, limit=limit, stop=stop, topics=self._topics, inclusive_of_start=False
        )
        return [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]


class _SQLiteReader:
    def __init__(self, recorder: SQLiteApplicationRecorder, topics: tuple[str, ...]) -> None:
        self._datastore = recorder.datastore
        self._topics = topics
        only = f" AND topic IN ({','.join('?' * len(topics))})" if topics else ""
        self._statement = (
            "SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {recorder.events_table_name} WHERE rowid > ? AND rowid <= ?{only} ORDER BY rowid LIMIT ?"
        )
        self._ids: dict[str, Any] = {}

    def __call__(self, after: int | None, stop: int, limit: int) -> list[Record]:
        with self._datastore.transaction(commit=False) as cursor:
            sqlite_cursor = cursor.sqlite_cursor
            sqlite_cursor.row_factory = None
            sqlite_cursor.execute(self._statement, (0 if after is None else after, stop, *self._topics, limit))
            rows = sqlite_cursor.fetchall()
        ids = self._ids
        if len(ids) > _MAX_CACHED_IDS:
            ids.clear()
        records = []
        append = records.append
        for notification_id, text, version, topic, state in rows:
            originator_id = ids.get(text)
            if originator_id is None:
                try:
                    originator_id = UUID(text)
                except (ValueError, TypeError, AttributeError):
                    originator_id = text  # the mapper refuses it, and the view stops at this event
                ids[text] = originator_id
            append((notification_id, originator_id, version, topic, state))
        return records
