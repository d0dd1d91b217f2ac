"""One settings factory for the three event-store backends: in memory, SQLite file, PostgreSQL (ARCHITECTURE 3).

:class:`StoreSettings` says where a store lives and how its records are protected, and
:meth:`StoreSettings.env` turns that into the complete eventsourcing environment: persistence
module, our mapper / binary transcoder / zstd compressor, and ``CIPHER_TOPIC`` always set
explicitly (the library's default cipher needs pycryptodome, which we do not use). On PostgreSQL
each store has its own schema; :func:`prepare_backend` creates it before the recorders create their
tables, and :func:`drop_postgres_schema` removes a store completely.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from eventsourcing.persistence import InfrastructureFactory, OperationalError, PersistenceError
from eventsourcing.utils import Environment

from .cipher import encode_key
from .errors import StoreConfigurationError

__all__ = [
    "Backend",
    "StoreSettings",
    "prepare_backend",
    "open_factory",
    "drop_postgres_schema",
    "postgres_connect_kwargs",
]

_PACKAGE = "mlsgroup.infrastructure.persistence"
MAPPER_TOPIC = f"{_PACKAGE}.mapper:EventMapper"
TRANSCODER_TOPIC = f"{_PACKAGE}.transcoding:BinaryTranscoder"
COMPRESSOR_TOPIC = f"{_PACKAGE}.compression:ZstdCompressor"
CIPHER_TOPIC = f"{_PACKAGE}.cipher:AesGcmCipher"

_SCHEMA_PATTERN = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_PROJECTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,40}")
_DSN_KEYS = {"host", "hostaddr", "port", "user", "password", "dbname", "connect_timeout"}


class Backend(enum.Enum):
    """Where a store's records live; the value is the eventsourcing persistence module's short name."""

    MEMORY = "popo"
    SQLITE = "sqlite"
    POSTGRES = "postgres"

    @property
    def persistence_module(self) -> str:
        return f"eventsourcing.{self.value}"


def _check_key(_instance: object, _attribute: object, key: bytes | None) -> None:
    if key is not None:
        encode_key(key)  # raises StoreConfigurationError unless exactly 32 bytes


@attrs.frozen(repr=False)
class StoreSettings:
    """Where one store lives and how its records are protected. Build with memory/sqlite/postgres."""

    backend: Backend
    encryption_key: bytes | None = attrs.field(default=None, validator=_check_key)
    compress: bool = True
    sqlite_path: str | None = None
    postgres_dsn: str | None = None
    postgres_schema: str | None = None
    lock_timeout_s: int = 5
    connect_timeout_s: int = 5
    pool_size: int = 5

    def __attrs_post_init__(self) -> None:
        if self.backend is Backend.SQLITE:
            if not self.sqlite_path or "mode=memory" in self.sqlite_path or ":memory:" in self.sqlite_path:
                raise StoreConfigurationError("a SQLite store needs a file path (use StoreSettings.memory())")
        if self.backend is Backend.POSTGRES:
            if not self.postgres_dsn:
                raise StoreConfigurationError("a PostgreSQL store needs a DSN")
            if not self.postgres_schema or not _SCHEMA_PATTERN.fullmatch(self.postgres_schema):
                raise StoreConfigurationError(
                    f"PostgreSQL schema {self.postgres_schema!r} must match {_SCHEMA_PATTERN.pattern}"
                )
        for name in ("lock_timeout_s", "connect_timeout_s", "pool_size"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise StoreConfigurationError(f"{name} must be a positive int, got {value!r}")

    @classmethod
    def memory(cls, *, encryption_key: bytes | None = None, compress: bool = True) -> StoreSettings:
        """An in-memory store (``eventsourcing.popo``), gone when the application closes."""
        return cls(Backend.MEMORY, encryption_key=encryption_key, compress=compress)

    @classmethod
    def sqlite(
        cls,
        path: str | os.PathLike[str],
        *,
        encryption_key: bytes | None = None,
        compress: bool = True,
        lock_timeout_s: int = 5,
    ) -> StoreSettings:
        """A store in one SQLite file (``eventsourcing.sqlite``, WAL mode), the embedded default."""
        return cls(
            Backend.SQLITE,
            encryption_key=encryption_key,
            compress=compress,
            sqlite_path=os.fspath(path),
            lock_timeout_s=lock_timeout_s,
        )

    @classmethod
    def postgres(
        cls,
        dsn: str,
        *,
        schema: str,
        encryption_key: bytes | None = None,
        compress: bool = True,
        pool_size: int = 5,
        connect_timeout_s: int = 5,
    ) -> StoreSettings:
        """A store in its own schema of a PostgreSQL database (``eventsourcing.postgres``, psycopg 3)."""
        return cls(
            Backend.POSTGRES,
            encryption_key=encryption_key,
            compress=compress,
            postgres_dsn=dsn,
            postgres_schema=schema,
            pool_size=pool_size,
            connect_timeout_s=connect_timeout_s,
        )

    def __repr__(self) -> str:
        where = {
            Backend.MEMORY: "",
            Backend.SQLITE: f", sqlite_path={self.sqlite_path!r}",
            Backend.POSTGRES: f", postgres_schema={self.postgres_schema!r}",
        }[self.backend]
        key = "***" if self.encryption_key is not None else "None"
        return f"StoreSettings({self.backend.name}{where}, encryption_key={key}, compress={self.compress})"

    def env(self) -> dict[str, str]:
        """The complete eventsourcing environment for this store (every key set explicitly)."""
        env = {
            "PERSISTENCE_MODULE": self.backend.persistence_module,
            "MAPPER_TOPIC": MAPPER_TOPIC,
            "TRANSCODER_TOPIC": TRANSCODER_TOPIC,
            "COMPRESSOR_TOPIC": COMPRESSOR_TOPIC if self.compress else "",
            "CIPHER_TOPIC": CIPHER_TOPIC if self.encryption_key is not None else "",
            "CIPHER_KEY": encode_key(self.encryption_key) if self.encryption_key is not None else "",
            "ORIGINATOR_ID_TYPE": "uuid",
            "CREATE_TABLE": "y",
            "SINGLE_ROW_TRACKING": "y",
        }
        if self.backend is Backend.SQLITE:
            env["SQLITE_DBNAME"] = str(self.sqlite_path)
            env["SQLITE_LOCK_TIMEOUT"] = str(self.lock_timeout_s)
        elif self.backend is Backend.POSTGRES:
            env.update(self._postgres_env())
        return env

    def _postgres_env(self) -> dict[str, str]:
        params = _parse_dsn(str(self.postgres_dsn))
        return {
            "POSTGRES_DBNAME": params.get("dbname", ""),
            "POSTGRES_HOST": params.get("host", params.get("hostaddr", "")),
            "POSTGRES_PORT": params.get("port", "5432"),
            "POSTGRES_USER": params.get("user", ""),
            "POSTGRES_PASSWORD": params.get("password", ""),
            "POSTGRES_SCHEMA": str(self.postgres_schema),
            "POSTGRES_CONNECT_TIMEOUT": params.get("connect_timeout", str(self.connect_timeout_s)),
            "POSTGRES_POOL_SIZE": str(self.pool_size),
            "POSTGRES_MAX_OVERFLOW": str(self.pool_size),
            "POSTGRES_LOCK_TIMEOUT": str(self.lock_timeout_s),
            "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "5",
        }

    def for_projection(self, name: str) -> StoreSettings:
        """Settings for the read-model store of projection ``name``, which holds no key material.

        On SQLite the view gets its own file beside the store: every projection tracks its upstream
        application under that application's name in a table called ``tracking``, so two
        projections in one file would overwrite each other's position. On PostgreSQL the view's
        tables are named after the projection inside the store's schema.
        """
        if not _PROJECTION_NAME.fullmatch(name):
            raise StoreConfigurationError(f"projection name {name!r} must match {_PROJECTION_NAME.pattern}")
        changes: dict[str, Any] = {"encryption_key": None, "compress": False}
        if self.backend is Backend.SQLITE:
            path = Path(str(self.sqlite_path))
            changes["sqlite_path"] = str(path.with_name(f"{path.stem}.{name.lower()}{path.suffix or '.db'}"))
        return attrs.evolve(self, **changes)


def _parse_dsn(dsn: str) -> dict[str, str]:
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise StoreConfigurationError("PostgreSQL stores need psycopg: pip install 'mlsgroup[postgres]'") from exc
    try:
        params = {key: str(value) for key, value in conninfo_to_dict(dsn).items()}
    except Exception as exc:  # psycopg.ProgrammingError for malformed DSNs
        raise StoreConfigurationError(f"invalid PostgreSQL DSN: {exc}") from None
    unsupported = set(params) - _DSN_KEYS
    if unsupported:
        raise StoreConfigurationError(f"DSN options not supported by the store: {sorted(unsupported)}")
    return params


def postgres_connect_kwargs(env: Mapping[str, str], name: str = "") -> dict[str, Any]:
    """psycopg.connect keyword arguments for the PostgreSQL settings in an eventsourcing env."""
    environment = Environment(name, env)
    return {
        "host": environment.get("POSTGRES_HOST", ""),
        "port": environment.get("POSTGRES_PORT", "5432"),
        "user": environment.get("POSTGRES_USER", ""),
        "password": environment.get("POSTGRES_PASSWORD", ""),
        "dbname": environment.get("POSTGRES_DBNAME", ""),
        "connect_timeout": int(environment.get("POSTGRES_CONNECT_TIMEOUT") or 5),
        "autocommit": True,
    }


def _postgres_schema(env: Mapping[str, str], name: str, *, drop: bool) -> None:
    import psycopg
    from psycopg import sql

    schema = Environment(name, env).get("POSTGRES_SCHEMA", "")
    if not _SCHEMA_PATTERN.fullmatch(schema):
        raise StoreConfigurationError(f"PostgreSQL schema {schema!r} must match {_SCHEMA_PATTERN.pattern}")
    try:
        with psycopg.connect(**postgres_connect_kwargs(env, name)) as conn:
            if drop:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
            # Look first: a role may use a schema an administrator made without being allowed to make one.
            elif conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    except psycopg.OperationalError as exc:  # same error family as the eventsourcing recorders raise
        raise OperationalError(str(exc)) from exc
    except psycopg.Error as exc:
        raise PersistenceError(str(exc)) from exc


def prepare_backend(env: Mapping[str, str], name: str = "") -> None:
    """Create what the recorders cannot create themselves: a PostgreSQL store's schema."""
    if Environment(name, env).get("PERSISTENCE_MODULE") == Backend.POSTGRES.persistence_module:
        _postgres_schema(env, name, drop=False)


def drop_postgres_schema(settings: StoreSettings) -> None:
    """Delete a PostgreSQL store: its schema and every table in it."""
    if settings.backend is not Backend.POSTGRES:
        raise StoreConfigurationError(f"{settings!r} is not a PostgreSQL store")
    _postgres_schema(settings.env(), "", drop=True)


def open_factory(settings: StoreSettings, name: str = "") -> InfrastructureFactory[Any]:
    """An eventsourcing infrastructure factory (recorders, mapper) for a store; close it when done."""
    env = settings.env()
    prepare_backend(env, name)
    return InfrastructureFactory.construct(Environment(name, env))
