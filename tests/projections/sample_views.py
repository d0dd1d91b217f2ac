"""Views of the sample aggregate (tests/infrastructure/persistence/sample_events.py) used by the projection tests.

``sample_view`` exercises every part of the contract: upserts, patches computed from rows read in
the same batch, deletes, a sensitive key column (``members.inbox_id``), a sensitive lookup column
(``aggregates.creator``), sensitive content, nullable and boolean columns, and an index. Its
``applied`` table counts every projected event, so projecting one twice is visible.
"""

from __future__ import annotations

from typing import Any

from mlsgroup.projections import BOOL, BYTES, INT, TEXT, Column, Delete, Patch, Rows, Table, Upsert, View

from tests.infrastructure.persistence.sample_events import (
    Created,
    MembersAdded,
    MessageSent,
    PayloadStored,
    Renamed,
)

__all__ = ["sample_view", "make_sample_view", "TOTAL_KEY"]

TOTAL_KEY = ("total",)


def _tables() -> list[Table]:
    return [
        Table(
            "aggregates",
            [
                Column("id", BYTES),
                Column("name", TEXT, sensitive=True),
                Column("creator", TEXT, sensitive=True, lookup=True),
                Column("epoch", INT),
                Column("messages", INT),
                Column("payload_bytes", INT),
                Column("last_ns", INT),
                Column("renamed", BOOL),
                Column("previous_name", TEXT, nullable=True, sensitive=True),
            ],
            key=["id"],
        ),
        Table(
            "members",
            [
                Column("aggregate_id", BYTES),
                Column("inbox_id", TEXT, sensitive=True),
                Column("installations", INT),
                Column("role", TEXT),
                Column("added_in_epoch", INT),
            ],
            key=["aggregate_id", "inbox_id"],
            indexes=[("inbox_id",)],
        ),
        Table(
            "messages",
            [
                Column("aggregate_id", BYTES),
                Column("version", INT),
                Column("content", BYTES, sensitive=True),
                Column("content_type", TEXT),
                Column("priority", INT),
                Column("sent_ns", INT),
                Column("reply_to", BYTES, nullable=True),
                Column("flagged", BOOL),
            ],
            key=["aggregate_id", "version"],
            indexes=[("aggregate_id", "sent_ns")],
        ),
        Table("applied", [Column("name", TEXT), Column("count", INT), Column("last_ns", INT)], key=["name"]),
    ]


def _count(rows: Rows, event: Any) -> Upsert:
    row = rows.get("applied", TOTAL_KEY)
    count = 1 if row is None else row["count"] + 1
    return Upsert("applied", {"name": "total", "count": count, "last_ns": event.timestamp_ns})


def make_sample_view(name: str = "sample", version: int = 1) -> View:
    """A fresh sample view (tests that patch handlers need their own instance)."""
    view = View(name, version=version, tables=_tables())

    @view.on(Created)
    def _created(rows: Rows, event: Created) -> list[Any]:
        aggregate = event.originator_id.bytes
        return [
            Upsert("aggregates", {
                "id": aggregate, "name": event.name, "creator": event.creator.inbox_id, "epoch": 0,
                "messages": 0, "payload_bytes": 0, "last_ns": event.timestamp_ns, "renamed": False,
            }),
            Upsert("members", {
                "aggregate_id": aggregate, "inbox_id": event.creator.inbox_id,
                "installations": len(event.creator.installation_ids), "role": event.creator.role.value,
                "added_in_epoch": 0,
            }),
            _count(rows, event),
        ]

    @view.on(MembersAdded)
    def _added(rows: Rows, event: MembersAdded) -> list[Any]:
        aggregate = event.originator_id.bytes
        changes: list[Any] = [Patch("aggregates", (aggregate,), {"epoch": event.epoch, "last_ns": event.timestamp_ns})]
        for member in event.members:
            changes.append(Upsert("members", {
                "aggregate_id": aggregate, "inbox_id": member.inbox_id,
                "installations": len(member.installation_ids), "role": member.role.value,
                "added_in_epoch": event.epoch,
            }))
        changes.append(_count(rows, event))
        return changes

    @view.on(MessageSent)
    def _sent(rows: Rows, event: MessageSent) -> list[Any]:
        aggregate = event.originator_id.bytes
        changes: list[Any] = []
        current = rows.get("aggregates", (aggregate,))
        if current is not None:
            changes.append(Patch("aggregates", (aggregate,), {
                "messages": current["messages"] + 1, "last_ns": event.timestamp_ns,
            }))
        changes.append(Upsert("messages", {
            "aggregate_id": aggregate, "version": event.originator_version, "content": event.content,
            "content_type": event.content_type, "priority": int(event.priority), "sent_ns": event.timestamp_ns,
            "reply_to": event.reply_to.bytes if event.reply_to is not None else None,
            "flagged": "flagged" in event.flags,
        }))
        changes.append(_count(rows, event))
        return changes

    @view.on(Renamed)
    def _renamed(rows: Rows, event: Renamed) -> list[Any]:
        aggregate = event.originator_id.bytes
        current = rows.get("aggregates", (aggregate,))
        previous = current["name"] if current is not None else None
        return [
            Patch("aggregates", (aggregate,), {"name": event.name, "renamed": True, "previous_name": previous}),
            _count(rows, event),
        ]

    @view.on(PayloadStored)
    def _payload(rows: Rows, event: PayloadStored) -> list[Any]:
        # A payload retracts the message just before it, if that was a message: exercises Delete.
        aggregate = event.originator_id.bytes
        changes: list[Any] = [Delete("messages", (aggregate, event.originator_version - 1))]
        current = rows.get("aggregates", (aggregate,))
        if current is not None:
            changes.append(Patch("aggregates", (aggregate,), {
                "payload_bytes": current["payload_bytes"] + len(event.payload),
            }))
        changes.append(_count(rows, event))
        return changes

    return view


sample_view = make_sample_view()
