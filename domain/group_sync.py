"""Syncing one group through its Context (libxmtp section 6, 7, 9): publish intents, receive envelopes,
post-commit, and wait for an intent to resolve.

Every step loads the aggregate state under the commit lock, decides with the pure functions of
``group_decisions`` / ``membership_plan`` / ``envelope_processing``, and saves the resulting events in
one store transaction; I/O (delivery service, identity registry) happens between decisions, and the
inputs it produced are recorded in the events. A whole sync holds the group's mutex.

One round receives what is pending, publishes queued intents in order (at most one commit in
flight; intents after it wait) and sends again the published payloads that have not come back and
that this Context has not handed over since it was opened (see ``publish_intents``), receives
again, and sends the welcomes of merged commits.
"""

from __future__ import annotations

from typing import Iterable, Optional, Union

from . import errors
from .commit_rules import IdentityFetcher
from .configuration import GROUP_KEY_ROTATION_INTERVAL_NS
from .envelope_processing import process_envelope
from .eventing import DomainEvent
from .group_aggregate import GroupAggregateState
from .group_decisions import (
    intent_failed,
    plan_commit,
    publish_commit,
    publish_message,
    queue_intent,
    send_failed,
    welcomes_sent,
)
from .group_errors import restore_error
from .identity_errors import IdentityError
from .intents import (
    CommitPlan,
    Intent,
    IntentData,
    IntentKind,
    IntentState,
    KeyUpdateData,
    SendMessageData,
    UpdateGroupMembershipData,
)
from .membership_plan import NothingToCommit, inboxes_to_fetch, membership_change, plan_membership_commit
from .policies import evaluate
from .ports import Context

__all__ = ["MAX_SYNC_ROUNDS", "identity_fetcher", "GroupSync"]

MAX_SYNC_ROUNDS = 10
"""Rounds a mutating call waits for its intent before SyncError (each lost epoch race costs one)."""


def identity_fetcher(context: Context) -> IdentityFetcher:
    """Looks up (inbox id, sequence id) -> installation ids in the context's identity registry."""

    def fetch(needed: Iterable[tuple[str, int]]) -> dict[tuple[str, int], frozenset[bytes]]:
        needed = tuple(needed)
        if not needed:
            return {}
        states = context.identity.get_inbox_states(sorted({inbox for inbox, _ in needed}))
        return {(inbox, seq): states[inbox].installations_at(seq) for inbox, seq in needed}

    return fetch


