"""Ratchet tree (RFC 9420 section 7) against tree-validation.json and tree-operations.json, plus unit
and property tests of resolutions, hashes, edits, the extension encoding and tree validation.

tree-validation.json: per cipher suite, a ``tree`` (ratchet_tree extension body) and ``group_id``,
with the ``resolutions`` and ``tree_hashes`` of every node. The checker compares both per node, then
runs the whole joiner validation of 12.4.3.1 on the tree: root tree hash, parent-hash validity of
every parent node, every leaf's signature (LeafNodeTBS bound to group_id and leaf index) and
capabilities, unmerged-leaf consistency and key uniqueness.

tree-operations.json: a ``tree_before`` and its hash, one Add, Update or Remove ``proposal`` from
``proposal_sender``; the checker applies it and compares the encoded ``tree_after`` (no trailing
blanks) and ``tree_hash_after``.
"""

from __future__ import annotations

import functools
import hashlib
import pickle

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsgroup.domain.mls.cipher_suite import cipher_suite
from mlsgroup.domain.mls.credentials import BasicCredential
from mlsgroup.domain.mls.errors import DecodeError, ProtocolError
from mlsgroup.domain.mls.extensions import Extension, RequiredCapabilities
from mlsgroup.domain.mls.ratchet_tree import RatchetTree, parent_hash_of
from mlsgroup.domain.mls.tree_errors import (
    DuplicateKeyError,
    InvalidProposalTarget,
    LeafNodeValidationError,
    ParentHashMismatch,
    TreeHashMismatch,
    TreeUsageError,
    TreeValidationError,
    UnmergedLeavesError,
)
from mlsgroup.domain.mls.tree_structs import (
    RATCHET_TREE,
    Capabilities,
    LeafNode,
    Lifetime,
    ParentNode,
    UpdateSource,
)
from mlsgroup.domain.mls.tree_validation import (
    validate_leaf_node,
    validate_tree,
    verify_parent_hashes,
    verify_unique_keys,
    verify_unmerged_leaves,
)
from mlsgroup.infrastructure.conformance import tree_operations, tree_validation
from tests.vectors import load_vectors, suite_ids

VALIDATION = load_vectors(tree_validation.FILE)
OPERATIONS = load_vectors(tree_operations.FILE)
SUITE = cipher_suite(1)
CAPS = Capabilities((1,), (1,), (), (), (1,))


@pytest.mark.parametrize("entry", VALIDATION, ids=suite_ids(VALIDATION))
def test_tree_validation_vector(entry):
    tree_validation.check(entry)


@pytest.mark.parametrize("entry", OPERATIONS, ids=suite_ids(OPERATIONS))
def test_tree_operations_vector(entry):
    tree_operations.check(entry)


# --- members with real keys -------------------------------------------------------------------


@attrs.frozen
class Member:
    leaf: LeafNode
    encryption_key: bytes
    signature_key: bytes


@functools.cache
def member(i: int, suite_id: int = 1) -> Member:
    """A deterministic key_package member with real, signed keys."""
    suite = cipher_suite(suite_id)
    seed = hashlib.sha256(b"member %d" % i).digest()
    sig_priv, sig_pub = suite.signature_key_pair(seed)
    enc_priv, enc_pub = suite.hpke_key_pair(seed)
    unsigned = LeafNode(enc_pub, sig_pub, BasicCredential(b"member %d" % i), CAPS, Lifetime(0, 2**63), (), b"")
    signed = attrs.evolve(unsigned, signature=suite.sign_with_label(sig_priv, "LeafNodeTBS", unsigned.tbs()))
    return Member(signed, enc_priv, sig_priv)


def group_of(n: int, suite_id: int = 1) -> RatchetTree:
    tree = RatchetTree.create(suite_id, member(0, suite_id).leaf)
    for i in range(1, n):
        tree, index = tree.add_leaf(member(i, suite_id).leaf)
        assert index == i
    return tree


def fake_leaf(name: str) -> LeafNode:
    return LeafNode(b"enc-" + name.encode(), b"sig-" + name.encode(), BasicCredential(name.encode()), CAPS,
                    Lifetime(0, 1), (), b"")


def fake_parent(name: str, unmerged=()) -> ParentNode:
    return ParentNode(b"enc-" + name.encode(), b"", tuple(unmerged))


