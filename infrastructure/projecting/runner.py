"""Runs a view over an event store: batched catch-up with tracking, rebuild, background following, queries.

The pull loop is the same on every backend (the SQLite recorder has no ``subscribe()``): read up
to ``batch_size`` records of the view's topics after the tracked position (:mod:`.reading`),
decode them with the store's mapper, fold them through the view's pure
handlers into a :class:`ViewState` overlay, and write the touched rows together with the new
position in ONE transaction. Because rows and position commit together, a restart resumes exactly
after the last committed event: every event is projected exactly once.

When an event cannot be decoded or projected, the events before it are committed (with the
position of the last of them) and :class:`ProjectionFailed` is raised; nothing of the failing event
is written, and the next ``catch_up`` retries it. Any exception inside the write transaction rolls
the whole batch back. If another runner moved the position meanwhile (compare-and-set on the
tracking row), the batch is rolled back and redone from the new position.

Typical use by the Client (read-your-writes)::

    runner = ViewRunner.open(app, settings, group_messages_view)
    runner.catch_up()                          # to the store's current notification id
    rows = runner.select("group_messages", where={"group_id": gid}, ranges=[("sent_at_ns", ">", t)],
                         order_by=["sent_at_ns"], limit=50)
    runner.close()
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Mapping, Sequence

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent

from mlsgroup.infrastructure.persistence import EventMapper, StoreSettings
from mlsgroup.projections import RowError, View, ViewState

from .backends import open_view_store
from .errors import ProjectionFailed, ViewConflict, ViewQueryError
from .protection import derive_cell_keys
from .query import build_query
from .reading import Record, record_reader

__all__ = ["ViewRunner", "DEFAULT_BATCH_SIZE"]

DEFAULT_BATCH_SIZE = 1000
_MAX_CONFLICTS = 10


def _record_decoder(mapper: Any) -> Callable[[Any, int, str, bytes], Any]:
    """``decode(originator_id, originator_version, topic, state) -> event`` for the store's mapper."""
    if isinstance(mapper, EventMapper):
        return mapper.decode_record

    def decode(originator_id: Any, originator_version: int, topic: str, state: bytes) -> Any:
        return mapper.to_domain_event(StoredEvent(originator_id, originator_version, topic, state))

    return decode


