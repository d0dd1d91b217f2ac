"""The state of one member in one MLS group (RFC 9420 sections 8, 9, 12): an immutable value.

``GroupState`` holds the GroupContext, the public ratchet tree, our leaf and the private keys we
know on our direct path, the epoch secrets and secret tree, the transcript hashes, the proposals
received in this epoch, the secret trees of the last ``MAX_PAST_EPOCHS`` epochs (for late
application messages) and recent resumption PSKs. Every operation returns a new value; large parts
(tree, secret trees) are shared between values, so copies are cheap. ``encode()`` writes a compact
deterministic byte string and ``GroupState.decode`` reads it back (equal value), raising
``InvalidGroupState`` (a DecodeError) for anything else.
"""

from __future__ import annotations

from typing import Optional

import attrs

from ..cipher_suite import CipherSuite, cipher_suite
from ..codec import Reader, Writer, boolean
from ..credentials import Credential
from ..errors import MlsError
from ..extensions import Extension
from ..framing import SENDER, Sender
from ..group_context import GroupContext
from ..key_schedule import EpochSecrets, mls_exporter
from ..proposals import PROPOSAL, Proposal
from ..ratchet_tree import RatchetTree
from ..secret_tree import SecretTree
from ..secrets import Secret
from ..tree_structs import RATCHET_TREE, LeafNode
from ..treekem import TreeKemPrivate
from .errors import InvalidGroupState, NotAMember

__all__ = [
    "MAX_PAST_EPOCHS",
    "MAX_RESUMPTION_PSKS",
    "Member",
    "PendingProposal",
    "PastEpoch",
    "GroupState",
    "export_secret",
]

MAX_PAST_EPOCHS = 3
"""How many past epochs keep their secret trees for late application messages."""

MAX_RESUMPTION_PSKS = 4
"""How many past epochs keep their resumption PSK for PreSharedKey proposals."""

_MAGIC = b"MLSG\x01"

_EPOCH_SECRET_FIELDS = (
    "sender_data_secret",
    "encryption_secret",
    "exporter_secret",
    "external_secret",
    "confirmation_key",
    "membership_key",
    "resumption_psk",
    "epoch_authenticator",
    "init_secret",
)


def _hidden(_: object) -> str:
    return "***"


@attrs.frozen(slots=True)
class Member:
    """A member as the group sees it: leaf index, credential and public keys."""

    leaf_index: int
    credential: Credential
    signature_key: bytes
    encryption_key: bytes

    @classmethod
    def of(cls, leaf_index: int, leaf: LeafNode) -> "Member":
        return cls(leaf_index, leaf.credential, leaf.signature_key, leaf.encryption_key)


@attrs.frozen(slots=True)
class PendingProposal:
    """A proposal received (or sent) in this epoch, kept by reference until a commit covers it.

    ``encryption_private`` is the private key of the leaf in our own Update proposal.
    """

    ref: bytes
    proposal: Proposal
    sender: Sender
    encryption_private: Optional[bytes] = attrs.field(
        default=None, repr=_hidden, converter=attrs.converters.optional(Secret)
    )


@attrs.frozen(slots=True)
class PastEpoch:
    """What a past epoch keeps to read late application messages: its context, keys and tree."""

    epoch: int
    group_context: bytes
    sender_data_secret: bytes = attrs.field(converter=Secret)
    secret_tree: SecretTree
    tree: RatchetTree


