"""Inboxes and their installations: signed identity updates and the chain rules (libxmtp sections 1, 7, 10).

An *installation* is one device's Ed25519 signature key pair; its id is the raw 32-byte public key,
as in libxmtp. An *inbox* is created by its first installation and its id is derived from that key::

    inbox_id = hex(SHA-256("mlsgroup inbox v1" || installation_public_key))

An inbox's history is a chain of identity updates with sequence ids 1, 2, 3, ... (1 is always
CreateInbox; 0 stays free for libxmtp's "not read yet" placeholder in GroupMembership). Each update
is signed by an *active* installation of the inbox with ``SignWithLabel(.., "mlsgroup identity
update", content)``; AddInstallation also carries the new installation's signature over the same
content under "mlsgroup installation possession", so nobody can add a key they do not hold.
At most MAX_INSTALLATIONS_PER_INBOX installations are active at once; revoked installations can
neither sign nor come back.

Wire format (RFC 9420 presentation language, ``domain/mls/codec.py``)::

    struct { opaque installation_id[32]; } CreateInbox;              // action 1
    struct { opaque installation_id[32]; } AddInstallation;          // action 2
    struct { opaque installation_ids[32]<V>; } RevokeInstallations;  // action 3
    struct {
        opaque inbox_id[32];            // the SHA-256 digest; shown as hex
        uint64 sequence_id;
        uint64 client_timestamp_ns;
        uint8 action_type; select (action_type) { ... } action;
    } IdentityUpdateContent;
    struct {
        IdentityUpdateContent content;
        opaque signer[32];
        opaque signature[64];
        optional<opaque possession_signature[64]>;   // AddInstallation only
    } IdentityUpdate;

Pure: keys and timestamps come in as arguments; nothing here reads a clock or draws randomness.
"""

from __future__ import annotations

import hashlib
from typing import ClassVar, Iterable, Mapping

import attrs

from . import identity_errors as errors
from .mls.cipher_suite import cipher_suite
from .mls.codec import Codec, Fixed, Optional, Reader, Select, Vector, Writer, uint8, uint64, wire, wire_struct
from .mls.errors import DecodeError, SignatureError
from .mls.secrets import Secret

__all__ = [
    "MAX_INSTALLATIONS_PER_INBOX",
    "INBOX_ID_DOMAIN",
    "UPDATE_SIGNATURE_LABEL",
    "POSSESSION_SIGNATURE_LABEL",
    "inbox_id_for",
    "installation_key_pair",
    "installation_id_of",
    "CreateInbox",
    "AddInstallation",
    "RevokeInstallations",
    "IdentityUpdateContent",
    "IdentityUpdate",
    "InstallationRecord",
    "InboxState",
    "sign_update",
    "create_inbox",
    "add_installation",
    "revoke_installations",
    "apply_update",
    "inbox_state_from_updates",
    "identity_states",
    "DecodeError",
]

MAX_INSTALLATIONS_PER_INBOX = 10
INBOX_ID_DOMAIN = b"mlsgroup inbox v1"
UPDATE_SIGNATURE_LABEL = b"mlsgroup identity update"
POSSESSION_SIGNATURE_LABEL = b"mlsgroup installation possession"

# Ed25519 (suites 1 and 3 share it; libxmtp uses suite 3): 32-byte keys, 64-byte signatures.
_SUITE = cipher_suite(1)
_KEY_LEN = 32
_SIGNATURE_LEN = 64


def inbox_id_for(installation_id: bytes) -> str:
    """The inbox id an inbox created by ``installation_id`` (an Ed25519 public key) has."""
    return hashlib.sha256(INBOX_ID_DOMAIN + bytes(installation_id)).hexdigest()


def installation_key_pair(seed: bytes) -> tuple[Secret, bytes]:
    """An installation's (private key, installation id) derived from a seed of at least 32 bytes."""
    private_key, public_key = _SUITE.signature_key_pair(seed)
    return Secret(private_key), public_key


def installation_id_of(private_key: bytes) -> bytes:
    """The installation id (Ed25519 public key) of an installation private key."""
    return _SUITE.signature_public_from_private(private_key)


