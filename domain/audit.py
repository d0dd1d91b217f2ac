"""Audit replay of one group's history (ARCHITECTURE 2 "Determinism", 5): re-derive every recorded
outcome from the recorded inputs with the pure machine and check the group's invariants.

``GroupAuditor`` is fed a group's events in version order (and told the snapshots the store holds).
For each event it re-makes the decision the event records and compares:

* ``EnvelopeProcessed``: ``process_envelope`` runs again on the pre-envelope state with an identity
  look-up that answers only from the identity states the outcome recorded, so every commit (ours
  included) is validated again against its PRE-commit permissions, every application message is
  decrypted again, and the re-derived event must equal the recorded one. A ``MessageReceived``
  records no ciphertext: its PrivateMessage is rebuilt from the opening fields with the epoch's
  keys (``reseal_application``: the two AEAD seals, the signature verified under the sender's leaf
  in that epoch's tree), must hash to the recorded payload hash, and then goes through
  ``process_envelope`` as opened, without decrypting it again. Consecutive ``MessageReceived`` of
  the current epoch are replayed as a run (``_replay_messages``): the same checks per message, the
  epoch's constants and the state worked out once per run; the first message the run cannot confirm
  takes the general path, which reports it. Our own confirmed message takes its payload from the
  published intent, which must hash to the recorded hash;
* ``IntentPublished``: a commit is staged again from its plan and seed and must give the recorded
  payload; a message is encrypted again by the projector (which raises on a different payload);
* everything else is folded with the projector, which re-derives creation and joining.

After each event it checks the invariants: at most MAX_GROUP_SIZE inboxes, a group keeps a super
admin, a DM keeps its two inboxes, the leave rules (our own leave requests passed them; only
pending leavers leave; a remote leave request that breaks them is a warning), and the epoch chain
(each merged commit moves the epoch up by exactly one, nothing else moves it, a rejoin never goes
back). A snapshot must equal the replayed state at its version, epoch authenticator first.

Pure: no I/O, no clock. Findings are data; the caller decides how to report them.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

import attrs

from .application_content import LEAVE_REQUEST_CONTENT_TYPE, ApplicationContent, canonical_fields
from .conversation import MAX_GROUP_SIZE, check_leave, validate_dm_welcome
from .envelope_processing import application_outcome, process_envelope
from .errors import GroupError
from .eventing import DomainEvent
from .extensions import ConversationType
from .group_aggregate import GroupAggregateState, GroupSnapshot, payload_hash, project, stage_commit
from .group_events import (
    ApplicationReceived,
    CommitMerged,
    CommitRejected,
    EnvelopeProcessed,
    EnvelopeSkipped,
    GroupCreated,
    GroupJoined,
    IntentPublished,
    IntentQueued,
    LeaveRequestReceived,
    MessageReceived,
    OwnCommitMerged,
    OwnMessageConfirmed,
    OwnMessageStale,
)
from .intents import IntentState, SendMessageData
from .mls.errors import DecodeError, MlsError
from .mls.group import ApplicationMessage, Processed, ResealRun, StagedCommit, reseal_application
from .ports import Envelope
from .transcript import GroupUpdated
from .xmtp_mls import credential_inbox_id

__all__ = [
    "VIOLATION",
    "WARNING",
    "Finding",
    "EpochRecord",
    "MembershipChange",
    "GroupAudit",
    "GroupAuditor",
    "audit_group",
]

VIOLATION = "violation"
WARNING = "warning"

# Skips whose reason came from the identity registry at the time; the event records no identity
# state to re-check them with (the registry answered "not found").
_IDENTITY_SKIPS = frozenset({"InboxNotFound", "UnknownSequenceId"})


@attrs.frozen
class Finding:
    """One difference or broken invariant; ``check`` names the rule, ``version`` the event."""

    severity: str
    check: str
    version: Optional[int]
    epoch: Optional[int]
    message: str


@attrs.frozen
class EpochRecord:
    """The epoch authenticator re-derived when the group reached ``epoch`` at event ``version``."""

    epoch: int
    version: int
    authenticator: bytes


@attrs.frozen
class MembershipChange:
    """The member inboxes changed at event ``version`` (creation, a join, a merged commit)."""

    version: int
    epoch: int
    how: str
    by: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    left: tuple[str, ...]
    members: int


@attrs.frozen
class GroupAudit:
    """The outcome of auditing one group."""

    group_id: bytes
    conversation_type: Optional[ConversationType]
    inbox_id: str
    events: int
    snapshots: int
    epochs: tuple[EpochRecord, ...]
    timeline: tuple[MembershipChange, ...]
    members: tuple[str, ...]
    is_active: Optional[bool]
    counts: Mapping[str, int]
    findings: tuple[Finding, ...]

    @property
    def violations(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == VIOLATION)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == WARNING)

    @property
    def ok(self) -> bool:
        return not self.violations


class _IdentityNotRecorded(Exception):
    """Re-deriving an outcome needed an identity state the event did not record."""


def _recorded_identities(record: Iterable[tuple[str, int, tuple[bytes, ...]]]):
    table = {(inbox, sequence_id): frozenset(installations) for inbox, sequence_id, installations in record}

    def fetch(needed):
        missing = sorted(key for key in needed if key not in table)
        if missing:
            raise _IdentityNotRecorded(", ".join(f"{inbox[:12]}…@{seq}" for inbox, seq in missing))
        return {key: table[key] for key in needed}

    return fetch


_LEAVE_REQUEST = LEAVE_REQUEST_CONTENT_TYPE.encode()
_UNSEEN = object()


def _is_plain_message(data: bytes) -> bool:
    """Whether ``data`` is an ApplicationContent that is no leave request (what ``MessageReceived``
    records): ``ApplicationContent.decode``'s answer, read in place for the layout senders write."""
    fields = canonical_fields(data)
    if fields is None:
        try:
            return not ApplicationContent.decode(data).is_leave_request
        except DecodeError:
            return False
    content_type = fields[0]
    try:
        content_type.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return bool(content_type) and content_type != _LEAVE_REQUEST


