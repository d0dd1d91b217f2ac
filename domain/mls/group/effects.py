"""The descriptive effect of a commit (RFC 9420 12.3, 12.4): who was added, removed or updated and
which GroupContext extensions changed, as a ``CommitEffect`` value the application's rules inspect.
"""

from __future__ import annotations

from typing import Sequence

from ..ratchet_tree import RatchetTree
from .outputs import AddedMember, CommitEffect, UpdatedMember
from .proposals import AppliedProposals, ProposalEntry
from .state import GroupState, Member
from .wire_cache import key_package_bytes

__all__ = ["commit_effect"]


def commit_effect(
    state: GroupState,
    applied: AppliedProposals,
    entries: Sequence[ProposalEntry],
    committer: int,
    tree: RatchetTree,
    path_included: bool,
) -> CommitEffect:
    """The effect of a commit by ``committer`` on ``state``; ``tree`` is the new epoch's tree."""
    suite = state.suite
    added = tuple(
        AddedMember(
            index,
            key_package.leaf_node.credential,
            key_package.leaf_node.signature_key,
            suite.make_key_package_ref(key_package_bytes(key_package)),
        )
        for index, key_package in applied.added
    )
    updated = [
        UpdatedMember(index, Member.of(index, before), Member.of(index, after))
        for index, before, after in applied.updated
    ]
    old_leaf = state.tree.leaf(committer)
    if path_included:
        updated.append(UpdatedMember(committer, Member.of(committer, old_leaf), Member.of(committer, tree.leaf(committer))))
    own = state.own_leaf_index
    return CommitEffect(
        epoch=state.epoch + 1,
        committer=committer,
        committer_credential=old_leaf.credential,
        added=added,
        removed=tuple(Member.of(index, leaf) for index, leaf in applied.removed),
        updated=tuple(updated),
        extensions_before=state.extensions,
        extensions_after=applied.extensions,
        psks=applied.psks,
        proposals=tuple(e.proposal for e in entries),
        proposal_senders=tuple(e.sender for e in entries),
        path_included=path_included,
        own_leaf_removed=any(index == own for index, _ in applied.removed),
    )