class GroupSync:
    """The sync engine of one group of one Context."""

    def __init__(self, context: Context, group_id: bytes) -> None:
        self.context = context
        self.group_id = bytes(group_id)
        self._fetch = identity_fetcher(context)

    # -- state -----------------------------------------------------------------------------------

    def state(self) -> GroupAggregateState:
        state = self.context.group_store.load(self.group_id)
        if state is None:
            raise errors.GroupNotFound(self.group_id)
        return state

    def _now(self) -> int:
        return self.context.clock.now_ns()

    def _save(self, events: list[DomainEvent]) -> Optional[GroupAggregateState]:
        if not events:
            return None
        return self.context.group_store.save(self.group_id, events)

    def _decide(self, decide) -> GroupAggregateState:
        """Load, decide and save under the commit lock; returns the state after."""
        with self.context.commit_lock(self.group_id):
            state = self.state()
            saved = self._save(decide(state))
            return state if saved is None else saved

    # -- intents ---------------------------------------------------------------------------------

    def queue(self, data: IntentData) -> bytes:
        """Queue an intent (TO_PUBLISH); returns its id. An application message first queues a key
        update when our last rotation is 30 days old (libxmtp queue_intent)."""
        if isinstance(data, SendMessageData):
            self.queue_key_rotation_if_due()
        intent_id = self.context.entropy()[:16]
        self._decide(lambda state: queue_intent(state, intent_id, data, self._now()))
        return intent_id

    def queue_key_rotation_if_due(self) -> None:
        """libxmtp: a message send first rotates our key when the last rotation is 30 days old."""
        state = self.state()
        if self._now() - state.rotated_at_ns <= GROUP_KEY_ROTATION_INTERVAL_NS:
            return
        if any(i.kind is IntentKind.KEY_UPDATE and not i.is_resolved for i in state.intents):
            return
        self.queue(KeyUpdateData())

    def membership_unchanged(self, data: UpdateGroupMembershipData) -> bool:
        """Whether a membership intent would change nothing now (libxmtp then queues none)."""
        state = self.state()
        xmtp = state.xmtp
        change = membership_change(xmtp, data, self.context.identity.get_inbox_states(inboxes_to_fetch(xmtp, data)))
        return change.membership.members == xmtp.membership.members and not change.to_add and not change.to_remove

    def _plan(self, state: GroupAggregateState, intent: Intent) -> Union[CommitPlan, NothingToCommit]:
        data = intent.data
        if not isinstance(data, UpdateGroupMembershipData):
            return plan_commit(state, intent)
        xmtp = state.xmtp
        states = self.context.identity.get_inbox_states(inboxes_to_fetch(xmtp, data))
        change = membership_change(xmtp, data, states)
        key_packages = self.context.api.fetch_key_packages(list(change.to_add)) if change.to_add else {}
        return plan_membership_commit(state.mls, xmtp, change, key_packages, self._now() // 1_000_000_000)

    def _publish_one(self, intent: Intent) -> Optional[GroupAggregateState]:
        seed = self.context.entropy()
        with self.context.commit_lock(self.group_id):
            state = self.state()
            current = state.intent(intent.intent_id)
            if current is None or current.state is not IntentState.TO_PUBLISH:
                return state
            now = self._now()
            if not current.is_commit:
                events = publish_message(state, current, seed, now)
            else:
                try:
                    plan = self._plan(state, current)
                except (errors.GroupError, IdentityError) as exc:
                    return self._save(intent_failed(state, current.intent_id, exc, now))
                events = publish_commit(state, current, plan, seed, now, self._fetch)
            state = self._save(events)
        self._send(state, state.intent(intent.intent_id))  # type: ignore[union-attr,arg-type]
        return self.state()

    def _send(self, state: GroupAggregateState, intent: Optional[Intent]) -> None:
        if intent is None or intent.state is not IntentState.PUBLISHED or intent.payload is None:
            return
        try:
            self.context.api.send_group_messages(self.group_id, [intent.payload])
        except Exception as exc:  # noqa: BLE001 - any delivery failure counts as one failed attempt
            reason = f"{type(exc).__name__}: {exc}"
            self._decide(lambda s: send_failed(s, intent.intent_id, reason, self._now()))
        else:
            self.context.handed_over(self.group_id).add(intent.payload_hash)  # type: ignore[arg-type]

    def publish_intents(self, *, after_full_receive: bool = False) -> None:
        """Publish queued intents in order: one commit in flight at most; resend undelivered payloads.

        A payload is undelivered when this Context has not handed it over since it was opened and
        either its last send failed or, ``after_full_receive`` (the topic was just read to its end),
        it was published earlier and has not come back: a crash between saving IntentPublished and
        handing the payload over leaves exactly that, and nothing else would ever send it. A payload
        that is only slow to come back is not sent again. A second copy (after a restart) is
        harmless: once one copy is merged or confirmed, the other is a commit for a past epoch or a
        replayed message, and receivers skip it."""
        open_intents = self.state().open_intents()
        handed_over = self.context.handed_over(self.group_id)
        handed_over &= {i.payload_hash for i in open_intents if i.payload_hash is not None}
        for intent in open_intents:
            state = self.state()
            current = state.intent(intent.intent_id)
            if current is None or current.is_final:
                continue
            if current.state is IntentState.PUBLISHED:
                if current.payload_hash not in handed_over and (current.resend or after_full_receive):
                    self._send(state, current)
                if current.is_commit:
                    return
                continue
            if current.state is not IntentState.TO_PUBLISH:
                continue
            if current.is_commit and state.commit_in_flight() is not None:
                return
            after = self._publish_one(current)
            published = None if after is None else after.intent(current.intent_id)
            if published is not None and published.is_commit and published.state is IntentState.PUBLISHED:
                return

    # -- receiving -------------------------------------------------------------------------------

    def receive(self) -> int:
        """Process every envelope after the stored cursor, one transaction each; returns how many."""
        envelopes = self.context.api.query_group_messages(self.group_id, after_cursor=self.state().cursor)
        for envelope in envelopes:
            self._decide(lambda state: process_envelope(state, envelope, self._fetch, self._now()))
        return len(envelopes)

    def post_commit(self) -> None:
        """Send the welcomes of our merged commits, then mark those intents processed."""
        for intent in self.state().intents:
            if intent.state is not IntentState.COMMITTED:
                continue
            if intent.welcome is not None and intent.welcome_installations:
                self.context.api.send_welcome_messages(
                    [(installation, intent.welcome) for installation in intent.welcome_installations]
                )
            self._decide(lambda state: welcomes_sent(state, intent.intent_id, self._now()))

    def sync_round(self) -> None:
        self.receive()
        self.publish_intents(after_full_receive=True)
        self.receive()
        self.post_commit()

    def wait_for(self, intent_id: bytes) -> None:
        """Sync until the intent is merged or processed; raise its error if it failed."""
        for _ in range(MAX_SYNC_ROUNDS):
            self.sync_round()
            intent = self.state().intent(intent_id)
            if intent is None or intent.state in (IntentState.PROCESSED, IntentState.COMMITTED):
                return
            if intent.state in (IntentState.ERROR, IntentState.SUPERSEDED):
                raise restore_error(intent.error, intent.error_detail)
        raise errors.SyncError(f"{errors.SyncError.message}: intent still {intent.state.name}")

    def run(self, data: IntentData) -> bytes:
        """Queue an intent and wait for it; returns its id."""
        intent_id = self.queue(data)
        self.wait_for(intent_id)
        return intent_id

    # -- leave requests --------------------------------------------------------------------------

    def remove_pending_leavers(self) -> None:
        """A super admin's sync removes the members that asked to leave (libxmtp section 3), with an
        ordinary removal: skipped when the remove policy denies us, and best effort (libxmtp runs it
        as a background task, so its failure never fails the sync; the intent records it)."""
        state = self.state()
        me = self.context.inbox_id
        xmtp = state.xmtp
        if not state.is_active or not xmtp.mutable_metadata.is_super_admin(me):
            return
        if not evaluate(xmtp.permissions.remove_member_policy, xmtp.actor(me)):
            return
        leavers = tuple(i for i in state.pending_leavers if i != me and xmtp.is_member(i))
        if not leavers:
            return
        for intent in state.open_intents():
            data = intent.data
            if isinstance(data, UpdateGroupMembershipData) and set(leavers) <= set(data.remove_inbox_ids):
                return
        try:
            self.run(UpdateGroupMembershipData(remove_inbox_ids=leavers))
        except errors.GroupError:
            pass
