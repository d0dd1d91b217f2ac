"""Sending proposals by reference (RFC 9420 12.1): Add, Remove, Update, PreSharedKey and
GroupContextExtensions, framed, signed, protected and kept pending in our own state.

Each ``propose_*`` returns ``(new_state, message_bytes)``: the proposal is pending by its
reference (so a later commit, ours or another member's, can cover it) and, as a PrivateMessage,
has used one key of our handshake ratchet. Our own Update keeps its new leaf's private key in the
pending entry until a commit covers it.
"""

from __future__ import annotations

from typing import Iterable, Optional, Union

import attrs

from ..extensions import Extension
from ..framing import SenderMember
from ..key_packages import KeyPackage
from ..proposals import (
    Add,
    ExternalPsk,
    GroupContextExtensions,
    PreSharedKey,
    PreSharedKeyID,
    Proposal,
    Remove,
    Update,
)
from ..tree_structs import UpdateSource
from .errors import InvalidCommitRequest
from .key_package_bundles import decode_key_package_message, sign_leaf_node
from .proposals import check_proposal
from .seeds import check_seed, expand_seed
from .sending import WireFormatName, authenticated, frame, protect, wire_format_of
from .state import GroupState, PendingProposal

__all__ = [
    "propose",
    "propose_add",
    "propose_remove",
    "propose_update",
    "propose_psk",
    "propose_group_context_extensions",
]


def propose(
    state: GroupState,
    proposal: Proposal,
    *,
    seed: bytes,
    wire_format: WireFormatName = "private",
    authenticated_data: bytes = b"",
    now: Optional[int] = None,
    encryption_private: Optional[bytes] = None,
) -> tuple[GroupState, bytes]:
    """Send ``proposal`` by reference; it is checked as a receiver would check it (12.1)."""
    seed = check_seed(seed)
    wire = wire_format_of(wire_format)
    state.own_leaf()
    me = SenderMember(state.own_leaf_index)
    check_proposal(state, proposal, me, now=now)
    content = authenticated(state, frame(state, proposal, authenticated_data), wire)
    ref = state.suite.make_proposal_ref(content.encode())
    message, secret_tree = protect(state, content, expand_seed(state.suite, seed, b"proposal protection", 32))
    pending = PendingProposal(ref, proposal, me, encryption_private)
    return attrs.evolve(state, secret_tree=secret_tree, pending=state.pending + (pending,)), message


def propose_add(
    state: GroupState, key_package: Union[KeyPackage, bytes], *, seed: bytes, wire_format: WireFormatName = "private",
    authenticated_data: bytes = b"", now: Optional[int] = None,
) -> tuple[GroupState, bytes]:
    """Propose adding the client of ``key_package`` (a KeyPackage or an encoded MLSMessage of one)."""
    if not isinstance(key_package, KeyPackage):
        key_package = decode_key_package_message(bytes(key_package))
    return propose(
        state, Add(key_package), seed=seed, wire_format=wire_format, authenticated_data=authenticated_data, now=now
    )


def propose_remove(
    state: GroupState, leaf_index: int, *, seed: bytes, wire_format: WireFormatName = "private",
    authenticated_data: bytes = b"",
) -> tuple[GroupState, bytes]:
    """Propose removing the member at ``leaf_index`` (ourselves included: that is how a member leaves)."""
    if not state.tree.has_leaf(leaf_index):
        raise InvalidCommitRequest(f"leaf {leaf_index} holds no member")
    return propose(state, Remove(leaf_index), seed=seed, wire_format=wire_format, authenticated_data=authenticated_data)


def propose_update(
    state: GroupState, *, seed: bytes, wire_format: WireFormatName = "private", authenticated_data: bytes = b"",
    extensions: Optional[Iterable[Extension]] = None,
) -> tuple[GroupState, bytes]:
    """Propose replacing our leaf with a fresh one (new encryption key from ``seed``)."""
    seed = check_seed(seed)
    suite = state.suite
    current = state.own_leaf()
    private, public = suite.hpke_key_pair(expand_seed(suite, seed, b"update leaf key", suite.hash_len))
    leaf = attrs.evolve(
        current,
        encryption_key=public,
        source=UpdateSource(),
        extensions=current.extensions if extensions is None else tuple(extensions),
        signature=b"",
    )
    leaf = sign_leaf_node(state.suite_id, state.signature_private, leaf, state.group_id, state.own_leaf_index)
    return propose(
        state, Update(leaf), seed=seed, wire_format=wire_format, authenticated_data=authenticated_data,
        encryption_private=private,
    )


def propose_psk(
    state: GroupState, psk_id: bytes, *, seed: bytes, wire_format: WireFormatName = "private",
    authenticated_data: bytes = b"",
) -> tuple[GroupState, bytes]:
    """Propose injecting the external PSK ``psk_id`` (with a fresh nonce from ``seed``)."""
    seed = check_seed(seed)
    suite = state.suite
    nonce = expand_seed(suite, seed, b"psk nonce", suite.hash_len)
    proposal = PreSharedKey(PreSharedKeyID(ExternalPsk(bytes(psk_id)), nonce))
    return propose(state, proposal, seed=seed, wire_format=wire_format, authenticated_data=authenticated_data)


def propose_group_context_extensions(
    state: GroupState, extensions: Iterable[Extension], *, seed: bytes, wire_format: WireFormatName = "private",
    authenticated_data: bytes = b"",
) -> tuple[GroupState, bytes]:
    """Propose replacing the GroupContext extensions wholesale with ``extensions``."""
    return propose(
        state, GroupContextExtensions(tuple(extensions)), seed=seed, wire_format=wire_format,
        authenticated_data=authenticated_data,
    )
