"""The query side of one store's group read models (ARCHITECTURE 2 step 5): what Client and MlsGroup read.

:class:`StoreViews` reads the durable ``group_views`` projection (``mlsgroup.projections``: tables
``groups``, ``group_messages``, ``group_intents`` and the extension tables) through one
:class:`~mlsgroup.infrastructure.projecting.ViewRunner` on the store's backend, with the store's
encryption key protecting the sensitive cells. The view keeps its position in its own tracking
row, so opening a store resumes after the last projected event instead of re-projecting history.

Read-your-writes: the client is its store's only writer, and :class:`GroupStore` calls
:meth:`StoreViews.written` after every save. Each query first catches the view up when anything
was written since its last catch-up, so a query always sees every event saved before it started.
"""

from __future__ import annotations

import threading
from typing import Any, Optional, Sequence

import attrs
from eventsourcing.application import Application

from mlsgroup.domain.intents import IntentKind, IntentState
from mlsgroup.domain.message_kinds import MessageKind
from mlsgroup.domain.stored_message import StoredMessage
from mlsgroup.projections import (
    ADMIN_LIST,
    MESSAGE_ORDER,
    SUPER_ADMIN_LIST,
    GroupRecord,
    group_record,
    group_views,
    stored_message,
)

from .persistence import StoreSettings
from .projecting import OneOf, ViewRunner

__all__ = ["StoreViews", "IntentRecord", "ExtensionRecord"]


@attrs.frozen(kw_only=True)
class IntentRecord:
    """One row of ``group_intents``."""

    intent_id: bytes
    group_id: bytes
    kind: IntentKind
    state: IntentState
    payload_hash: Optional[bytes]
    published_in_epoch: Optional[int]
    publish_attempts: int
    error: Optional[str]
    error_detail: str
    queued_at_ns: int
    message_id: Optional[bytes]


@attrs.frozen(kw_only=True)
class ExtensionRecord:
    """The extension rows of one group: mutable-metadata attributes, admin lists, policy set, membership."""

    attributes: dict[str, str]
    admins: tuple[str, ...]
    super_admins: tuple[str, ...]
    policy_set: Optional[bytes]
    members: dict[str, int]


def _intent_record(row: dict[str, Any]) -> IntentRecord:
    return IntentRecord(
        intent_id=row["id"], group_id=row["group_id"], kind=IntentKind(row["kind"]), state=IntentState(row["state"]),
        payload_hash=row["payload_hash"], published_in_epoch=row["published_in_epoch"],
        publish_attempts=row["publish_attempts"], error=row["error"], error_detail=row["error_detail"],
        queued_at_ns=row["queued_at_ns"], message_id=row["message_id"],
    )


