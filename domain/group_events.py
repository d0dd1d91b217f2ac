"""The events of the group aggregate (ARCHITECTURE 2, 3): past-tense facts about one group at one
installation, with stable topics ``mlsgroup.GroupAggregate.<Name>``.

Every event records what the projector needs to re-derive the state without I/O: seeds, fetched
key packages (in a ``CommitPlan``), identity states read, delivered payloads. Secrets (seeds, the
signature key, a key-package bundle) are plain ``bytes`` fields hidden from reprs; stores encrypt.

An ``EnvelopeProcessed`` event carries the envelope and one outcome value:

* ``OwnCommitMerged``      our published commit came back and won its epoch;
* ``CommitMerged``         another member's commit passed XMTP validation and was merged;
* ``CommitRejected``       a commit failed validation (ours: its intent ends in ERROR);
* ``MessageReceived``      another member's application message, as opening it revealed (no ciphertext);
* ``ApplicationReceived``  the same in records written before ``MessageReceived`` (content beside the payload);
* ``LeaveRequestReceived`` a member asked to leave;
* ``OwnMessageConfirmed``  our application message came back (its intent is processed);
* ``OwnMessageStale``      it came back MAX_PAST_EPOCHS or more epochs late: encrypted and sent again;
* ``EnvelopeSkipped``      garbage, a replay, a wrong epoch, a forgery, a non-member...: the reason.

``EnvelopeProcessed.payload`` holds the envelope's bytes, except for ``MessageReceived`` and
``OwnMessageConfirmed`` (class_version 2), which record the payload's SHA-256 and an empty payload:
the message is re-derived from the opening fields or from our published intent.

Some events carry a ``derived`` slot that is never stored: the state the decision already computed,
which the projector may reuse instead of re-deriving it (replays always re-derive).
"""

from __future__ import annotations

from typing import Any, Optional, Union

import attrs

from .application_content import ApplicationContent, message_id
from .conversation import ConsentState, MembershipState
from .eventing import DomainEvent, register_event, register_value
from .extensions import ConversationType
from .intents import CommitPlan, IntentData
from .opened_messages import OpenedMessage

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
    "MessageReceived",
    "LeaveRequestReceived",
    "OwnMessageConfirmed",
    "OwnMessageStale",
    "EnvelopeSkipped",
    "EnvelopeOutcome",
    "identity_record",
    "extension_items",
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


def extension_items(extensions: Any) -> tuple[tuple[int, bytes], ...]:
    """MLS group-context extensions as stored in events: (type, data) pairs sorted by type."""
    return tuple(sorted((e.extension_type, bytes(e.extension_data)) for e in extensions))


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


@register_event(_PREFIX + "GroupJoined", class_version=2)
@attrs.frozen(kw_only=True)
class GroupJoined(DomainEvent):
    """A welcome added us (again, if the group was known): we joined from ``cursor`` on its topic,
    at ``epoch``, with these group-context ``extensions`` (sorted by type; what the views show).

    ``group_updated`` is the encoded "you were added" transcript (GroupUpdated), sent at the welcome
    envelope's ``server_time_ns`` (libxmtp; None in records written before it was kept)."""

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
    epoch: int
    extensions: tuple[tuple[int, bytes], ...]
    server_time_ns: Optional[int] = None
    derived: Any = _derived()

    @property
    def added_at_ns(self) -> int:
        """When we were added: the welcome's server time, else (older records) this event's time."""
        return self.timestamp_ns if self.server_time_ns is None else self.server_time_ns

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        # v1 did not record the joined epoch and extensions; the welcome and our key package
        # determine them, so joining again (pure, as replay does) recovers them exactly.
        from .mls.group import KeyPackageBundle, join_group
        from .welcomes import WelcomeEnvelope

        mls = join_group(
            WelcomeEnvelope.decode(state["welcome"]).welcome, KeyPackageBundle.decode(state["key_package_bundle"])
        )
        state["epoch"] = mls.epoch
        state["extensions"] = extension_items(mls.extensions)


