"""Errors of the projections layer: a badly declared view kept apart from a handler producing a bad row."""

from __future__ import annotations

__all__ = ["ProjectionsError", "ViewDefinitionError", "RowError"]


class ProjectionsError(Exception):
    """Base of every error raised by mlsgroup.projections."""


class ViewDefinitionError(ProjectionsError, ValueError):
    """A view, table or column is declared inconsistently (bad name, unknown key column, clashing tables)."""


class RowError(ProjectionsError, ValueError):
    """A change names an unknown table or column, lacks a key, or carries a value its column refuses."""