def _short(inbox_id: str) -> str:
    return inbox_id[:12] + "…" if len(inbox_id) > 12 else inbox_id


def describe_outcome(outcome: Any) -> str:
    """A one-line account of an envelope outcome, for findings."""
    name = type(outcome).__name__
    if isinstance(outcome, CommitRejected):
        return f"{name}({outcome.error}: {outcome.detail})" if outcome.detail else f"{name}({outcome.error})"
    if isinstance(outcome, EnvelopeSkipped):
        return f"{name}({outcome.reason})"
    if isinstance(outcome, ApplicationReceived):
        return f"{name}(from {_short(outcome.sender_inbox_id)}, {len(outcome.content)} bytes)"
    if isinstance(outcome, MessageReceived):
        return f"{name}(from {_short(outcome.sender_inbox_id)}, {len(outcome.opened.data)} bytes of data)"
    if isinstance(outcome, CommitMerged):
        return f"{name}(by {_short(outcome.committer_inbox_id)})"
    return name


def _differences(recorded: Any, derived: Any) -> list[str]:
    if isinstance(recorded, MessageReceived):
        return _message_differences(recorded, derived)
    names = [f.name for f in attrs.fields(type(recorded)) if f.eq]
    return [n for n in names if getattr(recorded, n) != getattr(derived, n)]


def _message_differences(recorded: MessageReceived, derived: MessageReceived) -> list[str]:
    names = [f.name for f in attrs.fields(type(recorded.opened))]
    found = [n for n in names if getattr(recorded.opened, n) != getattr(derived.opened, n)]
    if "data" in found:
        try:
            mine, theirs = recorded.application_content, derived.application_content
            found += [n for n in ("content_type", "content", "idempotency_key") if getattr(mine, n) != getattr(theirs, n)]
        except DecodeError:
            pass
    return found