class _InboxIdCodec(Codec[str]):
    """An inbox id travels as its 32-byte digest and is shown as 64 lower-case hex characters."""

    def write(self, w: Writer, value: str) -> None:
        raw = bytes.fromhex(value)
        if len(raw) != _KEY_LEN or raw.hex() != value:
            raise ValueError(f"not an inbox id: {value!r}")
        w.raw(raw)

    def read(self, r: Reader) -> str:
        return r.take(_KEY_LEN).hex()


# -- wire structs ------------------------------------------------------------------------------


@wire_struct
class CreateInbox:
    """Create the inbox whose id ``installation_id`` derives, with that installation as its first."""

    TAG: ClassVar[int] = 1
    installation_id: bytes = wire(Fixed(_KEY_LEN))


@wire_struct
class AddInstallation:
    """Add ``installation_id`` as an active installation of the inbox."""

    TAG: ClassVar[int] = 2
    installation_id: bytes = wire(Fixed(_KEY_LEN))


@wire_struct
class RevokeInstallations:
    """Revoke active installations of the inbox for good."""

    TAG: ClassVar[int] = 3
    installation_ids: tuple[bytes, ...] = wire(Vector(Fixed(_KEY_LEN)), converter=tuple)


_ACTION = Select(uint8, {cls.TAG: cls.CODEC for cls in (CreateInbox, AddInstallation, RevokeInstallations)}, name="identity action")
Action = CreateInbox | AddInstallation | RevokeInstallations


@wire_struct
class IdentityUpdateContent:
    """What an identity update's signatures cover."""

    inbox_id: str = wire(_InboxIdCodec())
    sequence_id: int = wire(uint64)
    client_timestamp_ns: int = wire(uint64)
    action: Action = wire(_ACTION)


@wire_struct
class IdentityUpdate:
    """A signed identity update, as published to the identity registry (unverified until applied)."""

    content: IdentityUpdateContent = wire(IdentityUpdateContent)
    signer: bytes = wire(Fixed(_KEY_LEN))
    signature: bytes = wire(Fixed(_SIGNATURE_LEN))
    possession_signature: bytes | None = wire(Optional(Fixed(_SIGNATURE_LEN)), default=None)

    @property
    def inbox_id(self) -> str:
        return self.content.inbox_id

    @property
    def sequence_id(self) -> int:
        return self.content.sequence_id

    @property
    def action(self) -> Action:
        return self.content.action


# -- state -------------------------------------------------------------------------------------


@attrs.frozen
class InstallationRecord:
    """One installation of an inbox: the sequence id that added it and the one that revoked it, if any."""

    installation_id: bytes
    added_at: int
    revoked_at: int | None = None
    added_at_ns: int = 0

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def active_at(self, sequence_id: int) -> bool:
        """Whether the installation was active once the update at ``sequence_id`` applied."""
        return self.added_at <= sequence_id and (self.revoked_at is None or self.revoked_at > sequence_id)


@attrs.frozen
class InboxState:
    """An inbox after its chain of identity updates up to ``sequence_id`` (every installation ever added)."""

    inbox_id: str
    sequence_id: int
    installations: tuple[InstallationRecord, ...]

    def installation(self, installation_id: bytes) -> InstallationRecord | None:
        """The record of ``installation_id``, or None if it never belonged to this inbox."""
        for record in self.installations:
            if record.installation_id == installation_id:
                return record
        return None

    @property
    def active_installation_ids(self) -> frozenset[bytes]:
        return frozenset(r.installation_id for r in self.installations if r.revoked_at is None)

    @property
    def revoked_installation_ids(self) -> frozenset[bytes]:
        return frozenset(r.installation_id for r in self.installations if r.revoked_at is not None)

    def is_active(self, installation_id: bytes) -> bool:
        record = self.installation(installation_id)
        return record is not None and record.revoked_at is None

    def installations_at(self, sequence_id: int) -> frozenset[bytes]:
        """The active installation ids once the update at ``sequence_id`` applied (UnknownSequenceId past the chain)."""
        if not 1 <= sequence_id <= self.sequence_id:
            raise errors.UnknownSequenceId(self.inbox_id, sequence_id)
        return frozenset(r.installation_id for r in self.installations if r.active_at(sequence_id))


