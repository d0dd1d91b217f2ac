"""Network backends for the contract tests: in memory, SQLite (a file in tmp_path) and PostgreSQL.

PostgreSQL uses the server named by MLSGROUP_TEST_POSTGRES_DSN (the ``postgres_server`` fixture of
tests/conftest.py) and one fresh schema for the whole session, dropped at the end; tests keep apart
by using random topic, installation and inbox ids. Without the variable the postgres cases skip and
say why; with it set and the server unreachable they fail (``open()`` runs inside the test).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest

from mlsgroup.infrastructure.network import Network
from tests.conftest import SessionSchema

POSTGRES_DSN_VARIABLE = "MLSGROUP_TEST_POSTGRES_DSN"
ALL_KINDS = [
    pytest.param("in_memory", id="in_memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
SHARED_KINDS = ALL_KINDS[1:]


def new_id() -> bytes:
    """A fresh 16-byte topic or installation id, so tests sharing one PostgreSQL schema never meet."""
    return os.urandom(16)


class NetworkBackend:
    """Opens networks of one kind onto the same storage for one test, and closes them afterwards."""

    def __init__(self, kind: str, tmp_path: Path, schema: SessionSchema | None) -> None:
        self.kind = kind
        self._path = tmp_path / "network.db"
        self._schema = schema
        self._opened: list[Network] = []
        self._memory: Network | None = None

    def open(self, **options: Any) -> Network:
        """A network on this backend; SQL kinds reach the same data on every call (a new connection)."""
        if self.kind == "in_memory":
            if self._memory is None or options:
                self._memory = Network.in_memory(**options)
            return self._memory
        if self.kind == "sqlite":
            net = Network.sqlite(self._path, **options)
        else:
            dsn, schema = self._schema.get()
            net = Network.postgres(dsn, schema=schema, pool_size=2, **options)
        self._opened.append(net)
        return net

    def spec(self) -> tuple[str, ...]:
        """How another process opens the same network (see workers.open_network)."""
        if self.kind == "sqlite":
            return ("sqlite", str(self._path))
        if self.kind == "postgres":
            return ("postgres", *self._schema.get())
        raise ValueError("an in-memory network cannot be shared with another process")

    def close(self) -> None:
        for net in self._opened:
            net.close()


def _backend(request: pytest.FixtureRequest, tmp_path: Path, schema: SessionSchema | None) -> Iterator[NetworkBackend]:
    if request.param == "postgres" and schema is None:
        pytest.skip(f"PostgreSQL network not configured: set {POSTGRES_DSN_VARIABLE} to a server DSN")
    backend = NetworkBackend(request.param, tmp_path, schema)
    yield backend
    backend.close()


@pytest.fixture(params=ALL_KINDS)
def network_backend(request: pytest.FixtureRequest, tmp_path: Path, network_schema: SessionSchema | None) -> Iterator[NetworkBackend]:
    """The same network test in memory, on SQLite and on PostgreSQL."""
    yield from _backend(request, tmp_path, network_schema)


@pytest.fixture(params=SHARED_KINDS)
def shared_network_backend(
    request: pytest.FixtureRequest, tmp_path: Path, network_schema: SessionSchema | None
) -> Iterator[NetworkBackend]:
    """Backends that persist and that several processes can share: SQLite and PostgreSQL."""
    yield from _backend(request, tmp_path, network_schema)
