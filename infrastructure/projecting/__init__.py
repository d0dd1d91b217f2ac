"""Durable, resumable read models of an event store (ARCHITECTURE 2 step 5, 3): the projection runner.

A :class:`ViewRunner` runs one ``mlsgroup.projections.View`` over a store's application sequence
on memory, SQLite (the view's own file) or PostgreSQL (the store's schema): batched catch-up with
the position stored in the same transaction as the rows, rebuild from scratch, background
following, and queries. With a store encryption key, sensitive columns are encrypted cell by cell
(AES-GCM, keys derived with HKDF), so no file holds their plaintext.
"""

from .backends import MemoryViewStore, SQLiteViewStore, open_view_store
from .errors import ProjectionError, ProjectionFailed, ViewConflict, ViewDecryptionError, ViewQueryError
from .protection import CellKeys, TableCodec, derive_cell_keys
from .query import OneOf, Query, build_query
from .reading import Record, record_reader
from .runner import DEFAULT_BATCH_SIZE, ViewRunner

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "CellKeys",
    "MemoryViewStore",
    "OneOf",
    "ProjectionError",
    "ProjectionFailed",
    "Query",
    "Record",
    "SQLiteViewStore",
    "TableCodec",
    "ViewConflict",
    "ViewDecryptionError",
    "ViewQueryError",
    "ViewRunner",
    "build_query",
    "derive_cell_keys",
    "open_view_store",
    "record_reader",
]
