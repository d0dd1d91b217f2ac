"""TreeKEM (RFC 9420 7.4-7.6, 12.4.2) against treekem.json, plus a simulated group and tampered paths.

treekem.json: per cipher suite, a ``ratchet_tree``, the GroupContext inputs (``group_id``,
``epoch``, ``confirmed_transcript_hash``), each member's ``leaves_private`` (leaf HPKE and signature
keys, path secrets of some parent nodes) and ``update_paths`` from several senders. The checker
builds each member's private state and checks it matches the tree; for every UpdatePath it merges
the path (tree_hash_after), lets every other member decrypt it (the expected ``path_secrets[j]``
and ``commit_secret``), then creates a fresh UpdatePath from the same sender with the sender's
signature key and checks that every other member derives the same commit secret and tree. The
provisional GroupContext carries the tree hash after the merge and no extensions.
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsgroup.domain.mls.enums import ProtocolVersion
from mlsgroup.domain.mls.errors import DecodeError, ProtocolError
from mlsgroup.domain.mls.group_context import GroupContext
from mlsgroup.domain.mls.ratchet_tree import RatchetTree
from mlsgroup.domain.mls.secrets import Secret
from mlsgroup.domain.mls.tree_errors import (
    DuplicateKeyError,
    LeafNodeValidationError,
    ParentHashMismatch,
    PathDecryptionError,
    PathKeyMismatch,
    PathLengthMismatch,
    TreeUsageError,
    UpdatePathError,
)
from mlsgroup.domain.mls.tree_structs import HPKECiphertext, UpdatePath
from mlsgroup.domain.mls.tree_validation import validate_tree
from mlsgroup.domain.mls.treekem import (
    TreeKemPrivate,
    create_update_path,
    derive_node_key_pair,
    merge_update_path,
    next_path_secret,
    process_update_path,
)
from mlsgroup.infrastructure.conformance import treekem as conformance
from tests.vectors import load_vectors, suite_ids

from .test_ratchet_tree import group_of, member

VECTORS = load_vectors(conformance.FILE)
GROUP_ID = b"treekem test group"


@pytest.mark.parametrize("entry", VECTORS, ids=suite_ids(VECTORS))
def test_vector(entry):
    conformance.check(entry)


def context_for(tree: RatchetTree, epoch: int = 7) -> GroupContext:
    return GroupContext(ProtocolVersion.MLS10, tree.suite.id, GROUP_ID, epoch, b"", b"\x01" * 32, ())


def seed(*parts: int) -> bytes:
    return bytes([len(parts)] + list(parts)).ljust(32, b"\x5a")


class Group:
    """A public tree plus every member's private state, driven by TreeKEM alone."""

    def __init__(self, n: int, suite_id: int = 1) -> None:
        self.suite_id = suite_id
        self.tree = group_of(n, suite_id)
        self.private = {i: TreeKemPrivate(i, member(i, suite_id).encryption_key) for i in range(n)}
        self.identity = {i: i for i in range(n)}  # leaf index -> member number
        self.next_member = n
        self.commits = 0

    def signature_key(self, leaf: int) -> bytes:
        return member(self.identity[leaf], self.suite_id).signature_key

    def add(self) -> int:
        number = self.next_member
        self.next_member += 1
        self.tree, leaf = self.tree.add_leaf(member(number, self.suite_id).leaf)
        self.identity[leaf] = number
        self.private[leaf] = TreeKemPrivate(leaf, member(number, self.suite_id).encryption_key)
        return leaf

    def remove(self, leaf: int) -> None:
        self.tree = self.tree.remove_leaf(leaf)
        del self.private[leaf], self.identity[leaf]
        self.private = {i: state.pruned(self.tree) for i, state in self.private.items()}

    def commit(self, sender: int, joiners=()) -> bytes:
        """An UpdatePath from ``sender``; joiners (added in this commit) learn it via path_secret_for."""
        self.commits += 1
        context = context_for(self.tree, self.commits)
        created = create_update_path(
            self.tree, sender, seed(sender, self.commits), signature_private_key=self.signature_key(sender),
            group_context=context, excluded_leaves=joiners,
        )
        for leaf, state in list(self.private.items()):
            if leaf == sender:
                continue
            if leaf in joiners:
                self.private[leaf] = TreeKemPrivate.for_joiner(
                    created.tree, leaf, state.leaf_key, sender, created.path_secret_for(leaf)
                )
                continue
            result = process_update_path(
                self.tree, sender, created.update_path, state, group_context=context, excluded_leaves=joiners
            )
            assert result.commit_secret == created.commit_secret
            assert result.tree == created.tree
            assert result.group_context == created.group_context
            self.private[leaf] = result.private
        self.private[sender] = created.private
        self.tree = created.tree
        return created.commit_secret

    def check_invariants(self) -> None:
        for leaf, state in self.private.items():
            state.verify_against(self.tree)
            assert state.pruned(self.tree) == state
        validate_tree(self.tree, group_id=GROUP_ID)
        # The tree invariant: every member knows the root key once some commit has set it.
        root = self.tree.nodes[self.tree.root]
        if root is not None and self.tree.n_leaves > 1:
            for leaf, state in self.private.items():
                if leaf not in root.unmerged_leaves:
                    assert state.key_for(self.tree.root) is not None


