"""Read models rebuilt from events (ARCHITECTURE 1-2): the pure projection contract and the group views.

The group read models: ``conversations_view`` (tables ``groups`` and ``group_messages``),
``group_intents_view`` (``group_intents``) and ``group_extensions_view`` (attributes, admin lists,
policy set, membership map), and ``group_views`` composing all three.

A view (:class:`View`) is a schema (:class:`Table`, :class:`Column`) plus pure handlers
``(rows, event) -> changes`` (:class:`Upsert`, :class:`Patch`, :class:`Delete`). Views do no I/O:
``mlsgroup.infrastructure.projecting`` stores their rows (memory, SQLite, PostgreSQL), tracks the
last processed event atomically with them, and answers queries. :func:`replay` folds a view over
events in memory: the reference every stored view must equal.
"""

from .changes import Change, Delete, Patch, Rows, Upsert
from .conversations import MESSAGE_ORDER, GroupRecord, conversations_view, group_record, stored_message
from .errors import ProjectionsError, RowError, ViewDefinitionError
from .schema import BOOL, BYTES, INT, INT64_MAX, INT64_MIN, TEXT, Column, ColumnType, Table, ViewSchema
from .state import ViewState, replay
from .group_extensions import ADMIN_LIST, SUPER_ADMIN_LIST, group_extensions_view
from .group_intents import group_intents_view
from .view import Handler, View, compose

group_views = compose("group_views", conversations_view, group_intents_view, group_extensions_view)
"""Every group read model in one view: one decode of each event, one tracking position."""

__all__ = [
    "ADMIN_LIST",
    "MESSAGE_ORDER",
    "SUPER_ADMIN_LIST",
    "GroupRecord",
    "conversations_view",
    "group_extensions_view",
    "group_intents_view",
    "group_record",
    "group_views",
    "stored_message",
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
