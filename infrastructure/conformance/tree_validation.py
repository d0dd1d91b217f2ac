"""Checks tree-validation.json: resolutions and tree hashes of every node, then the full joiner
validation of RFC 9420 12.4.3.1 (parent hashes, leaf signatures bound to group_id, unmerged leaves,
unique keys)."""

from __future__ import annotations

from typing import Any

from mlsgroup.domain.mls.ratchet_tree import RatchetTree
from mlsgroup.domain.mls.tree_validation import validate_tree

from . import expect_equal

__all__ = ["FILE", "check"]

FILE = "tree-validation.json"


def check(entry: dict[str, Any]) -> None:
    tree = RatchetTree.decode(entry["cipher_suite"], bytes.fromhex(entry["tree"]))
    resolutions = entry["resolutions"]
    hashes = entry["tree_hashes"]
    expect_equal("node count", tree.width, len(resolutions))
    expect_equal("tree_hashes count", tree.width, len(hashes))
    for index in range(tree.width):
        expect_equal(f"resolution[{index}]", list(tree.resolution(index)), resolutions[index])
        expect_equal(f"tree_hashes[{index}]", tree.node_hash(index), bytes.fromhex(hashes[index]))
    validate_tree(tree, group_id=bytes.fromhex(entry["group_id"]), tree_hash=bytes.fromhex(hashes[tree.root]))
