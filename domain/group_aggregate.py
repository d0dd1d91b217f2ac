"""The group aggregate (ARCHITECTURE 2, 3): one group at one installation as an immutable state, and
the projector that folds the group's events into it.

Applying an event is bookkeeping. Where the state needs cryptography (creating or joining the MLS
group, encrypting our message, merging a commit, decrypting a message to advance the secret tree)
the projector re-derives it deterministically from what the event recorded: seeds, the welcome and
key-package bundle, the commit plan, the payload; a ``MessageReceived`` only marks its ratchet key
used (its decryption and signature were checked when it was recorded; an audit checks them again).
Replaying a group's events therefore reproduces the MLS state byte for byte; a mismatch with a
recorded hash raises ``ReplayMismatch``. Decisions (``group_decisions``, ``envelope_processing``)
attach the state they computed to the event as a non-stored ``derived`` value, which the projector
reuses on the live path.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional
from uuid import UUID

import attrs

from .after_removal import AfterRemoval
from .conversation import ConsentState, MembershipState, joined_standing
from .eventing import DomainEvent, register_event
from .extensions import ConversationType
from .group_events import (
    ApplicationReceived,
    CommitMerged,
    CommitRejected,
    ConsentStateChanged,
    EnvelopeProcessed,
    EnvelopeSkipped,
    GroupCreated,
    GroupJoined,
    IntentFailed,
    IntentProcessed,
    IntentPublished,
    IntentQueued,
    IntentSendFailed,
    LeaveRequestReceived,
    MembershipStateChanged,
    MessageReceived,
    OwnCommitMerged,
    OwnMessageConfirmed,
    OwnMessageStale,
)
from .group_state import XmtpGroupState
from .application_content import LEAVE_REQUEST_CONTENT_TYPE
from .configuration import MAX_INTENT_PUBLISH_ATTEMPTS
from .group_derivations import (
    CheckedCommit,
    ReplayMismatch,
    create_mls_group,
    encrypt_message,
    join_mls_group,
    payload_hash,
    stage_commit,
)
from .intents import Intent, IntentState, SendMessageData, kind_of
from .mls.group import GroupState, StagedCommit, consume_application_key, merge_commit, process_message
from .xmtp_mls import xmtp_state_of

__all__ = [
    "GroupAggregateState",
    "GroupSnapshot",
    "ReplayMismatch",
    "project",
    "group_uuid",
    "payload_hash",
    "stage_commit",
    "encrypt_message",
    "RESOLVED_INTENTS_KEPT",
]

RESOLVED_INTENTS_KEPT = 32
"""How many resolved intents the state keeps (for callers waiting on them); older ones are dropped."""


def group_uuid(group_id: bytes) -> UUID:
    """The aggregate id of a group: its 16-byte id as a UUID."""
    return UUID(bytes=bytes(group_id))


def _same_mls(a: GroupState, b: GroupState) -> bool:
    return a is b or a.encode() == b.encode()


@attrs.frozen(kw_only=True)
class GroupAggregateState:
    """Everything this installation knows about one group, after its events up to ``version``."""

    id: UUID
    version: int
    modified_ns: int
    group_id: bytes
    inbox_id: str
    installation_id: bytes
    mls: GroupState = attrs.field(eq=attrs.cmp_using(eq=_same_mls), repr=False)
    conversation_type: ConversationType
    dm_id: Optional[str]
    created_at_ns: int
    added_by_inbox_id: str
    membership_state: MembershipState
    consent_state: ConsentState
    cursor: int = 0
    intents: tuple[Intent, ...] = ()
    pending_leavers: tuple[str, ...] = ()
    rotated_at_ns: int = 0
    #: The server time of the newest message event (before any: creation, or the local join time;
    #: snapshots on disk hold it so). The API reads the ``groups`` view's ``last_message_ns``, which
    #: starts a joined group at the welcome's server time instead, as libxmtp does.
    last_message_ns: int = 0
    #: Once a commit removed us: the public part of the epoch it began (what members() lists then).
    after_removal: Optional[AfterRemoval] = None
    _xmtp: Any = attrs.field(default=None, init=False, eq=False, repr=False)

    # -- derived views ----------------------------------------------------------------------------

    @property
    def xmtp(self) -> XmtpGroupState:
        """The XMTP extensions and tree installations of the current epoch."""
        cached = self._xmtp
        context = self.mls.encoded_group_context
        if cached is None or (cached[0] is not context and cached[0] != context):
            cached = (context, xmtp_state_of(self.mls))
            object.__setattr__(self, "_xmtp", cached)
        return cached[1]

    @property
    def epoch(self) -> int:
        """The group's epoch as this member knows it. Once a commit removed us it is the epoch that
        commit began (libxmtp merges the removing commit's public part), while the MLS state stays
        at the last epoch we belonged to, to read that epoch's late messages."""
        return self.mls.epoch if self.after_removal is None else self.mls.epoch + 1

    @property
    def is_active(self) -> bool:
        return self.mls.is_active

    def intent(self, intent_id: bytes) -> Optional[Intent]:
        for intent in self.intents:
            if intent.intent_id == intent_id:
                return intent
        return None

    def open_intents(self) -> tuple[Intent, ...]:
        return tuple(i for i in self.intents if not i.is_final)

    def commit_in_flight(self) -> Optional[Intent]:
        """The published commit awaiting its envelope (at most one per group)."""
        for intent in self.intents:
            if intent.is_commit and intent.state is IntentState.PUBLISHED:
                return intent
        return None

    def published_by_hash(self, digest: bytes) -> Optional[Intent]:
        """Our intent whose published payload hashes to ``digest``: a PUBLISHED one, or one that
        ended in ERROR after its last send failed, while its epoch lasts (a send reported as failed
        may still have delivered the payload: when it comes back it is ours all the same)."""
        for intent in self.intents:
            if intent.payload_hash != digest:
                continue
            if intent.state is IntentState.PUBLISHED:
                return intent
            if (
                intent.state is IntentState.ERROR
                and intent.publish_attempts >= MAX_INTENT_PUBLISH_ATTEMPTS
                and intent.published_in_epoch == self.mls.epoch
            ):
                return intent
        return None


_SNAPSHOT_SKIPPED = frozenset({"id", "version", "modified_ns", "mls"})


@register_event("mlsgroup.GroupAggregate.Snapshot")
@attrs.frozen(kw_only=True)
class GroupSnapshot(DomainEvent):
    """The whole aggregate state at ``originator_version`` (timestamp from the state, no clock read):
    the MLS state in its own encoding, every other field by name."""

    mls: bytes = attrs.field(repr=False)
    fields: dict[str, Any]

    @classmethod
    def take(cls, state: GroupAggregateState) -> GroupSnapshot:
        fields = {
            f.name: getattr(state, f.name)
            for f in attrs.fields(GroupAggregateState)
            if f.init and f.name not in _SNAPSHOT_SKIPPED
        }
        return cls(
            originator_id=state.id,
            originator_version=state.version,
            timestamp_ns=state.modified_ns,
            mls=state.mls.encode(),
            fields=fields,
        )

    def restore(self) -> GroupAggregateState:
        return GroupAggregateState(
            id=self.originator_id,
            version=self.originator_version,
            modified_ns=self.timestamp_ns,
            mls=GroupState.decode(self.mls),
            **self.fields,
        )


# -- the projector -------------------------------------------------------------------------------


_INIT_FIELDS = tuple((a.name, a.alias) for a in attrs.fields(GroupAggregateState) if a.init)


def _evolve(state: GroupAggregateState, **changes: Any) -> GroupAggregateState:
    """``attrs.evolve`` that keeps the XMTP view cache while the group context stays the same.
    (Spelled out: attrs.evolve re-reads the class's fields on every call, once per replayed event.)"""
    for name, alias in _INIT_FIELDS:
        if alias not in changes:
            changes[alias] = getattr(state, name)
    new = GroupAggregateState(**changes)
    cached = state._xmtp
    if cached is not None and cached[0] is new.mls.encoded_group_context:
        object.__setattr__(new, "_xmtp", cached)
    return new



def _with_intent(aggregate: GroupAggregateState, intent_id: bytes, /, **changes: Any) -> tuple[Intent, ...]:
    return tuple(attrs.evolve(i, **changes) if i.intent_id == intent_id else i for i in aggregate.intents)


def _pruned(intents: tuple[Intent, ...]) -> tuple[Intent, ...]:
    resolved = [i for i in intents if i.is_final]
    if len(resolved) <= RESOLVED_INTENTS_KEPT:
        return intents
    dropped = {id(i) for i in resolved[: len(resolved) - RESOLVED_INTENTS_KEPT]}
    return tuple(i for i in intents if id(i) not in dropped)


def _created(event: GroupCreated) -> GroupAggregateState:
    return GroupAggregateState(
        id=event.originator_id,
        version=event.originator_version,
        modified_ns=event.timestamp_ns,
        group_id=event.group_id,
        inbox_id=event.inbox_id,
        installation_id=event.installation_id,
        mls=create_mls_group(event),
        conversation_type=event.conversation_type,
        dm_id=event.dm_id,
        created_at_ns=event.timestamp_ns,
        added_by_inbox_id=event.inbox_id,
        membership_state=MembershipState.ALLOWED,
        consent_state=ConsentState.ALLOWED,
        rotated_at_ns=event.timestamp_ns,
    )


def _joined(state: Optional[GroupAggregateState], event: GroupJoined) -> GroupAggregateState:
    mls = event.derived if event.derived is not None else join_mls_group(event)
    if state is None:
        membership_state, consent_state = joined_standing(event.inbox_id, event.added_by_inbox_id)
        return GroupAggregateState(
            id=event.originator_id,
            version=event.originator_version,
            modified_ns=event.timestamp_ns,
            group_id=event.group_id,
            inbox_id=event.inbox_id,
            installation_id=event.installation_id,
            mls=mls,
            conversation_type=event.conversation_type,
            dm_id=event.dm_id,
            created_at_ns=event.timestamp_ns,
            added_by_inbox_id=event.added_by_inbox_id,
            membership_state=membership_state,
            consent_state=consent_state,
            cursor=event.cursor,
            last_message_ns=event.timestamp_ns,
        )
    # Re-added after a removal: a fresh MLS state; intents of the old membership are void.
    standing = state.membership_state
    if standing is MembershipState.PENDING_REMOVE:
        standing = MembershipState.ALLOWED
    intents = tuple(
        i if i.is_final else attrs.evolve(i, state=IntentState.ERROR, error="GroupInactive") for i in state.intents
    )
    return _evolve(
        state,
        mls=mls,
        added_by_inbox_id=event.added_by_inbox_id,
        membership_state=standing,
        cursor=max(state.cursor, event.cursor),
        intents=intents,
        pending_leavers=(),
        rotated_at_ns=0,
        after_removal=None,
    )


def _published(state: GroupAggregateState, event: IntentPublished) -> GroupAggregateState:
    intent = state.intent(event.intent_id)
    if intent is None:
        raise ReplayMismatch("IntentPublished for an unknown intent")
    mls = state.mls
    derived = event.derived
    payload = event.payload
    if isinstance(intent.data, SendMessageData):
        if derived is not None:
            mls, payload = derived
        else:
            mls, payload = encrypt_message(mls, intent.data, event.seed)
            if payload_hash(payload) != event.payload_hash:
                raise ReplayMismatch("the re-encrypted message differs from the published payload")
    elif payload is None:
        raise ReplayMismatch("IntentPublished of a commit without its payload")
    intents = _with_intent(
        state,
        event.intent_id,
        state=IntentState.PUBLISHED,
        published_in_epoch=event.epoch,
        payload_hash=event.payload_hash,
        payload=payload,
        publish_seed=event.seed,
        plan=event.plan,
        resend=False,
    )
    if isinstance(derived, (StagedCommit, CheckedCommit)):
        published = next(i for i in intents if i.intent_id == event.intent_id)
        object.__setattr__(published, "staged_cache", derived)
    return _evolve(state, mls=mls, intents=intents)


def _send_failed(state: GroupAggregateState, event: IntentSendFailed) -> GroupAggregateState:
    intent = state.intent(event.intent_id)
    if intent is None:
        raise ReplayMismatch("IntentSendFailed for an unknown intent")
    attempts = intent.publish_attempts + 1
    if attempts >= MAX_INTENT_PUBLISH_ATTEMPTS:
        changes: dict[str, Any] = dict(state=IntentState.ERROR, error="SyncError", error_detail=event.reason)
    else:
        changes = dict(resend=True)
    return _evolve(state, intents=_with_intent(state, event.intent_id, publish_attempts=attempts, **changes))


def _merged_mls(state: GroupAggregateState, event: EnvelopeProcessed) -> GroupState:
    if event.derived is not None:
        return event.derived
    processed = process_message(state.mls, event.payload)
    return merge_commit(state.mls, processed.output)  # type: ignore[arg-type]


#: What an intent sent back to TO_PUBLISH forgets of its publication (it is built again).
_UNPUBLISHED: dict[str, Any] = dict(
    state=IntentState.TO_PUBLISH, payload_hash=None, payload=None, plan=None, publish_seed=None, resend=False
)


def _without_stale_commits(intents: tuple[Intent, ...], epoch: int) -> tuple[Intent, ...]:
    """Published commits of an epoch that is over go back to TO_PUBLISH, to be rebuilt."""
    return tuple(
        attrs.evolve(i, **_UNPUBLISHED)
        if i.is_commit and i.state is IntentState.PUBLISHED and (i.published_in_epoch or 0) < epoch
        else i
        for i in intents
    )


def _removed_inboxes(before: GroupAggregateState, mls: GroupState) -> set[str]:
    after = xmtp_state_of(mls).member_inboxes() if mls.is_active else frozenset()
    return set(before.xmtp.member_inboxes()) - set(after)


def _leave_requested(state: GroupAggregateState, inbox_id: str) -> dict[str, Any]:
    """A leave request of ``inbox_id`` is pending; ours (from any of our installations) makes us PENDING_REMOVE."""
    changes: dict[str, Any] = {}
    if inbox_id not in state.pending_leavers:
        changes["pending_leavers"] = state.pending_leavers + (inbox_id,)
    if inbox_id == state.inbox_id:
        changes["membership_state"] = MembershipState.PENDING_REMOVE
    return changes


def _envelope_changes(state: GroupAggregateState, event: EnvelopeProcessed) -> dict[str, Any]:
    outcome = event.outcome
    changes: dict[str, Any] = {"cursor": event.cursor}
    if isinstance(outcome, (OwnCommitMerged, CommitMerged)):
        if isinstance(outcome, OwnCommitMerged):
            intent = state.intent(outcome.intent_id)
            if intent is None:
                raise ReplayMismatch("OwnCommitMerged for an unknown intent")
            mls = event.derived if event.derived is not None else merge_commit(state.mls, stage_commit(state.mls, intent))
            final = IntentState.COMMITTED if outcome.welcome is not None else IntentState.PROCESSED
            intents = _with_intent(
                state,
                outcome.intent_id,
                state=final,
                payload=None,
                welcome=outcome.welcome,
                welcome_installations=outcome.welcome_installations,
                error=None,
                error_detail="",
            )
        else:
            mls = _merged_mls(state, event)
            intents = state.intents
            if state.is_active and not mls.is_active:
                changes["after_removal"] = AfterRemoval.of_commit(state.mls, event.payload)
        removed = _removed_inboxes(state, mls)
        changes.update(
            mls=mls,
            intents=_without_stale_commits(intents, mls.epoch),
            pending_leavers=tuple(i for i in state.pending_leavers if i not in removed),
        )
        if outcome.group_updated is not None:
            changes["last_message_ns"] = event.server_time_ns
    elif isinstance(outcome, CommitRejected):
        if outcome.intent_id is not None:
            changes["intents"] = _with_intent(
                state, outcome.intent_id, state=IntentState.ERROR, error=outcome.error, error_detail=outcome.detail
            )
    elif isinstance(outcome, MessageReceived):
        mls = event.derived
        if mls is None:
            opened = outcome.opened
            mls = consume_application_key(state.mls, opened.epoch, opened.leaf, opened.generation)
        changes["mls"] = mls
        changes["last_message_ns"] = event.server_time_ns
    elif isinstance(outcome, (ApplicationReceived, LeaveRequestReceived)):
        mls = event.derived if event.derived is not None else process_message(state.mls, event.payload).new_state
        changes["mls"] = mls
        if isinstance(outcome, ApplicationReceived):
            changes["last_message_ns"] = event.server_time_ns
        else:
            changes.update(_leave_requested(state, outcome.sender_inbox_id))
    elif isinstance(outcome, OwnMessageConfirmed):
        intent = state.intent(outcome.intent_id)
        changes["intents"] = _with_intent(
            state, outcome.intent_id, state=IntentState.PROCESSED, payload=None, error=None, error_detail=""
        )
        changes["last_message_ns"] = event.server_time_ns
        data = None if intent is None else intent.data
        if isinstance(data, SendMessageData) and data.content_type == LEAVE_REQUEST_CONTENT_TYPE:
            changes.update(_leave_requested(state, state.inbox_id))
    elif isinstance(outcome, OwnMessageStale):
        if state.intent(outcome.intent_id) is None:
            raise ReplayMismatch("OwnMessageStale for an unknown intent")
        changes["intents"] = _with_intent(state, outcome.intent_id, **_UNPUBLISHED)
    elif not isinstance(outcome, EnvelopeSkipped):
        raise ReplayMismatch(f"unknown envelope outcome {type(outcome).__name__}")
    return changes


def _apply(state: Optional[GroupAggregateState], event: DomainEvent) -> GroupAggregateState:
    if isinstance(event, GroupSnapshot):
        return event.restore()
    if isinstance(event, GroupCreated):
        if state is not None:
            raise ReplayMismatch("GroupCreated for a group that exists")
        return _created(event)
    if isinstance(event, GroupJoined):
        if state is not None and event.originator_version != state.version + 1:
            raise ReplayMismatch(f"GroupJoined v{event.originator_version} does not follow the state")
        new = _joined(state, event)
        return _evolve(new, version=event.originator_version, modified_ns=event.timestamp_ns)
    if state is None or event.originator_version != state.version + 1:
        raise ReplayMismatch(f"{type(event).__name__} v{event.originator_version} does not follow the state")
    if isinstance(event, IntentQueued):
        intent = Intent(
            intent_id=event.intent_id, kind=kind_of(event.data), data=event.data, queued_at_ns=event.timestamp_ns
        )
        # libxmtp resets the key-rotation clock whenever it queues a commit intent (they carry a path).
        rotated = event.timestamp_ns if intent.is_commit else state.rotated_at_ns
        state = _evolve(state, intents=state.intents + (intent,), rotated_at_ns=rotated)
    elif isinstance(event, IntentPublished):
        state = _published(state, event)
    elif isinstance(event, IntentSendFailed):
        state = _send_failed(state, event)
    elif isinstance(event, IntentFailed):
        state = _evolve(
            state,
            intents=_with_intent(state, event.intent_id, state=IntentState.ERROR, error=event.error, error_detail=event.detail),
        )
    elif isinstance(event, IntentProcessed):
        state = _evolve(
            state,
            intents=_with_intent(
                state, event.intent_id, state=IntentState.PROCESSED, payload=None, welcome=None, welcome_installations=()
            ),
        )
    elif isinstance(event, EnvelopeProcessed):
        # The most frequent event: one evolve for its changes and the version together.
        changes = _envelope_changes(state, event)
        changes["intents"] = _pruned(changes.get("intents", state.intents))
        return _evolve(state, version=event.originator_version, modified_ns=event.timestamp_ns, **changes)
    elif isinstance(event, MembershipStateChanged):
        state = _evolve(state, membership_state=event.membership_state)
    elif isinstance(event, ConsentStateChanged):
        state = _evolve(state, consent_state=event.consent_state)
    else:
        raise ReplayMismatch(f"the group aggregate has no rule for {type(event).__name__}")
    return _evolve(
        state, version=event.originator_version, modified_ns=event.timestamp_ns, intents=_pruned(state.intents)
    )


def project(state: Optional[GroupAggregateState], events: Iterable[DomainEvent]) -> Optional[GroupAggregateState]:
    """The projector function: fold ``events`` into ``state`` (None before the first event)."""
    for event in events:
        state = _apply(state, event)
    return state