def test_members_agree_on_commits_from_every_position():
    group = Group(6)
    for sender in (0, 5, 2, 3):
        group.commit(sender)
        group.check_invariants()
    group.remove(4)
    joiner = group.add()
    assert joiner == 4
    group.commit(1)
    group.check_invariants()


def test_joiners_get_no_ciphertexts_but_a_welcome_path_secret():
    group = Group(4)
    group.commit(0)
    new = [group.add(), group.add()]
    before = group.tree
    context = context_for(before)
    created = create_update_path(
        before, 1, seed(9), signature_private_key=group.signature_key(1), group_context=context,
        excluded_leaves=new,
    )
    counts = [len(node.encrypted_path_secret) for node in created.update_path.nodes]
    unexcluded = create_update_path(
        before, 1, seed(9), signature_private_key=group.signature_key(1), group_context=context
    )
    assert sum(counts) + len(new) == sum(len(n.encrypted_path_secret) for n in unexcluded.update_path.nodes)
    for leaf in new:
        joined = TreeKemPrivate.for_joiner(
            created.tree, leaf, group.private[leaf].leaf_key, 1, created.path_secret_for(leaf)
        )
        joined.verify_against(created.tree)
        assert joined.key_for(created.tree.root) is not None
    with pytest.raises(PathLengthMismatch):
        merge_update_path(before, 1, created.update_path, group_id=GROUP_ID)


def test_generation_is_deterministic_in_the_seed():
    tree = group_of(5)
    context = context_for(tree)
    key = member(2).signature_key
    one = create_update_path(tree, 2, seed(1), signature_private_key=key, group_context=context)
    two = create_update_path(tree, 2, seed(1), signature_private_key=key, group_context=context)
    other = create_update_path(tree, 2, seed(2), signature_private_key=key, group_context=context)
    assert one.update_path.encode() == two.update_path.encode() and one.commit_secret == two.commit_secret
    assert other.commit_secret != one.commit_secret
    assert other.update_path.leaf_node.encryption_key != one.update_path.leaf_node.encryption_key


def test_path_secrets_chain_up_the_filtered_path_to_the_commit_secret():
    tree = group_of(5)
    created = create_update_path(
        tree, 4, seed(3), signature_private_key=member(4).signature_key, group_context=context_for(tree)
    )
    suite = tree.suite
    filtered = tree.filtered_direct_path(4)
    assert [n for n, _ in created.path_secrets] == sorted(filtered)
    ordered = [dict(created.path_secrets)[n] for n in filtered]
    for lower, upper in zip(ordered, ordered[1:]):
        assert next_path_secret(suite, lower) == upper
    assert next_path_secret(suite, ordered[-1]) == created.commit_secret
    for node, secret in zip(filtered, ordered):
        assert derive_node_key_pair(suite, secret)[1] == created.tree.nodes[node].encryption_key


def test_a_lone_member_commits_an_empty_path():
    tree = group_of(1)
    created = create_update_path(
        tree, 0, seed(4), signature_private_key=member(0).signature_key, group_context=context_for(tree)
    )
    assert created.update_path.nodes == () and created.update_path.leaf_node.parent_hash == b""
    assert created.tree.n_leaves == 1 and len(created.commit_secret) == 32


def test_secrets_never_print():
    tree = group_of(3)
    created = create_update_path(
        tree, 0, seed(5), signature_private_key=member(0).signature_key, group_context=context_for(tree)
    )
    text = repr(created) + repr(created.private)
    for secret in (created.commit_secret, created.private.leaf_key, *dict(created.path_secrets).values()):
        assert isinstance(secret, Secret)
        assert secret.hex() not in text


def test_the_signature_key_must_match_the_leaf():
    tree = group_of(3)
    with pytest.raises(TreeUsageError):
        create_update_path(tree, 0, seed(6), signature_private_key=member(1).signature_key,
                           group_context=context_for(tree))
    with pytest.raises(TreeUsageError):
        create_update_path(tree, 3, seed(6), signature_private_key=member(1).signature_key,
                           group_context=context_for(tree))


# --- tampered paths -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def committed():
    group = Group(7)
    group.commit(6)
    group.commit(0)
    tree = group.tree
    context = context_for(tree)
    created = create_update_path(
        tree, 2, seed(7), signature_private_key=group.signature_key(2), group_context=context
    )
    return group, tree, context, created


