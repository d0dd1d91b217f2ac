"""Ratchet tree structs (RFC 9420 sections 7.1, 7.2, 7.6, 12.4.3.3): nodes, the ratchet tree
vector, update paths, and LeafNodeTBS checked against the signatures in messages.json."""

import pytest
from hypothesis import given, settings, strategies as st

from mlsgroup.domain.mls.codec import encode_opaque
from mlsgroup.domain.mls.commits import Commit
from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.mls.extensions import ExtensionType, find_extension
from mlsgroup.domain.mls.messages import MLSMessage
from mlsgroup.domain.mls.tree_structs import (
    NODE,
    RATCHET_TREE,
    Capabilities,
    CommitSource,
    LeafNode,
    LeafNodeSource,
    Lifetime,
    ParentNode,
    UpdatePath,
    UpdateSource,
)
from mlsgroup.domain.mls.credentials import BasicCredential
from tests.vectors import load_vectors

from .wire_testing import (
    assert_decodes_or_rejects,
    capabilities,
    encode_method,
    leaf_nodes,
    message_seeds,
    mutations,
    nodes,
    ratchet_trees,
    update_paths,
    verifies_with_label,
)

CAPS = Capabilities((1,), (1,), (), (), (1,))


def leaf(source):
    return LeafNode(b"enc", b"sig-key", BasicCredential(b"id"), CAPS, source, (), b"signature")


def test_leaf_source_views():
    kp = leaf(Lifetime(1, 2))
    assert (kp.leaf_node_source, kp.lifetime, kp.parent_hash) == (LeafNodeSource.KEY_PACKAGE, Lifetime(1, 2), None)
    up = leaf(UpdateSource())
    assert (up.leaf_node_source, up.lifetime, up.parent_hash) == (LeafNodeSource.UPDATE, None, None)
    cm = leaf(CommitSource(b"ph"))
    assert (cm.leaf_node_source, cm.lifetime, cm.parent_hash) == (LeafNodeSource.COMMIT, None, b"ph")


def test_leaf_tbs_layout():
    kp = leaf(Lifetime(1, 2))
    unsigned = kp.encode()[: -len(encode_opaque(b"signature"))]
    assert kp.tbs() == unsigned
    assert kp.tbs(b"group", 3) == unsigned  # key_package leaves are not bound to a group
    up = leaf(UpdateSource())
    unsigned = up.encode()[: -len(encode_opaque(b"signature"))]
    assert up.tbs(b"group", 3) == unsigned + b"\x05group" + bytes.fromhex("00000003")
    with pytest.raises(ValueError):
        up.tbs()
    with pytest.raises(ValueError):
        leaf(CommitSource(b"")).tbs(b"group")


def test_key_package_leaves_in_ratchet_trees_verify():
    for entry in load_vectors("messages.json"):
        info = MLSMessage.decode(bytes.fromhex(entry["mls_group_info"])).body
        tree = RATCHET_TREE.decode(bytes.fromhex(entry["ratchet_tree"]))
        suite = info.group_context.cipher_suite
        leaves = [(i // 2, n) for i, n in enumerate(tree) if isinstance(n, LeafNode)]
        assert leaves
        for index, node in leaves:
            tbs = node.tbs(info.group_context.group_id, index)
            assert verifies_with_label(suite, node.signature_key, node.signature, b"LeafNodeTBS", tbs)
            assert not verifies_with_label(suite, node.signature_key, node.signature, b"LeafNodeTBS", tbs + b"\x00")


def test_commit_leaves_sign_over_group_id_and_leaf_index():
    for entry in load_vectors("messages.json"):
        info = MLSMessage.decode(bytes.fromhex(entry["mls_group_info"])).body
        group_id, suite = info.group_context.group_id, info.group_context.cipher_suite
        path_leaf = Commit.decode(bytes.fromhex(entry["commit"])).path.leaf_node
        assert path_leaf.leaf_node_source == LeafNodeSource.COMMIT
        sig = (path_leaf.signature_key, path_leaf.signature, b"LeafNodeTBS")
        assert verifies_with_label(suite, *sig, path_leaf.tbs(group_id, 0))
        assert not verifies_with_label(suite, *sig, path_leaf.tbs(group_id, 1))


def test_ratchet_tree_extension_equals_the_ratchet_tree_field():
    for entry in load_vectors("messages.json")[:20]:
        info = MLSMessage.decode(bytes.fromhex(entry["mls_group_info"])).body
        ext = find_extension(info.extensions, ExtensionType.RATCHET_TREE)
        assert ext.parse(RATCHET_TREE) == RATCHET_TREE.decode(bytes.fromhex(entry["ratchet_tree"]))


def test_blank_nodes_and_bad_presence_octets():
    parent = ParentNode(b"k", b"", (1, 2))
    tree = (leaf(Lifetime(0, 1)), None, parent)
    assert RATCHET_TREE.decode(RATCHET_TREE.encode(tree)) == tree
    assert RATCHET_TREE.encode((None,)) == b"\x01\x00"
    for bad in (b"\x01\x02", b"\x02\x01\x03", b"\x02\x01\x00"):
        with pytest.raises(DecodeError):
            RATCHET_TREE.decode(bad)


@pytest.mark.parametrize("source", [0, 4, 255])
def test_unknown_leaf_node_source_is_a_decode_error(source):
    good = leaf(UpdateSource()).encode()
    at = len(good) - len(b"\x00" + encode_opaque(b"signature")) - 1
    assert good[at] == LeafNodeSource.UPDATE
    with pytest.raises(DecodeError):
        LeafNode.decode(good[:at] + bytes([source]) + good[at + 1 :])


@given(capabilities)
def test_capabilities_round_trip(value):
    assert Capabilities.decode(value.encode()) == value


@given(leaf_nodes)
def test_leaf_node_round_trip(value):
    decoded = LeafNode.decode(value.encode())
    assert decoded == value and hash(decoded) == hash(value)


@given(nodes)
def test_node_round_trip(value):
    assert NODE.decode(NODE.encode(value)) == value


@settings(max_examples=50)
@given(ratchet_trees)
def test_ratchet_tree_round_trip(value):
    assert RATCHET_TREE.decode(RATCHET_TREE.encode(value)) == value


@settings(max_examples=50)
@given(update_paths)
def test_update_path_round_trip(value):
    assert UpdatePath.decode(value.encode()) == value


DECODERS = {
    "ratchet_tree": (RATCHET_TREE.decode, RATCHET_TREE.encode, "ratchet_tree"),
    "leaf_node": (LeafNode.decode, encode_method, "update_proposal"),  # Update is just a LeafNode
}


@pytest.mark.parametrize("name", DECODERS)
@given(data=st.binary(max_size=256))
def test_random_bytes_only_raise_decode_error(name, data):
    decode, encode, _ = DECODERS[name]
    assert_decodes_or_rejects(decode, encode, data)


@pytest.mark.parametrize("name", DECODERS)
@given(data=st.data())
def test_mutated_vectors_only_raise_decode_error(name, data):
    decode, encode, field = DECODERS[name]
    assert_decodes_or_rejects(decode, encode, data.draw(mutations(message_seeds(field))))
