"""The network's SQLite database (stdlib ``sqlite3``), shared safely by threads and by processes.

Writers open ``BEGIN IMMEDIATE``, which takes SQLite's single write lock before reading anything,
so per-topic cursors computed inside the transaction are correct across processes; other writers
wait up to ``busy_timeout_s``. WAL mode lets readers proceed while a writer holds the lock.
Threads of one process share one connection under a lock.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from os import PathLike
from typing import Any, Iterator

from .errors import NetworkClosed, NetworkUnavailable
from .sql import TABLES

__all__ = ["SqliteDatabase"]

_TOKENS = {
    "{p}": "",
    "{greatest}": "MAX",
    "{skip_locked}": "",
    "{bytes}": "BLOB",
    "{int}": "INTEGER",
    "{serial}": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "%s": "?",
}


class SqliteDatabase:
    """One SQLite file holding the delivery service's and identity registry's tables."""

    no_limit = -1

    def __init__(self, path: str | PathLike[str], *, busy_timeout_s: float = 30.0) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            # WAL with synchronous=NORMAL survives process crashes; only an OS crash may lose the last commits.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            with self.write() as cursor:
                for statement in TABLES:
                    cursor.execute(self.sql(statement))
        except sqlite3.Error as exc:
            self.close()
            raise NetworkUnavailable(f"cannot open the SQLite network database {self.path}: {exc}") from exc

    def sql(self, template: str) -> str:
        for token, value in _TOKENS.items():
            template = template.replace(token, value)
        return template

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise NetworkClosed("the SQLite network database is closed")
        return self._conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cursor = self._connection().cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield cursor
                except BaseException:
                    cursor.execute("ROLLBACK")
                    raise
                cursor.execute("COMMIT")
            finally:
                cursor.close()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cursor = self._connection().cursor()
            try:
                yield cursor
            finally:
                cursor.close()

    def lock_identity_registry(self, cursor: Any) -> None:
        """Nothing to do: BEGIN IMMEDIATE already serialises every writer."""

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
