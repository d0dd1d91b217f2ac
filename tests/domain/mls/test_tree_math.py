"""Tree math (RFC 9420 Appendix C) against tree-math.json and as properties up to 2**31 leaves.

tree-math.json: each entry gives ``n_leaves`` and, for every node index ``i`` of that tree,
``left[i]``, ``right[i]``, ``parent[i]`` and ``sibling[i]`` (null where the relative does not
exist), plus ``n_nodes`` and ``root``. The checker recomputes every value; a missing relative
must raise TreeMathError.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlsgroup.domain.mls import tree_math as tm
from mlsgroup.domain.mls.errors import MlsError
from mlsgroup.infrastructure.conformance import tree_math as conformance
from tests.vectors import load_vectors, suite_ids

VECTORS = load_vectors(conformance.FILE)


@pytest.mark.parametrize("entry", VECTORS, ids=suite_ids(VECTORS, prefix="n"))
def test_vector(entry):
    conformance.check(entry)


@st.composite
def tree_and_node(draw):
    n = 1 << draw(st.integers(0, 31))
    x = draw(st.integers(0, 2 * n - 2))
    return n, x


@st.composite
def tree_and_two_nodes(draw):
    n, x = draw(tree_and_node())
    y = draw(st.integers(0, 2 * n - 2))
    return n, x, y


def test_small_tree_by_hand():
    # The eight-leaf tree of RFC 9420 Appendix C.
    n = 8
    assert tm.root(n) == 7
    assert tm.direct_path(0, n) == [1, 3, 7]
    assert tm.copath(0, n) == [2, 5, 11]
    assert tm.direct_path(10, n) == [9, 11, 7]
    assert tm.copath(10, n) == [8, 13, 3]
    assert tm.common_ancestor(0, 4, n) == 3
    assert tm.common_ancestor(2, 12, n) == 7
    assert tm.common_ancestor(8, 11, n) == 11
    assert tm.direct_path(7, n) == [] and tm.copath(7, n) == []
    assert list(tm.leaves_under(11, n)) == [4, 5, 6, 7]
    assert list(tm.leaves_under(6, n)) == [3]
    assert tm.node_width(0) == 0 and tm.node_width(5) == 9
    assert tm.log2(0) == 0 and tm.log2(1) == 0 and tm.log2(9) == 3


@pytest.mark.parametrize(
    "call",
    [
        lambda: tm.left(4),
        lambda: tm.right(0),
        lambda: tm.parent(7, 8),
        lambda: tm.sibling(3, 4),
        lambda: tm.parent(15, 8),
        lambda: tm.parent(-1, 8),
        lambda: tm.direct_path(0, 3),
        lambda: tm.root(0),
        lambda: tm.root(1 << 32),
        lambda: tm.node_to_leaf(3),
        lambda: tm.leaf_to_node(-1),
        lambda: tm.common_ancestor(0, 20, 8),
        lambda: tm.level(-2),
    ],
)
def test_out_of_range_raises_typed_error(call):
    with pytest.raises(tm.TreeMathError) as info:
        call()
    assert isinstance(info.value, ValueError) and isinstance(info.value, MlsError)


@given(tree_and_node())
def test_children_of_a_parent_have_it_as_parent(case):
    n, x = case
    if tm.is_leaf(x):
        with pytest.raises(tm.TreeMathError):
            tm.left(x)
        return
    assert tm.parent(tm.left(x), n) == x
    assert tm.parent(tm.right(x), n) == x
    assert tm.left(x) < x < tm.right(x)
    assert tm.level(tm.left(x)) == tm.level(x) - 1 == tm.level(tm.right(x))


@given(tree_and_node())
def test_sibling_is_symmetric(case):
    n, x = case
    if x == tm.root(n):
        with pytest.raises(tm.TreeMathError):
            tm.sibling(x, n)
        return
    s = tm.sibling(x, n)
    assert s != x
    assert tm.sibling(s, n) == x
    assert tm.parent(s, n) == tm.parent(x, n)


@given(tree_and_node())
def test_direct_path_climbs_to_root(case):
    n, x = case
    path = tm.direct_path(x, n)
    r = tm.root(n)
    assert tm.is_ancestor(r, x)
    if x == r:
        assert path == []
        return
    assert path[-1] == r
    assert len(path) == tm.level(r) - tm.level(x)
    assert all(tm.is_ancestor(a, x) for a in path)
    levels = [tm.level(p) for p in path]
    assert levels == list(range(tm.level(x) + 1, tm.level(r) + 1))
    cop = tm.copath(x, n)
    assert len(cop) == len(path)
    assert [tm.parent(c, n) for c in cop] == path


@given(tree_and_node())
def test_leaf_node_conversion_round_trips(case):
    n, x = case
    leaves = tm.leaves_under(x, n)
    assert len(leaves) == 1 << tm.level(x)
    for leaf in (leaves[0], leaves[-1]):
        node = tm.leaf_to_node(leaf)
        assert tm.is_leaf(node) and tm.node_to_leaf(node) == leaf
        assert tm.is_ancestor(x, node)


@given(tree_and_two_nodes())
def test_common_ancestor_matches_direct_paths(case):
    n, x, y = case
    a = tm.common_ancestor(x, y, n)
    assert a == tm.common_ancestor(y, x, n)
    assert tm.is_ancestor(a, x) and tm.is_ancestor(a, y)
    # No child of the common ancestor holds both nodes.
    if not tm.is_leaf(a):
        for child in (tm.left(a), tm.right(a)):
            assert not (tm.is_ancestor(child, x) and tm.is_ancestor(child, y))


@given(tree_and_node(), st.sets(st.integers(0, 63)))
def test_filtered_direct_path_drops_nodes_with_empty_copath_resolution(case, empty_levels):
    n, x = case
    copath = tm.copath(x, n)
    expected = [p for p, c in zip(tm.direct_path(x, n), copath) if tm.level(c) not in empty_levels]
    assert tm.filtered_direct_path(x, n, lambda c: tm.level(c) in empty_levels) == expected