# -- validation --------------------------------------------------------------------------------


def _verify(public_key: bytes, label: bytes, content: bytes, signature: bytes, who: str) -> None:
    try:
        _SUITE.verify_with_label(public_key, label, content, signature)
    except SignatureError:
        raise errors.InvalidIdentitySignature(f"the {who} signature does not verify") from None


def _check_shape(update: IdentityUpdate) -> None:
    action = update.action
    if isinstance(action, AddInstallation):
        if update.possession_signature is None:
            raise errors.MalformedIdentityUpdate("AddInstallation needs the new installation's signature")
    elif update.possession_signature is not None:
        raise errors.MalformedIdentityUpdate("only AddInstallation carries a possession signature")
    if isinstance(action, RevokeInstallations):
        ids = action.installation_ids
        if not ids:
            raise errors.MalformedIdentityUpdate("RevokeInstallations names no installation")
        if len(set(ids)) != len(ids):
            raise errors.MalformedIdentityUpdate("RevokeInstallations names an installation twice")


def _apply(state: InboxState | None, update: IdentityUpdate, verify: bool) -> InboxState:
    content = update.content
    action = content.action
    _check_shape(update)
    signed = content.encode() if verify else b""
    if state is None:
        if not isinstance(action, CreateInbox):
            raise errors.MissingCreateInbox(f"inbox {content.inbox_id} must start with CreateInbox")
        if content.inbox_id != inbox_id_for(action.installation_id):
            raise errors.InboxIdMismatch(f"{content.inbox_id} is not the inbox id of the creating installation")
        if content.sequence_id != 1:
            raise errors.UnexpectedSequenceId(content.inbox_id, 1, content.sequence_id)
        if update.signer != action.installation_id:
            raise errors.UnknownSigner("CreateInbox must be signed by the installation it creates")
        if verify:
            _verify(update.signer, UPDATE_SIGNATURE_LABEL, signed, update.signature, "signer's")
        record = InstallationRecord(action.installation_id, 1, None, content.client_timestamp_ns)
        return InboxState(content.inbox_id, 1, (record,))

    if content.inbox_id != state.inbox_id:
        raise errors.InboxIdMismatch(f"update for inbox {content.inbox_id} applied to inbox {state.inbox_id}")
    if isinstance(action, CreateInbox):
        raise errors.InboxAlreadyExists(f"inbox {state.inbox_id} already exists")
    sequence_id = state.sequence_id + 1
    if content.sequence_id != sequence_id:
        raise errors.UnexpectedSequenceId(state.inbox_id, sequence_id, content.sequence_id)
    signer = state.installation(update.signer)
    if signer is None:
        raise errors.UnknownSigner(f"{update.signer.hex()} is not an installation of inbox {state.inbox_id}")
    if signer.revoked_at is not None:
        raise errors.RevokedSigner(f"installation {update.signer.hex()} was revoked at sequence id {signer.revoked_at}")
    if verify:
        _verify(update.signer, UPDATE_SIGNATURE_LABEL, signed, update.signature, "signer's")

    if isinstance(action, AddInstallation):
        new_id = action.installation_id
        existing = state.installation(new_id)
        if existing is not None:
            if existing.revoked_at is None:
                raise errors.InstallationAlreadyAdded(f"{new_id.hex()} is already an installation of {state.inbox_id}")
            raise errors.InstallationPreviouslyRevoked(f"{new_id.hex()} was revoked from {state.inbox_id}")
        if len(state.active_installation_ids) >= MAX_INSTALLATIONS_PER_INBOX:
            raise errors.TooManyInstallations(state.inbox_id, MAX_INSTALLATIONS_PER_INBOX)
        if verify:
            _verify(new_id, POSSESSION_SIGNATURE_LABEL, signed, update.possession_signature, "new installation's")
        record = InstallationRecord(new_id, sequence_id, None, content.client_timestamp_ns)
        return InboxState(state.inbox_id, sequence_id, (*state.installations, record))

    revoked = set(action.installation_ids)
    for installation_id in action.installation_ids:
        if not state.is_active(installation_id):
            raise errors.InstallationNotActive(f"{installation_id.hex()} is not an active installation of {state.inbox_id}")
    records = tuple(
        attrs.evolve(r, revoked_at=sequence_id) if r.installation_id in revoked else r for r in state.installations
    )
    return InboxState(state.inbox_id, sequence_id, records)


