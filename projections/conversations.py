"""The ``groups`` and ``group_messages`` read models (libxmtp spec sections 7-8) as one pure view over group events.

Both tables are kept by one view because each message moves its group's ``last_message_ns``. The
handlers follow the group aggregate's rules (``mlsgroup.domain.group_aggregate``) for every column
the aggregate also has, so the query methods that read this view answer as the aggregate would,
except a joined group's first ``last_message_ns`` (the welcome's time here, the join's there):

* ``GroupCreated`` (epoch 0) / ``GroupJoined`` (the welcome's epoch) make the group row, active,
  its ``last_message_ns`` the creation time / the welcome's server time (libxmtp sets a joined DM's
  to the welcome's time; it is also the "you were added" message's time); a re-join keeps it, lifts PENDING_REMOVE to ALLOWED, records who added us, and fails our messages
  still waiting (their intents are void, as in libxmtp); a join writes the "you were added" transcript;
* every merged commit (ours or another member's) moves ``epoch`` on by one; another member's commit
  that removed our installation (``CommitMerged.still_member`` False) makes the group inactive; its
  epoch counts all the same, as in libxmtp (we never hold that epoch's secrets).
  Commits recorded before CommitMerged v2 do not say: our inbox among the transcript's removed or
  left inboxes is then taken as our removal (exact unless only our installation was removed);
* ``IntentQueued`` of a message (not a leave request) stores it UNPUBLISHED, sent at the queue time;
  ``OwnMessageConfirmed`` marks it PUBLISHED at the server's time (even once FAILED: a send reported
  as failed may have delivered it); ``IntentFailed``, or the third ``IntentSendFailed``, marks it FAILED; our confirmed leave request, or one from another
  installation of our inbox, makes us PENDING_REMOVE;
* ``ApplicationReceived`` stores another member's message (a message id already stored is kept);
  merged commits with a transcript store it as a MEMBERSHIP_CHANGE message at the server's time;
* ``MembershipStateChanged`` / ``ConsentStateChanged`` update the group row.

Messages are listed by ``(sent_at_ns, inserted_at_ns)``: ``inserted_at_ns`` is the timestamp of the
event that first stored the message, so ties keep insertion order. A MEMBERSHIP_CHANGE message's
``decrypted_message_bytes`` is the encoded ``GroupUpdated``; :func:`stored_message` decodes it.
Message content, inbox and installation ids and dm ids are sensitive columns (encrypted at rest).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import attrs

from mlsgroup.domain.application_content import LEAVE_REQUEST_CONTENT_TYPE, transcript_message_id
from mlsgroup.domain.configuration import MAX_INTENT_PUBLISH_ATTEMPTS
from mlsgroup.domain.conversation import ConsentState, MembershipState, joined_standing
from mlsgroup.domain.extensions import ConversationType
from mlsgroup.domain.group_events import (
    ApplicationReceived,
    CommitMerged,
    ConsentStateChanged,
    EnvelopeProcessed,
    GroupCreated,
    GroupJoined,
    IntentFailed,
    IntentQueued,
    IntentSendFailed,
    LeaveRequestReceived,
    MembershipStateChanged,
    MessageReceived,
    OwnCommitMerged,
    OwnMessageConfirmed,
)
from mlsgroup.domain.intents import SendMessageData
from mlsgroup.domain.message_kinds import DeliveryStatus, MessageKind
from mlsgroup.domain.stored_message import StoredMessage
from mlsgroup.domain.transcript import GROUP_UPDATED_CONTENT_TYPE, GroupUpdated

from .changes import Change, Delete, Patch, Rows, Upsert
from .schema import BOOL, BYTES, INT, TEXT, Column, Table
from .view import View

__all__ = ["conversations_view", "GroupRecord", "group_record", "stored_message", "MESSAGE_ORDER"]

MESSAGE_ORDER = ("sent_at_ns", "inserted_at_ns")
"""The order ``group_messages`` are listed in (pass as ``order_by``)."""

_PUBLISHED = DeliveryStatus.PUBLISHED.value
_UNPUBLISHED = DeliveryStatus.UNPUBLISHED.value
_FAILED = DeliveryStatus.FAILED.value
_PENDING_REMOVE = MembershipState.PENDING_REMOVE.value

GROUPS = Table(
    "groups",
    [
        Column("id", BYTES),
        Column("inbox_id", TEXT, sensitive=True),
        Column("installation_id", BYTES, sensitive=True),
        Column("conversation_type", INT),
        Column("dm_id", TEXT, nullable=True, sensitive=True, lookup=True),
        Column("created_at_ns", INT),
        Column("added_by_inbox_id", TEXT, sensitive=True),
        Column("membership_state", INT),
        Column("consent_state", INT),
        Column("last_message_ns", INT),
        Column("epoch", INT),
        Column("is_active", BOOL),
    ],
    key=["id"],
    indexes=[("created_at_ns",), ("dm_id",)],
)

GROUP_MESSAGES = Table(
    "group_messages",
    [
        Column("id", BYTES),
        Column("group_id", BYTES),
        Column("decrypted_message_bytes", BYTES, sensitive=True),
        Column("sent_at_ns", INT),
        Column("kind", INT),
        Column("sender_installation_id", BYTES, sensitive=True),
        Column("sender_inbox_id", TEXT, sensitive=True),
        Column("delivery_status", INT),
        Column("content_type", TEXT),
        Column("sequence_id", INT, nullable=True),
        Column("inserted_at_ns", INT),
        Column("idempotency_key", BYTES, nullable=True, sensitive=True),
        Column("epoch", INT, nullable=True),
    ],
    key=["id"],
    indexes=[("group_id", "sent_at_ns", "inserted_at_ns")],
)

# Our messages (and leave requests) waiting for their fate: intent -> message, how often sending failed.
OUTBOX = Table(
    "outbox",
    [Column("intent_id", BYTES), Column("group_id", BYTES), Column("message_id", BYTES), Column("send_failures", INT),
     Column("leave", BOOL)],
    key=["intent_id"],
)

conversations_view = View("conversations", version=4, tables=[GROUPS, GROUP_MESSAGES, OUTBOX])


def _put_message(
    rows: Rows, group: Mapping[str, Any] | None, message: dict[str, Any], *, new: bool = False
) -> list[Change]:
    """Store ``message`` (keeping its first insertion time) and move the group's last_message_ns;
    ``new``: the caller found no row with its id."""
    existing = None if new else rows.get("group_messages", (message["id"],))
    if existing is not None:
        message["inserted_at_ns"] = existing["inserted_at_ns"]
    changes: list[Change] = [Upsert("group_messages", message)]
    if group is not None and message["sent_at_ns"] > group["last_message_ns"]:
        changes.append(Patch("groups", (group["id"],), {"last_message_ns": message["sent_at_ns"]}))
    return changes


def _transcript(
    rows: Rows, group: Mapping[str, Any] | None, group_id: bytes, cursor: int, encoded: bytes,
    sender: str, installation: bytes, at_ns: int, inserted_ns: int,
) -> list[Change]:
    return _put_message(rows, group, {
        "id": transcript_message_id(group_id, cursor, encoded), "group_id": group_id,
        "decrypted_message_bytes": encoded, "sent_at_ns": at_ns, "kind": MessageKind.MEMBERSHIP_CHANGE.value,
        "sender_installation_id": installation, "sender_inbox_id": sender, "delivery_status": _PUBLISHED,
        "content_type": GROUP_UPDATED_CONTENT_TYPE, "sequence_id": cursor, "inserted_at_ns": inserted_ns,
        "idempotency_key": None, "epoch": None,
    })


@conversations_view.on(GroupCreated)
def _created(rows: Rows, event: GroupCreated) -> list[Change]:
    return [Upsert("groups", {
        "id": event.group_id, "inbox_id": event.inbox_id, "installation_id": event.installation_id,
        "conversation_type": event.conversation_type.value, "dm_id": event.dm_id,
        "created_at_ns": event.timestamp_ns, "added_by_inbox_id": event.inbox_id,
        "membership_state": MembershipState.ALLOWED.value, "consent_state": ConsentState.ALLOWED.value,
        "last_message_ns": event.timestamp_ns, "epoch": 0, "is_active": True,
    })]


@conversations_view.on(GroupJoined)
def _joined(rows: Rows, event: GroupJoined) -> list[Change]:
    current = rows.get("groups", (event.group_id,))
    if current is None:
        membership_state, consent_state = joined_standing(event.inbox_id, event.added_by_inbox_id)
        group: dict[str, Any] = {
            "id": event.group_id, "inbox_id": event.inbox_id, "installation_id": event.installation_id,
            "conversation_type": event.conversation_type.value, "dm_id": event.dm_id,
            "created_at_ns": event.timestamp_ns, "added_by_inbox_id": event.added_by_inbox_id,
            "membership_state": membership_state.value, "consent_state": consent_state.value,
            # The welcome's server time, as libxmtp's DM join sets it: the "you were added" message's time.
            "last_message_ns": event.added_at_ns, "epoch": event.epoch, "is_active": True,
        }
        voided: list[Change] = []
    else:
        standing = current["membership_state"]
        if standing == MembershipState.PENDING_REMOVE.value:
            standing = MembershipState.ALLOWED.value
        group = {**current, "added_by_inbox_id": event.added_by_inbox_id, "membership_state": standing,
                 "epoch": event.epoch, "is_active": True}
        # The intents of the earlier membership are void (GroupInactive): their messages failed.
        voided = [change for waiting in rows.find("outbox", {"group_id": event.group_id})
                  for change in _settle(rows, waiting["intent_id"], _FAILED)]
    return voided + [Upsert("groups", group)] + _transcript(
        rows, group, event.group_id, event.cursor, event.group_updated, event.added_by_inbox_id, b"",
        event.added_at_ns, event.timestamp_ns,
    )


@conversations_view.on(IntentQueued)
def _queued(rows: Rows, event: IntentQueued) -> list[Change]:
    data = event.data
    if not isinstance(data, SendMessageData):
        return []
    group = rows.get("groups", (event.originator_id.bytes,))
    if group is None:
        return []
    leave = data.content_type == LEAVE_REQUEST_CONTENT_TYPE
    waiting = Upsert("outbox", {
        "intent_id": event.intent_id, "group_id": group["id"], "message_id": data.message_id, "send_failures": 0,
        "leave": leave,
    })
    if leave:
        return [waiting]  # not a message: its confirmation makes us PENDING_REMOVE
    return [waiting] + _put_message(rows, group, {
        "id": data.message_id, "group_id": group["id"], "decrypted_message_bytes": data.content,
        "sent_at_ns": event.timestamp_ns, "kind": MessageKind.APPLICATION.value,
        "sender_installation_id": group["installation_id"], "sender_inbox_id": group["inbox_id"],
        "delivery_status": _UNPUBLISHED, "content_type": data.content_type, "sequence_id": None,
        "inserted_at_ns": event.timestamp_ns, "idempotency_key": data.idempotency_key, "epoch": None,
    })


def _settle(
    rows: Rows, intent_id: bytes, status: int, sent_at_ns: Optional[int] = None, sequence_id: Optional[int] = None
) -> list[Change]:
    """Give our queued message its final delivery status (and forget the intent)."""
    waiting = rows.get("outbox", (intent_id,))
    if waiting is None:
        return []
    changes: list[Change] = [Delete("outbox", (intent_id,))]
    if waiting["leave"]:
        if status == _PUBLISHED:
            changes.append(Patch("groups", (waiting["group_id"],), {"membership_state": _PENDING_REMOVE}))
        return changes
    message = rows.get("group_messages", (waiting["message_id"],))
    if message is None:
        return changes
    updated = {**message, "delivery_status": status}
    if sent_at_ns is not None:
        updated["sent_at_ns"] = sent_at_ns
    if sequence_id is not None:
        updated["sequence_id"] = sequence_id
    return changes + _put_message(rows, rows.get("groups", (message["group_id"],)), updated)


@conversations_view.on(IntentFailed)
def _failed(rows: Rows, event: IntentFailed) -> list[Change]:
    return _settle(rows, event.intent_id, _FAILED)


@conversations_view.on(IntentSendFailed)
def _send_failed(rows: Rows, event: IntentSendFailed) -> list[Change]:
    waiting = rows.get("outbox", (event.intent_id,))
    if waiting is None:
        return []
    failures = waiting["send_failures"] + 1
    if failures >= MAX_INTENT_PUBLISH_ATTEMPTS:
        return _settle(rows, event.intent_id, _FAILED)
    return [Patch("outbox", (event.intent_id,), {"send_failures": failures})]


@conversations_view.on(EnvelopeProcessed)
def _envelope(rows: Rows, event: EnvelopeProcessed) -> list[Change]:
    outcome = event.outcome
    group = rows.get("groups", (event.originator_id.bytes,))
    if group is None:
        return []
    group_id = group["id"]
    if isinstance(outcome, OwnMessageConfirmed):
        if rows.get("outbox", (outcome.intent_id,)) is None:  # given up after failed sends, delivered after all
            message = rows.get("group_messages", (outcome.message_id,))
            if message is None or message["delivery_status"] != _FAILED:
                return []
            return _put_message(rows, group, {**message, "delivery_status": _PUBLISHED,
                                              "sent_at_ns": event.server_time_ns, "sequence_id": event.cursor})
        return _settle(rows, outcome.intent_id, _PUBLISHED, event.server_time_ns, event.cursor)
    if isinstance(outcome, (ApplicationReceived, MessageReceived)):
        message_id = outcome.message_id  # a hash of the content: worked out once
        if rows.get("group_messages", (message_id,)) is not None:
            return []
        return _put_message(rows, group, {
            "id": message_id, "group_id": group_id, "decrypted_message_bytes": outcome.content,
            "sent_at_ns": event.server_time_ns, "kind": MessageKind.APPLICATION.value,
            "sender_installation_id": outcome.sender_installation_id, "sender_inbox_id": outcome.sender_inbox_id,
            "delivery_status": _PUBLISHED, "content_type": outcome.content_type, "sequence_id": event.cursor,
            "inserted_at_ns": event.timestamp_ns, "idempotency_key": outcome.idempotency_key,
            "epoch": outcome.epoch,
        }, new=True)
    if isinstance(outcome, LeaveRequestReceived):
        if outcome.sender_inbox_id != group["inbox_id"]:
            return []
        return [Patch("groups", (group_id,), {"membership_state": _PENDING_REMOVE})]
    if isinstance(outcome, OwnCommitMerged):
        group = {**group, "epoch": group["epoch"] + 1}
        changes: list[Change] = [Patch("groups", (group_id,), {"epoch": group["epoch"]})]
        if outcome.group_updated is not None:
            changes += _transcript(rows, group, group_id, event.cursor, outcome.group_updated, group["inbox_id"],
                                   group["installation_id"], event.server_time_ns, event.timestamp_ns)
        return changes
    if isinstance(outcome, CommitMerged):
        active = group["is_active"] and _still_member(outcome, group["inbox_id"])
        # A commit that removed us still begins its epoch (libxmtp): the group is inactive from there.
        group = {**group, "epoch": group["epoch"] + 1 if group["is_active"] else group["epoch"], "is_active": active}
        changes = [Patch("groups", (group_id,), {"epoch": group["epoch"], "is_active": active})]
        if outcome.group_updated is not None:
            changes += _transcript(rows, group, group_id, event.cursor, outcome.group_updated,
                                   outcome.committer_inbox_id, outcome.committer_installation_id,
                                   event.server_time_ns, event.timestamp_ns)
        return changes
    return []


def _still_member(outcome: CommitMerged, inbox_id: str) -> bool:
    if outcome.still_member is not None:
        return outcome.still_member
    if outcome.group_updated is None:  # recorded before CommitMerged v2 (see the module docstring)
        return True
    updated = GroupUpdated.decode(outcome.group_updated)
    return inbox_id not in updated.removed_inboxes and inbox_id not in updated.left_inboxes


@conversations_view.on(MembershipStateChanged)
def _membership(rows: Rows, event: MembershipStateChanged) -> list[Change]:
    return [Patch("groups", (event.originator_id.bytes,), {"membership_state": event.membership_state.value})]


@conversations_view.on(ConsentStateChanged)
def _consent(rows: Rows, event: ConsentStateChanged) -> list[Change]:
    return [Patch("groups", (event.originator_id.bytes,), {"consent_state": event.consent_state.value})]


# -- rows as domain values ------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class GroupRecord:
    """One row of the groups table with its enums restored."""

    group_id: bytes
    inbox_id: str
    installation_id: bytes
    conversation_type: ConversationType
    dm_id: Optional[str]
    created_at_ns: int
    added_by_inbox_id: str
    membership_state: MembershipState
    consent_state: ConsentState
    last_message_ns: int
    epoch: int
    is_active: bool


def group_record(row: Mapping[str, Any]) -> GroupRecord:
    """The ``groups`` row as a :class:`GroupRecord`."""
    return GroupRecord(
        group_id=row["id"], inbox_id=row["inbox_id"], installation_id=row["installation_id"],
        conversation_type=ConversationType(row["conversation_type"]), dm_id=row["dm_id"],
        created_at_ns=row["created_at_ns"], added_by_inbox_id=row["added_by_inbox_id"],
        membership_state=MembershipState(row["membership_state"]),
        consent_state=ConsentState(row["consent_state"]), last_message_ns=row["last_message_ns"],
        epoch=row["epoch"], is_active=row["is_active"],
    )


def stored_message(row: Mapping[str, Any]) -> StoredMessage:
    """The ``group_messages`` row as the public :class:`StoredMessage` (transcripts decoded)."""
    kind = MessageKind(row["kind"])
    content = row["decrypted_message_bytes"]
    return StoredMessage(
        id=row["id"], group_id=row["group_id"], sender_inbox_id=row["sender_inbox_id"],
        sender_installation_id=row["sender_installation_id"], content=content, content_type=row["content_type"],
        kind=kind, sent_at_ns=row["sent_at_ns"], delivery_status=DeliveryStatus(row["delivery_status"]),
        group_updated=GroupUpdated.decode(content) if kind is MessageKind.MEMBERSHIP_CHANGE else None,
        inserted_at_ns=row["inserted_at_ns"], epoch=row["epoch"],
    )
