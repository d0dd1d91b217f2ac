"""The network's PostgreSQL database (psycopg 3 with a small psycopg_pool pool), in its own schema.

Cursor order per topic comes from the topic's counter row (see ``sql``): ``INSERT .. ON CONFLICT
DO UPDATE .. RETURNING`` locks that row until commit, so concurrent writers on any host serialise
per topic while different topics proceed in parallel. Identity publishing and schema creation use
transaction-scoped advisory locks keyed by the schema name.
"""

from __future__ import annotations

import hashlib
import re
from contextlib import contextmanager
from typing import Any, Iterator

from .errors import NetworkClosed, NetworkConfigurationError, NetworkUnavailable
from .sql import TABLES

__all__ = ["PostgresDatabase", "DEFAULT_SCHEMA", "drop_schema"]

DEFAULT_SCHEMA = "mlsgroup_network"
_SCHEMA_PATTERN = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _import_psycopg() -> tuple[Any, Any]:
    try:
        import psycopg
        import psycopg_pool
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise NetworkConfigurationError("a PostgreSQL network needs psycopg: pip install 'mlsgroup[postgres]'") from exc
    return psycopg, psycopg_pool


def _check_schema(schema: str) -> str:
    if not isinstance(schema, str) or not _SCHEMA_PATTERN.fullmatch(schema):
        raise NetworkConfigurationError(f"PostgreSQL schema {schema!r} must match {_SCHEMA_PATTERN.pattern}")
    return schema


def _lock_key(schema: str, purpose: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``purpose`` within ``schema``."""
    digest = hashlib.sha256(f"mlsgroup.network:{schema}:{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresDatabase:
    """The delivery service's and identity registry's tables in one schema of a PostgreSQL database."""

    no_limit = None  # LIMIT NULL means no limit in PostgreSQL

    def __init__(
        self, dsn: str, *, schema: str = DEFAULT_SCHEMA, pool_size: int = 4, connect_timeout_s: float = 10.0
    ) -> None:
        psycopg, psycopg_pool = _import_psycopg()
        self.schema = _check_schema(schema)
        if pool_size < 1:
            raise NetworkConfigurationError("pool_size must be at least 1")
        self._psycopg = psycopg
        self._tokens = {
            "{p}": f'"{self.schema}".',
            "{greatest}": "GREATEST",
            "{skip_locked}": "FOR UPDATE SKIP LOCKED",
            "{bytes}": "BYTEA",
            "{int}": "BIGINT",
            "{serial}": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
        }
        self._identity_lock = _lock_key(self.schema, "identity")
        self._pool: Any = psycopg_pool.ConnectionPool(
            dsn,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "connect_timeout": max(1, int(connect_timeout_s))},
            open=False,
            name=f"mlsgroup-network-{self.schema}",
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout_s)
            self._create_tables()
        except (psycopg_pool.PoolTimeout, psycopg.OperationalError) as exc:
            self.close()
            raise NetworkUnavailable(f"cannot reach the PostgreSQL network database: {exc}") from exc
        except BaseException:
            self.close()
            raise

    def _create_tables(self) -> None:
        with self.write() as cursor:
            # Concurrent CREATE SCHEMA IF NOT EXISTS can still collide; the lock makes creators take turns.
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(self.schema, "schema"),))
            cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            for statement in TABLES:
                cursor.execute(self.sql(statement))

    def sql(self, template: str) -> str:
        for token, value in self._tokens.items():
            template = template.replace(token, value)
        return template

    def _checked_pool(self) -> Any:
        if self._pool is None:
            raise NetworkClosed("the PostgreSQL network database is closed")
        return self._pool

    @contextmanager
    def write(self) -> Iterator[Any]:
        pool = self._checked_pool()
        try:
            with pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
                yield cursor
        except self._psycopg.OperationalError as exc:
            raise NetworkUnavailable(f"PostgreSQL network database error: {exc}") from exc

    @contextmanager
    def read(self) -> Iterator[Any]:
        pool = self._checked_pool()
        try:
            with pool.connection() as conn, conn.cursor() as cursor:
                yield cursor
        except self._psycopg.OperationalError as exc:
            raise NetworkUnavailable(f"PostgreSQL network database error: {exc}") from exc

    def lock_identity_registry(self, cursor: Any) -> None:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (self._identity_lock,))

    def close(self) -> None:
        pool, self._pool = getattr(self, "_pool", None), None
        if pool is not None:
            pool.close()


def drop_schema(dsn: str, schema: str) -> None:
    """Delete a PostgreSQL network completely: its schema and every table in it."""
    psycopg, _ = _import_psycopg()
    schema = _check_schema(schema)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