class ViewRunner:
    """Keeps one view of one event store's application sequence up to date, and answers queries on it."""

    def __init__(self, app: Application[Any], view: View, store: Any, *, batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        if type(batch_size) is not int or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        self.app = app
        self.view = view
        self.store = store
        self.batch_size = batch_size
        self.application_name = app.name
        self._topics = view.topics
        self._read = record_reader(app.recorder, self._topics)
        self._decode = _record_decoder(app.mapper)
        self._lock = threading.RLock()
        self._follower: threading.Thread | None = None
        self._stop_following = threading.Event()
        self._follow_error: BaseException | None = None
        self.was_reset = False
        self._caught_up = False

    @classmethod
    def open(
        cls, app: Application[Any], settings: StoreSettings, view: View, *, batch_size: int = DEFAULT_BATCH_SIZE
    ) -> ViewRunner:
        """The runner of ``view`` over ``app``, whose store ``settings`` describes.

        Cells of sensitive columns are encrypted with keys derived from the store's encryption key.
        Stored rows built for another view version, schema or key are dropped (rebuilt on catch-up).
        """
        keys = derive_cell_keys(settings.encryption_key) if settings.encryption_key is not None else None
        store = open_view_store(settings, view, keys)
        try:
            runner = cls(app, view, store, batch_size=batch_size)
            runner.was_reset = store.prepare(app.name)
        except BaseException:
            store.close()
            raise
        return runner

    def __enter__(self) -> ViewRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop following (if started) and close the view's connections."""
        try:
            if self._follower is not None:
                self.stop_following()
        finally:
            self.store.close()

    @property
    def position(self) -> int | None:
        """The notification id of the last event the view has committed (None before the first)."""
        return self.store.max_tracking_id(self.application_name)

    def catch_up(self, until: int | None = None) -> int:
        """Project every event up to ``until`` (default: the store's current notification id).

        Returns how many events of the view's topics were projected. The first catch-up of a view
        that :meth:`open` found stale (and reset) is a rebuild: its tables are filled without indexes.
        """
        with self._lock:
            if self.was_reset and not self._caught_up and self.position is None:
                self._caught_up = True
                self.store.reset(self.application_name, indexes=False)
                try:
                    return self._catch_up(until)
                finally:
                    self.store.create_indexes()
            self._caught_up = True
            return self._catch_up(until)

    def _catch_up(self, until: int | None) -> int:
        with self._lock:
            recorder = self.app.recorder
            target = recorder.max_notification_id() if until is None else until
            if target is None:
                return 0
            processed = 0
            conflicts = 0
            position = self.position
            while position is None or position < target:
                records = self._read(position, target, self.batch_size)
                last = records[-1][0] if len(records) == self.batch_size else target
                try:
                    processed += self._process(position, records, last)
                except ViewConflict:
                    conflicts += 1
                    if conflicts > _MAX_CONFLICTS:
                        raise
                    # Another runner wrote rows: what a rebuild remembers of its own writes is void.
                    self.store.create_indexes()
                    position = self.position
                    continue
                position = last
            return processed

    def rebuild(self) -> int:
        """Drop every row and the position, then project all events again."""
        with self._lock:
            self.store.reset(self.application_name, indexes=False)
            self._caught_up = True
            try:
                return self._catch_up(None)
            finally:
                self.store.create_indexes()

    def _process(self, expected: int | None, records: Sequence[Record], last: int) -> int:
        decode = self._decode
        events = []
        append = events.append
        failure: tuple[int, BaseException] | None = None
        for _, originator_id, originator_version, topic, state in records:
            try:
                append(decode(originator_id, originator_version, topic, state))
            except Exception as exc:  # a record that cannot be read stops the view at that event
                failure = (len(events), exc)
                break
        view, schema = self.view, self.view.schema
        with self.store.batch(self.application_name) as batch:
            batch.claim(expected)
            state = ViewState(schema, load=batch.load, find=batch.find)
            project, apply = view.project, state.apply
            index = 0
            try:
                for index, event in enumerate(events):  # noqa: B007 - index names the failing event
                    for change in project(state, event):
                        apply(change)
            except Exception as exc:  # the handler's or the row's fault: keep what came before
                failure = (index, exc)
                state = ViewState(schema, load=batch.load, find=batch.find)
                for event in events[:index]:
                    state.apply_all(project(state, event))
            if failure is None:
                batch.flush(state)
                batch.advance(last)
                return len(events)
            at, cause = failure
            error = ProjectionFailed(view.name, records[at][0], records[at][3], f"{type(cause).__name__}: {cause}")
            if at == 0:
                raise error from cause  # nothing to keep: roll the claim back too
            batch.flush(state)
            batch.advance(records[at - 1][0])
        raise error from cause

    # Queries -----------------------------------------------------------------------------------

    def get(self, table: str, key: tuple[Any, ...], *, fresh: bool = False) -> dict[str, Any] | None:
        """The row of ``table`` with primary key ``key``; ``fresh`` catches up first."""
        try:
            self.view.schema.table(table).check_key(key)
        except RowError as exc:
            raise ViewQueryError(str(exc)) from None
        if fresh:
            self.catch_up()
        return self.store.get(table, key)

    def select(
        self,
        table: str,
        where: Mapping[str, Any] | None = None,
        *,
        ranges: Sequence[tuple[str, str, Any]] = (),
        order_by: Sequence[str] = (),
        limit: int | None = None,
        fresh: bool = False,
    ) -> list[dict[str, Any]]:
        """Rows of ``table`` equal to ``where``, within ``ranges`` ((column, "<"|"<="|">"|">=", value)),
        ordered by ``order_by`` ("column" or "-column"), at most ``limit``; ``fresh`` catches up first."""
        query = build_query(self.view.schema, table, where, ranges, order_by, limit)
        if fresh:
            self.catch_up()
        return self.store.select(query)

    def count(
        self,
        table: str,
        where: Mapping[str, Any] | None = None,
        *,
        ranges: Sequence[tuple[str, str, Any]] = (),
        fresh: bool = False,
    ) -> int:
        """How many rows :meth:`select` would return without a limit."""
        query = build_query(self.view.schema, table, where, ranges)
        if fresh:
            self.catch_up()
        return self.store.count(query)

    # Following ---------------------------------------------------------------------------------

    def follow(self, interval_s: float = 0.05) -> None:
        """Catch up in a background thread every ``interval_s`` seconds until :meth:`stop_following`."""
        if self._follower is not None:
            raise RuntimeError(f"view {self.view.name!r} is already being followed")
        self._stop_following.clear()
        self._follow_error = None

        def loop() -> None:
            while not self._stop_following.is_set():
                try:
                    self.catch_up()
                except BaseException as exc:  # handed to stop_following()
                    self._follow_error = exc
                    return
                self._stop_following.wait(interval_s)

        self._follower = threading.Thread(target=loop, name=f"view-{self.view.name}", daemon=True)
        self._follower.start()

    def stop_following(self) -> None:
        """Stop the background thread; re-raise the error that stopped it, if any."""
        follower = self._follower
        if follower is None:
            return
        self._stop_following.set()
        follower.join()
        self._follower = None
        error, self._follow_error = self._follow_error, None
        if error is not None:
            raise error
