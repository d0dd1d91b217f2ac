"""Errors of the projection runner: a failing handler, unreadable view cells, and misused queries."""

from __future__ import annotations

__all__ = ["ProjectionError", "ProjectionFailed", "ViewDecryptionError", "ViewQueryError", "ViewConflict"]


class ProjectionError(Exception):
    """Base of every error raised by mlsgroup.infrastructure.projecting."""


class ProjectionFailed(ProjectionError):
    """An event could not be read or projected; every earlier event is committed, this one is not.

    ``notification_id`` and ``topic`` name the event; the original exception is ``__cause__``.
    """

    def __init__(self, view: str, notification_id: int, topic: str, reason: str) -> None:
        super().__init__(f"view {view!r} failed on notification {notification_id} ({topic}): {reason}")
        self.view = view
        self.notification_id = notification_id
        self.topic = topic


class ViewDecryptionError(ProjectionError, ValueError):
    """A stored view cell failed AES-GCM authentication: wrong key or tampered file."""


class ViewQueryError(ProjectionError, ValueError):
    """A query names an unknown table or column, or filters or orders by a sensitive column."""


class ViewConflict(ProjectionError):
    """Another runner advanced the same view while this batch was prepared; the batch was rolled back."""
