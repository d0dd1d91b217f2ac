"""The ratchet tree as an immutable value (RFC 9420 section 7): resolutions, tree and parent hashes,
and the leaf edits of Add, Update and Remove proposals (7.7, 12.1.1-12.1.3).

A ``RatchetTree`` is the array representation (node ``i`` at position ``i``, leaves at even
positions) of a complete tree of ``n_leaves`` leaves, a power of two; ``None`` is a blank node.
Every edit returns a new tree. Tree hashes, resolutions and node encodings are cached per node and
a derived tree inherits the caches of its origin, invalidated only along the changed paths, so
re-hashing after a commit costs O(changed nodes * log n) rather than O(n).

The ``ratchet_tree`` extension form (12.4.3.3) drops trailing blank nodes: ``encode`` writes it,
``decode`` / ``from_wire_nodes`` read it and fail with ``DecodeError`` on a malformed array.
Validation of a received tree (parent hashes, signatures, unmerged leaves, key uniqueness) lives
in ``tree_validation``.
"""

from __future__ import annotations

from typing import Iterator, Mapping, Optional as Opt, Sequence, Union

from .cipher_suite import CipherSuite, cipher_suite
from .codec import encode_opaque, encode_varint
from .errors import DecodeError
from .tree_errors import InvalidProposalTarget, TreeUsageError
from .tree_structs import RATCHET_TREE, LeafNode, Node, ParentNode

__all__ = ["RatchetTree", "parent_hash_of", "MaybeNode"]

MaybeNode = Opt[Node]

_BLANK = b"\x00"


def _level(x: int) -> int:
    return (x ^ (x + 1)).bit_length() - 1


def _parent(x: int) -> int:
    k = _level(x)
    return (x | (1 << k)) ^ (((x >> (k + 1)) & 1) << (k + 1))


def _children(x: int) -> tuple[int, int]:
    k = _level(x) - 1
    return x ^ (1 << k), x ^ (3 << k)


def _width(n_leaves: int) -> int:
    return 2 * n_leaves - 1


def parent_hash_of(suite: CipherSuite, encryption_key: bytes, parent_hash: bytes, sibling_hash: bytes) -> bytes:
    """Hash(ParentHashInput{encryption_key, parent_hash, original_sibling_tree_hash}) (RFC 9420 7.9)."""
    return suite.hash(encode_opaque(encryption_key) + encode_opaque(parent_hash) + encode_opaque(sibling_hash))


def _kind_error(i: int, node: object) -> str | None:
    if node is None:
        return None
    if i & 1 == 0:
        return None if isinstance(node, LeafNode) else f"node {i} is a leaf position but holds {type(node).__name__}"
    return None if isinstance(node, ParentNode) else f"node {i} is a parent position but holds {type(node).__name__}"


