"""Validation of ratchet trees and leaf nodes received from others (RFC 9420 7.3, 7.9.2, 12.4.3.1).

``validate_tree`` runs every check a joiner must make on a tree from a Welcome or GroupInfo: the
root tree hash against the GroupContext, parent-hash validity of every parent node, each leaf's
validity (signature over LeafNodeTBS bound to group id and leaf index, capabilities, credential
types, extension types listed once, optional lifetime), unmerged-leaf consistency, and
uniqueness of encryption and signature keys. Each check is also available alone. Credential
validation against an identity service is the application's job and is not done here.
"""

from __future__ import annotations

import hmac
from typing import Iterable, Optional as Opt

from .cipher_suite import CipherSuite
from .enums import DEFAULT_EXTENSION_TYPES, DEFAULT_PROPOSAL_TYPES, ExtensionType
from .errors import CryptoError, DecodeError
from .extensions import Extension, RequiredCapabilities, find_extension
from .ratchet_tree import RatchetTree
from .tree_errors import (
    DuplicateKeyError,
    LeafNodeValidationError,
    ParentHashMismatch,
    TreeHashMismatch,
    UnmergedLeavesError,
)
from .tree_math import leaves_under
from .tree_structs import LeafNode

__all__ = [
    "validate_tree",
    "verify_tree_hash",
    "verify_parent_hashes",
    "verify_unmerged_leaves",
    "verify_unique_keys",
    "verify_leaf_signature",
    "validate_leaf_node",
    "verify_credential_support",
    "required_capabilities",
]


def required_capabilities(extensions: Iterable[Extension]) -> Opt[RequiredCapabilities]:
    """The group's ``required_capabilities`` extension body, or None; LeafNodeValidationError if malformed."""
    extension = find_extension(extensions, ExtensionType.REQUIRED_CAPABILITIES)
    if extension is None:
        return None
    try:
        return extension.parse(RequiredCapabilities.CODEC)
    except DecodeError as exc:
        raise LeafNodeValidationError(f"malformed required_capabilities extension: {exc}") from exc


def verify_leaf_signature(suite: CipherSuite, leaf: LeafNode, group_id: bytes, leaf_index: int) -> None:
    """Check the LeafNode signature over LeafNodeTBS; LeafNodeValidationError when it fails."""
    try:
        suite.verify_with_label(leaf.signature_key, "LeafNodeTBS", leaf.tbs(group_id, leaf_index), leaf.signature)
    except CryptoError as exc:
        raise LeafNodeValidationError(f"leaf {leaf_index}: bad LeafNode signature") from exc


def validate_leaf_node(
    suite: CipherSuite,
    leaf: LeafNode,
    *,
    group_id: bytes,
    leaf_index: int,
    expected_source: Opt[int] = None,
    required: Opt[RequiredCapabilities] = None,
    now: Opt[int] = None,
) -> None:
    """The per-leaf checks of RFC 9420 7.3; LeafNodeValidationError naming the first failure.

    ``expected_source`` is the LeafNodeSource the context demands (key_package in a KeyPackage,
    update in an Update, commit in an UpdatePath); ``now`` (seconds since the epoch) enables the
    lifetime check of key_package leaves.
    """
    if expected_source is not None and leaf.leaf_node_source != expected_source:
        raise LeafNodeValidationError(
            f"leaf {leaf_index}: source {leaf.leaf_node_source} where {int(expected_source)} is required"
        )
    verify_leaf_signature(suite, leaf, group_id, leaf_index)
    caps = leaf.capabilities
    if leaf.credential.credential_type not in caps.credentials:
        raise LeafNodeValidationError(f"leaf {leaf_index}: credential type not listed in its capabilities")
    seen: set[int] = set()
    for extension in leaf.extensions:
        kind = extension.extension_type
        if kind not in DEFAULT_EXTENSION_TYPES and kind not in caps.extensions:
            raise LeafNodeValidationError(f"leaf {leaf_index}: extension {kind} not listed in its capabilities")
        if kind in seen:
            # 13.4: no list of extensions holds two of one type.
            raise LeafNodeValidationError(f"leaf {leaf_index}: extension type {kind} appears twice")
        seen.add(kind)
    if required is not None:
        missing = [t for t in required.extension_types if t not in DEFAULT_EXTENSION_TYPES and t not in caps.extensions]
        missing += [t for t in required.proposal_types if t not in DEFAULT_PROPOSAL_TYPES and t not in caps.proposals]
        missing += [t for t in required.credential_types if t not in caps.credentials]
        if missing:
            raise LeafNodeValidationError(f"leaf {leaf_index}: lacks required capabilities {missing}")
    lifetime = leaf.lifetime
    if now is not None and lifetime is not None and not lifetime.not_before <= now <= lifetime.not_after:
        raise LeafNodeValidationError(f"leaf {leaf_index}: outside its lifetime")