def rfc_resolution_tree() -> RatchetTree:
    # RFC 9420 figure "A Tree with Blanks and Unmerged Leaves": X[B] over A.._.D, Y over E F.
    nodes = [None] * 15
    for leaf, name in ((0, "A"), (1, "B"), (3, "D"), (4, "E"), (5, "F"), (7, "H")):
        nodes[2 * leaf] = fake_leaf(name)
    nodes[3] = fake_parent("X", (1,))
    nodes[9] = fake_parent("Y")
    return RatchetTree(1, nodes)


# --- resolution and filtered direct path --------------------------------------------------------


def test_resolution_example_of_the_rfc():
    tree = rfc_resolution_tree()
    assert tree.resolution(3) == (3, 2)  # X, B
    assert tree.resolution(4) == () and tree.resolution(12) == ()
    assert tree.resolution(7) == (3, 2, 9, 14)  # X, B, Y, H
    assert tree.resolution(11) == (9, 14)


def test_filtered_direct_paths_of_the_rfc_example():
    # RFC 9420 figure "A Complete Tree with Five Members": T over A B, X over E F, Y above X, W root.
    nodes = [None] * 15
    for leaf, name in ((0, "A"), (1, "B"), (4, "E"), (5, "F"), (6, "G")):
        nodes[2 * leaf] = fake_leaf(name)
    nodes[1], nodes[9], nodes[11], nodes[7] = (fake_parent(x) for x in "TXYW")
    tree = RatchetTree(1, nodes)
    assert tree.direct_path(0) == (1, 3, 7)
    assert tree.filtered_direct_path(0) == (1, 7)  # T, W
    assert tree.filtered_direct_path(1) == (1, 7)
    assert tree.filtered_direct_path(4) == (9, 11, 7)  # X, Y, W
    assert tree.filtered_direct_path(6) == (11, 7)  # Y, W
    assert tree.filtered_path(6) == ((11, 9), (7, 3))


# --- edits ----------------------------------------------------------------------------------------


def test_add_fills_the_leftmost_blank_then_extends():
    tree = group_of(3)
    assert tree.n_leaves == 4 and tree.leftmost_blank_leaf() == 3
    tree, index = tree.add_leaf(member(3).leaf)
    assert index == 3 and tree.leftmost_blank_leaf() is None
    tree, index = tree.add_leaf(member(4).leaf)
    assert (index, tree.n_leaves, tree.width) == (4, 8, 15)
    removed = tree.remove_leaf(1)
    again, index = removed.add_leaf(member(5).leaf)
    assert index == 1


def test_add_marks_the_leaf_unmerged_in_sorted_order():
    nodes = [fake_leaf("A"), fake_parent("P", (3,)), None, fake_parent("R"), fake_leaf("C"), None, fake_leaf("D")]
    tree = RatchetTree(1, nodes)
    tree, index = tree.add_leaf(fake_leaf("B"))
    assert index == 1
    assert tree.nodes[1].unmerged_leaves == (1, 3)
    assert tree.nodes[3].unmerged_leaves == (1,)
    assert tree.nodes[5] is None


def test_remove_blanks_the_path_and_truncates():
    tree = rfc_resolution_tree()
    removed = tree.remove_leaf(7)
    assert removed.n_leaves == 8  # leaves 4 and 5 still hold members
    assert removed.nodes[11] is None and removed.nodes[7] is None
    small = group_of(5).remove_leaf(4)
    assert small.n_leaves == 4
    assert group_of(5).remove_leaf(1).n_leaves == 8
    only = group_of(2).remove_leaf(1)
    assert only.n_leaves == 1 and only.width == 1
    with pytest.raises(InvalidProposalTarget):
        tree.remove_leaf(2)
    with pytest.raises(InvalidProposalTarget):
        tree.remove_leaf(99)
    assert issubclass(InvalidProposalTarget, ProtocolError)


def test_remove_truncates_past_several_blank_halves():
    tree = group_of(9)
    for leaf in (8, 7, 6, 5, 4, 3, 2):
        tree = tree.remove_leaf(leaf)
    assert tree.n_leaves == 2
    assert group_of(9).remove_leaf(8).n_leaves == 8


def test_update_replaces_the_leaf_and_blanks_its_path():
    tree = rfc_resolution_tree()
    new = attrs.evolve(fake_leaf("D2"), source=UpdateSource())
    updated = tree.update_leaf(3, new)
    assert updated.leaf(3) == new
    assert updated.nodes[3] is None and updated.nodes[7] is None
    assert updated.nodes[9] == tree.nodes[9] and updated.n_leaves == 8
    with pytest.raises(InvalidProposalTarget):
        tree.update_leaf(2, new)