# -- intents ----------------------------------------------------------------------------------


@register_event(_PREFIX + "IntentQueued")
@attrs.frozen(kw_only=True)
class IntentQueued(DomainEvent):
    """A mutation was asked for; it waits (TO_PUBLISH) for the next publish."""

    intent_id: bytes
    data: IntentData


@register_event(_PREFIX + "IntentPublished", class_version=2)
@attrs.frozen(kw_only=True)
class IntentPublished(DomainEvent):
    """The intent's payload was built at ``epoch`` (a staged commit from ``plan``, or an application
    message) from ``seed``, and handed to the delivery service. ``identity_states`` are those the
    commit's validation read (the plan's key packages and membership record the other inputs).

    ``payload`` holds a commit's bytes. For an application message it is None (class_version 2):
    applying the event encrypts the message again from ``seed`` (deterministic), and the result must
    hash to ``payload_hash``, so the record does not keep a second copy of the ciphertext. Records of
    class_version 1 hold the message's bytes too; they read as they are (a version bump, so that
    code older than this refuses these records instead of taking the None for a payload)."""

    intent_id: bytes
    epoch: int
    payload: Optional[bytes]
    payload_hash: bytes
    plan: Optional[CommitPlan]
    seed: bytes = attrs.field(repr=False)
    identity_states: IdentityRecord = ()
    derived: Any = _derived()

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        pass  # version 1 always held the payload, which version 2 still accepts


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


@register_value(_OUTCOME + "CommitMerged", class_version=2)
@attrs.frozen(kw_only=True)
class CommitMerged:
    """Another member's commit passed XMTP validation and was merged (the epoch moves on by one).

    ``still_member`` says whether our installation is in the new epoch (False: the commit removed
    us); ``extensions`` are the new group-context extensions (sorted by type), None when the commit
    left them unchanged. Records written before class_version 2 have ``still_member`` None: for
    them neither is known (the views infer our removal from the transcript)."""

    committer_inbox_id: str
    committer_installation_id: bytes
    group_updated: Optional[bytes]
    identity_states: IdentityRecord
    still_member: Optional[bool] = None
    extensions: Optional[tuple[tuple[int, bytes], ...]] = None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["still_member"] = None
        state["extensions"] = None


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
    """Another member's application message, decrypted (records written before ``MessageReceived``:
    the envelope's payload is stored beside it and replay decrypts it again)."""

    message_id: bytes
    sender_inbox_id: str
    sender_installation_id: bytes
    content_type: str
    content: bytes
    idempotency_key: bytes
    epoch: int