def _in_recorded_shape(recorded: EnvelopeProcessed, derived: Any, payload: bytes) -> Any:
    """The re-derived event in the shape of a record written before payload hashes: v1 stores keep
    the payload beside ``ApplicationReceived`` and ``OwnMessageConfirmed`` without a hash."""
    old, new = recorded.outcome, getattr(derived, "outcome", None)
    if isinstance(old, ApplicationReceived) and isinstance(new, MessageReceived):
        outcome: Any = ApplicationReceived(
            message_id=new.message_id,
            sender_inbox_id=new.sender_inbox_id,
            sender_installation_id=new.sender_installation_id,
            content_type=new.content_type,
            content=new.content,
            idempotency_key=new.idempotency_key,
            epoch=new.epoch,
        )
    elif isinstance(old, OwnMessageConfirmed) and old.payload_hash is None and isinstance(new, OwnMessageConfirmed):
        outcome = attrs.evolve(new, payload_hash=None)
    elif isinstance(old, CommitMerged) and old.still_member is None and isinstance(new, CommitMerged):
        outcome = attrs.evolve(new, still_member=None, extensions=None)  # recorded before CommitMerged v2
    else:
        return derived
    shaped = attrs.evolve(derived, payload=payload, outcome=outcome)
    object.__setattr__(shaped, "derived", derived.derived)
    return shaped


