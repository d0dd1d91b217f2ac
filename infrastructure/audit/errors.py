"""Errors that stop an audit before it can judge the store (the CLI exits 2 on each)."""

from __future__ import annotations

__all__ = ["AuditError", "KeyFormatError", "StoreNotFound", "WrongKey", "NotAGroupStore"]


class AuditError(Exception):
    """The audit cannot run (local misuse or an unreadable store as a whole)."""


class KeyFormatError(AuditError, ValueError):
    """The key given is not 32 raw bytes or 64 hex characters, or its file cannot be read."""


class StoreNotFound(AuditError, FileNotFoundError):
    """No store file at the path given (the audit never creates one)."""


class WrongKey(AuditError):
    """No record of the store decrypts with the key given: a wrong key, or a key for a clear store."""


class NotAGroupStore(AuditError):
    """The file holds no mlsgroup installation's events."""
