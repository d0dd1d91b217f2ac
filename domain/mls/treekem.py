"""TreeKEM (RFC 9420 7.4-7.6, 7.9, 12.4.2): creating an UpdatePath from a seed and processing one.

``create_update_path`` refreshes the committer's leaf and filtered direct path: every random value
(leaf key, first path secret, HPKE ephemeral keys) is expanded from one 32-byte ``seed``, so a
replay reproduces the commit byte for byte. Path secrets are encrypted under the provisional
GroupContext, i.e. ``group_context`` with its tree_hash replaced by the hash of the tree after the
path is merged (12.4.2). ``process_update_path`` validates a received path (leaf source and
signature, lengths, key freshness, parent hash), merges it, decrypts the path secret meant for us
and checks every derived public key. Both return the new tree, the commit secret and the
member's new ``TreeKemPrivate`` (the private keys it knows, which print as ``***``).
"""

from __future__ import annotations

import hmac
from typing import Iterable, Optional as Opt

import attrs

from .cipher_suite import CipherSuite
from .errors import HpkeError
from .enums import LeafNodeSource
from .group_context import GroupContext
from .ratchet_tree import RatchetTree, parent_hash_of
from .secrets import Secret
from .tree_errors import (
    DuplicateKeyError,
    ParentHashMismatch,
    PathDecryptionError,
    PathKeyMismatch,
    PathLengthMismatch,
    TreeUsageError,
    UpdatePathError,
)
from .tree_math import common_ancestor
from .tree_structs import CommitSource, HPKECiphertext, LeafNode, ParentNode, UpdatePath, UpdatePathNode
from .tree_validation import validate_leaf_node

__all__ = [
    "TreeKemPrivate",
    "CreatedPath",
    "ProcessedPath",
    "derive_node_key_pair",
    "next_path_secret",
    "create_update_path",
    "merge_update_path",
    "process_update_path",
]

# Labels of this implementation's seed expansion; they never reach the wire.
_LEAF_LABEL = "mlsgroup treekem leaf secret"
_PATH_LABEL = "mlsgroup treekem path secret"
_EPHEMERAL_LABEL = "mlsgroup treekem ephemeral"
_UPDATE_PATH_NODE = "UpdatePathNode"


def derive_node_key_pair(suite: CipherSuite, path_secret: bytes) -> tuple[bytes, bytes]:
    """node_secret = DeriveSecret(path_secret, "node"); (private, public) = DeriveKeyPair(node_secret)."""
    return suite.hpke_key_pair(suite.derive_secret(path_secret, "node"))


def next_path_secret(suite: CipherSuite, path_secret: bytes) -> bytes:
    """path_secret[n+1] = DeriveSecret(path_secret[n], "path")."""
    return suite.derive_secret(path_secret, "path")


def _node_keys(pairs: Iterable[tuple[int, bytes]]) -> tuple[tuple[int, Secret], ...]:
    return tuple(sorted((int(node), Secret(key)) for node, key in dict(pairs).items()))


def _is_below(node: int, ancestor: int) -> bool:
    k = (ancestor ^ (ancestor + 1)).bit_length() - 1
    return abs(node - ancestor) < (1 << k)


