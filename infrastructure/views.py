"""In-process read models of one installation's store: the ``groups`` and ``group_messages`` views
(libxmtp spec section 8) that the query methods read.

They are rebuilt from the stored events when a client opens its store and kept current as events are
saved. Each view is a fold of events: ``apply`` dispatches an event to a handler that only reads the
event and the view's own rows, so the same handlers can later run as eventsourcing projections with
tracking. The views hold no key material (message contents are the decrypted plaintexts).
"""

from __future__ import annotations

import itertools
import threading
from typing import Iterable, Optional, Sequence

import attrs

from mlsgroup.domain.application_content import LEAVE_REQUEST_CONTENT_TYPE, transcript_message_id
from mlsgroup.domain.configuration import MAX_INTENT_PUBLISH_ATTEMPTS
from mlsgroup.domain.conversation import ConsentState, MembershipState, joined_standing
from mlsgroup.domain.eventing import DomainEvent
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
    OwnCommitMerged,
    OwnMessageConfirmed,
)
from mlsgroup.domain.intents import SendMessageData
from mlsgroup.domain.message_kinds import DeliveryStatus, MessageKind
from mlsgroup.domain.stored_message import StoredMessage
from mlsgroup.domain.transcript import GROUP_UPDATED_CONTENT_TYPE, GroupUpdated
from mlsgroup.projections import GroupRecord

__all__ = ["GroupViews"]