def test_bad_construction_and_access_raise():
    with pytest.raises(TreeUsageError):
        RatchetTree(1, [])
    with pytest.raises(TreeUsageError):
        RatchetTree(1, [fake_parent("P")])
    with pytest.raises(TreeUsageError):
        RatchetTree(1, [fake_leaf("A"), fake_leaf("B"), fake_leaf("C")])
    tree = group_of(2)
    with pytest.raises(TreeUsageError):
        tree.leaf(2)
    with pytest.raises(TreeUsageError):
        tree.node(3)
    with pytest.raises(TreeUsageError):
        tree.with_nodes({0: fake_parent("P")})
    with pytest.raises(TreeUsageError):
        tree.parent_hash(1, 2)  # blank parent
    assert issubclass(TreeUsageError, ValueError)


# --- the ratchet_tree extension -----------------------------------------------------------------


def test_encoding_drops_trailing_blanks_and_decoding_pads():
    tree = group_of(5)
    encoded = tree.encode()
    assert encoded == RATCHET_TREE.encode(tree.wire_nodes())
    assert len(tree.wire_nodes()) == 9 and tree.width == 15
    back = RatchetTree.decode(1, encoded)
    assert back == tree and back.tree_hash() == tree.tree_hash()


@pytest.mark.parametrize(
    "nodes",
    [
        (),
        (fake_leaf("A"), None),
        (fake_leaf("A"), None, None),
        (fake_parent("P"),),
        (fake_leaf("A"), fake_leaf("B"), fake_leaf("C")),
        (fake_leaf("A"), fake_parent("P"), fake_parent("Q")),
    ],
)
def test_malformed_arrays_raise_decode_error(nodes):
    with pytest.raises(DecodeError):
        RatchetTree.decode(1, RATCHET_TREE.encode(nodes))


@given(st.binary(max_size=64))
@settings(max_examples=200)
def test_garbage_raises_decode_error_only(data):
    try:
        RatchetTree.decode(1, data)
    except DecodeError:
        pass


def test_odd_length_arrays_decode_into_the_smallest_complete_tree():
    tree = RatchetTree.decode(1, RATCHET_TREE.encode((fake_leaf("A"), fake_parent("P"))))
    assert tree.n_leaves == 2 and tree.nodes[2] is None


# --- hashes ---------------------------------------------------------------------------------------


def test_tree_hash_of_a_single_leaf_follows_the_rfc_layout():
    leaf = member(0).leaf
    tree = RatchetTree.create(1, leaf)
    expected = hashlib.sha256(b"\x01" + bytes(4) + b"\x01" + leaf.encode()).digest()
    assert tree.tree_hash() == expected
    two = group_of(2)
    blank_parent = b"\x02\x00" + b"\x20" + two.node_hash(0) + b"\x20" + two.node_hash(2)
    assert two.tree_hash() == hashlib.sha256(blank_parent).digest()


def test_original_sibling_hash_blanks_the_parents_unmerged_leaves():
    # RFC 9420 figure "A Tree Illustrating Parent Hash Computations": W[F] and Y[F].
    nodes = [None] * 15
    for leaf, name in enumerate("ABCDEFG"):
        nodes[2 * leaf] = fake_leaf(name)
    nodes[1], nodes[3] = fake_parent("T"), fake_parent("U")
    nodes[11], nodes[7] = fake_parent("Y", (5,)), fake_parent("W", (5,))
    tree = RatchetTree(1, nodes)
    original = list(nodes)
    original[10] = None
    original[11] = fake_parent("Y")
    assert tree.original_sibling_tree_hash(7, 11) == RatchetTree(1, original).node_hash(11)
    assert tree.original_sibling_tree_hash(7, 3) == tree.node_hash(3)
    assert tree.parent_hash(7, 11) == parent_hash_of(SUITE, b"enc-W", b"", RatchetTree(1, original).node_hash(11))


def _fresh(tree: RatchetTree) -> RatchetTree:
    return RatchetTree(tree.suite, tree.nodes)


operations = st.lists(
    st.tuples(st.sampled_from(["add", "remove", "update", "parent"]), st.integers(0, 40)), max_size=25
)


