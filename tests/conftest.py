"""Shared pytest fixtures: hypothesis profiles, the MLS vector folder, and the event-store backend matrix.

Hypothesis profiles (pick with HYPOTHESIS_PROFILE, default ``dev``): ``ci`` bounds example counts,
``dev`` is hypothesis' default without deadlines, ``deep`` runs 1000 examples per property.

``backend`` runs a test once per event-store backend: ``popo`` (in memory), ``sqlite`` (a file in
the test's tmp_path) and ``postgres`` (the server named by MLSGROUP_TEST_POSTGRES_DSN, e.g.
``postgresql://postgres@127.0.0.1:5432/test``). Each store a test opens on PostgreSQL gets its own
fresh schema, dropped when the test ends. Without the variable the postgres cases skip and say why;
with it set and the server unreachable they fail.
"""

from __future__ import annotations

import itertools
import os
import secrets
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.vectors import vectors_dir

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None)
settings.register_profile("deep", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

POSTGRES_DSN_VARIABLE = "MLSGROUP_TEST_POSTGRES_DSN"
BACKENDS = [
    pytest.param("popo", id="popo"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="session")
def mls_vectors_dir() -> Path:
    """The official MLS test-vector folder; a missing folder fails the test, it never skips."""
    try:
        return vectors_dir()
    except FileNotFoundError as exc:
        pytest.fail(str(exc), pytrace=False)


class _PostgresServer:
    """The test server: checked once per session, schemas named per run so runs never collide."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.run_prefix = f"mlsgroup_t{secrets.token_hex(4)}"
        self._numbers = itertools.count(1)
        self._error: str | None = None
        self._checked = False

    def check_reachable(self) -> None:
        if not self._checked:
            self._checked = True
            import psycopg

            try:
                with psycopg.connect(self.dsn, connect_timeout=5) as conn:
                    conn.execute("SELECT 1")
            except psycopg.Error as exc:
                self._error = f"{POSTGRES_DSN_VARIABLE}={self.dsn} is set but the server is unreachable: {exc}"
        if self._error is not None:
            pytest.fail(self._error, pytrace=False)

    def new_schema(self) -> str:
        return f"{self.run_prefix}_{next(self._numbers)}"

    def drop_run_schemas(self) -> None:
        if not self._checked or self._error is not None:
            return
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.dsn, connect_timeout=5, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (self.run_prefix + "\\_%",)
            ).fetchall()
            for (name,) in rows:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[_PostgresServer | None]:
    dsn = os.environ.get(POSTGRES_DSN_VARIABLE)
    if not dsn:
        yield None
        return
    server = _PostgresServer(dsn)
    yield server
    server.drop_run_schemas()


class StoreHarness:
    """Opens fresh, isolated stores on one backend for one test, and cleans them up afterwards."""

    def __init__(self, name: str, tmp_path: Path, postgres: _PostgresServer | None) -> None:
        from mlsgroup.infrastructure.persistence import Backend

        self.name = name
        self.backend = Backend(name)
        self._tmp_path = tmp_path
        self._postgres = postgres
        self._numbers = itertools.count(1)
        self._created: list[Any] = []

    def settings(self, *, encryption_key: bytes | None = None, compress: bool = True) -> Any:
        """Settings for a new empty store on this backend."""
        from mlsgroup.infrastructure.persistence import StoreSettings

        number = next(self._numbers)
        if self.name == "popo":
            made = StoreSettings.memory(encryption_key=encryption_key, compress=compress)
        elif self.name == "sqlite":
            made = StoreSettings.sqlite(
                self._tmp_path / f"store{number}.db", encryption_key=encryption_key, compress=compress
            )
        else:
            assert self._postgres is not None
            self._postgres.check_reachable()
            made = StoreSettings.postgres(
                self._postgres.dsn,
                schema=self._postgres.new_schema(),
                encryption_key=encryption_key,
                compress=compress,
                pool_size=2,
            )
        self._created.append(made)
        return made

    def same_store(self, settings: Any, **changes: Any) -> Any:
        """Settings for the store ``settings`` describes, with e.g. a different encryption key."""
        import attrs

        return attrs.evolve(settings, **changes)

    def cleanup(self) -> None:
        from mlsgroup.infrastructure.persistence import drop_postgres_schema

        if self.name == "postgres":
            for made in self._created:
                drop_postgres_schema(made)


@pytest.fixture(params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_server: _PostgresServer | None
) -> Iterator[StoreHarness]:
    """The same store test on popo (memory), sqlite (file) and postgres (own schema per store)."""
    if request.param == "postgres" and postgres_server is None:
        pytest.skip(f"PostgreSQL backend not configured: set {POSTGRES_DSN_VARIABLE} to a server DSN")
    harness = StoreHarness(request.param, tmp_path, postgres_server)
    yield harness
    harness.cleanup()


# A summary of the backend matrix, so even `pytest -q` shows which backends each store test ran on,
# and of measured figures tests record with record_property("summary: <what>", value).
_MATRIX: dict[str, tuple[str, str, str]] = {}
_FIGURES: list[tuple[str, str]] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        _FIGURES.extend(
            (name.removeprefix("summary: "), str(value))
            for name, value in report.user_properties
            if isinstance(name, str) and name.startswith("summary: ")
        )
    callspec = getattr(item, "callspec", None)
    if callspec is None or "backend" not in callspec.params:
        return
    name = getattr(item, "originalname", item.name)
    if report.when == "setup" and report.outcome != "passed":
        result = "skipped" if report.skipped else "error"
    elif report.when == "call":
        result = report.outcome
    elif report.when == "teardown" and report.failed:
        result = "error"
    else:
        return
    _MATRIX[item.nodeid] = (name, str(callspec.params["backend"]), result)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _FIGURES:
        terminalreporter.write_sep("-", "measured figures")
        for name, value in _FIGURES:
            terminalreporter.write_line(f"{name}: {value}")
    if not _MATRIX:
        return
    terminalreporter.write_sep("-", "event-store backend matrix")
    rows: dict[str, list[str]] = {}
    totals: dict[str, dict[str, int]] = {}
    for name, backend_name, result in _MATRIX.values():
        rows.setdefault(name, []).append(f"{backend_name} {result}")
        counts = totals.setdefault(backend_name, {})
        counts[result] = counts.get(result, 0) + 1
    for name, cells in rows.items():
        terminalreporter.write_line(f"{name}: {', '.join(cells)}")
    for backend_name, counts in totals.items():
        summary = ", ".join(f"{n} {result}" for result, n in sorted(counts.items()))
        terminalreporter.write_line(f"[{backend_name}] {summary}")


class SessionSchema:
    """The test session's PostgreSQL schema for networks, made on first use and dropped at the end."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.name: str | None = None

    def get(self) -> tuple[str, str]:
        self.server.check_reachable()
        if self.name is None:
            self.name = self.server.new_schema()
        return self.server.dsn, self.name


@pytest.fixture(scope="session")
def network_schema(postgres_server: Any) -> Iterator[SessionSchema | None]:
    """One PostgreSQL schema shared by every network test of the session (None without a DSN)."""
    if postgres_server is None:
        yield None
        return
    holder = SessionSchema(postgres_server)
    yield holder
    if holder.name is not None:
        from mlsgroup.infrastructure.network import drop_schema

        drop_schema(postgres_server.dsn, holder.name)
