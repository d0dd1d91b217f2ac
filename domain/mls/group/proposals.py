"""Proposal validation and application (RFC 9420 12.1, 12.2, 12.3).

``check_proposal`` runs the checks a single proposal must pass when it is received (12.1):
a valid KeyPackage in an Add, a valid ``update`` LeafNode from a member in an Update, a non-blank
target in a Remove, a well-formed PSK id; ReInit and ExternalInit are rejected with
``UnsupportedProposal``. ``apply_proposals`` validates a commit's whole list (12.2: no update or
removal of the committer, one Update/Remove per leaf, no duplicate Adds or PSKs, at most one
GroupContextExtensions, no Add of a current member, capabilities of every member) and applies it
in the order of 12.3: extensions, updates, removes, adds. Both only read the state.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Optional, Sequence

import attrs

from ..enums import LeafNodeSource, ProposalType, SenderType
from ..extensions import Extension
from ..framing import Sender
from ..key_packages import KeyPackage
from ..proposals import Add, GroupContextExtensions, PreSharedKey, Proposal, PreSharedKeyID, Remove, Update
from ..ratchet_tree import RatchetTree
from ..tree_structs import LeafNode
from ..tree_validation import validate_leaf_node
from .capabilities import GroupRequirements, check_credential_types
from .errors import (
    CapabilityNotSupported,
    CommitterRemoval,
    CommitterUpdate,
    DuplicateProposal,
    InvalidLeafNode,
    InvalidProposal,
    MemberAlreadyInGroup,
    ProposalTargetsBlankLeaf,
    UnsupportedProposal,
)
from .key_package_bundles import validate_key_package
from .psks import check_psk_id, check_psk_ids
from .state import GroupState

__all__ = [
    "ProposalEntry",
    "AppliedProposals",
    "PATH_OPTIONAL_TYPES",
    "check_proposal",
    "apply_proposals",
]

#: Proposal types that do not require an UpdatePath (12.4).
PATH_OPTIONAL_TYPES = frozenset({ProposalType.ADD, ProposalType.PSK, ProposalType.REINIT})

_SUPPORTED = frozenset(
    {
        ProposalType.ADD,
        ProposalType.UPDATE,
        ProposalType.REMOVE,
        ProposalType.PSK,
        ProposalType.GROUP_CONTEXT_EXTENSIONS,
    }
)


@attrs.frozen(slots=True)
class ProposalEntry:
    """One proposal a commit covers: who sent it, its reference (None if by value), and whether
    its individual checks already passed when it was received in this epoch."""

    proposal: Proposal
    sender: Sender
    ref: Optional[bytes] = None
    checked: bool = False
    encryption_private: Optional[bytes] = attrs.field(default=None, repr=False)


@attrs.frozen
class AppliedProposals:
    """The outcome of applying a valid proposal list: the new tree and extensions and what changed."""

    tree: RatchetTree
    extensions: tuple[Extension, ...]
    extensions_changed: bool
    added: tuple[tuple[int, KeyPackage], ...]
    updated: tuple[tuple[int, LeafNode, LeafNode], ...]
    removed: tuple[tuple[int, LeafNode], ...]
    psks: tuple[PreSharedKeyID, ...]
    path_required: bool
    #: The private key of our own Update's leaf, when the list commits it.
    own_update_key: Optional[bytes] = attrs.field(default=None, repr=False)

    @property
    def added_leaves(self) -> tuple[int, ...]:
        return tuple(index for index, _ in self.added)


def _check_update_leaf(state: GroupState, leaf_index: int, leaf: LeafNode) -> None:
    current = state.tree.leaf(leaf_index) if 0 <= leaf_index < state.tree.n_leaves else None
    if current is None:
        raise ProposalTargetsBlankLeaf(f"Update from blank leaf {leaf_index}")
    validate_leaf_node(
        state.suite, leaf, group_id=state.group_id, leaf_index=leaf_index, expected_source=LeafNodeSource.UPDATE
    )
    if leaf.encryption_key == current.encryption_key:
        raise InvalidLeafNode(f"the Update from leaf {leaf_index} keeps its encryption key")


def check_proposal(state: GroupState, proposal: Proposal, sender: Sender, *, now: Optional[int] = None) -> None:
    """The checks of RFC 9420 12.1 a proposal must pass on its own; typed errors otherwise."""
    kind = proposal.TAG
    if kind not in _SUPPORTED:
        raise UnsupportedProposal(f"proposal type {kind} is not supported by this group")
    if kind == ProposalType.ADD:
        validate_key_package(proposal.key_package, suite_id=state.suite_id, now=now)
    elif kind == ProposalType.UPDATE:
        if sender.TAG != SenderType.MEMBER:
            raise InvalidProposal("only members can send an Update")
        _check_update_leaf(state, sender.leaf_index, proposal.leaf_node)
    elif kind == ProposalType.REMOVE:
        if not state.tree.has_leaf(proposal.removed):
            raise ProposalTargetsBlankLeaf(f"Remove of blank or missing leaf {proposal.removed}")
    elif kind == ProposalType.PSK:
        check_psk_id(state.suite, proposal.psk)
    elif kind == ProposalType.GROUP_CONTEXT_EXTENSIONS:
        GroupRequirements(proposal.extensions)


def _check_list(state: GroupState, entries: Sequence[ProposalEntry], committer: Optional[int]) -> None:
    """The list rules of 12.2 that need no tree edits."""
    gce = 0
    leaves_touched: set[int] = set()
    for entry in entries:
        proposal, sender = entry.proposal, entry.sender
        kind = proposal.TAG
        if kind not in _SUPPORTED:
            raise UnsupportedProposal(f"proposal type {kind} is not supported by this group")
        if kind == ProposalType.GROUP_CONTEXT_EXTENSIONS:
            gce += 1
            if gce > 1:
                raise DuplicateProposal("more than one GroupContextExtensions proposal")
        elif kind == ProposalType.UPDATE:
            if sender.TAG != SenderType.MEMBER:
                raise InvalidProposal("only members can send an Update")
            leaf = sender.leaf_index
            if leaf == committer:
                raise CommitterUpdate("a commit cannot cover the committer's own Update")
            if leaf in leaves_touched:
                raise DuplicateProposal(f"several Update/Remove proposals for leaf {leaf}")
            leaves_touched.add(leaf)
        elif kind == ProposalType.REMOVE:
            leaf = proposal.removed
            if leaf == committer:
                raise CommitterRemoval("a commit cannot remove the committer")
            if leaf in leaves_touched:
                raise DuplicateProposal(f"several Update/Remove proposals for leaf {leaf}")
            leaves_touched.add(leaf)
    check_psk_ids(state.suite, [e.proposal.psk for e in entries if e.proposal.TAG == ProposalType.PSK])


def _check_unique_keys(tree: RatchetTree, added: Iterable[int], updated: Iterable[int]) -> None:
    """No signature key in two leaves and no encryption key in two nodes, blaming Adds first."""
    added, updated = set(added), set(updated)
    if not added and not updated:
        return
    signature_keys = Counter(leaf.signature_key for _, leaf in tree.leaves())
    encryption_keys = Counter(node.encryption_key for node in tree.nodes if node is not None)
    for index in sorted(added | updated):
        leaf = tree.leaf(index)
        if signature_keys[leaf.signature_key] > 1 or encryption_keys[leaf.encryption_key] > 1:  # type: ignore[union-attr]
            if index in added:
                raise MemberAlreadyInGroup(f"the Add for leaf {index} reuses a member's signature or encryption key")
            raise InvalidLeafNode(f"the Update of leaf {index} reuses a key of another member")


def apply_proposals(
    state: GroupState,
    entries: Sequence[ProposalEntry],
    committer: Optional[int],
    *,
    now: Optional[int] = None,
) -> AppliedProposals:
    """Validate ``entries`` as the proposal list of a commit by leaf ``committer`` and apply them.

    Raises InvalidProposal subclasses, KeyPackageValidationError or LeafNodeValidationError for
    an invalid list; never changes ``state``.
    """
    _check_list(state, entries, committer)
    for entry in entries:
        if not entry.checked:
            check_proposal(state, entry.proposal, entry.sender, now=now)

    extensions = state.extensions
    changed = False
    for entry in entries:
        if type(entry.proposal) is GroupContextExtensions:
            extensions = entry.proposal.extensions
            changed = True
    requirements = GroupRequirements(extensions)

    tree = state.tree
    updated = []
    own_update_key = None
    own = state.own_leaf_index
    for entry in entries:
        if type(entry.proposal) is Update:
            leaf_index = entry.sender.leaf_index
            new_leaf = entry.proposal.leaf_node
            requirements.check(new_leaf)
            updated.append((leaf_index, tree.leaf(leaf_index), new_leaf))
            tree = tree.update_leaf(leaf_index, new_leaf)
            if leaf_index == own:
                own_update_key = entry.encryption_private
    removed = []
    for entry in entries:
        if type(entry.proposal) is Remove:
            leaf_index = entry.proposal.removed
            removed.append((leaf_index, tree.leaf(leaf_index)))
            tree = tree.remove_leaf(leaf_index)
    added = []
    for entry in entries:
        if type(entry.proposal) is Add:
            key_package = entry.proposal.key_package
            requirements.check(key_package.leaf_node)
            tree, leaf_index = tree.add_leaf(key_package.leaf_node)
            added.append((leaf_index, key_package))
    psks = tuple(e.proposal.psk for e in entries if type(e.proposal) is PreSharedKey)

    _check_unique_keys(tree, (i for i, _ in added), (i for i, _, _ in updated))
    if changed:
        for index, leaf in tree.leaves():
            problem = requirements.problem(leaf)
            if problem is not None:
                raise CapabilityNotSupported(f"GroupContextExtensions: member {index}: {problem}")
    if added or updated:
        check_credential_types(tree)
    path_required = not entries or any(e.proposal.TAG not in PATH_OPTIONAL_TYPES for e in entries)
    return AppliedProposals(
        tree=tree,
        extensions=tuple(extensions),
        extensions_changed=changed,
        added=tuple(added),
        updated=tuple(updated),
        removed=tuple(removed),
        psks=psks,
        path_required=path_required,
        own_update_key=own_update_key,
    )