def apply_update(state: InboxState | None, update: IdentityUpdate) -> InboxState:
    """Validate ``update`` against the inbox's current ``state`` (None: no chain yet) and return the next state.

    Raises an ``IdentityUpdateRejected`` subclass when the update does not validly extend the chain.
    """
    return _apply(state, update, verify=True)


def inbox_state_from_updates(updates: Iterable[IdentityUpdate]) -> InboxState:
    """Validate a whole chain, CreateInbox first; MissingCreateInbox when it is empty."""
    state: InboxState | None = None
    for update in updates:
        state = _apply(state, update, verify=True)
    if state is None:
        raise errors.MissingCreateInbox("an inbox chain needs at least its CreateInbox update")
    return state


# -- commands ----------------------------------------------------------------------------------


def sign_update(
    content: IdentityUpdateContent, signer_key: bytes, new_installation_key: bytes | None = None
) -> IdentityUpdate:
    """Sign ``content`` with ``signer_key`` (and, for AddInstallation, the new installation's key); no checks."""
    signed = content.encode()
    possession = None
    if new_installation_key is not None:
        possession = _SUITE.sign_with_label(new_installation_key, POSSESSION_SIGNATURE_LABEL, signed)
    return IdentityUpdate(
        content,
        installation_id_of(signer_key),
        _SUITE.sign_with_label(signer_key, UPDATE_SIGNATURE_LABEL, signed),
        possession,
    )


def create_inbox(installation_key: bytes, timestamp_ns: int) -> IdentityUpdate:
    """The CreateInbox update (sequence id 1) of the inbox that ``installation_key`` creates."""
    installation_id = installation_id_of(installation_key)
    content = IdentityUpdateContent(inbox_id_for(installation_id), 1, timestamp_ns, CreateInbox(installation_id))
    return sign_update(content, installation_key)


def add_installation(
    state: InboxState, signer_key: bytes, new_installation_key: bytes, timestamp_ns: int
) -> IdentityUpdate:
    """The update adding the installation of ``new_installation_key``, signed by both installations.

    Checked locally first: raises what ``apply_update`` would (e.g. TooManyInstallations, RevokedSigner).
    """
    action = AddInstallation(installation_id_of(new_installation_key))
    content = IdentityUpdateContent(state.inbox_id, state.sequence_id + 1, timestamp_ns, action)
    update = sign_update(content, signer_key, new_installation_key)
    _apply(state, update, verify=False)
    return update


def revoke_installations(
    state: InboxState, signer_key: bytes, installation_ids: Iterable[bytes], timestamp_ns: int
) -> IdentityUpdate:
    """The update revoking ``installation_ids``, signed by an active installation (which may revoke itself)."""
    action = RevokeInstallations(tuple(bytes(i) for i in installation_ids))
    content = IdentityUpdateContent(state.inbox_id, state.sequence_id + 1, timestamp_ns, action)
    update = sign_update(content, signer_key)
    _apply(state, update, verify=False)
    return update


def identity_states(
    states: Mapping[str, InboxState], requirements: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], frozenset[bytes]]:
    """The ``IdentityStates`` mapping commit validation reads, for the (inbox_id, sequence_id) pairs it needs."""
    result: dict[tuple[str, int], frozenset[bytes]] = {}
    for inbox_id, sequence_id in requirements:
        state = states.get(inbox_id)
        if state is None:
            raise errors.InboxNotFound(inbox_id)
        result[(inbox_id, sequence_id)] = state.installations_at(sequence_id)
    return result
