"""The network side of mlsgroup: delivery service, key-package directory and identity registry adapters
(the ports of ``mlsgroup.domain.ports``), in memory, on SQLite or on PostgreSQL (ARCHITECTURE 4)::

    net = Network.in_memory()                  # one process, thread-safe
    net = Network.sqlite("network.db")         # shared by processes on one host
    net = Network.postgres(dsn, schema="mlsgroup_network")   # shared by hosts
    net.api.send_group_messages(group_id, [payload]) -> [cursor]
    net.api.query_group_messages(group_id, after_cursor=0) -> [Envelope(cursor, payload, server_time_ns)]
    net.identity.publish_identity_update(update) -> InboxState
    net.close()                                 # or: with Network.sqlite(path) as net: ...
"""

from __future__ import annotations

from os import PathLike
from typing import Any, Callable

from mlsgroup.domain.ports import Clock, DeliveryService, Envelope, IdentityRegistry

from ..persistence.clock import SystemClock
from .errors import NetworkClosed, NetworkConfigurationError, NetworkError, NetworkUnavailable, StoredDataError
from .memory import InMemoryDeliveryService, InMemoryIdentityRegistry
from .postgres import DEFAULT_SCHEMA, PostgresDatabase, drop_schema
from .sql import SqlDeliveryService, SqlIdentityRegistry
from .sqlite import SqliteDatabase

__all__ = [
    "Network",
    "Envelope",
    "InMemoryDeliveryService",
    "InMemoryIdentityRegistry",
    "SqlDeliveryService",
    "SqlIdentityRegistry",
    "SqliteDatabase",
    "PostgresDatabase",
    "DEFAULT_SCHEMA",
    "drop_schema",
    "NetworkError",
    "NetworkUnavailable",
    "NetworkConfigurationError",
    "NetworkClosed",
    "StoredDataError",
]


class Network:
    """A delivery service (``api``), identity registry (``identity``) and the ``clock`` stamping server times."""

    def __init__(
        self,
        api: DeliveryService,
        identity: IdentityRegistry,
        clock: Clock,
        *,
        closer: Callable[[], None] | None = None,
        description: str = "custom",
    ) -> None:
        self.api = api
        self.identity = identity
        self.clock = clock
        self._closer = closer
        self._description = description

    @classmethod
    def in_memory(cls, *, clock: Clock | None = None) -> "Network":
        """A network held in this process's memory (tests, single-process apps)."""
        clock = clock or SystemClock()
        return cls(InMemoryDeliveryService(clock), InMemoryIdentityRegistry(), clock, description="in_memory")

    @classmethod
    def sqlite(cls, path: str | PathLike[str], *, clock: Clock | None = None, busy_timeout_s: float = 30.0) -> "Network":
        """A network in one SQLite file; several processes may open the same file at once."""
        clock = clock or SystemClock()
        db = SqliteDatabase(path, busy_timeout_s=busy_timeout_s)
        return cls(
            SqlDeliveryService(db, clock), SqlIdentityRegistry(db, clock), clock, closer=db.close, description=f"sqlite({db.path!r})"
        )

    @classmethod
    def postgres(
        cls,
        dsn: str,
        *,
        schema: str = DEFAULT_SCHEMA,
        pool_size: int = 4,
        connect_timeout_s: float = 10.0,
        clock: Clock | None = None,
    ) -> "Network":
        """A network in ``schema`` of a PostgreSQL database (created if missing); hosts may share it."""
        clock = clock or SystemClock()
        db = PostgresDatabase(dsn, schema=schema, pool_size=pool_size, connect_timeout_s=connect_timeout_s)
        return cls(
            SqlDeliveryService(db, clock), SqlIdentityRegistry(db, clock), clock, closer=db.close, description=f"postgres(schema={schema!r})"
        )

    def close(self) -> None:
        """Release the database connections (idempotent)."""
        closer, self._closer = self._closer, None
        if closer is not None:
            closer()

    def __enter__(self) -> "Network":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Network {self._description}>"