def verify_credential_support(tree: RatchetTree) -> None:
    """Every member supports every credential type in use (RFC 9420 7.3)."""
    leaves = list(tree.leaves())
    in_use = {leaf.credential.credential_type for _, leaf in leaves}
    for index, leaf in leaves:
        missing = in_use.difference(leaf.capabilities.credentials)
        if missing:
            raise LeafNodeValidationError(f"leaf {index}: does not support credential types {sorted(missing)}")


def verify_tree_hash(tree: RatchetTree, tree_hash: bytes) -> None:
    """The root tree hash equals ``tree_hash``; TreeHashMismatch otherwise."""
    if not hmac.compare_digest(tree.tree_hash(), tree_hash):
        raise TreeHashMismatch("ratchet tree hash differs from the GroupContext tree_hash")


def _child_link_is_valid(tree: RatchetTree, parent: int, child: int, unmerged: frozenset[int], ph: bytes) -> bool:
    # D (the one resolution node of the child that is not an unmerged leaf of P) must carry ph, and
    # the rest of the child's resolution must be exactly P's unmerged leaves below the child.
    resolution = tree.resolution(child)
    below = leaves_under(child, tree.n_leaves)
    unmerged_here = {2 * leaf for leaf in unmerged if leaf in below}
    if len(resolution) != len(unmerged_here) + 1:
        return False
    others = [x for x in resolution if x not in unmerged_here]
    if len(others) != 1:
        return False
    d = tree.nodes[others[0]]
    found = d.parent_hash if d is not None else None  # type: ignore[union-attr]
    return found is not None and hmac.compare_digest(found, ph)


def verify_parent_hashes(tree: RatchetTree) -> None:
    """Every non-blank parent node is parent-hash valid through exactly one child link (7.9.2)."""
    for index, node in tree.parents():
        k = (index ^ (index + 1)).bit_length() - 2
        left, right = index ^ (1 << k), index ^ (3 << k)
        unmerged = frozenset(node.unmerged_leaves)
        links = 0
        for child, sibling in ((left, right), (right, left)):
            if not tree.resolution(child):
                continue
            ph = tree.parent_hash(index, sibling)
            if _child_link_is_valid(tree, index, child, unmerged, ph):
                links += 1
        if links != 1:
            raise ParentHashMismatch(f"parent node {index} is not parent-hash valid ({links} valid links)")


def verify_unmerged_leaves(tree: RatchetTree) -> None:
    """unmerged_leaves lists are sorted, name members below the node, and appear on every
    non-blank node between the leaf and the node (12.4.3.1)."""
    nodes = tree.nodes
    n = tree.n_leaves
    for index, node in tree.parents():
        unmerged = node.unmerged_leaves
        if any(a >= b for a, b in zip(unmerged, unmerged[1:])):
            raise UnmergedLeavesError(f"parent node {index}: unmerged_leaves not strictly increasing")
        below = leaves_under(index, n)
        for leaf in unmerged:
            if leaf not in below or nodes[2 * leaf] is None:
                raise UnmergedLeavesError(f"parent node {index}: unmerged leaf {leaf} is blank or not below it")
            for ancestor in tree.direct_path(leaf):
                if ancestor == index:
                    break
                between = nodes[ancestor]
                if between is not None and leaf not in between.unmerged_leaves:  # type: ignore[union-attr]
                    raise UnmergedLeavesError(
                        f"leaf {leaf} is unmerged at node {index} but not at node {ancestor} below it"
                    )


def verify_unique_keys(tree: RatchetTree) -> None:
    """No HPKE key appears in two nodes and no signature key in two leaves (7.3, 12.4.3.1)."""
    seen: set[bytes] = set()
    for index, node in enumerate(tree.nodes):
        if node is None:
            continue
        if node.encryption_key in seen:
            raise DuplicateKeyError(f"node {index}: encryption key appears twice in the tree")
        seen.add(node.encryption_key)
    signers: set[bytes] = set()
    for index, leaf in tree.leaves():
        if leaf.signature_key in signers:
            raise DuplicateKeyError(f"leaf {index}: signature key appears twice in the tree")
        signers.add(leaf.signature_key)


def validate_tree(
    tree: RatchetTree,
    *,
    group_id: bytes,
    tree_hash: Opt[bytes] = None,
    extensions: Iterable[Extension] = (),
    now: Opt[int] = None,
) -> None:
    """Every check RFC 9420 12.4.3.1 asks of a joiner; raises the first TreeValidationError found.

    ``tree_hash`` is the GroupContext's (skipped when None), ``extensions`` its extensions (for
    ``required_capabilities``), ``now`` enables lifetime checks.
    """
    if tree_hash is not None:
        verify_tree_hash(tree, tree_hash)
    verify_unique_keys(tree)
    verify_unmerged_leaves(tree)
    required = required_capabilities(extensions)
    for index, leaf in tree.leaves():
        validate_leaf_node(tree.suite, leaf, group_id=group_id, leaf_index=index, required=required, now=now)
    verify_credential_support(tree)
    verify_parent_hashes(tree)
