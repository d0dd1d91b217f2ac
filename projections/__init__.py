"""Read models rebuilt from events (ARCHITECTURE 1-2): the pure projection contract and the group views.

A view (:class:`View`) is a schema (:class:`Table`, :class:`Column`) plus pure handlers
``(rows, event) -> changes`` (:class:`Upsert`, :class:`Patch`, :class:`Delete`). Views do no I/O:
``mlsgroup.infrastructure.projecting`` stores their rows (memory, SQLite, PostgreSQL), tracks the
last processed event atomically with them, and answers queries. :func:`replay` folds a view over
events in memory: the reference every stored view must equal.
"""

from .changes import Change, Delete, Patch, Rows, Upsert
from .errors import ProjectionsError, RowError, ViewDefinitionError
from .schema import BOOL, BYTES, INT, INT64_MAX, INT64_MIN, TEXT, Column, ColumnType, Table, ViewSchema
from .state import ViewState, replay
from .view import Handler, View, compose

__all__ = [
    "BOOL",
    "BYTES",
    "INT",
    "INT64_MAX",
    "INT64_MIN",
    "TEXT",
    "Change",
    "Column",
    "ColumnType",
    "Delete",
    "Handler",
    "Patch",
    "ProjectionsError",
    "RowError",
    "Rows",
    "Table",
    "Upsert",
    "View",
    "ViewDefinitionError",
    "ViewSchema",
    "ViewState",
    "compose",
    "replay",
]
