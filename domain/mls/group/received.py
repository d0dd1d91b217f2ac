"""Received application messages kept as their opening fields (RFC 9420 6.3, 9.1): consuming their
ratchet key again, and rebuilding their PrivateMessage.

A store may keep what opening an application message revealed (sender leaf, generation, reuse
guard, authenticated data, content, signature, padding) instead of its ciphertext. Replaying it
then needs only the secret-tree key to be marked used (``consume_application_key``: no AEAD, no
signature); an audit rebuilds the message bytes from the epoch's keys and verifies the signature
(``reseal_application``, which returns what ``process_message`` returns for that message, and
the message's bytes). Both pick the epoch as ``process_message`` does: the current one, or a
past one whose keys are still kept (``EpochNotAvailable``, ``WrongEpoch`` otherwise).
``ResealRun`` rebuilds a run of the current epoch's messages without a state per message.
"""

from __future__ import annotations

import attrs

from ..codec import encode_opaque, encode_varint
from ..enums import ContentType, WireFormat
from ..private_message_protection import Resealer, reseal_private
from ..secret_tree import RatchetType, SecretTree, SecretTreeDraft
from ..tree_structs import LeafNode
from .errors import EpochNotAvailable, UnknownSender, WrongEpoch
from .outputs import ApplicationMessage, OwnMessageReceived, Processed
from .state import GroupState, PastEpoch

__all__ = ["consume_application_key", "reseal_application", "ResealRun"]

# MLSMessage header: ProtocolVersion mls10, WireFormat mls_private_message.
_PRIVATE_MESSAGE_HEAD = b"\x00\x01" + WireFormat.PRIVATE_MESSAGE.to_bytes(2, "big")
_APPLICATION = bytes((ContentType.APPLICATION,))
_APPLICATION_RATCHET = RatchetType.APPLICATION


def _message_head(group_id: bytes, epoch: int) -> bytes:
    """An application MLSMessage(PrivateMessage) up to its authenticated data."""
    return b"".join((_PRIVATE_MESSAGE_HEAD, encode_opaque(group_id), epoch.to_bytes(8, "big"), _APPLICATION))


def _epoch_of(state: GroupState, epoch: int) -> PastEpoch | None:
    """None for the current epoch, the kept past epoch otherwise."""
    if epoch == state.epoch:
        return None
    if epoch > state.epoch:
        raise WrongEpoch(f"message for epoch {epoch}, the group is at epoch {state.epoch}")
    past = state.past_epoch(epoch)
    if past is None:
        raise EpochNotAvailable(f"the keys of epoch {epoch} are no longer kept")
    return past


_INIT_FIELDS = tuple((f.name, f.alias) for f in attrs.fields(GroupState) if f.init)


def _replaced(state: GroupState, **changes: object) -> GroupState:
    """``attrs.evolve`` spelled out (it re-reads the class's fields on every call, once per message)."""
    for name, alias in _INIT_FIELDS:
        if alias not in changes:
            changes[alias] = getattr(state, name)
    return GroupState(**changes)  # type: ignore[arg-type]


def _with_tree(state: GroupState, past: PastEpoch | None, tree: SecretTree) -> GroupState:
    if past is None:
        return _replaced(state, secret_tree=tree)
    updated = tuple(attrs.evolve(p, secret_tree=tree) if p is past else p for p in state.past_epochs)
    return _replaced(state, past_epochs=updated)


def consume_application_key(state: GroupState, epoch: int, leaf: int, generation: int) -> GroupState:
    """The state without the application key of (``leaf``, ``generation``) in ``epoch``, as after
    ``process_message`` opened that message. SecretTreeError if the key was used or is out of reach."""
    past = _epoch_of(state, epoch)
    secret_tree = state.secret_tree if past is None else past.secret_tree
    _key, _nonce, tree = secret_tree.key_nonce(leaf, RatchetType.APPLICATION, generation)
    return _with_tree(state, past, tree)


