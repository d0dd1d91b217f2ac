"""Processing one envelope of a group's topic (libxmtp section 6 "Confirmation", section 7 sync): a pure
decision from the aggregate state, the envelope, and the identity look-up XMTP validation needs.

In order:

1. an envelope at or below the stored cursor was processed already: no event (idempotence);
2. a payload whose hash matches a published intent is ours: an application message is confirmed;
   a commit is re-staged from its plan, validated against the pre-commit state and merged
   (``OwnCommitMerged``) or rejected (``CommitRejected``, the intent ends in ERROR);
3. anything else goes through ``process_message`` with ``XmtpRules``: another member's commit is
   validated and merged or rejected, an application message is decrypted (a leave request is
   recorded as such), and every failure (garbage, replay, wrong or past epoch, forgery, a sender
   that is not a member, a standalone proposal) becomes ``EnvelopeSkipped`` naming the error.

Identity-registry failures other than "not found" propagate: a transient outage must not make a
member skip a valid commit.
"""

from __future__ import annotations

from typing import Any, Optional

from .application_content import ApplicationContent, message_id
from .commit_rules import CommitRejectedByPolicy, IdentityFetcher, XmtpRules, check_own_commit
from .commit_summary import CommitViolation
from .eventing import DomainEvent
from .group_aggregate import GroupAggregateState, ReplayMismatch, payload_hash, stage_commit
from .group_derivations import own_commit_check
from .group_decisions import Emitter
from .group_events import (
    ApplicationReceived,
    CommitMerged,
    CommitRejected,
    EnvelopeOutcome,
    EnvelopeProcessed,
    EnvelopeSkipped,
    LeaveRequestReceived,
    OwnCommitMerged,
    OwnMessageConfirmed,
    identity_record,
)
from .identity_errors import InboxNotFound, UnknownSequenceId
from .intents import Intent, SendMessageData
from .mls.errors import DecodeError, MlsError
from .mls.group import ApplicationMessage, OwnMessageReceived, StagedCommit, merge_commit, process_message
from .ports import Envelope
from .welcomes import WelcomeEnvelope
from .xmtp_mls import credential_inbox_id

__all__ = ["process_envelope"]


def process_envelope(
    state: GroupAggregateState,
    envelope: Envelope,
    fetch_identities: IdentityFetcher,
    timestamp_ns: int,
) -> list[DomainEvent]:
    """The events of processing ``envelope`` (none if it is at or below the cursor)."""
    if envelope.cursor <= state.cursor:
        return []
    outcome, derived = _outcome(state, envelope, fetch_identities)
    emitter = Emitter.after(state, timestamp_ns)
    emitter.emit(
        EnvelopeProcessed,
        derived=derived,
        cursor=envelope.cursor,
        payload=envelope.payload,
        server_time_ns=envelope.server_time_ns,
        outcome=outcome,
    )
    return emitter.events


def _outcome(state: GroupAggregateState, envelope: Envelope, fetch: IdentityFetcher) -> tuple[EnvelopeOutcome, Any]:
    own = state.published_by_hash(payload_hash(envelope.payload))
    if own is not None:
        if own.is_commit:
            return _own_commit(state, own, envelope, fetch)
        data = own.data
        if not isinstance(data, SendMessageData):
            raise ReplayMismatch("a published application intent without message data")
        return OwnMessageConfirmed(intent_id=own.intent_id, message_id=data.message_id), None
    rules = XmtpRules(fetch, (state.mls, state.xmtp))
    try:
        processed = process_message(
            state.mls, envelope.payload, rules=rules, now=envelope.server_time_ns // 1_000_000_000
        )
    except CommitRejectedByPolicy as exc:
        return _rejected(exc.violation, None, rules.identities), None
    except (InboxNotFound, UnknownSequenceId) as exc:
        return EnvelopeSkipped(reason=type(exc).__name__, detail=str(exc)), None
    except (DecodeError, MlsError) as exc:
        return EnvelopeSkipped(reason=type(exc).__name__, detail=str(exc)), None
    output = processed.output
    if isinstance(output, StagedCommit):
        return _commit(state, output, rules), merge_commit(state.mls, output)
    if isinstance(output, ApplicationMessage):
        return _application(state, output, processed.new_state)
    if isinstance(output, OwnMessageReceived):
        return EnvelopeSkipped(reason="OwnMessageReplayed", detail=f"content type {output.content_type}"), None
    return EnvelopeSkipped(reason="UnexpectedOutput", detail=type(output).__name__), None


def _rejected(violation: CommitViolation, intent_id: Optional[bytes], identities) -> CommitRejected:
    return CommitRejected(
        error=violation.violation.value,
        detail=violation.detail,
        intent_id=intent_id,
        identity_states=identity_record(identities),
    )


def _own_commit(
    state: GroupAggregateState, intent: Intent, envelope: Envelope, fetch: IdentityFetcher
) -> tuple[EnvelopeOutcome, Any]:
    staged = stage_commit(state.mls, intent)
    if payload_hash(staged.message) != intent.payload_hash:
        raise ReplayMismatch("re-staging our published commit produced other bytes")
    checked = own_commit_check(intent, state.mls, fetch)
    if checked is None:
        checked = check_own_commit(state.mls, staged.effect, fetch, state.xmtp)
    verdict, identities = checked
    if isinstance(verdict, CommitViolation):
        return _rejected(verdict, intent.intent_id, identities), None
    transcript = verdict.group_updated(state.pending_leavers)
    welcome = None
    recipients: tuple[bytes, ...] = ()
    if staged.welcome is not None and intent.plan is not None and intent.plan.added_installations:
        welcome = WelcomeEnvelope(staged.welcome, envelope.cursor).encode()
        recipients = intent.plan.added_installations
    outcome = OwnCommitMerged(
        intent_id=intent.intent_id,
        group_updated=None if transcript is None else transcript.encode(),
        welcome=welcome,
        welcome_installations=recipients,
        identity_states=identity_record(identities),
    )
    return outcome, merge_commit(state.mls, staged)


def _commit(state: GroupAggregateState, staged: StagedCommit, rules: XmtpRules) -> CommitMerged:
    validated = rules.validated
    transcript = None if validated is None else validated.group_updated(state.pending_leavers)
    committer = state.mls.tree.leaf(staged.effect.committer)
    return CommitMerged(
        committer_inbox_id=credential_inbox_id(staged.effect.committer_credential),
        committer_installation_id=b"" if committer is None else committer.signature_key,
        group_updated=None if transcript is None else transcript.encode(),
        identity_states=identity_record(rules.identities),
    )


def _application(state: GroupAggregateState, output: ApplicationMessage, new_mls) -> tuple[EnvelopeOutcome, Any]:
    try:
        content = ApplicationContent.decode(output.data)
    except DecodeError as exc:
        return EnvelopeSkipped(reason="MalformedApplicationContent", detail=str(exc)), None
    sender_inbox = credential_inbox_id(output.credential)
    leaf = state.mls.tree.leaf(output.sender_leaf) if state.mls.tree.has_leaf(output.sender_leaf) else None
    installation = leaf.signature_key if leaf is not None and leaf.credential == output.credential else b""
    if content.is_leave_request:
        return LeaveRequestReceived(sender_inbox_id=sender_inbox, sender_installation_id=installation), new_mls
    outcome = ApplicationReceived(
        message_id=message_id(state.group_id, content.idempotency_key, content.content),
        sender_inbox_id=sender_inbox,
        sender_installation_id=installation,
        content_type=content.content_type,
        content=content.content,
        idempotency_key=content.idempotency_key,
        epoch=output.epoch,
    )
    return outcome, new_mls
