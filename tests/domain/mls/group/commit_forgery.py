"""Forging whole commits as a malicious insider would: any proposal list, any UpdatePath leaf, signed
and MACed correctly and with the confirmation tag a receiver will recompute, so that a test reaches
the checks of RFC 9420 12.2 and 12.4.2 that only a complete, otherwise valid commit can reach.

Unlike ``commit()``, nothing here validates the proposal list: proposals are applied to the tree
as 12.3 says (extensions, updates, removes, adds) and the result is taken as it is.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import attrs

from mlsgroup.domain.mls.codec import encode_opaque
from mlsgroup.domain.mls.commits import Commit
from mlsgroup.domain.mls.enums import WireFormat
from mlsgroup.domain.mls.framing import FramedContent, SenderMember
from mlsgroup.domain.mls.group import GroupState
from mlsgroup.domain.mls.group.epoch_transition import next_epoch
from mlsgroup.domain.mls.group.sending import public_commit_message
from mlsgroup.domain.mls.group.welcome import build_welcome, sign_group_info
from mlsgroup.domain.mls.group_context import GroupContext
from mlsgroup.domain.mls.proposals import Add, GroupContextExtensions, Remove, Update
from mlsgroup.domain.mls.treekem import create_update_path

__all__ = ["ForgedCommit", "forge_commit"]


@attrs.frozen
class ForgedCommit:
    message: bytes
    welcome: Optional[bytes]
    tree: object
    group_context: GroupContext


def _apply(state: GroupState, proposals: Sequence[object], senders: Sequence[int]):
    extensions = state.extensions
    tree = state.tree
    for proposal in proposals:
        if type(proposal) is GroupContextExtensions:
            extensions = proposal.extensions
    for proposal, sender in zip(proposals, senders):
        if type(proposal) is Update:
            tree = tree.update_leaf(sender, proposal.leaf_node)
    for proposal in proposals:
        if type(proposal) is Remove:
            tree = tree.remove_leaf(proposal.removed)
    added = []
    for proposal in proposals:
        if type(proposal) is Add:
            tree, index = tree.add_leaf(proposal.key_package.leaf_node)
            added.append((index, proposal.key_package))
    return tree, tuple(extensions), added


def forge_commit(
    state: GroupState,
    proposals: Sequence[object] = (),
    *,
    path_seed: bytes = b"\x07" * 32,
    with_path: bool = True,
    leaf_node=None,
    leaf_signer: Optional[bytes] = None,
    edit_path: Optional[Callable] = None,
    proposal_senders: Optional[Sequence[int]] = None,
    welcome_seed: bytes = b"\x08" * 32,
    group_info_extensions: Sequence[object] = (),
) -> ForgedCommit:
    """A PublicMessage commit by ``state``'s member covering ``proposals`` by value.

    ``leaf_node`` / ``leaf_signer`` choose the UpdatePath leaf template and the key that signs it;
    ``edit_path(update_path) -> update_path`` alters the path after it is built (the tree and
    secrets are those of the unaltered path). A Welcome is built when the list adds members; its
    GroupInfo carries ``group_info_extensions`` before the ratchet_tree extension.
    """
    suite = state.suite
    own = state.own_leaf_index
    senders = proposal_senders or [own] * len(proposals)
    tree, extensions, added = _apply(state, proposals, senders)
    old = state.group_context
    path = None
    commit_secret = bytes(suite.hash_len)
    created = None
    if with_path:
        provisional = GroupContext(
            old.version, old.cipher_suite, old.group_id, old.epoch + 1, b"", old.confirmed_transcript_hash, extensions
        )
        created = create_update_path(
            tree,
            own,
            path_seed,
            signature_private_key=leaf_signer or state.signature_private,
            group_context=provisional,
            leaf_node=leaf_node,
            excluded_leaves=[i for i, _ in added],
        )
        tree, commit_secret, path = created.tree, bytes(created.commit_secret), created.update_path
        if edit_path is not None:
            path = edit_path(path)
    framed = FramedContent(state.group_id, state.epoch, SenderMember(own), b"", Commit(tuple(proposals), path))
    framed_bytes = framed.encode()
    tbs = b"\x00\x01" + WireFormat.PUBLIC_MESSAGE.to_bytes(2, "big") + framed_bytes + state.encoded_group_context
    signature = suite.sign_with_label(state.signature_private, "FramedContentTBS", tbs)
    confirmed_input = WireFormat.PUBLIC_MESSAGE.to_bytes(2, "big") + framed_bytes + encode_opaque(signature)
    epoch = next_epoch(state, tree, extensions, confirmed_input, commit_secret, None)
    message = public_commit_message(state, framed_bytes, tbs, signature, epoch.confirmation_tag)
    welcome = None
    if added:
        group_info = sign_group_info(
            suite, state.signature_private, epoch.group_context, epoch.confirmation_tag, own, tree, group_info_extensions
        )
        welcome = build_welcome(
            suite,
            group_info,
            epoch.secrets.joiner_secret,
            epoch.secrets.welcome_secret,
            added,
            (),
            (lambda leaf: None) if created is None else created.path_secret_for,
            welcome_seed,
        )
    return ForgedCommit(message, welcome, tree, epoch.group_context)
