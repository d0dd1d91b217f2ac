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

A received application message is recorded as ``MessageReceived`` (its opening fields and the
payload's hash, no payload) and our own as ``OwnMessageConfirmed`` with the payload's hash: the
event's payload is then empty. An audit that rebuilt such a message hands ``process_envelope``
the ``Processed`` it got, so nothing is decrypted twice.

Identity-registry failures other than "not found" propagate: a transient outage must not make a
member skip a valid commit.
"""

from __future__ import annotations

from typing import Any, Optional, Union

from .application_content import ApplicationContent
from .commit_rules import CommitRejectedByPolicy, IdentityFetcher, XmtpRules, check_own_commit
from .commit_summary import CommitViolation
from .eventing import DomainEvent
from .group_aggregate import GroupAggregateState, ReplayMismatch, payload_hash, stage_commit
from .group_derivations import own_commit_check
from .configuration import MAX_PAST_EPOCHS
from .group_decisions import Emitter
from .group_events import (
    CommitMerged,
    CommitRejected,
    EnvelopeOutcome,
    EnvelopeProcessed,
    EnvelopeSkipped,
    LeaveRequestReceived,
    MessageReceived,
    OwnCommitMerged,
    OwnMessageConfirmed,
    OwnMessageStale,
    extension_items,
    identity_record,
)
from .identity_errors import InboxNotFound, UnknownSequenceId
from .intents import Intent, SendMessageData
from .mls.errors import DecodeError, MlsError
from .mls.group import (
    ApplicationMessage,
    GroupState,
    OwnMessageReceived,
    Processed,
    StagedCommit,
    merge_commit,
    process_message,
)
from .opened_messages import OpenedMessage
from .ports import Envelope
from .welcomes import WelcomeEnvelope
from .xmtp_mls import credential_inbox_id

__all__ = ["process_envelope", "application_outcome"]


def process_envelope(
    state: GroupAggregateState,
    envelope: Envelope,
    fetch_identities: IdentityFetcher,
    timestamp_ns: int,
    *,
    processed: Optional[Processed] = None,
) -> list[DomainEvent]:
    """The events of processing ``envelope`` (none if it is at or below the cursor).

    ``processed``: what ``process_message`` gives for the payload, when the caller has it already."""
    if envelope.cursor <= state.cursor:
        return []
    outcome, derived = _outcome(state, envelope, fetch_identities, processed)
    unstored = isinstance(outcome, MessageReceived) or (
        isinstance(outcome, OwnMessageConfirmed) and outcome.payload_hash is not None
    )
    emitter = Emitter.after(state, timestamp_ns)
    emitter.emit(
        EnvelopeProcessed,
        derived=derived,
        cursor=envelope.cursor,
        payload=b"" if unstored else envelope.payload,
        server_time_ns=envelope.server_time_ns,
        outcome=outcome,
    )
    return emitter.events


def _outcome(
    state: GroupAggregateState, envelope: Envelope, fetch: IdentityFetcher, processed: Optional[Processed]
) -> tuple[EnvelopeOutcome, Any]:
    digest = payload_hash(envelope.payload)
    own = state.published_by_hash(digest)
    if own is not None:
        if own.is_commit:
            return _own_commit(state, own, envelope, fetch)
        data = own.data
        if not isinstance(data, SendMessageData):
            raise ReplayMismatch("a published application intent without message data")
        epoch = own.published_in_epoch or 0
        if epoch + MAX_PAST_EPOCHS <= state.mls.epoch:  # members may have dropped its keys: send it anew
            return OwnMessageStale(intent_id=own.intent_id, epoch=epoch), None
        return OwnMessageConfirmed(intent_id=own.intent_id, message_id=data.message_id, payload_hash=digest), None
    if processed is not None:
        return _opened(state, processed, digest)
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
        merged = merge_commit(state.mls, output)
        return _commit(state, output, rules, merged), merged
    return _opened(state, processed, digest)


def _opened(state: GroupAggregateState, processed: Processed, digest: bytes) -> tuple[EnvelopeOutcome, Any]:
    """The outcome of an opened message that is no commit."""
    output = processed.output
    if isinstance(output, ApplicationMessage):
        return _application(state, output, processed.new_state, digest)
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


def _commit(state: GroupAggregateState, staged: StagedCommit, rules: XmtpRules, merged: GroupState) -> CommitMerged:
    validated = rules.validated
    transcript = None if validated is None else validated.group_updated(state.pending_leavers)
    committer = state.mls.tree.leaf(staged.effect.committer)
    extensions = extension_items(merged.extensions)
    return CommitMerged(
        committer_inbox_id=credential_inbox_id(staged.effect.committer_credential),
        committer_installation_id=b"" if committer is None else committer.signature_key,
        group_updated=None if transcript is None else transcript.encode(),
        identity_states=identity_record(rules.identities),
        still_member=merged.is_active,
        extensions=None if extensions == extension_items(state.mls.extensions) else extensions,
    )


def _application(
    state: GroupAggregateState, output: ApplicationMessage, new_mls: GroupState, digest: bytes
) -> tuple[EnvelopeOutcome, Any]:
    outcome = application_outcome(state, output, digest)
    if isinstance(outcome, OpenedMessage):
        return MessageReceived.of(outcome), new_mls
    return outcome, None if isinstance(outcome, EnvelopeSkipped) else new_mls


def application_outcome(
    state: GroupAggregateState, output: ApplicationMessage, digest: bytes
) -> Union[OpenedMessage, LeaveRequestReceived, EnvelopeSkipped]:
    """What another member's opened application message with payload hash ``digest`` records: the
    ``OpenedMessage`` of a ``MessageReceived``, a leave request, or a skip (malformed content).
    (An audit compares openings with it without building the event.)"""
    try:
        content = ApplicationContent.decode(output.data)
    except DecodeError as exc:
        return EnvelopeSkipped(reason="MalformedApplicationContent", detail=str(exc))
    sender_inbox = credential_inbox_id(output.credential)
    leaf = state.mls.tree.leaf(output.sender_leaf) if state.mls.tree.has_leaf(output.sender_leaf) else None
    installation = leaf.signature_key if leaf is not None and leaf.credential == output.credential else b""
    if content.is_leave_request:
        return LeaveRequestReceived(sender_inbox_id=sender_inbox, sender_installation_id=installation)
    return OpenedMessage(
        epoch=output.epoch,
        leaf=output.sender_leaf,
        generation=output.generation,
        reuse_guard=output.reuse_guard,
        authenticated_data=output.authenticated_data,
        data=output.data,
        signature=output.signature,
        padding=output.padding,
        sender_inbox_id=sender_inbox,
        sender_installation_id=installation,
        payload_hash=digest,
    )