@register_value(_OUTCOME + "MessageReceived")
@attrs.frozen(kw_only=True, repr=False, init=False)
class MessageReceived:
    """Another member's application message, stored as what opening it revealed: ``wire`` is the
    encoded ``OpenedMessage`` (the envelope's payload is not stored; its hash is).

    The names the views read are properties: the sender's ids, ``epoch``, the ApplicationContent
    fields of ``data`` and ``message_id``, a pure function of the group id (bound by the
    ``EnvelopeProcessed`` that carries the outcome), the idempotency key and the content."""

    wire: bytes
    _opened: Any = attrs.field(default=None, init=False, eq=False)
    _content: Any = attrs.field(default=None, init=False, eq=False)
    _group_id: Optional[bytes] = attrs.field(default=None, init=False, eq=False)

    def __init__(self, *, wire: bytes) -> None:
        # attrs' ``__init__`` with the decoding spelled out (one per stored message an audit or a
        # view reads); OpenedMessage.decode is the strict parser (DecodeError).
        setattr_ = object.__setattr__
        setattr_(self, "wire", wire)
        setattr_(self, "_opened", OpenedMessage.decode(wire))
        setattr_(self, "_content", None)
        setattr_(self, "_group_id", None)

    @classmethod
    def of(cls, opened: OpenedMessage) -> MessageReceived:
        # Built around the value at hand: ``__init__`` would decode the encoding just made.
        made = object.__new__(cls)
        for name, value in (("wire", opened.encode()), ("_opened", opened), ("_content", None), ("_group_id", None)):
            object.__setattr__(made, name, value)
        return made

    @property
    def opened(self) -> OpenedMessage:
        return self._opened

    @property
    def application_content(self) -> ApplicationContent:
        """The decoded ``data`` (DecodeError if it is no ApplicationContent)."""
        content = self._content
        if content is None:
            content = ApplicationContent.decode(self._opened.data)
            object.__setattr__(self, "_content", content)
        return content

    @property
    def sender_inbox_id(self) -> str:
        return self._opened.sender_inbox_id

    @property
    def sender_installation_id(self) -> bytes:
        return self._opened.sender_installation_id

    @property
    def epoch(self) -> int:
        return self._opened.epoch

    @property
    def payload_hash(self) -> bytes:
        return self._opened.payload_hash

    @property
    def content_type(self) -> str:
        return self.application_content.content_type

    @property
    def content(self) -> bytes:
        return self.application_content.content

    @property
    def idempotency_key(self) -> bytes:
        return self.application_content.idempotency_key

    @property
    def message_id(self) -> bytes:
        if self._group_id is None:
            raise AttributeError("message_id needs the group id: read it on the EnvelopeProcessed's outcome")
        return message_id(self._group_id, self.idempotency_key, self.content)

    def bind_group(self, group_id: bytes) -> None:
        """Record the id of the group this outcome belongs to (not stored: the event's aggregate id)."""
        object.__setattr__(self, "_group_id", bytes(group_id))

    def __repr__(self) -> str:
        return f"MessageReceived({self._opened!r})"


@register_value(_OUTCOME + "LeaveRequestReceived")
@attrs.frozen(kw_only=True)
class LeaveRequestReceived:
    """A member sent a leave request; super admins' clients will remove it."""

    sender_inbox_id: str
    sender_installation_id: bytes


@register_value(_OUTCOME + "OwnMessageConfirmed", class_version=2)
@attrs.frozen(kw_only=True)
class OwnMessageConfirmed:
    """Our application message came back from the delivery service.

    ``payload_hash`` is the envelope payload's SHA-256 (it equals the intent's published payload,
    which is therefore not stored again); None in records before class_version 2, which keep the
    payload in the ``EnvelopeProcessed``."""

    intent_id: bytes
    message_id: bytes
    payload_hash: Optional[bytes] = None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["payload_hash"] = None


@register_value(_OUTCOME + "OwnMessageStale")
@attrs.frozen(kw_only=True)
class OwnMessageStale:
    """Our application message came back too late to be read: it was encrypted at ``epoch`` and the
    group is now ``MAX_PAST_EPOCHS`` or more epochs on, so members may no longer hold that epoch's
    keys (libxmtp's ``is_valid_epoch``). Its intent goes back to TO_PUBLISH, to be encrypted again
    at the current epoch (same message id: members who read the first copy keep one message)."""

    intent_id: bytes
    epoch: int


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
    MessageReceived,
    LeaveRequestReceived,
    OwnMessageConfirmed,
    OwnMessageStale,
    EnvelopeSkipped,
]


@register_event(_PREFIX + "EnvelopeProcessed")
@attrs.frozen(kw_only=True)
class EnvelopeProcessed(DomainEvent):
    """One envelope of the group's topic was processed; the cursor moves to ``cursor``.

    ``payload`` is empty for ``MessageReceived`` and ``OwnMessageConfirmed`` with a payload hash
    (see the module docstring)."""

    cursor: int
    payload: bytes
    server_time_ns: int
    outcome: EnvelopeOutcome
    derived: Any = _derived()

    def __attrs_post_init__(self) -> None:
        if type(self.outcome) is MessageReceived:
            self.outcome.bind_group(self.originator_id.bytes)


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