@attrs.frozen
class TreeKemPrivate:
    """The HPKE private keys one member knows: its leaf's and those of some nodes on its direct path."""

    leaf_index: int
    leaf_key: Secret = attrs.field(converter=Secret)
    node_keys: tuple[tuple[int, Secret], ...] = attrs.field(default=(), converter=_node_keys)

    def key_for(self, node: int) -> Opt[Secret]:
        """The private key of node ``node`` if this member knows it."""
        if node == 2 * self.leaf_index:
            return self.leaf_key
        for index, key in self.node_keys:
            if index == node:
                return key
        return None

    @classmethod
    def from_path_secrets(
        cls, suite: CipherSuite, leaf_index: int, leaf_key: bytes, path_secrets: Iterable[tuple[int, bytes]]
    ) -> "TreeKemPrivate":
        """The state holding the leaf key and the node keys derived from (node, path secret) pairs."""
        pairs = [(node, derive_node_key_pair(suite, secret)[0]) for node, secret in path_secrets]
        return cls(leaf_index, leaf_key, pairs)

    @classmethod
    def for_joiner(
        cls, tree: RatchetTree, leaf_index: int, leaf_key: bytes, sender: int, path_secret: Opt[bytes]
    ) -> "TreeKemPrivate":
        """A new member's state from a Welcome (12.4.3.1): the path secret of the lowest common
        ancestor with the committer ``sender``, ratcheted up the committer's filtered direct path.
        PathKeyMismatch when a derived key differs from the tree's."""
        if path_secret is None:
            return cls(leaf_index, leaf_key)
        suite = tree.suite
        ancestor = common_ancestor(2 * leaf_index, 2 * sender, tree.n_leaves)
        path = tree.filtered_direct_path(sender)
        if ancestor not in path:
            raise PathKeyMismatch(f"common ancestor {ancestor} is not on the committer's filtered direct path")
        pairs = []
        secret = path_secret
        for position, node in enumerate(path[path.index(ancestor):]):
            if position:
                secret = next_path_secret(suite, secret)
            private, public = derive_node_key_pair(suite, secret)
            if not hmac.compare_digest(public, tree.nodes[node].encryption_key):  # type: ignore[union-attr]
                raise PathKeyMismatch(f"path secret does not yield the public key of node {node}")
            pairs.append((node, private))
        return cls(leaf_index, leaf_key, pairs)

    def with_leaf_key(self, leaf_key: bytes) -> "TreeKemPrivate":
        """This state with a new leaf key (our Update proposal was committed)."""
        return attrs.evolve(self, leaf_key=leaf_key)

    def pruned(self, tree: RatchetTree) -> "TreeKemPrivate":
        """This state without keys of nodes that are blank or off our direct path in ``tree``."""
        path = set(tree.direct_path(self.leaf_index))
        kept = [(n, k) for n, k in self.node_keys if n in path and tree.nodes[n] is not None]
        return self if len(kept) == len(self.node_keys) else attrs.evolve(self, node_keys=kept)

    def verify_against(self, tree: RatchetTree) -> None:
        """TreeUsageError unless every key we hold matches a non-blank node of ``tree``."""
        suite = tree.suite
        for node, key in ((2 * self.leaf_index, self.leaf_key), *self.node_keys):
            if not 0 <= node < tree.width or tree.nodes[node] is None:
                raise TreeUsageError(f"private key held for blank or missing node {node}")
            try:
                public = suite.hpke_public_from_private(key)
            except HpkeError as exc:
                raise TreeUsageError(f"private key for node {node} is malformed") from exc
            if public != tree.nodes[node].encryption_key:  # type: ignore[union-attr]
                raise TreeUsageError(f"private key for node {node} does not match its public key")


@attrs.frozen
class CreatedPath:
    """What committing an UpdatePath produced: the path to send and the committer's new state."""

    update_path: UpdatePath
    tree: RatchetTree
    group_context: GroupContext
    commit_secret: Secret = attrs.field(converter=Secret)
    private: TreeKemPrivate
    path_secrets: tuple[tuple[int, Secret], ...] = attrs.field(converter=_node_keys)

    def path_secret_for(self, joiner: int) -> Opt[Secret]:
        """The path secret a new member at leaf ``joiner`` gets in its Welcome (common ancestor's)."""
        ancestor = common_ancestor(2 * joiner, 2 * self.private.leaf_index, self.tree.n_leaves)
        for node, secret in self.path_secrets:
            if node == ancestor:
                return secret
        return None


@attrs.frozen
class ProcessedPath:
    """What processing another member's UpdatePath produced."""

    tree: RatchetTree
    group_context: GroupContext
    commit_secret: Secret = attrs.field(converter=Secret)
    private: TreeKemPrivate
    path_secret: Secret = attrs.field(converter=Secret)


def _merge_changes(
    tree: RatchetTree, sender: int, filtered: tuple[tuple[int, int], ...], public_keys: list[bytes]
) -> tuple[dict, bytes]:
    """Node changes that blank the sender's direct path and set its filtered path, with parent
    hashes chained from the root down (7.9); returns them and the leaf's parent hash."""
    changes: dict = {x: None for x in tree.direct_path(sender) if tree.nodes[x] is not None}
    suite = tree.suite
    above = b""
    for (parent, sibling), key in zip(reversed(filtered), reversed(public_keys)):
        changes[parent] = ParentNode(key, above, ())
        # The new node has no unmerged leaves, so the original sibling tree hash is the current one.
        above = parent_hash_of(suite, key, above, tree.node_hash(sibling))
    return changes, above


def _copath_resolution(tree: RatchetTree, copath_child: int, excluded: frozenset[int]) -> list[int]:
    return [x for x in tree.resolution(copath_child) if x & 1 or (x >> 1) not in excluded]