class GroupAuditor:
    """Audits one group: ``feed`` its events in order, then ``finish``."""

    def __init__(self, group_id: bytes, snapshots: Iterable[GroupSnapshot] = ()) -> None:
        self.group_id = bytes(group_id)
        self._snapshots = {s.originator_version: s for s in snapshots}
        self._state: Optional[GroupAggregateState] = None
        self._halted = False
        self._last_version = 0
        self._events = 0
        self._findings: list[Finding] = []
        self._epochs: list[EpochRecord] = []
        self._timeline: list[MembershipChange] = []
        self._counts: dict[str, int] = {}
        self._checked_snapshots: set[int] = set()
        self._run: list[EnvelopeProcessed] = []

    # -- bookkeeping -----------------------------------------------------------------------------

    def _count(self, name: str, n: int = 1) -> None:
        self._counts[name] = self._counts.get(name, 0) + n

    def _find(self, check: str, message: str, version: Optional[int], severity: str = VIOLATION) -> None:
        epoch = None if self._state is None else self._state.epoch
        self._findings.append(Finding(severity, check, version, epoch, message))

    def _halt(self, check: str, message: str, version: int) -> None:
        self._find(check, message + "; replay stops here" + self._resume_hint(version), version)
        self._halted = True

    def _resume_hint(self, version: int) -> str:
        later = [v for v in self._snapshots if v > version]
        return f" (resumes from the snapshot at v{min(later)})" if later else ""

    # -- feeding ---------------------------------------------------------------------------------

    def unreadable(self, version: int, message: str) -> None:
        """The store holds a record at ``version`` that could not be read (tampered or corrupt)."""
        self._flush()
        self._events += 1
        self._last_version = max(self._last_version, version)
        self._halt("record", f"the record at v{version} cannot be read: {message}", version)

    def feed(self, event: DomainEvent) -> None:
        """Re-derive and check one event (the next in version order)."""
        self._events += 1
        version = event.originator_version
        if (
            version == self._last_version + 1
            and type(event) is EnvelopeProcessed
            and type(event.outcome) is MessageReceived
            and not self._halted
            and self._state is not None
        ):
            # Received messages are held back and rebuilt as a run (``_replay_messages``); any other
            # event, a snapshot's version, ``finish`` or ``state`` replays the run first.
            self._last_version = version
            self._run.append(event)
            if version in self._snapshots:
                self._flush()
            return
        self._flush()
        if version != self._last_version + 1:
            missing = "missing" if version > self._last_version + 1 else "out of order or repeated"
            self._halt("sequence", f"event v{version} follows v{self._last_version}: events {missing}", version)
        self._last_version = max(self._last_version, version)
        self._process(event)

    def _process(self, event: DomainEvent) -> None:
        """Re-derive and check one event that is in sequence (or resume from its snapshot)."""
        version = event.originator_version
        if self._halted:
            snapshot = self._snapshots.get(version)
            if snapshot is None:
                return
            try:
                self._state = snapshot.restore()
            except Exception as exc:  # noqa: BLE001 - an unusable snapshot leaves the replay halted
                self._find("snapshot", f"the snapshot at v{version} cannot be restored: {type(exc).__name__}: {exc}", version)
                return
            self._halted = False
            self._checked_snapshots.add(version)
            self._find("replay", f"replay resumed from the snapshot at v{version}", version, WARNING)
            return
        before = self._state
        try:
            after = self._step(before, event)
        except Exception as exc:  # noqa: BLE001 - any failure to re-derive is a finding, not a crash
            self._halt("replay", f"{type(event).__name__} v{version} cannot be replayed: {type(exc).__name__}: {exc}", version)
            return
        self._state = after
        self._check_invariants(before, after, event)
        snapshot = self._snapshots.get(version)
        if snapshot is not None:
            self._check_snapshot(snapshot, after)

    def _flush(self) -> None:
        """Replay the held-back received messages: runs of them on the fast path, any message it
        does not confirm (and everything after a halt) one by one on the general path."""
        run = self._run
        if not run:
            return
        self._run = []
        done = 0
        while done < len(run):
            if not self._halted:
                done += self._replay_messages(run, done)
                if done == len(run):
                    return
            self._process(run[done])
            done += 1

    def _replay_messages(self, run: list[EnvelopeProcessed], start: int) -> int:
        """Confirm ``run[start:]``, received messages of the current epoch, with one ``ResealRun``:
        each is rebuilt (its signature verified) and must record exactly what ``process_envelope``
        would for it (``_confirm_message``'s checks, with the epoch's constants and each sender's ids
        worked out once). Stops at the first message it cannot confirm, which the general path then
        re-derives and reports, or after one with a snapshot. Returns how many it confirmed; the
        state moves past them in one step (the projector's rule needs only the last one)."""
        state = self._state
        if state is None:  # pragma: no cover - feed holds messages back only once a state exists
            return 0
        mls = state.mls
        resealing = ResealRun(mls)
        epoch = mls.epoch
        own_leaf = mls.own_leaf_index
        published = {i.payload_hash for i in state.intents if i.state is IntentState.PUBLISHED}
        senders: dict[int, Any] = {}  # leaf -> (inbox id, installation id), None: not a sender
        snapshots = self._snapshots
        cursor, modified_ns, version = state.cursor, state.modified_ns, state.version
        last = None
        reseal, keep, is_plain, digest = resealing.reseal, resealing.keep, _is_plain_message, payload_hash
        for event in run[start:] if start else run:
            opened = event.outcome.opened
            if (
                event.payload
                or event.cursor <= cursor
                or event.timestamp_ns < modified_ns
                or event.originator_version != version + 1
                or opened.epoch != epoch
            ):
                break
            leaf = opened.leaf
            sender = senders.get(leaf, _UNSEEN)
            if sender is _UNSEEN:
                member = None if leaf == own_leaf else resealing.member(leaf)
                sender = None if member is None else (credential_inbox_id(member.credential), member.signature_key)
                senders[leaf] = sender
            if (
                sender is None
                or sender[0] != opened.sender_inbox_id
                or sender[1] != opened.sender_installation_id
                or opened.payload_hash in published
                or not is_plain(opened.data)
            ):
                break
            try:
                encoded = reseal(
                    leaf, opened.generation, opened.reuse_guard, opened.authenticated_data, opened.data,
                    opened.signature, opened.padding,
                )
            except (MlsError, DecodeError, ValueError):
                break
            if digest(encoded) != opened.payload_hash:
                break
            keep()
            cursor, modified_ns, version = event.cursor, event.timestamp_ns, event.originator_version
            last = event
            if version in snapshots:
                break
        if last is None:
            return 0
        confirmed = version - state.version
        for name in ("messages rebuilt and verified", "outcomes re-derived", "messages received"):
            self._count(name, confirmed)
        final = EnvelopeProcessed(
            originator_id=last.originator_id,
            originator_version=version,
            timestamp_ns=last.timestamp_ns,
            cursor=last.cursor,
            payload=last.payload,
            server_time_ns=last.server_time_ns,
            outcome=last.outcome,
        )
        object.__setattr__(final, "derived", resealing.state())
        after = project(attrs.evolve(state, version=version - 1), [final])
        if after is None:  # pragma: no cover - project returns a state for any event
            raise ValueError("the projector produced no state")
        self._state = after
        snapshot = snapshots.get(version)
        if snapshot is not None:
            self._check_snapshot(snapshot, after)
        return confirmed

    def _step(self, state: Optional[GroupAggregateState], event: DomainEvent) -> GroupAggregateState:
        if state is None and not isinstance(event, (GroupCreated, GroupJoined)):
            raise ValueError("a group's history must begin with GroupCreated or GroupJoined")
        if isinstance(event, EnvelopeProcessed):
            event = self._rederive_envelope(state, event)  # type: ignore[arg-type]
        elif isinstance(event, IntentPublished):
            staged = self._rederive_publish(state, event)  # type: ignore[arg-type]
            if staged is not None:  # verified equal to the payload: the merge may reuse it
                event = attrs.evolve(event)
                object.__setattr__(event, "derived", staged)
        elif isinstance(event, IntentQueued):
            self._check_queued(state, event)  # type: ignore[arg-type]
        elif isinstance(event, GroupJoined):
            self._count("joins")
        after = project(state, [event])
        if after is None:  # pragma: no cover - project returns a state for any event
            raise ValueError("the projector produced no state")
        if isinstance(event, GroupJoined) and after.conversation_type is ConversationType.DM:
            try:
                validate_dm_welcome(after.xmtp, after.inbox_id, event.added_by_inbox_id)
            except GroupError as exc:
                self._find("dm", f"joined a DM whose welcome breaks the DM rules: {type(exc).__name__}", event.originator_version)
        return after

    def _recorded_payload(self, state: GroupAggregateState, event: EnvelopeProcessed) -> Optional[tuple[bytes, Optional[Processed]]]:
        """(the envelope's payload, the opened message if rebuilt) of a recorded envelope; None after a finding."""
        recorded = event.outcome
        where = f"envelope {event.cursor}"
        if isinstance(recorded, MessageReceived):
            opened = recorded.opened
            try:
                processed, payload = reseal_application(
                    state.mls,
                    epoch=opened.epoch,
                    leaf=opened.leaf,
                    generation=opened.generation,
                    reuse_guard=opened.reuse_guard,
                    authenticated_data=opened.authenticated_data,
                    data=opened.data,
                    signature=opened.signature,
                    padding=opened.padding,
                )
            except (MlsError, DecodeError, ValueError) as exc:
                self._find("outcome", f"{where}: the message {describe_outcome(recorded)} records cannot be rebuilt "
                           f"from its opening fields: {type(exc).__name__}: {exc}", event.originator_version)
                return None
            self._count("messages rebuilt and verified")
            return payload, processed
        if isinstance(recorded, OwnMessageConfirmed) and recorded.payload_hash is not None and not event.payload:
            intent = state.intent(recorded.intent_id)
            if intent is None or intent.payload is None:
                self._find("outcome", f"{where}: OwnMessageConfirmed names no published intent with a payload",
                           event.originator_version)
                return None
            return intent.payload, None
        return event.payload, None

    def _rederive_envelope(self, state: GroupAggregateState, event: EnvelopeProcessed) -> DomainEvent:
        version = event.originator_version
        recorded = event.outcome
        found = self._recorded_payload(state, event)
        if found is None:
            return event
        payload, processed = found
        if processed is not None:
            confirmed = self._confirm_message(state, event, payload, processed)
            if confirmed is not None:
                return confirmed
        envelope = Envelope(event.cursor, payload, event.server_time_ns)
        fetch = _recorded_identities(getattr(recorded, "identity_states", ()))
        self._count("outcomes re-derived")
        try:
            derived_events = process_envelope(state, envelope, fetch, event.timestamp_ns, processed=processed)
        except _IdentityNotRecorded as exc:
            if isinstance(recorded, EnvelopeSkipped) and recorded.reason in _IDENTITY_SKIPS:
                self._count("identity skips (not re-checkable)")
            else:
                self._find(
                    "outcome",
                    f"envelope {event.cursor}: re-deriving {describe_outcome(recorded)} needs identity states "
                    f"the event does not record ({exc})",
                    version,
                )
            return event
        if not derived_events:
            self._find("sequence", f"envelope cursor {event.cursor} does not advance past {state.cursor}", version)
            return event
        derived = _in_recorded_shape(event, derived_events[0], payload)
        if derived == event:
            self._count_outcome(recorded)
            return derived  # carries the state it computed: the projector need not decrypt twice
        self._report_outcome_difference(event, derived)
        return event

    def _confirm_message(
        self, state: GroupAggregateState, event: EnvelopeProcessed, payload: bytes, processed: Processed
    ) -> Optional[DomainEvent]:
        """The recorded ``MessageReceived`` event, carrying the state it leads to, when ``process_envelope``
        would record exactly it for the rebuilt message: checked piece by piece, without building the
        event (one per stored message). None sends any other case down the general path."""
        output = processed.output
        if (
            not isinstance(output, ApplicationMessage)
            or event.payload
            or event.cursor <= state.cursor
            or event.timestamp_ns < state.modified_ns  # the decision's timestamp is never earlier
            or event.originator_version != state.version + 1
        ):
            return None
        digest = payload_hash(payload)
        if state.published_by_hash(digest) is not None:
            return None
        if application_outcome(state, output, digest) != event.outcome.opened:  # type: ignore[union-attr]
            return None
        self._count("outcomes re-derived")
        self._count_outcome(event.outcome)
        confirmed = EnvelopeProcessed(
            originator_id=event.originator_id,
            originator_version=event.originator_version,
            timestamp_ns=event.timestamp_ns,
            cursor=event.cursor,
            payload=event.payload,
            server_time_ns=event.server_time_ns,
            outcome=event.outcome,
        )
        object.__setattr__(confirmed, "derived", processed.new_state)
        return confirmed

    def _count_outcome(self, outcome: Any) -> None:
        names = {
            OwnCommitMerged: "own commits merged",
            CommitMerged: "commits by others merged",
            CommitRejected: "commits rejected",
            ApplicationReceived: "messages decrypted",
            MessageReceived: "messages received",
            LeaveRequestReceived: "leave requests",
            OwnMessageConfirmed: "own messages confirmed",
            OwnMessageStale: "own messages sent anew (stale)",
            EnvelopeSkipped: "envelopes skipped",
        }
        self._count(names.get(type(outcome), type(outcome).__name__))
        if isinstance(outcome, (OwnCommitMerged, CommitMerged)):
            self._count("commits re-validated")

    def _report_outcome_difference(self, recorded_event: EnvelopeProcessed, derived_event: DomainEvent) -> None:
        recorded = recorded_event.outcome
        derived = derived_event.outcome  # type: ignore[attr-defined]
        version = recorded_event.originator_version
        where = f"envelope {recorded_event.cursor}"
        if type(recorded) is not type(derived):
            check = "permissions" if isinstance(recorded, (CommitMerged, OwnCommitMerged)) and isinstance(derived, CommitRejected) else "outcome"
            self._find(check, f"{where}: recorded {describe_outcome(recorded)}, re-derived {describe_outcome(derived)}", version)
            return
        fields = _differences(recorded, derived)
        envelope_fields = [n for n in ("cursor", "payload", "server_time_ns", "timestamp_ns") if getattr(recorded_event, n) != getattr(derived_event, n)]
        detail = ", ".join(fields + envelope_fields) or "the event"
        self._find("outcome", f"{where}: recorded {describe_outcome(recorded)} differs from the re-derived one in {detail}", version)

    def _rederive_publish(self, state: GroupAggregateState, event: IntentPublished) -> Optional[StagedCommit]:
        version = event.originator_version
        if event.epoch != state.epoch:
            self._find("epoch-chain", f"intent published at epoch {event.epoch} while the group was at {state.epoch}", version)
        if event.payload is not None and payload_hash(event.payload) != event.payload_hash:
            self._find("outcome", "a published payload does not match its recorded hash", version)
        intent = state.intent(event.intent_id)
        if intent is None or not intent.is_commit:
            self._count("messages re-encrypted")
            return None  # the projector re-encrypts messages and compares the hash
        staged = stage_commit(state.mls, attrs.evolve(intent, plan=event.plan, publish_seed=event.seed))
        self._count("commits re-staged")
        if staged.message != event.payload:
            self._find("outcome", "re-staging the published commit from its plan and seed gives other bytes", version)
            return None
        return staged

    def _check_queued(self, state: GroupAggregateState, event: IntentQueued) -> None:
        data = event.data
        if isinstance(data, SendMessageData) and data.content_type == LEAVE_REQUEST_CONTENT_TYPE:
            try:
                check_leave(state.xmtp, state.inbox_id)
            except GroupError as exc:
                self._find("leave", f"our leave request was queued although {type(exc).__name__}: {exc}", event.originator_version)

    # -- invariants ------------------------------------------------------------------------------

    def _check_invariants(self, before: Optional[GroupAggregateState], after: GroupAggregateState, event: DomainEvent) -> None:
        version = event.originator_version
        outcome = getattr(event, "outcome", None)
        merged = isinstance(outcome, (OwnCommitMerged, CommitMerged))
        new_mls = before is None or isinstance(event, GroupJoined)
        if before is not None and not new_mls:
            removed_us = merged and before.is_active and not after.is_active
            if removed_us and after.epoch not in (before.epoch, before.epoch + 1):
                self._find("epoch-chain", f"the commit removing us moved the epoch from {before.epoch} to {after.epoch}", version)
            elif merged and not removed_us and after.epoch != before.epoch + 1:
                self._find("epoch-chain", f"a merged commit moved the epoch from {before.epoch} to {after.epoch}", version)
            elif not merged and after.epoch != before.epoch:
                self._find("epoch-chain", f"{type(event).__name__} moved the epoch from {before.epoch} to {after.epoch}", version)
        if isinstance(event, GroupJoined) and before is not None and after.epoch <= before.epoch:
            self._find("epoch-chain", f"rejoined at epoch {after.epoch}, not after epoch {before.epoch}", version)
        if new_mls or merged:
            self._epochs.append(EpochRecord(after.epoch, version, bytes(after.mls.epoch_authenticator)))
            self._record_membership(before, after, event, outcome)
            self._check_group(after, version)
        if merged and before is not None:
            self._check_leavers(before, outcome, version)
        if isinstance(outcome, LeaveRequestReceived) and before is not None:
            try:
                check_leave(before.xmtp, outcome.sender_inbox_id)
            except GroupError as exc:
                self._find("leave", f"{_short(outcome.sender_inbox_id)} sent a leave request although {type(exc).__name__} "
                           "(recorded as pending; no super admin can act on it)", version, WARNING)

    def _check_group(self, state: GroupAggregateState, version: int) -> None:
        if not state.is_active:
            return
        xmtp = state.xmtp
        members = xmtp.member_inboxes()
        if len(members) > MAX_GROUP_SIZE:
            self._find("group-size", f"the group has {len(members)} inboxes, more than MAX_GROUP_SIZE={MAX_GROUP_SIZE}", version)
        if xmtp.conversation_type is ConversationType.DM:
            dm = xmtp.metadata.dm_members
            allowed = set() if dm is None else set(dm.inboxes())
            if len(members) > 2 or not set(members) <= allowed:
                self._find("dm", f"the DM has members outside its two inboxes ({len(members)} inboxes)", version)
        elif not xmtp.mutable_metadata.super_admin_list:
            self._find("super-admins", "the group has no super admin left", version)

    def _check_leavers(self, before: GroupAggregateState, outcome: Any, version: int) -> None:
        if outcome.group_updated is None:
            return
        try:
            transcript = GroupUpdated.decode(outcome.group_updated)
        except DecodeError as exc:
            self._find("outcome", f"a merged commit's transcript does not decode: {exc}", version)
            return
        strangers = [i for i in transcript.left_inboxes if i not in before.pending_leavers]
        if strangers:
            self._find("leave", f"{', '.join(map(_short, strangers))} left without a pending leave request", version)

    def _record_membership(self, before: Optional[GroupAggregateState], after: GroupAggregateState, event: DomainEvent, outcome: Any) -> None:
        old = set() if before is None or not before.is_active or isinstance(event, GroupJoined) else set(before.xmtp.member_inboxes())
        transcript = None
        if getattr(outcome, "group_updated", None) is not None:
            try:
                transcript = GroupUpdated.decode(outcome.group_updated)
            except DecodeError:
                transcript = None
        if after.is_active:
            new = set(after.xmtp.member_inboxes())
        else:  # we were removed: the last state we hold lists nobody, the transcript says who went
            gone = set() if transcript is None else set(transcript.removed_inboxes) | set(transcript.left_inboxes)
            new = old - (gone | {after.inbox_id})
        left = set() if transcript is None else set(transcript.left_inboxes) & (old - new)
        by = after.inbox_id
        if isinstance(event, GroupCreated):
            how = "created"
        elif isinstance(event, GroupJoined):
            how, by = "joined", event.added_by_inbox_id
        else:
            how = "own commit" if isinstance(outcome, OwnCommitMerged) else "commit"
            if isinstance(outcome, CommitMerged):
                by = outcome.committer_inbox_id
            if old == new:
                return
        self._timeline.append(
            MembershipChange(
                version=event.originator_version,
                epoch=after.epoch,
                how=how,
                by=by,
                added=tuple(sorted(new - old)),
                removed=tuple(sorted(old - new - left)),
                left=tuple(sorted(left)),
                members=len(new),
            )
        )

    def _check_snapshot(self, snapshot: GroupSnapshot, replayed: GroupAggregateState) -> None:
        version = snapshot.originator_version
        self._checked_snapshots.add(version)
        self._count("snapshots compared")
        expected = GroupSnapshot.take(replayed)  # one encoding of the replayed state, no decoding
        if expected.mls == snapshot.mls and expected.fields == snapshot.fields and expected.timestamp_ns == snapshot.timestamp_ns:
            return
        try:
            recorded = snapshot.restore()
        except Exception as exc:  # noqa: BLE001 - a snapshot that cannot be restored is a finding
            self._find("snapshot", f"the snapshot at v{version} cannot be restored: {type(exc).__name__}: {exc}", version)
            return
        if bytes(recorded.mls.epoch_authenticator) != bytes(replayed.mls.epoch_authenticator):
            self._find("authenticator", f"the snapshot at v{version} records another epoch authenticator for epoch "
                       f"{recorded.epoch} than the replay derives (epoch {replayed.epoch})", version)
            return
        fields = [f.name for f in attrs.fields(GroupAggregateState)
                  if f.eq and getattr(recorded, f.name) != getattr(replayed, f.name)]
        if expected.mls != snapshot.mls and "mls" not in fields:
            fields.append("the MLS state's encoding")
        self._find("snapshot", f"the snapshot at v{version} differs from the replayed state in "
                   f"{', '.join(fields) or 'its timestamp'}", version)

    # -- result ----------------------------------------------------------------------------------

    def finish(self) -> GroupAudit:
        """The group's audit once every stored event was fed."""
        self._flush()
        for version in sorted(set(self._snapshots) - self._checked_snapshots):
            if version > self._last_version:
                self._find("sequence", f"a snapshot exists at v{version} but the events stop at v{self._last_version}: "
                           "events are missing", version)
        state = self._state
        xmtp_members: tuple[str, ...] = ()
        if state is not None and state.is_active:
            xmtp_members = tuple(sorted(state.xmtp.member_inboxes()))
        return GroupAudit(
            group_id=self.group_id,
            conversation_type=None if state is None else state.conversation_type,
            inbox_id="" if state is None else state.inbox_id,
            events=self._events,
            snapshots=len(self._snapshots),
            epochs=tuple(self._epochs),
            timeline=tuple(self._timeline),
            members=xmtp_members,
            is_active=None if state is None else state.is_active,
            counts=dict(sorted(self._counts.items())),
            findings=tuple(self._findings),
        )

    @property
    def state(self) -> Optional[GroupAggregateState]:
        """The replayed state so far (None before the first event or after a halt)."""
        self._flush()
        return None if self._halted else self._state


def audit_group(group_id: bytes, events: Iterable[DomainEvent], snapshots: Iterable[GroupSnapshot] = ()) -> GroupAudit:
    """Audit a whole history at once (see ``GroupAuditor``)."""
    auditor = GroupAuditor(group_id, snapshots)
    for event in events:
        auditor.feed(event)
    return auditor.finish()