def _resign(group, leaf_node, sender):
    unsigned = attrs.evolve(leaf_node, signature=b"")
    suite = group.tree.suite
    return attrs.evolve(unsigned, signature=suite.sign_with_label(
        group.signature_key(sender), "LeafNodeTBS", unsigned.tbs(GROUP_ID, sender)))


def test_a_valid_path_processes(committed):
    group, tree, context, created = committed
    result = process_update_path(tree, 2, created.update_path, group.private[5], group_context=context)
    assert result.commit_secret == created.commit_secret


def test_wrong_leaf_signature_or_source_is_rejected(committed):
    group, tree, context, created = committed
    path = created.update_path
    forged = attrs.evolve(path, leaf_node=attrs.evolve(path.leaf_node, signature=bytes(64)))
    with pytest.raises(LeafNodeValidationError):
        process_update_path(tree, 2, forged, group.private[5], group_context=context)
    with pytest.raises(LeafNodeValidationError):  # signed for leaf 2, claimed by leaf 3
        merge_update_path(tree, 3, path, group_id=GROUP_ID)


def test_wrong_parent_hash_is_rejected(committed):
    group, tree, context, created = committed
    path = created.update_path
    leaf = _resign(group, attrs.evolve(path.leaf_node, source=attrs.evolve(path.leaf_node.source,
                                                                              parent_hash=bytes(32))), 2)
    with pytest.raises(ParentHashMismatch):
        merge_update_path(tree, 2, attrs.evolve(path, leaf_node=leaf), group_id=GROUP_ID)
    swapped = list(path.nodes)
    swapped[-1] = attrs.evolve(swapped[-1], encryption_key=member(40).leaf.encryption_key)
    with pytest.raises(ParentHashMismatch):
        merge_update_path(tree, 2, attrs.evolve(path, nodes=tuple(swapped)), group_id=GROUP_ID)


def test_wrong_lengths_are_rejected(committed):
    group, tree, context, created = committed
    path = created.update_path
    with pytest.raises(PathLengthMismatch):
        merge_update_path(tree, 2, attrs.evolve(path, nodes=path.nodes[:-1]), group_id=GROUP_ID)
    fewer = list(path.nodes)
    fewer[0] = attrs.evolve(fewer[0], encrypted_path_secret=())
    with pytest.raises(PathLengthMismatch):
        merge_update_path(tree, 2, attrs.evolve(path, nodes=tuple(fewer)), group_id=GROUP_ID)


def test_reused_keys_are_rejected(committed):
    group, tree, context, created = committed
    path = created.update_path
    old = tree.leaf(2)
    same_leaf = _resign(group, attrs.evolve(path.leaf_node, encryption_key=old.encryption_key), 2)
    with pytest.raises(UpdatePathError):
        merge_update_path(tree, 2, attrs.evolve(path, leaf_node=same_leaf), group_id=GROUP_ID)
    reused = list(path.nodes)
    reused[0] = attrs.evolve(reused[0], encryption_key=tree.leaf(5).encryption_key)
    with pytest.raises(DuplicateKeyError):
        merge_update_path(tree, 2, attrs.evolve(path, nodes=tuple(reused)), group_id=GROUP_ID)


def test_tampered_ciphertexts_fail_to_decrypt(committed):
    group, tree, context, created = committed
    path = created.update_path
    nodes = [attrs.evolve(n, encrypted_path_secret=tuple(
        HPKECiphertext(c.kem_output, bytes(len(c.ciphertext))) for c in n.encrypted_path_secret)) for n in path.nodes]
    bad = attrs.evolve(path, nodes=tuple(nodes))
    for leaf in (0, 3, 6):
        with pytest.raises(PathDecryptionError):
            process_update_path(tree, 2, bad, group.private[leaf], group_context=context)
    with pytest.raises(PathDecryptionError):  # another epoch's context
        process_update_path(tree, 2, path, group.private[5], group_context=attrs.evolve(context, epoch=8))
    assert issubclass(PathDecryptionError, ProtocolError)


def test_a_path_secret_that_does_not_match_the_keys_is_rejected(committed):
    group, tree, context, created = committed
    path = created.update_path
    suite = tree.suite
    filtered = tree.filtered_path(2)
    position = next(i for i, (_, s) in enumerate(filtered) if abs(12 - s) < (1 << ((s ^ (s + 1)).bit_length() - 1)))
    _, sibling = filtered[position]
    provisional = created.group_context.encode()
    ciphertexts = []
    for target in tree.resolution(sibling):
        kem_output, ct = suite.encrypt_with_label(
            tree.nodes[target].encryption_key, "UpdatePathNode", provisional, b"\x07" * 32, seed(8, target)
        )
        ciphertexts.append(HPKECiphertext(kem_output, ct))
    nodes = list(path.nodes)
    nodes[position] = attrs.evolve(nodes[position], encrypted_path_secret=tuple(ciphertexts))
    with pytest.raises(PathKeyMismatch):
        process_update_path(tree, 2, attrs.evolve(path, nodes=tuple(nodes)), group.private[6], group_context=context)


