"""The projection contract: a view is a named, versioned schema plus pure handlers ``(rows, event) -> changes``.

Declaring a view::

    messages = View("messages", version=1, tables=[
        Table("messages", [Column("id", BYTES), Column("group_id", BYTES),
                           Column("content", BYTES, sensitive=True), Column("sent_at_ns", INT)],
              key=["id"], indexes=[("group_id", "sent_at_ns")]),
    ])

    @messages.on(MessageSent)
    def _sent(rows: Rows, event: MessageSent) -> list[Change]:
        return [Upsert("messages", {"id": ..., "group_id": ..., "content": event.content, ...})]

Handlers are pure: no I/O, no clock, no randomness; they see rows only through ``rows.get`` and
return changes. Events are dispatched on their exact class; the view's ``topics`` (the registered
topics of those classes) let the runner read only the events it handles. ``version`` is bumped
whenever a handler's meaning changes: stored rows of another version are rebuilt from the events.
:func:`compose` joins several views into one (one decode of each event, one tracking position).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Callable, Iterable, Sequence

from .changes import Change, Rows
from .errors import ViewDefinitionError
from .schema import Table, ViewSchema

__all__ = ["View", "Handler", "compose"]

Handler = Callable[[Rows, Any], "Iterable[Change] | None"]

_VIEW_NAME = re.compile(r"[a-z][a-z0-9_]{0,30}")


class View:
    """A read model: its name (used for its storage), version, schema and event handlers."""

    def __init__(self, name: str, *, tables: Sequence[Table], version: int = 1) -> None:
        if not isinstance(name, str) or not _VIEW_NAME.fullmatch(name):
            raise ViewDefinitionError(f"view name {name!r} must match {_VIEW_NAME.pattern}")
        if type(version) is not int or version < 1:
            raise ViewDefinitionError(f"view {name!r}: version must be an int >= 1")
        self.name = name
        self.version = version
        self.schema = ViewSchema.of(tables)
        self._handlers: dict[type, list[Handler]] = {}
        self._parts: tuple[str, ...] = (f"{name}:{version}",)

    def __repr__(self) -> str:
        return f"View({self.name!r}, version={self.version}, tables={list(self.schema.by_name)})"

    def on(self, *event_classes: type) -> Callable[[Handler], Handler]:
        """Decorator: run the handler for events of exactly these classes (registered DomainEvents)."""
        if not event_classes:
            raise ViewDefinitionError("on() needs at least one event class")
        for cls in event_classes:
            if not isinstance(cls, type) or not isinstance(cls.__dict__.get("TOPIC"), str):
                raise ViewDefinitionError(f"{cls!r} is not a registered event class")

        def register(handler: Handler) -> Handler:
            for cls in event_classes:
                self._handlers.setdefault(cls, []).append(handler)
            return handler

        return register

    @property
    def event_classes(self) -> tuple[type, ...]:
        return tuple(self._handlers)

    @property
    def topics(self) -> tuple[str, ...]:
        """The stored topics of every event class the view handles, sorted."""
        return tuple(sorted(cls.__dict__["TOPIC"] for cls in self._handlers))

    def fingerprint(self) -> str:
        """Changes when the view's version, parts or schema change: stored rows must then be rebuilt."""
        text = "|".join((*self._parts, self.schema.fingerprint()))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def project(self, rows: Rows, event: Any) -> list[Change]:
        """The changes ``event`` makes to the view, given its current ``rows``."""
        handlers = self._handlers.get(type(event))
        if handlers is None:
            return []
        if len(handlers) == 1:
            changes = handlers[0](rows, event)
            if type(changes) is list:
                return changes
            return list(changes) if changes is not None else []
        result: list[Change] = []
        for handler in handlers:
            changes = handler(rows, event)
            if changes is not None:
                result.extend(changes)
        return result


def compose(name: str, *views: View, version: int = 1) -> View:
    """One view holding the tables and handlers of ``views`` (their table names must not clash)."""
    if not views:
        raise ViewDefinitionError("compose() needs at least one view")
    tables = [table for view in views for table in view.schema.tables]
    combined = View(name, tables=tables, version=version)
    for view in views:
        for cls, handlers in view._handlers.items():
            combined._handlers.setdefault(cls, []).extend(handlers)
    combined._parts = (f"{name}:{version}", *(part for view in views for part in view._parts))
    return combined
