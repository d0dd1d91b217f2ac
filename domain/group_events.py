"""The events of the group aggregate (ARCHITECTURE 2, 3): past-tense facts about one group at one
installation, with stable topics ``mlsgroup.GroupAggregate.<Name>``.

Every event records what the projector needs to re-derive the state without I/O: seeds, fetched
key packages (in a ``CommitPlan``), identity states read, delivered payloads. Secrets (seeds, the
signature key, a key-package bundle) are plain ``bytes`` fields hidden from reprs; stores encrypt.

An ``EnvelopeProcessed`` event carries the envelope and one outcome value:

* ``OwnCommitMerged``      our published commit came back and won its epoch;
* ``CommitMerged``         another member's commit passed XMTP validation and was merged;
* ``CommitRejected``       a commit failed validation (ours: its intent ends in ERROR);
* ``ApplicationReceived``  another member's application message, decrypted;
* ``LeaveRequestReceived`` a member asked to leave;
* ``OwnMessageConfirmed``  our application message came back (its intent is processed);
* ``EnvelopeSkipped``      garbage, a replay, a wrong epoch, a forgery, a non-member...: the reason.

Some events carry a ``derived`` slot that is never stored: the state the decision already computed,
which the projector may reuse instead of re-deriving it (replays always re-derive).
"""

from __future__ import annotations

from typing import Any, Optional, Union

import attrs

from .conversation import ConsentState, MembershipState
from .eventing import DomainEvent, register_event, register_value
from .extensions import ConversationType
from .intents import CommitPlan, IntentData

__all__ = [
    "IdentityRecord",
    "GroupCreated",
    "GroupJoined",
    "IntentQueued",
    "IntentPublished",
    "IntentSendFailed",
    "IntentFailed",
    "IntentProcessed",
    "EnvelopeProcessed",
    "MembershipStateChanged",
    "ConsentStateChanged",
    "OwnCommitMerged",
    "CommitMerged",
    "CommitRejected",
    "ApplicationReceived",
    "LeaveRequestReceived",
    "OwnMessageConfirmed",
    "EnvelopeSkipped",
    "EnvelopeOutcome",
    "identity_record",
]

# The domain enums stored inside group events and snapshots.
register_value("mlsgroup.ConversationType")(ConversationType)
register_value("mlsgroup.MembershipState")(MembershipState)
register_value("mlsgroup.ConsentState")(ConsentState)

_PREFIX = "mlsgroup.GroupAggregate."
_OUTCOME = "mlsgroup.EnvelopeOutcome."

#: Identity states read by a validation: (inbox_id, sequence_id, installation ids), sorted.
IdentityRecord = tuple[tuple[str, int, tuple[bytes, ...]], ...]


def identity_record(identities: Any) -> IdentityRecord:
    """A mapping (inbox_id, sequence_id) -> installation ids, as a canonical stored tuple."""
    return tuple(
        (inbox, sequence_id, tuple(sorted(installations)))
        for (inbox, sequence_id), installations in sorted(identities.items())
    )


def _derived() -> Any:
    return attrs.field(default=None, init=False, eq=False, repr=False)


# -- creation and joining ---------------------------------------------------------------------


@register_event(_PREFIX + "GroupCreated")
@attrs.frozen(kw_only=True)
class GroupCreated(DomainEvent):
    """We created the group: epoch 0 with us as the only member and these context extensions."""

    group_id: bytes
    inbox_id: str
    installation_id: bytes
    conversation_type: ConversationType
    dm_id: Optional[str]
    extensions: tuple[tuple[int, bytes], ...]
    signature_private: bytes = attrs.field(repr=False)
    seed: bytes = attrs.field(repr=False)


@register_event(_PREFIX + "GroupJoined")
@attrs.frozen(kw_only=True)
class GroupJoined(DomainEvent):
    """A welcome added us (again, if the group was known): we joined from ``cursor`` on its topic.

    ``group_updated`` is the encoded "you were added" transcript (GroupUpdated)."""

    group_id: bytes
    inbox_id: str
    installation_id: bytes
    conversation_type: ConversationType
    dm_id: Optional[str]
    added_by_inbox_id: str
    welcome: bytes
    cursor: int
    group_updated: bytes
    key_package_bundle: bytes = attrs.field(repr=False)
    derived: Any = _derived()


# -- intents ----------------------------------------------------------------------------------


@register_event(_PREFIX + "IntentQueued")
@attrs.frozen(kw_only=True)
class IntentQueued(DomainEvent):
    """A mutation was asked for; it waits (TO_PUBLISH) for the next publish."""

    intent_id: bytes
    data: IntentData


