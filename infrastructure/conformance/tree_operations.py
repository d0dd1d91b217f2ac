"""Checks tree-operations.json: applying one Add, Update or Remove proposal to a ratchet tree (RFC 9420 12.1)."""

from __future__ import annotations

from typing import Any

from mlsgroup.domain.mls.proposals import PROPOSAL, Add, Remove, Update
from mlsgroup.domain.mls.ratchet_tree import RatchetTree

from . import Unsupported, expect_equal

__all__ = ["FILE", "check", "apply_proposal"]

FILE = "tree-operations.json"


def apply_proposal(tree: RatchetTree, proposal: Any, sender: int) -> RatchetTree:
    """The tree after ``proposal`` from member ``sender``; Unsupported for non-tree proposals."""
    if isinstance(proposal, Add):
        return tree.add_leaf(proposal.key_package.leaf_node)[0]
    if isinstance(proposal, Update):
        return tree.update_leaf(sender, proposal.leaf_node)
    if isinstance(proposal, Remove):
        return tree.remove_leaf(proposal.removed)
    raise Unsupported(f"proposal type {proposal.TAG} does not change the tree")


def check(entry: dict[str, Any]) -> None:
    suite = entry["cipher_suite"]
    before = RatchetTree.decode(suite, bytes.fromhex(entry["tree_before"]))
    expect_equal("tree_hash_before", before.tree_hash(), bytes.fromhex(entry["tree_hash_before"]))
    proposal = PROPOSAL.decode(bytes.fromhex(entry["proposal"]))
    after = apply_proposal(before, proposal, entry["proposal_sender"])
    expect_equal("tree_after", after.encode(), bytes.fromhex(entry["tree_after"]))
    expect_equal("tree_hash_after", after.tree_hash(), bytes.fromhex(entry["tree_hash_after"]))
    fresh = RatchetTree.decode(suite, after.encode())
    expect_equal("tree_hash_after (re-decoded)", fresh.tree_hash(), after.tree_hash())
