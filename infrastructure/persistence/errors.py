"""Errors of the event store: local misuse (bad settings, unencodable values) kept apart from bad stored data."""

from __future__ import annotations

__all__ = [
    "StoreError",
    "StoreConfigurationError",
    "UnsupportedValueError",
    "UnregisteredTypeError",
    "StoredDataError",
    "TranscodingError",
    "DecompressionError",
    "StoreDecryptionError",
    "UnknownTopicError",
    "EventReconstructionError",
]


class StoreError(Exception):
    """Base of every error raised by mlsgroup's event-store infrastructure."""


class StoreConfigurationError(StoreError, ValueError):
    """Store settings are invalid (wrong key length, bad schema name, unsupported DSN option)."""


class UnsupportedValueError(StoreError, TypeError):
    """A value given to the transcoder has a type it does not store (or nests too deeply)."""


class UnregisteredTypeError(UnsupportedValueError):
    """An event, attrs value or enum was stored without being registered under a topic."""


class StoredDataError(StoreError, ValueError):
    """Bytes read from the store cannot be turned back into the value that was written."""


class TranscodingError(StoredDataError):
    """Bytes are not a valid encoding of the binary transcoder's format."""


class DecompressionError(StoredDataError):
    """A stored record is not a valid compressed record."""


class StoreDecryptionError(StoredDataError):
    """A stored record failed AES-GCM authentication: wrong encryption key or tampered bytes."""


class UnknownTopicError(StoredDataError):
    """A stored record names a topic no registered event class has."""


class EventReconstructionError(StoredDataError):
    """Decoded state was rejected by the event class (upcasting, ``__init__`` or a validator failed)."""