def create_update_path(
    tree: RatchetTree,
    leaf_index: int,
    seed: bytes,
    *,
    signature_private_key: bytes,
    group_context: GroupContext,
    leaf_node: Opt[LeafNode] = None,
    excluded_leaves: Iterable[int] = (),
) -> CreatedPath:
    """A fresh UpdatePath from ``leaf_index`` of ``tree`` (the tree after the commit's proposals).

    ``leaf_node`` supplies the new leaf's signature key, credential, capabilities and extensions
    (default: the current leaf); its encryption key, source and signature are replaced.
    ``excluded_leaves`` are the leaves added by this commit, which get no ciphertexts.
    ``group_context`` is the provisional context; its tree_hash is replaced by the new tree's.
    """
    suite = tree.suite
    if group_context.cipher_suite != suite.id:
        raise TreeUsageError("group context and tree use different cipher suites")
    template = leaf_node if leaf_node is not None else tree.leaf(leaf_index)
    if template is None:
        raise TreeUsageError(f"leaf {leaf_index} is blank and no leaf node was given")
    if suite.signature_public_from_private(signature_private_key) != template.signature_key:
        raise TreeUsageError("signature private key does not match the leaf's signature key")
    excluded = frozenset(excluded_leaves)
    prk = suite.extract(b"", seed)
    hash_len = suite.hash_len
    leaf_private, leaf_public = derive_node_key_pair(suite, suite.expand_with_label(prk, _LEAF_LABEL, b"", hash_len))

    filtered = tree.filtered_path(leaf_index)
    secrets: list[bytes] = []
    keys: list[tuple[int, bytes]] = []
    public_keys: list[bytes] = []
    secret = suite.expand_with_label(prk, _PATH_LABEL, b"", hash_len)
    for position, (parent, _) in enumerate(filtered):
        if position:
            secret = next_path_secret(suite, secret)
        private, public = derive_node_key_pair(suite, secret)
        secrets.append(secret)
        keys.append((parent, private))
        public_keys.append(public)
    commit_secret = next_path_secret(suite, secret)

    changes, leaf_parent_hash = _merge_changes(tree, leaf_index, filtered, public_keys)
    unsigned = LeafNode(
        leaf_public,
        template.signature_key,
        template.credential,
        template.capabilities,
        CommitSource(leaf_parent_hash),
        template.extensions,
        b"",
    )
    group_id = group_context.group_id
    signature = suite.sign_with_label(signature_private_key, "LeafNodeTBS", unsigned.tbs(group_id, leaf_index))
    new_leaf = attrs.evolve(unsigned, signature=signature)
    changes[2 * leaf_index] = new_leaf
    new_tree = tree.with_nodes(changes)
    context = attrs.evolve(group_context, tree_hash=new_tree.tree_hash())
    context_bytes = context.encode()

    path_nodes = []
    for (parent, sibling), secret, public in zip(filtered, secrets, public_keys):
        ciphertexts = []
        for target in _copath_resolution(tree, sibling, excluded):
            ephemeral = suite.expand_with_label(
                prk, _EPHEMERAL_LABEL, parent.to_bytes(4, "big") + target.to_bytes(4, "big"), hash_len
            )
            kem_output, ciphertext = suite.encrypt_with_label(
                tree.nodes[target].encryption_key, _UPDATE_PATH_NODE, context_bytes, secret, ephemeral  # type: ignore
            )
            ciphertexts.append(HPKECiphertext(kem_output, ciphertext))
        path_nodes.append(UpdatePathNode(public, tuple(ciphertexts)))

    return CreatedPath(
        update_path=UpdatePath(new_leaf, tuple(path_nodes)),
        tree=new_tree,
        group_context=context,
        commit_secret=commit_secret,
        private=TreeKemPrivate(leaf_index, leaf_private, keys),
        path_secrets=[(parent, secret) for (parent, _), secret in zip(filtered, secrets)],
    )