class StoreViews:
    """The group read models of one store, read through its durable projection (thread-safe)."""

    def __init__(self, runner: ViewRunner) -> None:
        self.runner = runner
        self._lock = threading.Lock()
        self._written = 0  # saves so far
        self._seen = -1  # saves the view had caught up with at its last catch-up

    @classmethod
    def open(cls, app: Application[Any], settings: StoreSettings) -> StoreViews:
        """The views of the store ``app`` records, on the backend and with the key of ``settings``."""
        return cls(ViewRunner.open(app, settings, group_views))

    def close(self) -> None:
        self.runner.close()

    # -- keeping current -------------------------------------------------------------------------

    def written(self) -> None:
        """Events were saved: the next query catches up first."""
        with self._lock:
            self._written += 1

    def catch_up(self) -> int:
        """Project every stored event the view has not seen; returns how many were projected."""
        with self._lock:
            written = self._written
        if written == self._seen:
            return 0
        processed = self.runner.catch_up()
        with self._lock:
            self._seen = max(self._seen, written)
        return processed

    def rebuild(self) -> int:
        """Project every stored event again from an empty view."""
        with self._lock:
            written = self._written
        processed = self.runner.rebuild()
        with self._lock:
            self._seen = max(self._seen, written)
        return processed

    def _select(self, table: str, where: Optional[dict[str, Any]] = None, **query: Any) -> list[dict[str, Any]]:
        self.catch_up()
        return self.runner.select(table, where, **query)

    def _get(self, table: str, key: tuple[Any, ...]) -> Optional[dict[str, Any]]:
        self.catch_up()
        return self.runner.get(table, key)

    # -- groups ----------------------------------------------------------------------------------

    def row(self, group_id: bytes) -> Optional[GroupRecord]:
        """The group's row of ``groups``, or None if the store has no such group."""
        row = self._get("groups", (bytes(group_id),))
        return None if row is None else group_record(row)

    def rows(self) -> list[GroupRecord]:
        """Every group, oldest first."""
        return [group_record(row) for row in self._select("groups", order_by=["created_at_ns"])]

    def group_ids(self) -> list[bytes]:
        """Every group id, oldest first."""
        return [row["id"] for row in self._select("groups", order_by=["created_at_ns"])]

    def groups_with_dm_id(self, dm_id: str) -> list[bytes]:
        """Every group of one DM conversation, most recently active first (then newest, then by id)."""
        rows = self._select("groups", {"dm_id": dm_id}, order_by=["-last_message_ns", "-created_at_ns", "id"])
        return [row["id"] for row in rows]

    # -- messages --------------------------------------------------------------------------------

    def messages(
        self,
        group_ids: Sequence[bytes],
        *,
        sent_after_ns: Optional[int] = None,
        limit: Optional[int] = None,
        kind: Optional[MessageKind] = None,
    ) -> list[StoredMessage]:
        """The messages of these groups (one conversation), oldest first."""
        ids = tuple(dict.fromkeys(bytes(group_id) for group_id in group_ids))
        where: dict[str, Any] = {"group_id": ids[0] if len(ids) == 1 else OneOf(ids)}
        if kind is not None:
            where["kind"] = kind.value
        ranges = [] if sent_after_ns is None else [("sent_at_ns", ">", sent_after_ns)]
        rows = self._select("group_messages", where, ranges=ranges, order_by=MESSAGE_ORDER, limit=limit)
        return [stored_message(row) for row in rows]

    # -- intents ---------------------------------------------------------------------------------

    def intents(self, group_id: bytes, state: Optional[IntentState] = None) -> list[IntentRecord]:
        """The group's intents (resolved ones included), oldest first."""
        where: dict[str, Any] = {"group_id": bytes(group_id)}
        if state is not None:
            where["state"] = state.value
        return [_intent_record(row) for row in self._select("group_intents", where, order_by=["queued_at_ns"])]

    # -- extensions ------------------------------------------------------------------------------

    def _extensions_known(self, group_id: bytes) -> bool:
        state = self._get("group_extension_state", (group_id,))
        return state is not None and state["known"]

    def attributes(self, group_id: bytes) -> Optional[dict[str, str]]:
        """The group's mutable-metadata attributes; None if the view cannot know them (see ``group_extensions``)."""
        group_id = bytes(group_id)
        if not self._extensions_known(group_id):
            return None
        return {row["name"]: row["value"] for row in self.runner.select("group_attributes", {"group_id": group_id})}

    def admin_lists(self, group_id: bytes) -> Optional[tuple[tuple[str, ...], tuple[str, ...]]]:
        """The group's admin and super-admin lists in their order; None if the view cannot know them."""
        group_id = bytes(group_id)
        if not self._extensions_known(group_id):
            return None
        rows = self.runner.select("group_admins", {"group_id": group_id}, order_by=["list", "position"])
        return (
            tuple(row["inbox_id"] for row in rows if row["list"] == ADMIN_LIST),
            tuple(row["inbox_id"] for row in rows if row["list"] == SUPER_ADMIN_LIST),
        )

    def policy_set(self, group_id: bytes) -> Optional[bytes]:
        """The group's encoded policy set; None if the view cannot know it (or the group has none)."""
        group_id = bytes(group_id)
        if not self._extensions_known(group_id):
            return None
        row = self.runner.get("group_policies", (group_id,))
        return None if row is None else row["policy_set"]

    def extensions(self, group_id: bytes) -> Optional[ExtensionRecord]:
        """All extension rows of the group; None if the view cannot know them (see ``group_extensions``)."""
        group_id = bytes(group_id)
        attributes = self.attributes(group_id)
        lists = self.admin_lists(group_id)
        if attributes is None or lists is None:
            return None
        members = self.runner.select("group_members", {"group_id": group_id})
        return ExtensionRecord(
            attributes=attributes,
            admins=lists[0],
            super_admins=lists[1],
            policy_set=self.policy_set(group_id),
            members={row["inbox_id"]: int(row["sequence_id"]) for row in members},
        )

    # -- checking ----------------------------------------------------------------------------------

    def dump(self) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
        """Every row of every table, by key (compare with ``mlsgroup.projections.replay``)."""
        self.catch_up()
        return {
            table.name: {tuple(row[c] for c in table.key): row for row in self.runner.select(table.name)}
            for table in self.runner.view.schema.tables
        }
