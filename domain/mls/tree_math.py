"""Array-based tree math for complete binary trees (RFC 9420 section 4 and Appendix C).

Nodes are numbered left to right with leaves at even indices (leaf ``i`` is node ``2*i``) and
parents at odd ones. Every function is computed from the indices alone (no tables) and works for
trees of up to 2**31 leaves. ``n`` is always the number of leaves; RFC 9420 trees are complete,
so ``n`` must be a power of two. Indices outside the tree, and questions without an answer (the
children of a leaf, the parent of the root), raise ``TreeMathError``.
"""

from __future__ import annotations

from typing import Callable

from .errors import MlsError

__all__ = [
    "TreeMathError",
    "MAX_LEAVES",
    "log2",
    "level",
    "node_width",
    "root",
    "is_leaf",
    "leaf_to_node",
    "node_to_leaf",
    "left",
    "right",
    "parent",
    "sibling",
    "direct_path",
    "copath",
    "common_ancestor",
    "is_ancestor",
    "filtered_direct_path",
    "leaves_under",
]

MAX_LEAVES = 1 << 31


class TreeMathError(MlsError, ValueError):
    """A node or leaf index lies outside the tree, or the asked-for relative does not exist."""


def log2(x: int) -> int:
    """The exponent of the largest power of two not above ``x`` (0 for 0)."""
    if x < 0:
        raise TreeMathError(f"log2 of negative value {x}")
    return x.bit_length() - 1 if x else 0


def level(x: int) -> int:
    """The level of node ``x``: 0 for leaves, one more than its children for parents."""
    if x < 0:
        raise TreeMathError(f"negative node index {x}")
    # The number of trailing one bits: x ^ (x + 1) sets exactly those bits plus the next one.
    return ((x ^ (x + 1)).bit_length()) - 1


def _check_leaves(n: int) -> None:
    if n < 1 or n > MAX_LEAVES or n & (n - 1):
        raise TreeMathError(f"a tree has a power-of-two number of leaves up to 2**31, not {n}")


def _check_node(x: int, n: int) -> None:
    _check_leaves(n)
    if x < 0 or x >= 2 * n - 1:
        raise TreeMathError(f"node {x} lies outside a tree of {n} leaves")


def node_width(n: int) -> int:
    """The number of nodes in the array of a tree with ``n`` leaves."""
    if n < 0:
        raise TreeMathError(f"negative leaf count {n}")
    return 2 * (n - 1) + 1 if n else 0


def root(n: int) -> int:
    """The root node of a tree with ``n`` leaves."""
    _check_leaves(n)
    return n - 1


def is_leaf(x: int) -> bool:
    """Whether node ``x`` is a leaf (even index)."""
    return x & 1 == 0


def leaf_to_node(leaf: int) -> int:
    """The node index of leaf index ``leaf``."""
    if leaf < 0 or leaf >= MAX_LEAVES:
        raise TreeMathError(f"leaf index {leaf} out of range")
    return leaf << 1


def node_to_leaf(x: int) -> int:
    """The leaf index of leaf node ``x``."""
    if x < 0 or x & 1:
        raise TreeMathError(f"node {x} is not a leaf")
    return x >> 1


def left(x: int) -> int:
    """The left child of parent node ``x``."""
    k = level(x)
    if k == 0:
        raise TreeMathError(f"leaf node {x} has no children")
    return x ^ (1 << (k - 1))


def right(x: int) -> int:
    """The right child of parent node ``x``."""
    k = level(x)
    if k == 0:
        raise TreeMathError(f"leaf node {x} has no children")
    return x ^ (3 << (k - 1))


def parent(x: int, n: int) -> int:
    """The parent of node ``x`` in a tree with ``n`` leaves."""
    _check_node(x, n)
    if x == n - 1:
        raise TreeMathError(f"root node {x} has no parent")
    k = level(x)
    b = (x >> (k + 1)) & 1
    return (x | (1 << k)) ^ (b << (k + 1))


def sibling(x: int, n: int) -> int:
    """The other child of the parent of node ``x``."""
    p = parent(x, n)
    return right(p) if x < p else left(p)


def direct_path(x: int, n: int) -> list[int]:
    """The ancestors of node ``x`` from its parent up to the root (empty for the root)."""
    _check_node(x, n)
    r = n - 1
    path = []
    while x != r:
        k = level(x)
        x = (x | (1 << k)) ^ (((x >> (k + 1)) & 1) << (k + 1))
        path.append(x)
    return path


def copath(x: int, n: int) -> list[int]:
    """The siblings of ``x`` and of each ancestor below the root, ordered from ``x`` upwards."""
    _check_node(x, n)
    r = n - 1
    result = []
    while x != r:
        k = level(x)
        p = (x | (1 << k)) ^ (((x >> (k + 1)) & 1) << (k + 1))
        result.append(p ^ (3 << k) if x < p else p ^ (1 << k))
        x = p
    return result


def is_ancestor(a: int, x: int) -> bool:
    """Whether node ``a`` is ``x`` or lies above it (``x`` is in the subtree rooted at ``a``)."""
    k = level(a)
    # The subtree of a covers the contiguous index range [a - (2^k - 1), a + (2^k - 1)].
    return abs(x - a) < (1 << k)


def common_ancestor(x: int, y: int, n: int) -> int:
    """The lowest node whose subtree holds both ``x`` and ``y``."""
    _check_node(x, n)
    _check_node(y, n)
    lx, ly = level(x) + 1, level(y) + 1
    if lx <= ly and x >> ly == y >> ly:
        return y
    if ly <= lx and x >> lx == y >> lx:
        return x
    k = (x ^ y).bit_length()
    return ((x >> k) << k) + (1 << (k - 1)) - 1


def filtered_direct_path(x: int, n: int, resolution_is_empty: Callable[[int], bool]) -> list[int]:
    """The direct path of ``x`` without the nodes whose copath child has an empty resolution.

    ``resolution_is_empty(node)`` tells whether the resolution of a node is empty; the ratchet tree
    supplies it, so the filtering itself stays pure index math.
    """
    _check_node(x, n)
    r = n - 1
    result = []
    while x != r:
        k = level(x)
        p = (x | (1 << k)) ^ (((x >> (k + 1)) & 1) << (k + 1))
        other = p ^ (3 << k) if x < p else p ^ (1 << k)
        if not resolution_is_empty(other):
            result.append(p)
        x = p
    return result


def leaves_under(x: int, n: int) -> range:
    """The leaf indices of the leaves in the subtree rooted at node ``x``."""
    _check_node(x, n)
    k = level(x)
    first = (x - ((1 << k) - 1)) >> 1
    return range(first, first + (1 << k))
