"""The eventsourcing Application base for mlsgroup stores, configured only by StoreSettings (ARCHITECTURE 3).

Differences from ``eventsourcing.application.Application``:

* the environment comes from the settings alone: process environment variables are not merged in,
  so a stray ``CIPHER_KEY`` or ``<APP>_SQLITE_DBNAME`` cannot redirect or re-key a store;
* a PostgreSQL store's schema is created before the recorders create their tables;
* :meth:`open` takes :class:`StoreSettings`. Use the application as a context manager (or call
  ``close()``): otherwise only ``__del__`` closes its connection pools;
* :meth:`delete_snapshots_before` removes an aggregate's superseded snapshots (the library's
  snapshot recorders only insert), on each of the three backends.
"""

from __future__ import annotations

from typing import Any, Self
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import AggregateRecorder, ApplicationRecorder, InfrastructureFactory
from eventsourcing.popo import POPOAggregateRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder
from eventsourcing.utils import Environment, EnvType

from .settings import StoreSettings, prepare_backend

__all__ = ["StoreApplication"]


class StoreApplication(Application[UUID]):
    """An eventsourcing Application whose store is described by :class:`StoreSettings`."""

    @classmethod
    def open(cls, settings: StoreSettings, **kwargs: Any) -> Self:
        """Open (creating if needed) the store ``settings`` describes."""
        return cls(env=settings.env(), **kwargs)

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        merged = dict(type(self).env)
        if type(self).is_snapshotting_enabled or type(self).snapshotting_intervals:
            merged["IS_SNAPSHOTTING_ENABLED"] = "y"
        if env is not None:
            merged.update(env)
        return Environment(name, merged)

    def construct_factory(self, env: Environment) -> InfrastructureFactory[Any]:
        prepare_backend(env, env.name)
        return super().construct_factory(env)

    def delete_snapshots_before(self, originator_id: UUID, version: int) -> None:
        """Delete the aggregate's snapshots older than ``version`` (in one transaction).

        Call it only after the snapshot at ``version`` is stored: a crash between the two leaves
        extra snapshots, never an aggregate without its latest one.
        """
        if self.snapshots is not None:
            _delete_older(self.snapshots.recorder, originator_id, version)


def _delete_older(recorder: AggregateRecorder, originator_id: UUID, version: int) -> None:
    if isinstance(recorder, ApplicationRecorder):
        raise TypeError("only snapshot (aggregate) recorders may lose records: notification ids must not move")
    if isinstance(recorder, POPOAggregateRecorder):
        _delete_older_popo(recorder, originator_id, version)
    elif isinstance(recorder, SQLiteAggregateRecorder):
        statement = f"DELETE FROM {recorder.events_table_name} WHERE originator_id=? AND originator_version<?"
        with recorder.datastore.transaction(commit=True) as cursor:
            cursor.execute(statement, (originator_id.hex, version))
    else:
        _delete_older_postgres(recorder, originator_id, version)


def _delete_older_popo(recorder: POPOAggregateRecorder, originator_id: UUID, version: int) -> None:
    # The recorder keeps a list of records and, per aggregate, version -> list position: drop the
    # positions, then compact the list so the deleted records are freed.
    with recorder._database_lock:
        index = recorder._stored_events_index[str(originator_id)]
        older = [v for v in index if v < version]
        if not older:
            return
        for old in older:
            del index[old]
        kept = sorted(p for positions in recorder._stored_events_index.values() for p in positions.values())
        moved = {old: new for new, old in enumerate(kept)}
        recorder._stored_events = [recorder._stored_events[p] for p in kept]
        for positions in recorder._stored_events_index.values():
            for v, p in positions.items():
                positions[v] = moved[p]


def _delete_older_postgres(recorder: AggregateRecorder, originator_id: UUID, version: int) -> None:
    from eventsourcing.postgres import PostgresAggregateRecorder
    from psycopg.sql import SQL, Identifier

    if not isinstance(recorder, PostgresAggregateRecorder):
        raise TypeError(f"cannot delete snapshots from a {type(recorder).__name__}")
    statement = SQL("DELETE FROM {schema}.{table} WHERE originator_id = %s AND originator_version < %s").format(
        schema=Identifier(recorder.datastore.schema), table=Identifier(recorder.events_table_name)
    )
    with recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute(statement, (originator_id, version))
