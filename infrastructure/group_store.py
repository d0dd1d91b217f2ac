"""The group store of one installation (ARCHITECTURE 3): an eventsourcing application holding the
installation aggregate and every group aggregate, with snapshots of group states every N events.

``GroupStore`` implements the domain's ``GroupStore`` port: ``load`` folds a group's snapshot and
tail with the domain projector (cached in memory: the client is the store's only writer), ``save``
projects the new events, records them in one transaction, takes a snapshot when the version
crosses a multiple of ``snapshot_interval``, and tells the views (:class:`StoreViews`, the durable
projection on the same backend and key) that they have events to catch up with.

Each group keeps only its latest snapshot: only that one is ever loaded, and a 100-member group's
snapshot is about as large as the 50 message events between two snapshots. The new snapshot is
stored first and the older ones deleted after, so a crash in between leaves a spare snapshot,
never a group without its latest.

Durability on SQLite (WAL mode). Connections run with ``PRAGMA synchronous=NORMAL``: every
transaction is still atomic and the file stays consistent through any crash, but after a power
loss or OS crash (not an application crash) the last transactions before it may be rolled back,
as a prefix-consistent tail. That is safe for what can be re-derived: a lost ``EnvelopeProcessed``
rolls the cursor back with the state, and the next sync reprocesses the envelope from the network.
It is not safe for write-ahead records of something that leaves the device, so a transaction that
records a publication (``IntentPublished``: its payload is sent next) or installation events (key
package private keys, uploaded next) is made durable before ``save`` returns by syncing the WAL
file, exactly what ``synchronous=FULL`` does on every commit.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Iterator, Optional, Sequence

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.sqlite import Factory as SQLiteFactory
from eventsourcing.sqlite import SQLiteConnection, SQLiteConnectionPool
from eventsourcing.utils import Environment

from mlsgroup.domain.eventing import DomainEvent
from mlsgroup.domain.group_aggregate import GroupAggregateState, GroupSnapshot, group_uuid, project
from mlsgroup.domain.group_events import IntentPublished
from mlsgroup.domain.installation_aggregate import INSTALLATION_AGGREGATE_ID, InstallationState, project_installation

from .persistence import StoreApplication, StoreSettings
from .views import StoreViews

__all__ = ["GroupStoreApplication", "GroupStore", "DEFAULT_SNAPSHOT_INTERVAL"]

DEFAULT_SNAPSHOT_INTERVAL = 50


class _NormalSyncPool(SQLiteConnectionPool):
    """SQLite connections in WAL mode with ``synchronous=NORMAL`` (see the module docstring)."""

    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        if not self.is_sqlite_memory_mode:
            connection.cursor().execute("PRAGMA synchronous=NORMAL")
        return connection


class GroupStoreApplication(StoreApplication):
    """The eventsourcing application of one installation's store."""

    snapshot_class = GroupSnapshot
    is_snapshotting_enabled = True
    #: The SQLite WAL file whose sync makes the committed transactions durable (None: not SQLite,
    #: or in memory).
    wal_path: Optional[str] = None

    def construct_factory(self, env: Environment) -> InfrastructureFactory[Any]:
        factory = super().construct_factory(env)
        if isinstance(factory, SQLiteFactory):
            # Swapped before any connection exists: the recorders are constructed after the factory.
            pool = factory.datastore.pool
            if not pool.is_sqlite_memory_mode:
                factory.datastore.pool = _NormalSyncPool(db_name=pool.db_name, lock_timeout=pool.lock_timeout)
                pool.close()
                name = pool.db_name[5:] if pool.db_name.startswith("file:") else pool.db_name
                self.wal_path = name.split("?", 1)[0] + "-wal"
        return factory

    def make_durable(self) -> None:
        """Sync the WAL file so every transaction committed so far survives a power loss."""
        if self.wal_path is None:
            return
        try:
            fd = os.open(self.wal_path, os.O_RDONLY)
        except FileNotFoundError:  # checkpointed and removed: the data is in the synced database file
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class GroupStore:
    """Loads and saves group aggregates; keeps the views current (thread-safe)."""

    def __init__(
        self,
        app: GroupStoreApplication,
        views: StoreViews,
        *,
        snapshot_interval: int = DEFAULT_SNAPSHOT_INTERVAL,
    ) -> None:
        if snapshot_interval < 1:
            raise ValueError("snapshot_interval must be >= 1")
        self.app = app
        self.views = views
        self.snapshot_interval = snapshot_interval
        self._lock = threading.RLock()
        self._cache: dict[bytes, GroupAggregateState] = {}

    @classmethod
    def open(cls, settings: StoreSettings, **kwargs) -> GroupStore:
        """The store ``settings`` describes, with its views (resuming from their tracked position)."""
        app = GroupStoreApplication.open(settings)
        try:
            views = StoreViews.open(app, settings)
        except BaseException:
            app.close()
            raise
        return cls(app, views, **kwargs)

    # -- groups ----------------------------------------------------------------------------------

    def load(self, group_id: bytes) -> Optional[GroupAggregateState]:
        group_id = bytes(group_id)
        with self._lock:
            cached = self._cache.get(group_id)
            if cached is not None:
                return cached
            try:
                state = self.app.repository.get(group_uuid(group_id), projector_func=project)
            except AggregateNotFoundError:
                return None
            self._cache[group_id] = state
            return state

    def replay(self, group_id: bytes, *, use_snapshots: bool = False) -> Optional[GroupAggregateState]:
        """The group's state rebuilt from the store alone (all events, or snapshot + tail)."""
        aggregate_id = group_uuid(group_id)
        if use_snapshots:
            try:
                return self.app.repository.get(aggregate_id, projector_func=project)
            except AggregateNotFoundError:
                return None
        return project(None, self.app.events.get(aggregate_id))

    def events(self, group_id: bytes) -> list[DomainEvent]:
        return list(self.app.events.get(group_uuid(group_id)))

    def save(self, group_id: bytes, events: Sequence[DomainEvent]) -> GroupAggregateState:
        return self.save_with(group_id, events, ())

    def save_with(
        self, group_id: bytes, events: Sequence[DomainEvent], other_events: Sequence[DomainEvent]
    ) -> GroupAggregateState:
        """Save a group's events together with other aggregates' events, in one transaction."""
        group_id = bytes(group_id)
        with self._lock:
            before = self.load(group_id)
            after = project(before, events)
            if after is None:
                raise ValueError("no events to save for a group that does not exist")
            self.app.save(*events, *other_events)
            if other_events or any(isinstance(e, IntentPublished) for e in events):
                self.app.make_durable()
            self._cache[group_id] = after
            previous = 0 if before is None else before.version
            crossed = after.version // self.snapshot_interval > previous // self.snapshot_interval
            try:
                if crossed and self.app.snapshots is not None:
                    self.app.snapshots.put([GroupSnapshot.take(after)])
                    self.app.delete_snapshots_before(after.id, after.version)
            finally:  # the events are recorded even if a snapshot write fails: the views must see them
                self.views.written()
            return after

    def group_ids(self) -> list[bytes]:
        return self.views.group_ids()

    # -- the installation aggregate -----------------------------------------------------------------

    def installation(self) -> Optional[InstallationState]:
        try:
            return self.app.repository.get(INSTALLATION_AGGREGATE_ID, projector_func=project_installation)
        except AggregateNotFoundError:
            return None

    def save_installation(self, events: Sequence[DomainEvent]) -> None:
        self.app.save(*events)
        self.app.make_durable()
        self.views.written()

    # -- rebuilding ------------------------------------------------------------------------------

    def stored_events(self, batch: int = 500) -> Iterator[DomainEvent]:
        """Every stored event in recording order (what the views are a fold of)."""
        recorder = self.app.recorder
        start = None
        while True:
            notifications = recorder.select_notifications(start=start, limit=batch, inclusive_of_start=start is None)
            if not notifications:
                return
            for notification in notifications:
                yield self.app.mapper.to_domain_event(notification)
            start = notifications[-1].id

    def close(self) -> None:
        try:
            self.views.close()
        finally:
            self.app.close()