class GroupViews:
    """The groups and group_messages views of one store (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._groups: dict[bytes, GroupRecord] = {}
        self._messages: dict[bytes, dict[bytes, StoredMessage]] = {}
        self._order: dict[bytes, int] = {}
        self._by_intent: dict[bytes, tuple[bytes, bytes]] = {}
        self._send_failures: dict[bytes, int] = {}
        self._leave_intents: set[bytes] = set()
        self._sequence = itertools.count()

    # -- folding ---------------------------------------------------------------------------------

    def apply(self, events: Iterable[DomainEvent]) -> None:
        with self._lock:
            for event in events:
                handler = _HANDLERS.get(type(event))
                if handler is not None:
                    handler(self, event)

    def _group_id(self, event: DomainEvent) -> bytes:
        return event.originator_id.bytes

    def _row(self, event: DomainEvent) -> Optional[GroupRecord]:
        return self._groups.get(self._group_id(event))

    def _update_row(self, event: DomainEvent, **changes) -> None:
        row = self._row(event)
        if row is not None:
            self._groups[row.group_id] = attrs.evolve(row, **changes)

    def _put_message(self, message: StoredMessage) -> None:
        messages = self._messages.setdefault(message.group_id, {})
        if message.id not in messages:
            self._order[message.id] = next(self._sequence)
        messages[message.id] = message
        row = self._groups.get(message.group_id)
        if row is not None and message.sent_at_ns > row.last_message_ns:
            self._groups[message.group_id] = attrs.evolve(row, last_message_ns=message.sent_at_ns)

    def _transcript(self, group_id: bytes, cursor: int, encoded: bytes, sender: str, installation: bytes, at_ns: int, epoch) -> None:
        self._put_message(
            StoredMessage(
                id=transcript_message_id(group_id, cursor, encoded),
                group_id=group_id,
                sender_inbox_id=sender,
                sender_installation_id=installation,
                content=encoded,
                content_type=GROUP_UPDATED_CONTENT_TYPE,
                kind=MessageKind.MEMBERSHIP_CHANGE,
                sent_at_ns=at_ns,
                delivery_status=DeliveryStatus.PUBLISHED,
                group_updated=GroupUpdated.decode(encoded),
                inserted_at_ns=at_ns,
                epoch=epoch,
            )
        )

    def _on_created(self, event: GroupCreated) -> None:
        self._groups[event.group_id] = GroupRecord(
            group_id=event.group_id,
            inbox_id=event.inbox_id,
            installation_id=event.installation_id,
            conversation_type=event.conversation_type,
            dm_id=event.dm_id,
            created_at_ns=event.timestamp_ns,
            added_by_inbox_id=event.inbox_id,
            membership_state=MembershipState.ALLOWED,
            consent_state=ConsentState.ALLOWED,
            last_message_ns=event.timestamp_ns,
        )

    def _on_joined(self, event: GroupJoined) -> None:
        row = self._groups.get(event.group_id)
        if row is None:
            membership_state, consent_state = joined_standing(event.inbox_id, event.added_by_inbox_id)
            row = GroupRecord(
                group_id=event.group_id,
                inbox_id=event.inbox_id,
                installation_id=event.installation_id,
                conversation_type=event.conversation_type,
                dm_id=event.dm_id,
                created_at_ns=event.timestamp_ns,
                added_by_inbox_id=event.added_by_inbox_id,
                membership_state=membership_state,
                consent_state=consent_state,
                last_message_ns=event.timestamp_ns,
            )
        else:
            standing = row.membership_state
            if standing is MembershipState.PENDING_REMOVE:
                standing = MembershipState.ALLOWED
            row = attrs.evolve(row, added_by_inbox_id=event.added_by_inbox_id, membership_state=standing)
        self._groups[event.group_id] = row
        self._transcript(
            event.group_id, event.cursor, event.group_updated, event.added_by_inbox_id, b"", event.timestamp_ns, None
        )

    def _on_queued(self, event: IntentQueued) -> None:
        data = event.data
        row = self._row(event)
        if not isinstance(data, SendMessageData) or row is None:
            return
        if data.content_type == LEAVE_REQUEST_CONTENT_TYPE:
            self._leave_intents.add(event.intent_id)
            return
        self._by_intent[event.intent_id] = (row.group_id, data.message_id)
        self._put_message(
            StoredMessage(
                id=data.message_id,
                group_id=row.group_id,
                sender_inbox_id=row.inbox_id,
                sender_installation_id=row.installation_id,
                content=data.content,
                content_type=data.content_type,
                kind=MessageKind.APPLICATION,
                sent_at_ns=event.timestamp_ns,
                delivery_status=DeliveryStatus.UNPUBLISHED,
                inserted_at_ns=event.timestamp_ns,
            )
        )

    def _set_status(self, intent_id: bytes, status: DeliveryStatus, sent_at_ns: Optional[int] = None) -> None:
        found = self._by_intent.get(intent_id)
        if found is None:
            return
        group_id, message_id = found
        message = self._messages.get(group_id, {}).get(message_id)
        if message is None:
            return
        changes = {"delivery_status": status}
        if sent_at_ns is not None:
            changes["sent_at_ns"] = sent_at_ns
        self._put_message(attrs.evolve(message, **changes))
        if status is not DeliveryStatus.UNPUBLISHED:
            self._by_intent.pop(intent_id, None)

    def _on_failed(self, event: IntentFailed) -> None:
        self._set_status(event.intent_id, DeliveryStatus.FAILED)

    def _on_send_failed(self, event: IntentSendFailed) -> None:
        count = self._send_failures.get(event.intent_id, 0) + 1
        self._send_failures[event.intent_id] = count
        if count >= MAX_INTENT_PUBLISH_ATTEMPTS:
            self._set_status(event.intent_id, DeliveryStatus.FAILED)

    def _on_envelope(self, event: EnvelopeProcessed) -> None:
        outcome = event.outcome
        row = self._row(event)
        if row is None:
            return
        group_id = row.group_id
        if isinstance(outcome, OwnMessageConfirmed):
            self._set_status(outcome.intent_id, DeliveryStatus.PUBLISHED, event.server_time_ns)
            if outcome.intent_id in self._leave_intents:
                self._leave_intents.discard(outcome.intent_id)
                self._update_row(event, membership_state=MembershipState.PENDING_REMOVE)
        elif isinstance(outcome, LeaveRequestReceived):
            if outcome.sender_inbox_id == row.inbox_id:
                self._update_row(event, membership_state=MembershipState.PENDING_REMOVE)
        elif isinstance(outcome, ApplicationReceived):
            if outcome.message_id in self._messages.get(group_id, {}):
                return
            self._put_message(
                StoredMessage(
                    id=outcome.message_id,
                    group_id=group_id,
                    sender_inbox_id=outcome.sender_inbox_id,
                    sender_installation_id=outcome.sender_installation_id,
                    content=outcome.content,
                    content_type=outcome.content_type,
                    kind=MessageKind.APPLICATION,
                    sent_at_ns=event.server_time_ns,
                    delivery_status=DeliveryStatus.PUBLISHED,
                    inserted_at_ns=event.timestamp_ns,
                    epoch=outcome.epoch,
                )
            )
        elif isinstance(outcome, OwnCommitMerged) and outcome.group_updated is not None:
            self._transcript(
                group_id, event.cursor, outcome.group_updated, row.inbox_id, row.installation_id,
                event.server_time_ns, None,
            )
        elif isinstance(outcome, CommitMerged) and outcome.group_updated is not None:
            self._transcript(
                group_id, event.cursor, outcome.group_updated, outcome.committer_inbox_id,
                outcome.committer_installation_id, event.server_time_ns, None,
            )

    def _on_membership(self, event: MembershipStateChanged) -> None:
        self._update_row(event, membership_state=event.membership_state)

    def _on_consent(self, event: ConsentStateChanged) -> None:
        self._update_row(event, consent_state=event.consent_state)

    # -- queries ---------------------------------------------------------------------------------

    def group_ids(self) -> list[bytes]:
        """Every group, oldest first."""
        with self._lock:
            return [row.group_id for row in sorted(self._groups.values(), key=lambda r: r.created_at_ns)]

    def row(self, group_id: bytes) -> Optional[GroupRecord]:
        with self._lock:
            return self._groups.get(bytes(group_id))

    def rows(self) -> list[GroupRecord]:
        with self._lock:
            return sorted(self._groups.values(), key=lambda r: r.created_at_ns)

    def groups_with_dm_id(self, dm_id: str) -> list[bytes]:
        with self._lock:
            rows = [row for row in self._groups.values() if row.dm_id == dm_id]
        rows.sort(key=lambda r: (r.last_message_ns, r.created_at_ns), reverse=True)
        return [row.group_id for row in rows]

    def messages(
        self,
        group_ids: Sequence[bytes],
        *,
        sent_after_ns: Optional[int] = None,
        limit: Optional[int] = None,
        kind: Optional[MessageKind] = None,
    ) -> list[StoredMessage]:
        with self._lock:
            found = [m for group_id in dict.fromkeys(group_ids) for m in self._messages.get(bytes(group_id), {}).values()]
            order = self._order
            found.sort(key=lambda m: (m.sent_at_ns, order[m.id]))
        if sent_after_ns is not None:
            found = [m for m in found if m.sent_at_ns > sent_after_ns]
        if kind is not None:
            found = [m for m in found if m.kind is kind]
        return found if limit is None else found[:limit]


_HANDLERS = {
    GroupCreated: GroupViews._on_created,
    GroupJoined: GroupViews._on_joined,
    IntentQueued: GroupViews._on_queued,
    IntentFailed: GroupViews._on_failed,
    IntentSendFailed: GroupViews._on_send_failed,
    EnvelopeProcessed: GroupViews._on_envelope,
    MembershipStateChanged: GroupViews._on_membership,
    ConsentStateChanged: GroupViews._on_consent,
}
