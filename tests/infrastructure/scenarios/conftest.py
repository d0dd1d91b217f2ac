"""Fixtures for libxmtp's group scenarios: a network (in memory by default; ``any_network`` also runs
on SQLite and PostgreSQL) and a ``clients`` factory that closes every client it made.

PostgreSQL uses the server named by MLSGROUP_TEST_POSTGRES_DSN (one schema per session, dropped at
the end); without the variable those cases skip and say why, with it set and the server down they fail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from mlsgroup.infrastructure.network import Network
from tests.conftest import SessionSchema

POSTGRES_DSN_VARIABLE = "MLSGROUP_TEST_POSTGRES_DSN"
NETWORK_KINDS = [
    pytest.param("in_memory", id="in_memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def open_network(kind: str, tmp_path: Path, schema: SessionSchema | None) -> Network:
    if kind == "in_memory":
        return Network.in_memory()
    if kind == "sqlite":
        return Network.sqlite(tmp_path / "network.db")
    if schema is None:
        pytest.skip(f"PostgreSQL network not configured: set {POSTGRES_DSN_VARIABLE} to a server DSN")
    dsn, name = schema.get()
    return Network.postgres(dsn, schema=name, pool_size=2)


@pytest.fixture
def net() -> Iterator[Network]:
    """An in-memory network."""
    with Network.in_memory() as network:
        yield network


@pytest.fixture(params=NETWORK_KINDS)
def any_network(request: pytest.FixtureRequest, tmp_path: Path, network_schema: SessionSchema | None) -> Iterator[Network]:
    """The same scenario on the in-memory, SQLite and PostgreSQL networks."""
    network = open_network(request.param, tmp_path, network_schema)
    yield network
    network.close()


ClientFactory = Callable[..., Any]


@pytest.fixture
def make_client() -> Iterator[Callable[..., Any]]:
    """``make_client(net, **kwargs)`` is ``Client.create`` whose clients close at the end of the test;
    ``make_client.track(client)`` adds clients made otherwise (second installations, reopened stores)."""
    from mlsgroup.infrastructure import Client

    made: list[Any] = []

    def create(network: Network, **kwargs: Any) -> Any:
        client = Client.create(network, **kwargs)
        made.append(client)
        return client

    def track(client: Any) -> Any:
        made.append(client)
        return client

    create.track = track  # type: ignore[attr-defined]
    yield create
    for client in reversed(made):
        client.close()