@given(operations)
@settings(max_examples=60)
def test_cached_hashes_and_resolutions_equal_a_fresh_computation(ops):
    tree = group_of(3)
    trees = [tree]
    counter = 100
    for op, k in ops:
        counter += 1
        members = [i for i, _ in tree.leaves()]
        if op == "add":
            tree, _ = tree.add_leaf(fake_leaf(f"n{counter}"))
        elif op == "remove" and len(members) > 1:
            tree = tree.remove_leaf(members[k % len(members)])
        elif op == "update":
            tree = tree.update_leaf(members[k % len(members)], fake_leaf(f"u{counter}"))
        elif op == "parent" and tree.n_leaves > 1:
            index = 2 * (k % (tree.n_leaves - 1)) + 1
            tree = tree.with_nodes({index: fake_parent(f"p{counter}")})
        tree.tree_hash()
        tree.resolution(tree.root)
        trees.append(tree)
    for t in trees:
        fresh = _fresh(t)
        assert t.node_hashes() == fresh.node_hashes()
        assert [t.resolution(i) for i in range(t.width)] == [fresh.resolution(i) for i in range(t.width)]
        assert RatchetTree.decode(1, t.encode()) == t


def test_an_edit_invalidates_only_its_path():
    tree = group_of(64)
    tree.tree_hash()
    edited = tree.with_nodes({20: fake_leaf("new")})
    stale = [i for i, h in enumerate(edited._hashes) if h is None]
    assert stale == sorted([20] + list(edited.direct_path(10)))


def test_value_semantics():
    tree = group_of(3)
    assert tree == _fresh(tree) and hash(tree) == hash(_fresh(tree))
    assert tree != group_of(4)
    assert pickle.loads(pickle.dumps(tree)) == tree
    assert repr(tree) == "RatchetTree(suite=1, n_leaves=4, members=3)"
    with pytest.raises(AttributeError):
        tree.nodes = ()  # type: ignore[misc]


# --- validation -----------------------------------------------------------------------------------

UNMERGED_ENTRY = VALIDATION[13]


def _vector_tree(entry) -> RatchetTree:
    return RatchetTree.decode(entry["cipher_suite"], bytes.fromhex(entry["tree"]))


def test_a_vector_tree_with_unmerged_leaves_validates():
    tree = _vector_tree(UNMERGED_ENTRY)
    assert any(node.unmerged_leaves for _, node in tree.parents())
    validate_tree(tree, group_id=bytes.fromhex(UNMERGED_ENTRY["group_id"]), tree_hash=tree.tree_hash())


def test_wrong_tree_hash_is_rejected():
    tree = _vector_tree(VALIDATION[1])
    with pytest.raises(TreeHashMismatch):
        validate_tree(tree, group_id=bytes.fromhex(VALIDATION[1]["group_id"]), tree_hash=bytes(32))


@pytest.mark.parametrize("entry", [VALIDATION[2], UNMERGED_ENTRY], ids=["full", "unmerged"])
def test_tampered_parent_hashes_are_rejected(entry):
    tree = _vector_tree(entry)
    for index, node in tree.parents():
        tampered = tree.with_nodes({index: attrs.evolve(node, parent_hash=node.parent_hash + b"x")})
        with pytest.raises(ParentHashMismatch):
            verify_parent_hashes(tampered)
        rekeyed = tree.with_nodes({index: attrs.evolve(node, encryption_key=b"other key")})
        with pytest.raises(ParentHashMismatch):
            verify_parent_hashes(rekeyed)


def test_a_parent_node_without_any_chain_is_rejected():
    tree = group_of(4)
    with pytest.raises(ParentHashMismatch):
        verify_parent_hashes(tree.with_nodes({1: fake_parent("P")}))


def test_leaf_signatures_bind_the_group_and_position():
    entry = VALIDATION[2]
    tree = _vector_tree(entry)
    group_id = bytes.fromhex(entry["group_id"])
    validate_tree(tree, group_id=group_id)
    with pytest.raises(LeafNodeValidationError):
        validate_tree(tree, group_id=group_id + b"x")
    index, leaf = next(tree.leaves())
    forged = tree.with_nodes({2 * index: attrs.evolve(leaf, signature=bytes(len(leaf.signature)))})
    with pytest.raises(LeafNodeValidationError):
        validate_tree(forged, group_id=group_id)


def test_unmerged_leaf_lists_are_checked():
    tree = _vector_tree(UNMERGED_ENTRY)
    verify_unmerged_leaves(tree)
    index, node = next((i, n) for i, n in tree.parents() if n.unmerged_leaves)
    leaf = node.unmerged_leaves[0]
    cases = [
        node.unmerged_leaves + (leaf,),  # not strictly increasing
        tuple(sorted(set(node.unmerged_leaves) | {tree.n_leaves + 5})),  # outside the subtree
    ]
    for unmerged in cases:
        with pytest.raises(UnmergedLeavesError):
            verify_unmerged_leaves(tree.with_nodes({index: attrs.evolve(node, unmerged_leaves=unmerged)}))
    blanked = tree.with_nodes({2 * leaf: None})
    with pytest.raises(UnmergedLeavesError):
        verify_unmerged_leaves(blanked)