def merge_update_path(
    tree: RatchetTree,
    sender: int,
    update_path: UpdatePath,
    *,
    group_id: bytes,
    excluded_leaves: Iterable[int] = (),
) -> RatchetTree:
    """Validate a received UpdatePath against ``tree`` (after the commit's proposals) and merge it.

    Checks the leaf's source (commit) and signature, that its encryption key changed, that its
    signature key is no other member's, the number of path nodes and of ciphertexts per copath
    resolution (without ``excluded_leaves``), that every path key is a valid HPKE key not already
    in the tree, and the leaf's parent hash (7.9.2).
    """
    if not 0 <= sender < tree.n_leaves:
        raise UpdatePathError(f"sender leaf {sender} lies outside the tree")
    leaf = update_path.leaf_node
    validate_leaf_node(
        tree.suite, leaf, group_id=group_id, leaf_index=sender, expected_source=LeafNodeSource.COMMIT
    )
    current = tree.nodes[2 * sender]
    if current is not None and current.encryption_key == leaf.encryption_key:
        raise UpdatePathError("the committer's leaf encryption key did not change")
    # 7.3: signature keys are unique among members; the new leaf may carry a new one.
    if current is None or leaf.signature_key != current.signature_key:
        for index, other in tree.leaves():
            if index != sender and other.signature_key == leaf.signature_key:
                raise DuplicateKeyError(f"the UpdatePath leaf reuses the signature key of leaf {index}")
    filtered = tree.filtered_path(sender)
    if len(update_path.nodes) != len(filtered):
        raise PathLengthMismatch(
            f"UpdatePath has {len(update_path.nodes)} nodes, the filtered direct path {len(filtered)}"
        )
    excluded = frozenset(excluded_leaves)
    for (parent, sibling), node in zip(filtered, update_path.nodes):
        expected = len(_copath_resolution(tree, sibling, excluded))
        if len(node.encrypted_path_secret) != expected:
            raise PathLengthMismatch(
                f"node {parent}: {len(node.encrypted_path_secret)} ciphertexts for a resolution of {expected}"
            )
    public_keys = [node.encryption_key for node in update_path.nodes]
    existing = tree.encryption_keys()
    fresh = public_keys + [leaf.encryption_key]
    if len(set(fresh)) != len(fresh) or not existing.isdisjoint(fresh):
        raise DuplicateKeyError("the UpdatePath reuses an encryption key")
    kem = tree.suite.hpke.kem
    for key in fresh:
        try:
            kem.check_public_key(key)
        except HpkeError as exc:
            raise UpdatePathError("the UpdatePath carries an invalid HPKE public key") from exc
    changes, leaf_parent_hash = _merge_changes(tree, sender, filtered, public_keys)
    if not hmac.compare_digest(leaf.parent_hash or b"", leaf_parent_hash):
        raise ParentHashMismatch("the committer's leaf parent_hash does not match its update path")
    changes[2 * sender] = leaf
    return tree.with_nodes(changes)


def process_update_path(
    tree: RatchetTree,
    sender: int,
    update_path: UpdatePath,
    private: TreeKemPrivate,
    *,
    group_context: GroupContext,
    excluded_leaves: Iterable[int] = (),
) -> ProcessedPath:
    """Merge another member's UpdatePath and decrypt the path secret meant for ``private``'s leaf.

    ``tree`` is the tree after the commit's proposals; ``group_context`` the provisional context
    whose tree_hash is replaced by the merged tree's. Raises UpdatePathError subclasses (and tree
    validation errors from the merge) for bad paths.
    """
    me = private.leaf_index
    if me == sender:
        raise TreeUsageError("the committer does not process its own UpdatePath")
    excluded = frozenset(excluded_leaves)
    new_tree = merge_update_path(
        tree, sender, update_path, group_id=group_context.group_id, excluded_leaves=excluded
    )
    suite = tree.suite
    context = attrs.evolve(group_context, tree_hash=new_tree.tree_hash())
    filtered = tree.filtered_path(sender)
    mine = 2 * me
    for position, (parent, sibling) in enumerate(filtered):
        if _is_below(mine, sibling):
            break
    else:
        raise PathDecryptionError(f"leaf {me} is under no copath node of the sender's filtered path")
    ciphertexts = update_path.nodes[position].encrypted_path_secret
    for slot, target in enumerate(_copath_resolution(tree, sibling, excluded)):
        key = private.key_for(target)
        if key is not None:
            break
    else:
        raise PathDecryptionError(f"leaf {me} holds no private key in the resolution of node {sibling}")
    ciphertext = ciphertexts[slot]
    try:
        secret = suite.decrypt_with_label(
            key, _UPDATE_PATH_NODE, context.encode(), ciphertext.kem_output, ciphertext.ciphertext
        )
    except HpkeError as exc:
        raise PathDecryptionError(f"cannot decrypt the path secret of node {parent}") from exc
    decrypted = secret
    derived = []
    for offset, (node, _) in enumerate(filtered[position:]):
        if offset:
            secret = next_path_secret(suite, secret)
        node_private, node_public = derive_node_key_pair(suite, secret)
        if not hmac.compare_digest(node_public, update_path.nodes[position + offset].encryption_key):
            raise PathKeyMismatch(f"path secret does not yield the public key sent for node {node}")
        derived.append((node, node_private))
    sender_path = set(tree.direct_path(sender))
    kept = [
        (n, k) for n, k in private.node_keys
        if n < new_tree.width and n not in sender_path and new_tree.nodes[n] is not None
    ]
    return ProcessedPath(
        tree=new_tree,
        group_context=context,
        commit_secret=next_path_secret(suite, secret),
        private=attrs.evolve(private, node_keys=kept + derived),
        path_secret=decrypted,
    )