def test_misuse_is_a_usage_error(committed):
    group, tree, context, created = committed
    with pytest.raises(TreeUsageError):
        process_update_path(tree, 2, created.update_path, group.private[2], group_context=context)
    with pytest.raises(TreeUsageError):
        TreeKemPrivate(0, b"\x01" * 32).verify_against(tree)


def test_joiner_rejects_a_wrong_path_secret(committed):
    group, tree, context, created = committed
    with pytest.raises(PathKeyMismatch):
        TreeKemPrivate.for_joiner(created.tree, 5, group.private[5].leaf_key, 2, b"\x00" * 32)


def test_update_path_round_trips_through_its_encoding(committed):
    _, _, _, created = committed
    assert UpdatePath.decode(created.update_path.encode()) == created.update_path


@pytest.mark.parametrize("suite_id", [2, 4, 5, 7])
def test_other_cipher_suites(suite_id):
    group = Group(5, suite_id)
    group.commit(3)
    group.commit(0)
    group.check_invariants()


actions = st.lists(
    st.tuples(st.sampled_from(["add", "remove", "commit", "add+commit"]), st.integers(0, 1000)),
    min_size=1,
    max_size=8,
)


@given(actions)
@settings(max_examples=15, deadline=None)
def test_random_histories_keep_every_member_in_sync(steps):
    group = Group(3)
    for action, k in steps:
        members = sorted(group.private)
        if action == "add":
            group.add()
        elif action == "remove" and len(members) > 1:
            group.remove(members[k % len(members)])
        elif action == "commit":
            group.commit(members[k % len(members)])
        elif action == "add+commit":
            joiner = group.add()
            group.commit(members[k % len(members)], joiners=(joiner,))
        group.check_invariants()


def test_an_external_joiner_commits_from_a_reserved_slot():
    group = Group(4)
    group.commit(1)
    tree, slot = group.tree.reserve_leaf()
    assert slot == 4 and tree.n_leaves == 8 and tree.leaf(slot) is None
    joiner = member(50)
    context = context_for(tree)
    created = create_update_path(
        tree, slot, seed(10), signature_private_key=joiner.signature_key, group_context=context,
        leaf_node=joiner.leaf,
    )
    assert created.tree.leaf(slot).signature_key == joiner.leaf.signature_key
    for leaf, state in group.private.items():
        result = process_update_path(tree, slot, created.update_path, state, group_context=context)
        assert result.commit_secret == created.commit_secret and result.tree == created.tree
    validate_tree(created.tree, group_id=GROUP_ID)
    same, index = created.tree.remove_leaf(2).reserve_leaf()
    assert index == 2 and same.n_leaves == 8


def test_invalid_public_keys_are_rejected(committed):
    group, tree, context, created = committed
    path = created.update_path
    nodes = list(path.nodes)
    nodes[0] = attrs.evolve(nodes[0], encryption_key=b"\x01" * 31)
    with pytest.raises(UpdatePathError):
        merge_update_path(tree, 2, attrs.evolve(path, nodes=tuple(nodes)), group_id=GROUP_ID)


def test_garbage_signature_keys_are_a_leaf_validation_error(committed):
    group, tree, context, created = committed
    path = created.update_path
    leaf = attrs.evolve(path.leaf_node, signature_key=b"\x00\x01")
    with pytest.raises(LeafNodeValidationError):
        merge_update_path(tree, 2, attrs.evolve(path, leaf_node=leaf), group_id=GROUP_ID)


@pytest.fixture(scope="module")
def path_bytes(committed):
    return committed[3].update_path.encode()


@given(st.data())
@settings(max_examples=60, deadline=None)
def test_mutated_update_paths_fail_only_with_protocol_errors(committed, path_bytes, data):
    # A flip in a ciphertext meant for someone else goes unnoticed; anything else must be caught.
    group, tree, context, created = committed
    mutated = bytearray(path_bytes)
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.integers(0, len(mutated) - 1))
        mutated[where] ^= data.draw(st.integers(1, 0xFF))
    try:
        path = UpdatePath.decode(bytes(mutated))
    except DecodeError:
        return
    try:
        result = process_update_path(tree, 2, path, group.private[5], group_context=context)
    except ProtocolError:
        return
    assert result.commit_secret == created.commit_secret
    assert path.leaf_node == created.update_path.leaf_node