def test_unmerged_leaf_missing_below_is_rejected():
    nodes = [fake_leaf("A"), fake_parent("P"), fake_leaf("B"), fake_parent("R", (1,)), fake_leaf("C"), None,
             fake_leaf("D")]
    with pytest.raises(UnmergedLeavesError):
        verify_unmerged_leaves(RatchetTree(1, nodes))
    nodes[1] = fake_parent("P", (1,))
    verify_unmerged_leaves(RatchetTree(1, nodes))


def test_duplicate_keys_are_rejected():
    tree = group_of(4)
    verify_unique_keys(tree)
    a, b = tree.leaf(0), tree.leaf(1)
    with pytest.raises(DuplicateKeyError):
        verify_unique_keys(tree.with_nodes({2: attrs.evolve(b, encryption_key=a.encryption_key)}))
    with pytest.raises(DuplicateKeyError):
        verify_unique_keys(tree.with_nodes({2: attrs.evolve(b, signature_key=a.signature_key)}))
    with pytest.raises(DuplicateKeyError):
        verify_unique_keys(tree.with_nodes({1: ParentNode(a.encryption_key, b"", ())}))
    assert issubclass(DuplicateKeyError, TreeValidationError)


def test_leaf_node_rules_of_section_7_3():
    m = member(0)
    ok = dict(group_id=b"g", leaf_index=0)
    validate_leaf_node(SUITE, m.leaf, **ok, expected_source=1, now=5)
    with pytest.raises(LeafNodeValidationError):
        validate_leaf_node(SUITE, m.leaf, **ok, expected_source=2)
    with pytest.raises(LeafNodeValidationError):
        validate_leaf_node(SUITE, attrs.evolve(m.leaf, source=Lifetime(10, 20)), **ok)  # signature broken
    required = RequiredCapabilities((0xFF00,), (), ())
    with pytest.raises(LeafNodeValidationError):
        validate_leaf_node(SUITE, m.leaf, **ok, required=required)
    validate_leaf_node(SUITE, m.leaf, **ok, required=RequiredCapabilities((3,), (7,), (1,)))

    def signed(**changes):
        leaf = attrs.evolve(m.leaf, signature=b"", **changes)
        return attrs.evolve(leaf, signature=SUITE.sign_with_label(m.signature_key, "LeafNodeTBS", leaf.tbs()))

    with pytest.raises(LeafNodeValidationError):
        validate_leaf_node(SUITE, signed(source=Lifetime(10, 20)), **ok, now=30)
    with pytest.raises(LeafNodeValidationError):
        validate_leaf_node(SUITE, signed(capabilities=Capabilities((1,), (1,), (), (), (2,))), **ok)
    with pytest.raises(LeafNodeValidationError):
        validate_leaf_node(SUITE, signed(extensions=(Extension(0xFF00, b""),)), **ok)
    validate_leaf_node(
        SUITE, signed(extensions=(Extension(0xFF00, b""),), capabilities=Capabilities((1,), (1,), (0xFF00,), (), (1,))),
        **ok,
    )


def test_validation_of_a_grown_tree_with_real_keys():
    tree = group_of(7)
    validate_tree(tree, group_id=b"group", tree_hash=tree.tree_hash())


@given(st.data())
@settings(max_examples=80, deadline=None)
def test_mutated_trees_fail_only_with_decode_or_validation_errors(data):
    entry = data.draw(st.sampled_from([VALIDATION[2], VALIDATION[5], UNMERGED_ENTRY, VALIDATION[15]]))
    mutated = bytearray.fromhex(entry["tree"])
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.integers(0, len(mutated) - 1))
        mutated[where] ^= data.draw(st.integers(1, 0xFF))
    if mutated.hex() == entry["tree"]:
        return  # the flips cancelled out
    try:
        tree = RatchetTree.decode(entry["cipher_suite"], bytes(mutated))
    except DecodeError:
        return
    group_id = bytes.fromhex(entry["group_id"])
    with pytest.raises(TreeValidationError):
        validate_tree(tree, group_id=group_id, tree_hash=_vector_tree(entry).tree_hash())
    try:  # without a hash to compare with, signatures and parent hashes must still fail cleanly
        validate_tree(tree, group_id=group_id)
    except TreeValidationError:
        pass
