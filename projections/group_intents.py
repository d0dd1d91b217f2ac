"""The ``group_intents`` read model (libxmtp spec section 6): every intent's kind, state, publication and error.

The handlers follow the group aggregate's intent rules (``mlsgroup.domain.group_aggregate``):
queued TO_PUBLISH; ``IntentPublished`` -> PUBLISHED with payload hash and epoch; each
``IntentSendFailed`` counts an attempt, the third one -> ERROR ("SyncError"); ``IntentFailed`` and a
rejected own commit -> ERROR with the error's name; our merged commit -> COMMITTED (welcomes to send)
or PROCESSED; a confirmed own message and ``IntentProcessed`` -> PROCESSED (a commit or message given
up after failed sends that comes back all the same is merged or confirmed: its error is cleared); an
own message that came back stale -> TO_PUBLISH without its payload hash. A merged commit (ours or
another member's) ends its epoch, so every other PUBLISHED commit of the group goes back to
TO_PUBLISH without its payload hash (it is rebuilt at the new epoch); being welcomed back into a
group voids its open intents (ERROR "GroupInactive"). Unlike the aggregate, the view keeps resolved
intents instead of pruning them. ``error_detail`` may quote user data and is sensitive.
"""

from __future__ import annotations

from typing import Any, Mapping

from mlsgroup.domain.configuration import MAX_INTENT_PUBLISH_ATTEMPTS
from mlsgroup.domain.group_events import (
    CommitMerged,
    CommitRejected,
    EnvelopeProcessed,
    GroupJoined,
    IntentFailed,
    IntentProcessed,
    IntentPublished,
    IntentQueued,
    IntentSendFailed,
    OwnCommitMerged,
    OwnMessageConfirmed,
    OwnMessageStale,
)
from mlsgroup.domain.intents import FINAL_STATES, IntentKind, IntentState, SendMessageData, kind_of

from .changes import Change, Patch, Rows, Upsert
from .schema import BYTES, INT, TEXT, Column, Table
from .view import View

__all__ = ["group_intents_view", "GROUP_INTENTS"]

GROUP_INTENTS = Table(
    "group_intents",
    [
        Column("id", BYTES),
        Column("group_id", BYTES),
        Column("kind", INT),
        Column("state", INT),
        Column("payload_hash", BYTES, nullable=True),
        Column("published_in_epoch", INT, nullable=True),
        Column("publish_attempts", INT),
        Column("error", TEXT, nullable=True),
        Column("error_detail", TEXT, sensitive=True),
        Column("queued_at_ns", INT),
        Column("message_id", BYTES, nullable=True),
    ],
    key=["id"],
    indexes=[("group_id", "state")],
)

group_intents_view = View("intents", version=2, tables=[GROUP_INTENTS])

_FINAL = frozenset(state.value for state in FINAL_STATES)
_SEND = IntentKind.SEND_MESSAGE.value


def _set(intent_id: bytes, state: IntentState, **values: Any) -> Patch:
    return Patch("group_intents", (intent_id,), {"state": state.value, **values})


def _error(intent_id: bytes, error: str, detail: str) -> Patch:
    return _set(intent_id, IntentState.ERROR, error=error, error_detail=detail)


def _stale_commits(rows: Rows, group_id: bytes, merged: bytes | None) -> list[Change]:
    """Published commits other than ``merged`` lost their epoch: back to TO_PUBLISH, to be rebuilt."""
    published = rows.find("group_intents", {"group_id": group_id, "state": IntentState.PUBLISHED.value})
    return [
        _set(row["id"], IntentState.TO_PUBLISH, payload_hash=None)
        for row in published
        if row["kind"] != _SEND and row["id"] != merged
    ]


@group_intents_view.on(IntentQueued)
def _queued(rows: Rows, event: IntentQueued) -> list[Change]:
    data = event.data
    return [Upsert("group_intents", {
        "id": event.intent_id, "group_id": event.originator_id.bytes, "kind": kind_of(data).value,
        "state": IntentState.TO_PUBLISH.value, "payload_hash": None, "published_in_epoch": None,
        "publish_attempts": 0, "error": None, "error_detail": "", "queued_at_ns": event.timestamp_ns,
        "message_id": data.message_id if isinstance(data, SendMessageData) else None,
    })]


@group_intents_view.on(IntentPublished)
def _published(rows: Rows, event: IntentPublished) -> list[Change]:
    return [_set(event.intent_id, IntentState.PUBLISHED, payload_hash=event.payload_hash,
                 published_in_epoch=event.epoch)]


@group_intents_view.on(IntentSendFailed)
def _send_failed(rows: Rows, event: IntentSendFailed) -> list[Change]:
    intent = rows.get("group_intents", (event.intent_id,))
    if intent is None:
        return []
    attempts = intent["publish_attempts"] + 1
    if attempts >= MAX_INTENT_PUBLISH_ATTEMPTS:
        return [Patch("group_intents", (event.intent_id,), {
            "publish_attempts": attempts, "state": IntentState.ERROR.value, "error": "SyncError",
            "error_detail": event.reason,
        })]
    return [Patch("group_intents", (event.intent_id,), {"publish_attempts": attempts})]


@group_intents_view.on(IntentFailed)
def _failed(rows: Rows, event: IntentFailed) -> list[Change]:
    return [_error(event.intent_id, event.error, event.detail)]


@group_intents_view.on(IntentProcessed)
def _processed(rows: Rows, event: IntentProcessed) -> list[Change]:
    return [_set(event.intent_id, IntentState.PROCESSED)]


@group_intents_view.on(EnvelopeProcessed)
def _envelope(rows: Rows, event: EnvelopeProcessed) -> list[Change]:
    outcome = event.outcome
    group_id = event.originator_id.bytes
    if isinstance(outcome, OwnCommitMerged):
        final = IntentState.COMMITTED if outcome.welcome is not None else IntentState.PROCESSED
        return [_set(outcome.intent_id, final, error=None, error_detail=""),
                *_stale_commits(rows, group_id, outcome.intent_id)]
    if isinstance(outcome, CommitMerged):
        return _stale_commits(rows, group_id, None)
    if isinstance(outcome, CommitRejected) and outcome.intent_id is not None:
        return [_error(outcome.intent_id, outcome.error, outcome.detail)]
    if isinstance(outcome, OwnMessageConfirmed):
        return [_set(outcome.intent_id, IntentState.PROCESSED, error=None, error_detail="")]
    if isinstance(outcome, OwnMessageStale):
        return [_set(outcome.intent_id, IntentState.TO_PUBLISH, payload_hash=None)]
    return []


@group_intents_view.on(GroupJoined)
def _joined(rows: Rows, event: GroupJoined) -> list[Change]:
    # Welcomed (back): intents of an earlier membership can never be carried out.
    intents: list[Mapping[str, Any]] = rows.find("group_intents", {"group_id": event.group_id})
    return [_set(row["id"], IntentState.ERROR, error="GroupInactive") for row in intents if row["state"] not in _FINAL]
