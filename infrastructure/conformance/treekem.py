"""Checks treekem.json: decrypting every UpdatePath with every member's private TreeKEM state,
the commit secret and tree hash after merging, and a fresh UpdatePath from each sender that every
other member processes to the same commit secret (RFC 9420 7.4-7.6, 12.4.2)."""

from __future__ import annotations

import hashlib
from typing import Any

from mlsgroup.domain.mls.enums import ProtocolVersion
from mlsgroup.domain.mls.group_context import GroupContext
from mlsgroup.domain.mls.ratchet_tree import RatchetTree
from mlsgroup.domain.mls.tree_structs import UpdatePath
from mlsgroup.domain.mls.treekem import (
    TreeKemPrivate,
    create_update_path,
    merge_update_path,
    process_update_path,
)

from . import VectorMismatch, expect_equal

__all__ = ["FILE", "check"]

FILE = "treekem.json"


def _hex(value: str | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value)


def check(entry: dict[str, Any]) -> None:
    suite_id = entry["cipher_suite"]
    tree = RatchetTree.decode(suite_id, bytes.fromhex(entry["ratchet_tree"]))
    suite = tree.suite
    group_id = bytes.fromhex(entry["group_id"])
    context = GroupContext(
        ProtocolVersion.MLS10,
        suite_id,
        group_id,
        entry["epoch"],
        tree.tree_hash(),
        bytes.fromhex(entry["confirmed_transcript_hash"]),
        (),
    )
    privates: dict[int, TreeKemPrivate] = {}
    signature_keys: dict[int, bytes] = {}
    for leaf in entry["leaves_private"]:
        index = leaf["index"]
        state = TreeKemPrivate.from_path_secrets(
            suite,
            index,
            bytes.fromhex(leaf["encryption_priv"]),
            [(p["node"], bytes.fromhex(p["path_secret"])) for p in leaf["path_secrets"]],
        )
        try:
            state.verify_against(tree)
        except ValueError as exc:
            raise VectorMismatch(f"leaves_private[{index}] inconsistent with the tree: {exc}") from exc
        privates[index] = state
        signature_keys[index] = bytes.fromhex(leaf["signature_priv"])
    members = [index for index, _ in tree.leaves()]
    missing = set(members) - set(privates)
    if missing:
        raise VectorMismatch(f"no private state for members {sorted(missing)}")

    for number, case in enumerate(entry["update_paths"]):
        sender = case["sender"]
        path = UpdatePath.decode(bytes.fromhex(case["update_path"]))
        where = f"update_paths[{number}]"
        merged = merge_update_path(tree, sender, path, group_id=group_id)
        expect_equal(f"{where}.tree_hash_after", merged.tree_hash(), bytes.fromhex(case["tree_hash_after"]))
        want_commit = bytes.fromhex(case["commit_secret"])
        for receiver in members:
            if receiver == sender:
                continue
            result = process_update_path(tree, sender, path, privates[receiver], group_context=context)
            expect_equal(f"{where}.path_secrets[{receiver}]", result.path_secret, _hex(case["path_secrets"][receiver]))
            expect_equal(f"{where}.commit_secret at {receiver}", result.commit_secret, want_commit)
            expect_equal(f"{where}.tree at {receiver}", result.tree, merged)
            result.private.verify_against(result.tree)

        seed = hashlib.sha256(b"treekem conformance" + group_id + sender.to_bytes(4, "big")).digest()
        created = create_update_path(
            tree, sender, seed, signature_private_key=signature_keys[sender], group_context=context
        )
        created.private.verify_against(created.tree)
        expect_equal(f"{where} fresh path context", created.group_context.tree_hash, created.tree.tree_hash())
        for receiver in members:
            if receiver == sender:
                continue
            result = process_update_path(tree, sender, created.update_path, privates[receiver], group_context=context)
            expect_equal(f"{where} fresh commit_secret at {receiver}", result.commit_secret, created.commit_secret)
            expect_equal(f"{where} fresh tree at {receiver}", result.tree, created.tree)