@attrs.frozen(slots=True)
class GroupState:
    """One member's view of a group in one epoch. See the module docstring."""

    group_context: GroupContext
    tree: RatchetTree
    #: Our leaf index and the HPKE private keys we know (our leaf's and some on our direct path).
    private: TreeKemPrivate
    signature_private: bytes = attrs.field(converter=Secret)
    epoch_secrets: EpochSecrets
    secret_tree: SecretTree
    interim_transcript_hash: bytes
    confirmation_tag: bytes
    pending: tuple[PendingProposal, ...] = ()
    past_epochs: tuple[PastEpoch, ...] = ()
    #: (epoch, resumption PSK) of recent past epochs, newest first.
    resumption_psks: tuple[tuple[int, bytes], ...] = attrs.field(default=(), repr=_hidden)
    active: bool = True
    #: (GroupContext, its encoding): carried across ``attrs.evolve`` and reused while the context
    #: object is the same, so deriving a state does not re-encode its context.
    _context_cache: Optional[tuple[GroupContext, bytes]] = attrs.field(default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        cache = self._context_cache
        if cache is None or cache[0] is not self.group_context:
            object.__setattr__(self, "_context_cache", (self.group_context, self.group_context.encode()))

    # -- identity of the group and epoch --------------------------------------------------------

    @property
    def suite(self) -> CipherSuite:
        return self.tree.suite

    @property
    def suite_id(self) -> int:
        return self.group_context.cipher_suite

    @property
    def group_id(self) -> bytes:
        return self.group_context.group_id

    @property
    def epoch(self) -> int:
        return self.group_context.epoch

    @property
    def extensions(self) -> tuple[Extension, ...]:
        """The GroupContext extensions of this epoch."""
        return self.group_context.extensions

    @property
    def own_leaf_index(self) -> int:
        return self.private.leaf_index

    @property
    def epoch_authenticator(self) -> bytes:
        return self.epoch_secrets.epoch_authenticator

    @property
    def encoded_group_context(self) -> bytes:
        """The GroupContext as signatures and the key schedule cover it."""
        return self._context_cache[1]  # type: ignore[index]

    @property
    def is_active(self) -> bool:
        """False once a commit removed us: the state can still read late messages, not send."""
        return self.active

    # -- members --------------------------------------------------------------------------------

    def members(self) -> dict[int, Member]:
        """Leaf index -> Member for every member of this epoch."""
        return {index: Member.of(index, leaf) for index, leaf in self.tree.leaves()}

    def member(self, leaf_index: int) -> Optional[Member]:
        """The member at ``leaf_index``, or None."""
        if not self.tree.has_leaf(leaf_index):
            return None
        return Member.of(leaf_index, self.tree.leaf(leaf_index))  # type: ignore[arg-type]

    def own_leaf(self) -> LeafNode:
        """Our LeafNode; NotAMember once we were removed."""
        if not self.active or not self.tree.has_leaf(self.own_leaf_index):
            raise NotAMember("this client is no longer a member of the group")
        return self.tree.leaf(self.own_leaf_index)  # type: ignore[return-value]

    def resumption_psk_map(self) -> dict[int, bytes]:
        """Epoch -> resumption PSK for this epoch and the recent past ones we keep."""
        found = {epoch: psk for epoch, psk in self.resumption_psks}
        found[self.epoch] = self.epoch_secrets.resumption_psk
        return found

    def past_epoch(self, epoch: int) -> Optional[PastEpoch]:
        for past in self.past_epochs:
            if past.epoch == epoch:
                return past
        return None

    def pending_by_ref(self) -> dict[bytes, PendingProposal]:
        return {p.ref: p for p in self.pending}

    # -- serialization --------------------------------------------------------------------------

    def encode(self) -> bytes:
        """A compact deterministic encoding of the whole state, secrets included (store it encrypted)."""
        w = Writer()
        w.raw(_MAGIC)
        self.group_context._write(w)
        w.raw(self.tree.encode())
        w.uint32(self.private.leaf_index)
        w.opaque(self.private.leaf_key)
        w.varint(len(self.private.node_keys))
        for node, key in self.private.node_keys:
            w.uint32(node)
            w.opaque(key)
        w.opaque(self.signature_private)
        for name in _EPOCH_SECRET_FIELDS:
            w.opaque(getattr(self.epoch_secrets, name))
        w.opaque(self.secret_tree.encode())
        w.opaque(self.interim_transcript_hash)
        w.opaque(self.confirmation_tag)
        w.varint(len(self.pending))
        for pending in self.pending:
            w.opaque(pending.ref)
            SENDER.write(w, pending.sender)
            PROPOSAL.write(w, pending.proposal)
            boolean.write(w, pending.encryption_private is not None)
            if pending.encryption_private is not None:
                w.opaque(pending.encryption_private)
        w.varint(len(self.past_epochs))
        for past in self.past_epochs:
            w.uint64(past.epoch)
            w.opaque(past.group_context)
            w.opaque(past.sender_data_secret)
            w.opaque(past.secret_tree.encode())
            w.raw(past.tree.encode())
        w.varint(len(self.resumption_psks))
        for epoch, psk in self.resumption_psks:
            w.uint64(epoch)
            w.opaque(psk)
        boolean.write(w, self.active)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> "GroupState":
        """The state ``encode`` wrote; InvalidGroupState (a DecodeError) for anything else."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidGroupState(f"expected bytes, got {type(data).__name__}")
        try:
            return _read_state(Reader(bytes(data)))
        except InvalidGroupState:
            raise
        except (MlsError, ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
            raise InvalidGroupState(f"not a group state: {exc}") from None


def _read_state(r: Reader) -> GroupState:
    if r.take(len(_MAGIC)) != _MAGIC:
        raise InvalidGroupState("not a group state of this format version")
    context = GroupContext._read(r)
    suite = cipher_suite(context.cipher_suite)
    tree = RatchetTree.from_wire_nodes(suite, RATCHET_TREE.read(r))
    own_leaf = r.uint32()
    leaf_key = r.opaque()
    node_keys = [(r.uint32(), r.opaque()) for _ in range(r.varint())]
    private = TreeKemPrivate(own_leaf, leaf_key, node_keys)
    signature_private = r.opaque()
    secrets = EpochSecrets(**{name: Secret(r.opaque()) for name in _EPOCH_SECRET_FIELDS})
    secret_tree = SecretTree.decode(r.opaque())
    interim = r.opaque()
    confirmation_tag = r.opaque()
    pending = []
    for _ in range(r.varint()):
        ref = r.opaque()
        sender = SENDER.read(r)
        proposal = PROPOSAL.read(r)
        update_key = Secret(r.opaque()) if boolean.read(r) else None
        pending.append(PendingProposal(ref, proposal, sender, update_key))
    past = []
    for _ in range(r.varint()):
        epoch = r.uint64()
        group_context = r.opaque()
        sender_data_secret = r.opaque()
        past_secret_tree = SecretTree.decode(r.opaque())
        past_tree = RatchetTree.from_wire_nodes(suite, RATCHET_TREE.read(r))
        past.append(PastEpoch(epoch, group_context, sender_data_secret, past_secret_tree, past_tree))
    resumption = []
    for _ in range(r.varint()):
        resumption.append((r.uint64(), Secret(r.opaque())))
    active = boolean.read(r)
    r.finish()
    return GroupState(
        context,
        tree,
        private,
        signature_private,
        secrets,
        secret_tree,
        interim,
        confirmation_tag,
        tuple(pending),
        tuple(past),
        tuple(resumption),
        active,
    )


def export_secret(state: GroupState, label: bytes, context: bytes, length: int) -> bytes:
    """MLS-Exporter(label, context, length) of the state's epoch (RFC 9420 8.5)."""
    return mls_exporter(state.suite, state.epoch_secrets.exporter_secret, label, context, length)