@register_event(_PREFIX + "IntentPublished")
@attrs.frozen(kw_only=True)
class IntentPublished(DomainEvent):
    """The intent's payload was built at ``epoch`` (a staged commit from ``plan``, or an application
    message) from ``seed``, and handed to the delivery service. ``identity_states`` are those the
    commit's validation read (the plan's key packages and membership record the other inputs)."""

    intent_id: bytes
    epoch: int
    payload: bytes
    payload_hash: bytes
    plan: Optional[CommitPlan]
    seed: bytes = attrs.field(repr=False)
    identity_states: IdentityRecord = ()
    derived: Any = _derived()


@register_event(_PREFIX + "IntentSendFailed")
@attrs.frozen(kw_only=True)
class IntentSendFailed(DomainEvent):
    """The delivery service refused or lost the payload; it is sent again (ERROR after 3 attempts)."""

    intent_id: bytes
    reason: str


@register_event(_PREFIX + "IntentFailed")
@attrs.frozen(kw_only=True)
class IntentFailed(DomainEvent):
    """The intent cannot be carried out: ``error`` names the error class, ``detail`` its argument."""

    intent_id: bytes
    error: str
    detail: str = ""


@register_event(_PREFIX + "IntentProcessed")
@attrs.frozen(kw_only=True)
class IntentProcessed(DomainEvent):
    """The intent is done: its welcomes went out, or there was nothing to commit."""

    intent_id: bytes


# -- envelopes --------------------------------------------------------------------------------


@register_value(_OUTCOME + "OwnCommitMerged")
@attrs.frozen(kw_only=True)
class OwnCommitMerged:
    """Our commit won its epoch; ``welcome`` goes to ``welcome_installations`` (then PROCESSED)."""

    intent_id: bytes
    group_updated: Optional[bytes]
    welcome: Optional[bytes]
    welcome_installations: tuple[bytes, ...]
    identity_states: IdentityRecord


@register_value(_OUTCOME + "CommitMerged")
@attrs.frozen(kw_only=True)
class CommitMerged:
    """Another member's commit passed XMTP validation and was merged."""

    committer_inbox_id: str
    committer_installation_id: bytes
    group_updated: Optional[bytes]
    identity_states: IdentityRecord


@register_value(_OUTCOME + "CommitRejected")
@attrs.frozen(kw_only=True)
class CommitRejected:
    """A commit failed validation (``error`` names the CommitValidationError); state unchanged."""

    error: str
    detail: str
    intent_id: Optional[bytes]
    identity_states: IdentityRecord


@register_value(_OUTCOME + "ApplicationReceived")
@attrs.frozen(kw_only=True)
class ApplicationReceived:
    """Another member's application message, decrypted."""

    message_id: bytes
    sender_inbox_id: str
    sender_installation_id: bytes
    content_type: str
    content: bytes
    idempotency_key: bytes
    epoch: int


@register_value(_OUTCOME + "LeaveRequestReceived")
@attrs.frozen(kw_only=True)
class LeaveRequestReceived:
    """A member sent a leave request; super admins' clients will remove it."""

    sender_inbox_id: str
    sender_installation_id: bytes


@register_value(_OUTCOME + "OwnMessageConfirmed")
@attrs.frozen(kw_only=True)
class OwnMessageConfirmed:
    """Our application message came back from the delivery service."""

    intent_id: bytes
    message_id: bytes


@register_value(_OUTCOME + "EnvelopeSkipped")
@attrs.frozen(kw_only=True)
class EnvelopeSkipped:
    """The envelope changes nothing: ``reason`` names why (an error class or a rule), ``detail`` says more."""

    reason: str
    detail: str = ""


EnvelopeOutcome = Union[
    OwnCommitMerged,
    CommitMerged,
    CommitRejected,
    ApplicationReceived,
    LeaveRequestReceived,
    OwnMessageConfirmed,
    EnvelopeSkipped,
]


@register_event(_PREFIX + "EnvelopeProcessed")
@attrs.frozen(kw_only=True)
class EnvelopeProcessed(DomainEvent):
    """One envelope of the group's topic was processed; the cursor moves to ``cursor``."""

    cursor: int
    payload: bytes
    server_time_ns: int
    outcome: EnvelopeOutcome
    derived: Any = _derived()


# -- standing ---------------------------------------------------------------------------------


@register_event(_PREFIX + "MembershipStateChanged")
@attrs.frozen(kw_only=True)
class MembershipStateChanged(DomainEvent):
    """Our standing in the group changed (e.g. accepted, or a leave request confirmed)."""

    membership_state: MembershipState


@register_event(_PREFIX + "ConsentStateChanged")
@attrs.frozen(kw_only=True)
class ConsentStateChanged(DomainEvent):
    """The user's consent to the conversation changed."""

    consent_state: ConsentState