def reseal_application(
    state: GroupState,
    *,
    epoch: int,
    leaf: int,
    generation: int,
    reuse_guard: bytes,
    authenticated_data: bytes,
    data: bytes,
    signature: bytes,
    padding: int,
) -> tuple[Processed, bytes]:
    """(what ``process_message`` returns for it, the encoded MLSMessage) of the application message
    sent with these fields, its signature verified under the sender's leaf in that epoch's tree
    (SignatureError, UnknownSender, SecretTreeError, ``_epoch_of``'s errors). Our own leaf gives
    ``OwnMessageReceived``, with the key marked used in the current epoch only, as there."""
    past = _epoch_of(state, epoch)
    if past is None:
        tree, secret_tree = state.tree, state.secret_tree
        sender_data_secret, context = state.epoch_secrets.sender_data_secret, state.encoded_group_context
    else:
        tree, secret_tree = past.tree, past.secret_tree
        sender_data_secret, context = past.sender_data_secret, past.group_context

    member = tree.leaf(leaf) if 0 <= leaf < tree.n_leaves else None
    if member is None:
        raise UnknownSender(f"leaf {leaf} holds no member")
    message, new_tree = reseal_private(
        state.suite,
        secret_tree,
        sender_data_secret,
        context,
        member.signature_key,
        group_id=state.group_id,
        epoch=epoch,
        leaf=leaf,
        generation=generation,
        reuse_guard=reuse_guard,
        authenticated_data=authenticated_data,
        application_data=data,
        signature=signature,
        padding=padding,
    )
    # MLSMessage(PrivateMessage) encoded in place (an audit rebuilds every stored message).
    encoded = b"".join((
        _message_head(message.group_id, epoch),
        encode_opaque(message.authenticated_data),
        encode_opaque(message.encrypted_sender_data),
        encode_opaque(message.ciphertext),
    ))
    if leaf == state.own_leaf_index:
        after = state if past is not None else _with_tree(state, None, new_tree)
        return Processed(after, OwnMessageReceived(ContentType.APPLICATION, epoch)), encoded
    output = ApplicationMessage(
        leaf, member.credential, data, authenticated_data, epoch, generation, signature, reuse_guard, padding
    )
    return Processed(_with_tree(state, past, new_tree), output), encoded


class ResealRun:
    """Rebuilds received application messages of ``state``'s current epoch one after the other, as
    ``reseal_application`` called on each result in turn would, without building a state per
    message (an audit rebuilds every stored one): the epoch's constant encodings, its signature
    keys and its secret tree (a ``SecretTreeDraft``) are shared by the run.

    ``reseal`` gives the encoded MLSMessage and holds its ratchet key back, ``keep`` consumes that
    key (a message that then fails the caller's checks leaves the run as it was), ``state()`` is the
    state after every kept message. Past epochs' messages are ``reseal_application``'s.
    """

    __slots__ = ("_draft", "_head", "_members", "_resealer", "_state", "_tree")

    def __init__(self, state: GroupState) -> None:
        self._state = state
        self._tree = state.tree
        self._members: dict[int, LeafNode | None] = {}
        self._draft = SecretTreeDraft(state.secret_tree)
        self._resealer = Resealer(
            state.suite, state.epoch_secrets.sender_data_secret, state.encoded_group_context, state.group_id, state.epoch
        )
        self._head = _message_head(state.group_id, state.epoch)

    @property
    def epoch(self) -> int:
        return self._state.epoch

    def member(self, leaf: int) -> LeafNode | None:
        """The leaf node at ``leaf`` in this epoch's tree (None: blank or outside the tree)."""
        try:
            return self._members[leaf]
        except KeyError:
            tree = self._tree
            found = self._members[leaf] = tree.leaf(leaf) if 0 <= leaf < tree.n_leaves else None
            return found

    def reseal(
        self,
        leaf: int,
        generation: int,
        reuse_guard: bytes,
        authenticated_data: bytes,
        data: bytes,
        signature: bytes,
        padding: int,
    ) -> bytes:
        """The encoded MLSMessage sent with these fields in this epoch, its signature verified
        (UnknownSender, SecretTreeError, SignatureError, ValueError as ``reseal_application``)."""
        member = self._members.get(leaf) or self.member(leaf)
        if member is None:
            raise UnknownSender(f"leaf {leaf} holds no member")
        key, nonce = self._draft.take(leaf, _APPLICATION_RATCHET, generation)
        encrypted_sender_data, ciphertext = self._resealer.seal(
            member.signature_key, key, nonce, leaf, generation, reuse_guard, authenticated_data, data, signature, padding
        )
        # The three opaque<V> fields, each prefix joined beside its bytes (no copy of the ciphertext).
        return b"".join((
            self._head,
            encode_opaque(authenticated_data) if authenticated_data else b"\x00",
            encode_varint(len(encrypted_sender_data)),
            encrypted_sender_data,
            encode_varint(len(ciphertext)),
            ciphertext,
        ))

    def keep(self) -> None:
        """Consume the key of the message ``reseal`` rebuilt last."""
        self._draft.keep()

    def state(self) -> GroupState:
        """The state after every kept message (each one's key consumed)."""
        tree = self._draft.tree()
        return self._state if tree is self._state.secret_tree else _replaced(self._state, secret_tree=tree)