class RatchetTree:
    """An immutable ratchet tree of one cipher suite; edits return new trees sharing cached hashes."""

    __slots__ = ("suite", "nodes", "n_leaves", "_hashes", "_resolutions", "_encoded")

    suite: CipherSuite
    nodes: tuple[MaybeNode, ...]
    n_leaves: int

    def __init__(self, suite: Union[CipherSuite, int], nodes: Sequence[MaybeNode]) -> None:
        """A tree over ``nodes`` (trusted), padded with blanks to a complete tree; TreeUsageError if ill-formed."""
        suite = suite if isinstance(suite, CipherSuite) else cipher_suite(suite)
        if not nodes:
            raise TreeUsageError("a ratchet tree has at least one node")
        for i, node in enumerate(nodes):
            problem = _kind_error(i, node)
            if problem:
                raise TreeUsageError(problem)
        n = 1
        while _width(n) < len(nodes):
            n <<= 1
        self._init(suite, tuple(nodes) + (None,) * (_width(n) - len(nodes)), n, None, None, None)

    def _init(self, suite, nodes, n, hashes, resolutions, encoded) -> None:
        width = len(nodes)
        put = object.__setattr__
        put(self, "suite", suite)
        put(self, "nodes", nodes)
        put(self, "n_leaves", n)
        # The caches are the only mutable parts; they memoise pure functions of ``nodes``.
        put(self, "_hashes", hashes if hashes is not None else [None] * width)
        put(self, "_resolutions", resolutions if resolutions is not None else [None] * width)
        put(self, "_encoded", encoded if encoded is not None else [None] * width)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("RatchetTree is immutable; edits return new trees")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("RatchetTree is immutable")

    # -- construction and the ratchet_tree extension (12.4.3.3) -------------------------------

    @classmethod
    def create(cls, suite: Union[CipherSuite, int], leaf_node: LeafNode) -> "RatchetTree":
        """The one-member tree of a new group."""
        return cls(suite, (leaf_node,))

    @classmethod
    def from_wire_nodes(cls, suite: Union[CipherSuite, int], nodes: Sequence[MaybeNode]) -> "RatchetTree":
        """The tree a decoded ``ratchet_tree`` vector describes; DecodeError if the array is malformed."""
        if not nodes:
            raise DecodeError("empty ratchet_tree")
        if nodes[-1] is None:
            raise DecodeError("ratchet_tree ends with a blank node")
        for i, node in enumerate(nodes):
            problem = _kind_error(i, node)
            if problem:
                raise DecodeError(problem)
        if len(nodes) > _width(1 << 31):
            raise DecodeError("ratchet_tree too large")
        return cls(suite, nodes)

    @classmethod
    def decode(cls, suite: Union[CipherSuite, int], data: bytes) -> "RatchetTree":
        """Decode a ``ratchet_tree`` extension body; only DecodeError escapes for bad bytes."""
        return cls.from_wire_nodes(suite, RATCHET_TREE.decode(data))

    def wire_nodes(self) -> tuple[MaybeNode, ...]:
        """The nodes as the extension carries them: no trailing blanks."""
        nodes = self.nodes
        end = len(nodes)
        while end > 0 and nodes[end - 1] is None:
            end -= 1
        return nodes[:end]

    def encode(self) -> bytes:
        """The ``ratchet_tree`` extension body: ``optional<Node> ratchet_tree<V>`` without trailing blanks."""
        nodes = self.nodes
        end = len(nodes)
        while end > 0 and nodes[end - 1] is None:
            end -= 1
        parts = []
        for i in range(end):
            if nodes[i] is None:
                parts.append(_BLANK)
            else:
                parts.append(b"\x01\x01" if i & 1 == 0 else b"\x01\x02")
                parts.append(self._node_bytes(i))
        body = b"".join(parts)
        return encode_varint(len(body)) + body

    # -- accessors ----------------------------------------------------------------------------

    @property
    def width(self) -> int:
        """The number of nodes in the array."""
        return len(self.nodes)

    @property
    def root(self) -> int:
        """The node index of the root."""
        return self.n_leaves - 1

    def node(self, index: int) -> MaybeNode:
        """Node ``index`` (None when blank); TreeUsageError outside the tree."""
        if not 0 <= index < len(self.nodes):
            raise TreeUsageError(f"node {index} lies outside a tree of {self.n_leaves} leaves")
        return self.nodes[index]

    def leaf(self, leaf_index: int) -> Opt[LeafNode]:
        """The LeafNode at ``leaf_index``, or None when blank; TreeUsageError outside the tree."""
        if not 0 <= leaf_index < self.n_leaves:
            raise TreeUsageError(f"leaf {leaf_index} lies outside a tree of {self.n_leaves} leaves")
        return self.nodes[2 * leaf_index]  # type: ignore[return-value]

    def parent_node(self, index: int) -> Opt[ParentNode]:
        """The ParentNode at odd node ``index``, or None when blank."""
        if index & 1 == 0:
            raise TreeUsageError(f"node {index} is a leaf")
        return self.node(index)  # type: ignore[return-value]

    def has_leaf(self, leaf_index: int) -> bool:
        """Whether ``leaf_index`` lies in the tree and holds a member."""
        return 0 <= leaf_index < self.n_leaves and self.nodes[2 * leaf_index] is not None

    def leaves(self) -> Iterator[tuple[int, LeafNode]]:
        """(leaf index, LeafNode) of every non-blank leaf, left to right."""
        nodes = self.nodes
        for i in range(0, len(nodes), 2):
            node = nodes[i]
            if node is not None:
                yield i >> 1, node  # type: ignore[misc]

    def parents(self) -> Iterator[tuple[int, ParentNode]]:
        """(node index, ParentNode) of every non-blank parent node."""
        nodes = self.nodes
        for i in range(1, len(nodes), 2):
            node = nodes[i]
            if node is not None:
                yield i, node  # type: ignore[misc]

    def member_count(self) -> int:
        """The number of non-blank leaves."""
        return sum(1 for i in range(0, len(self.nodes), 2) if self.nodes[i] is not None)

    def find_leaf(self, leaf_node: LeafNode) -> Opt[int]:
        """The index of the leaf equal to ``leaf_node``, or None."""
        for index, node in self.leaves():
            if node == leaf_node:
                return index
        return None

    def leftmost_blank_leaf(self) -> Opt[int]:
        """The leftmost blank leaf index, or None when every leaf is occupied."""
        nodes = self.nodes
        for i in range(0, len(nodes), 2):
            if nodes[i] is None:
                return i >> 1
        return None

    def direct_path(self, leaf_index: int) -> tuple[int, ...]:
        """The direct path of a leaf, from its parent up to the root."""
        self._check_leaf(leaf_index)
        x, r, path = 2 * leaf_index, self.n_leaves - 1, []
        while x != r:
            x = _parent(x)
            path.append(x)
        return tuple(path)

    def encryption_keys(self) -> set[bytes]:
        """The HPKE public keys of every non-blank node."""
        return {node.encryption_key for node in self.nodes if node is not None}

    # -- resolution and filtered direct path (4.1, 4.1.2) --------------------------------------

    def resolution(self, index: int) -> tuple[int, ...]:
        """The resolution of node ``index``: node indices of the non-blank nodes covering its subtree."""
        cached = self._resolutions[index]
        if cached is not None:
            return cached
        node = self.nodes[index]
        if node is None:
            if index & 1 == 0:
                result: tuple[int, ...] = ()
            else:
                left, right = _children(index)
                result = self.resolution(left) + self.resolution(right)
        elif index & 1:
            result = (index,) + tuple(2 * leaf for leaf in node.unmerged_leaves)  # type: ignore[union-attr]
        else:
            result = (index,)
        self._resolutions[index] = result
        return result

    def filtered_path(self, leaf_index: int) -> tuple[tuple[int, int], ...]:
        """(parent, copath child) for each node of the leaf's filtered direct path, leaf to root."""
        self._check_leaf(leaf_index)
        x, r, out = 2 * leaf_index, self.n_leaves - 1, []
        while x != r:
            p = _parent(x)
            k = _level(x)
            s = p ^ (3 << k) if x < p else p ^ (1 << k)
            if self.resolution(s):
                out.append((p, s))
            x = p
        return tuple(out)

    def filtered_direct_path(self, leaf_index: int) -> tuple[int, ...]:
        """The filtered direct path of a leaf (RFC 9420 4.1.2)."""
        return tuple(p for p, _ in self.filtered_path(leaf_index))

    # -- tree hash (7.8) and parent hash (7.9) -------------------------------------------------

    def _node_bytes(self, index: int) -> bytes:
        encoded = self._encoded[index]
        if encoded is None:
            encoded = self._encoded[index] = self.nodes[index].encode()  # type: ignore[union-attr]
        return encoded

    def _optional_node(self, index: int) -> bytes:
        return _BLANK if self.nodes[index] is None else b"\x01" + self._node_bytes(index)

    def node_hash(self, index: int) -> bytes:
        """The tree hash of the subtree rooted at node ``index``."""
        cached = self._hashes[index]
        if cached is not None:
            return cached
        if index & 1 == 0:
            data = b"\x01" + (index >> 1).to_bytes(4, "big") + self._optional_node(index)
        else:
            left, right = _children(index)
            data = b"\x02" + self._optional_node(index) + encode_opaque(self.node_hash(left)) + encode_opaque(
                self.node_hash(right)
            )
        digest = self._hashes[index] = self.suite.hash(data)
        return digest

    def tree_hash(self) -> bytes:
        """The tree hash of the root (the GroupContext's ``tree_hash``)."""
        return self.node_hash(self.n_leaves - 1)

    def node_hashes(self) -> tuple[bytes, ...]:
        """The tree hash of every node, by node index."""
        self.tree_hash()
        return tuple(self._hashes)  # type: ignore[arg-type]

    def _hash_without(self, index: int, excluded: frozenset[int]) -> bytes:
        # The tree hash of the subtree as if the ``excluded`` leaves were blank and unlisted.
        k = _level(index)
        first = (index - ((1 << k) - 1)) >> 1
        if not any(first <= leaf < first + (1 << k) for leaf in excluded):
            return self.node_hash(index)
        if k == 0:
            return self.suite.hash(b"\x01" + (index >> 1).to_bytes(4, "big") + _BLANK)
        node = self.nodes[index]
        if node is None:
            encoded = _BLANK
        else:
            kept = tuple(leaf for leaf in node.unmerged_leaves if leaf not in excluded)  # type: ignore[union-attr]
            encoded = b"\x01" + ParentNode(node.encryption_key, node.parent_hash, kept).encode()  # type: ignore
        left, right = _children(index)
        return self.suite.hash(
            b"\x02" + encoded + encode_opaque(self._hash_without(left, excluded))
            + encode_opaque(self._hash_without(right, excluded))
        )

    def original_sibling_tree_hash(self, parent: int, sibling: int) -> bytes:
        """The tree hash of ``sibling`` with the unmerged leaves of ``parent`` blanked and unlisted (7.9)."""
        node = self.nodes[parent]
        if node is None:
            raise TreeUsageError(f"parent node {parent} is blank")
        excluded = frozenset(node.unmerged_leaves)  # type: ignore[union-attr]
        return self._hash_without(sibling, excluded) if excluded else self.node_hash(sibling)

    def parent_hash(self, parent: int, sibling: int) -> bytes:
        """The parent hash of non-blank node ``parent`` with copath child ``sibling``."""
        node = self.nodes[parent]
        if node is None or parent & 1 == 0:
            raise TreeUsageError(f"node {parent} is not a non-blank parent")
        return parent_hash_of(
            self.suite, node.encryption_key, node.parent_hash, self.original_sibling_tree_hash(parent, sibling)
        )

    # -- edits (7.7, 12.1) ----------------------------------------------------------------------

    def _check_leaf(self, leaf_index: int) -> None:
        if not 0 <= leaf_index < self.n_leaves:
            raise TreeUsageError(f"leaf {leaf_index} lies outside a tree of {self.n_leaves} leaves")

    def _derive(self, changes: Mapping[int, MaybeNode], n_leaves: Opt[int] = None) -> "RatchetTree":
        n = self.n_leaves if n_leaves is None else n_leaves
        width = _width(n)
        old_width = len(self.nodes)
        if width >= old_width:
            pad = width - old_width
            nodes = list(self.nodes) + [None] * pad
            hashes = self._hashes + [None] * pad
            resolutions = self._resolutions + [None] * pad
            encoded = self._encoded + [None] * pad
        else:
            nodes = list(self.nodes[:width])
            hashes = self._hashes[:width]
            resolutions = self._resolutions[:width]
            encoded = self._encoded[:width]
        root = n - 1
        for index, node in changes.items():
            nodes[index] = node
            encoded[index] = None
            x = index
            while True:
                hashes[x] = None
                resolutions[x] = None
                if x == root:
                    break
                x = _parent(x)
        tree = RatchetTree.__new__(RatchetTree)
        tree._init(self.suite, tuple(nodes), n, hashes, resolutions, encoded)
        return tree

    def with_nodes(self, changes: Mapping[int, MaybeNode]) -> "RatchetTree":
        """This tree with the given nodes replaced (None blanks a node)."""
        for index, node in changes.items():
            if not 0 <= index < len(self.nodes):
                raise TreeUsageError(f"node {index} lies outside a tree of {self.n_leaves} leaves")
            problem = _kind_error(index, node)
            if problem:
                raise TreeUsageError(problem)
        return self._derive(changes)

    def extend(self) -> "RatchetTree":
        """The tree doubled to the right with blank nodes (7.7)."""
        return self._derive({}, self.n_leaves * 2)

    def truncate(self) -> "RatchetTree":
        """The tree with right halves dropped while they hold no member (7.7)."""
        n = self.n_leaves
        nodes = self.nodes
        while n > 1 and all(nodes[i] is None for i in range(n, 2 * n, 2)):
            n >>= 1
        return self if n == self.n_leaves else self._derive({}, n)

    def blank_direct_path(self, leaf_index: int) -> "RatchetTree":
        """The tree with every node on the leaf's direct path blanked."""
        return self._derive({x: None for x in self.direct_path(leaf_index) if self.nodes[x] is not None})

    def add_leaf(self, leaf_node: LeafNode) -> tuple["RatchetTree", int]:
        """Place a new member at the leftmost blank leaf, extending if full, and mark it unmerged (12.1.1)."""
        index = self.leftmost_blank_leaf()
        tree = self
        if index is None:
            index = self.n_leaves
            tree = self.extend()
        changes: dict[int, MaybeNode] = {2 * index: leaf_node}
        for x in tree.direct_path(index):
            node = tree.nodes[x]
            if node is not None:
                unmerged = node.unmerged_leaves  # type: ignore[union-attr]
                if index not in unmerged:
                    unmerged = tuple(sorted(unmerged + (index,)))
                changes[x] = ParentNode(node.encryption_key, node.parent_hash, unmerged)  # type: ignore
        return tree._derive(changes), index

    def reserve_leaf(self) -> tuple["RatchetTree", int]:
        """The leftmost blank leaf, extending the tree if full, left blank (an external joiner's slot, 12.4.3.2)."""
        index = self.leftmost_blank_leaf()
        if index is not None:
            return self, index
        return self.extend(), self.n_leaves

    def update_leaf(self, leaf_index: int, leaf_node: LeafNode) -> "RatchetTree":
        """Replace a member's leaf and blank its direct path (Update proposal, 12.1.2)."""
        if not self.has_leaf(leaf_index):
            raise InvalidProposalTarget(f"update of blank or missing leaf {leaf_index}")
        changes: dict[int, MaybeNode] = {x: None for x in self.direct_path(leaf_index) if self.nodes[x] is not None}
        changes[2 * leaf_index] = leaf_node
        return self._derive(changes)

    def remove_leaf(self, leaf_index: int) -> "RatchetTree":
        """Blank a member's leaf and direct path, then truncate (Remove proposal, 12.1.3)."""
        if not self.has_leaf(leaf_index):
            raise InvalidProposalTarget(f"removal of blank or missing leaf {leaf_index}")
        changes: dict[int, MaybeNode] = {x: None for x in self.direct_path(leaf_index) if self.nodes[x] is not None}
        changes[2 * leaf_index] = None
        return self._derive(changes).truncate()

    # -- value semantics ------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RatchetTree):
            return NotImplemented
        return self.suite.id == other.suite.id and self.nodes == other.nodes

    def __hash__(self) -> int:
        return hash((self.suite.id, self.tree_hash()))

    def __repr__(self) -> str:
        return f"RatchetTree(suite={self.suite.id}, n_leaves={self.n_leaves}, members={self.member_count()})"

    def __reduce__(self):
        return (RatchetTree, (self.suite.id, self.nodes))

