"""Secret tree and sender ratchets (RFC 9420 section 9) against secret-tree.json, plus unit and model tests.

secret-tree.json: per entry a cipher suite, a ``sender_data`` block (``sender_data_secret``, a
``ciphertext`` and the expected sender-data ``key`` and ``nonce`` derived from its first KDF.Nh
bytes), an ``encryption_secret`` and ``leaves``: for each leaf index a list of generations with the
expected handshake and application key and nonce. The checker builds a tree with as many leaves as
the list has entries, asks each leaf's two ratchets for every listed generation (skipping ahead,
so out-of-order storage is exercised) and compares all four values, and the sender-data pair.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsgroup.domain.mls import tree_math
from mlsgroup.domain.mls.cipher_suite import cipher_suite
from mlsgroup.domain.mls.errors import DecodeError, LibraryError, SecretTreeError
from mlsgroup.domain.mls.secret_tree import (
    MAX_FORWARD,
    RatchetType,
    SecretTree,
    SecretTreeDraft,
    apply_reuse_guard,
    sender_data_key_nonce,
)
from mlsgroup.infrastructure.conformance import secret_tree as conformance
from tests.vectors import load_vectors, suite_ids

VECTORS = load_vectors(conformance.FILE)
SUITE = cipher_suite(1)
ROOT = bytes(range(32))
HS, APP = RatchetType.HANDSHAKE, RatchetType.APPLICATION


@pytest.mark.parametrize("entry", VECTORS, ids=suite_ids(VECTORS))
def test_vector(entry):
    conformance.check(entry)


def reference_key_nonce(suite, encryption_secret, n_leaves, leaf, kind, generation):
    """Derive a key from scratch, straight from the RFC's pictures, with no state kept."""
    node, secret = tree_math.root(n_leaves), encryption_secret
    target = 2 * leaf
    while node != target:
        if target < node:
            node, secret = tree_math.left(node), suite.expand_with_label(secret, b"tree", b"left", suite.hash_len)
        else:
            node, secret = tree_math.right(node), suite.expand_with_label(secret, b"tree", b"right", suite.hash_len)
    label = b"handshake" if kind == HS else b"application"
    secret = suite.expand_with_label(secret, label, b"", suite.hash_len)
    for g in range(generation):
        secret = suite.derive_tree_secret(secret, b"secret", g, suite.hash_len)
    return (
        suite.derive_tree_secret(secret, b"key", generation, suite.aead_key_len),
        suite.derive_tree_secret(secret, b"nonce", generation, suite.aead_nonce_len),
    )


def test_sending_walks_generations_in_order():
    tree = SecretTree.create(SUITE, ROOT, 4)
    for expected_generation in range(3):
        assert tree.next_generation(2, APP) == expected_generation
        generation, key, nonce, tree = tree.next_key_nonce(2, APP)
        assert generation == expected_generation
        assert (key, nonce) == reference_key_nonce(SUITE, ROOT, 4, 2, APP, generation)
    assert tree.next_generation(2, HS) == 0
    with pytest.raises(SecretTreeError):
        tree.key_nonce(2, APP, 1)


def test_out_of_order_generations_within_the_window():
    tree = SecretTree.create(SUITE, ROOT, 8)
    for generation in (5, 2, 3, 9, 0, 4, 1, 6, 8, 7):
        key, nonce, tree = tree.key_nonce(3, APP, generation)
        assert (key, nonce) == reference_key_nonce(SUITE, ROOT, 8, 3, APP, generation)
    assert tree.next_generation(3, APP) == 10


def test_a_consumed_generation_is_gone():
    tree = SecretTree.create(SUITE, ROOT, 2)
    _, _, tree = tree.key_nonce(1, HS, 4)
    with pytest.raises(SecretTreeError):
        tree.key_nonce(1, HS, 4)
    _, _, tree = tree.key_nonce(1, HS, 2)
    with pytest.raises(SecretTreeError):
        tree.key_nonce(1, HS, 2)


def test_beyond_the_forward_window_raises():
    tree = SecretTree.create(SUITE, ROOT, 2)
    with pytest.raises(SecretTreeError):
        tree.key_nonce(0, APP, MAX_FORWARD + 1)
    key, nonce, tree = tree.key_nonce(0, APP, MAX_FORWARD)
    assert (key, nonce) == reference_key_nonce(SUITE, ROOT, 2, 0, APP, MAX_FORWARD)
    # The window moves with the ratchet.
    _, _, tree = tree.key_nonce(0, APP, 2 * MAX_FORWARD + 1)
    with pytest.raises(SecretTreeError):
        tree.key_nonce(0, APP, 3 * MAX_FORWARD + 3)


def test_skipped_keys_beyond_the_retention_bound_expire():
    tree = SecretTree.create(SUITE, ROOT, 2, max_forward=50, max_skipped=3)
    _, _, tree = tree.key_nonce(0, APP, 10)
    for expired in range(7):
        with pytest.raises(SecretTreeError):
            tree.key_nonce(0, APP, expired)
    for kept in (7, 8, 9):
        key, nonce, _ = tree.key_nonce(0, APP, kept)
        assert (key, nonce) == reference_key_nonce(SUITE, ROOT, 2, 0, APP, kept)
    # A later jump (skipping 11) evicts the oldest kept key first.
    _, _, tree = tree.key_nonce(0, APP, 12)
    with pytest.raises(SecretTreeError):
        tree.key_nonce(0, APP, 7)
    for kept in (8, 9, 11):
        assert tree.key_nonce(0, APP, kept)[:2] == reference_key_nonce(SUITE, ROOT, 2, 0, APP, kept)


def test_the_tree_is_an_immutable_value():
    tree = SecretTree.create(SUITE, ROOT, 4)
    key, nonce, after = tree.key_nonce(1, HS, 0)
    # The old value still holds the key: a failed decryption just keeps the old tree.
    assert tree.key_nonce(1, HS, 0)[:2] == (key, nonce)
    assert tree.key_nonce(1, HS, 0)[2] == after
    with pytest.raises(SecretTreeError):
        after.key_nonce(1, HS, 0)
    assert tree != after


def test_only_the_path_to_a_used_leaf_is_derived():
    tree = SecretTree.create(SUITE, ROOT, 8)
    _, _, tree = tree.key_nonce(0, APP, 0)
    # The root and the path are consumed; the copath siblings wait for their own leaves.
    assert set(tree.nodes) == set(tree_math.copath(0, 8))
    assert set(tree.ratchets) == {0}
    _, _, tree = tree.key_nonce(3, HS, 0)
    assert set(tree.nodes) == {2, 4, 11}
    assert set(tree.ratchets) == {0, 3}


@pytest.mark.parametrize("leaf", [-1, 4, 100])
def test_leaves_outside_the_tree_raise(leaf):
    tree = SecretTree.create(SUITE, ROOT, 4)
    with pytest.raises(SecretTreeError):
        tree.key_nonce(leaf, APP, 0)
    with pytest.raises(SecretTreeError):
        tree.next_key_nonce(leaf, APP)


def test_bad_construction_raises():
    with pytest.raises(SecretTreeError):
        SecretTree.create(SUITE, ROOT[:16], 4)
    with pytest.raises(ValueError):
        SecretTree.create(SUITE, ROOT, 3)


def test_secrets_never_print():
    tree = SecretTree.create(SUITE, ROOT, 4)
    _, _, tree = tree.key_nonce(1, APP, 3)
    text = repr(tree)
    assert ROOT.hex() not in text and "\\x" not in text


def test_sender_data_uses_at_most_nh_bytes_of_ciphertext():
    secret = b"\x42" * 32
    long_ct = bytes(range(100))
    assert sender_data_key_nonce(SUITE, secret, long_ct) == sender_data_key_nonce(SUITE, secret, long_ct[:32])
    short = sender_data_key_nonce(SUITE, secret, b"abc")
    assert short == (
        SUITE.expand_with_label(secret, b"key", b"abc", 16),
        SUITE.expand_with_label(secret, b"nonce", b"abc", 12),
    )


def test_reuse_guard_xors_the_first_four_bytes():
    nonce = bytes(range(12))
    guarded = apply_reuse_guard(nonce, b"\xff\x00\x0f\xf0")
    assert guarded == bytes([0xFF, 0x01, 0x0D, 0xF3]) + nonce[4:]
    assert apply_reuse_guard(guarded, b"\xff\x00\x0f\xf0") == nonce
    with pytest.raises(ValueError):
        apply_reuse_guard(nonce, b"\x00")


def test_snapshot_round_trip():
    tree = SecretTree.create(SUITE, ROOT, 8, max_forward=40, max_skipped=5)
    _, _, tree = tree.key_nonce(5, APP, 7)
    _, _, tree = tree.key_nonce(5, APP, 3)
    _, _, _, tree = tree.next_key_nonce(2, HS)
    restored = SecretTree.decode(tree.encode())
    assert restored == tree
    assert restored.key_nonce(5, APP, 4)[:2] == tree.key_nonce(5, APP, 4)[:2]


@settings(max_examples=50)
@given(st.binary(max_size=200))
def test_garbage_snapshots_raise_decode_error(data):
    try:
        SecretTree.decode(data)
    except DecodeError:
        pass


def test_truncated_snapshots_raise_decode_error():
    tree = SecretTree.create(SUITE, ROOT, 4)
    _, _, tree = tree.key_nonce(1, APP, 2)
    encoded = tree.encode()
    for cut in range(len(encoded)):
        with pytest.raises(DecodeError):
            SecretTree.decode(encoded[:cut])
    with pytest.raises(DecodeError):
        SecretTree.decode(encoded + b"\x00")


REQUESTS = st.lists(
    st.tuples(st.integers(0, 3), st.sampled_from([HS, APP]), st.integers(0, 14)),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(REQUESTS, st.integers(0, 6), st.integers(0, 4))
def test_matches_a_naive_model(requests, max_forward, max_skipped):
    """Every request succeeds exactly when the model says the key is available, with the right key."""
    tree = SecretTree.create(SUITE, ROOT, 4, max_forward=max_forward, max_skipped=max_skipped)
    heads: dict[tuple[int, int], int] = {}
    kept: dict[tuple[int, int], list[int]] = {}
    for leaf, kind, generation in requests:
        slot = (leaf, kind)
        head = heads.get(slot, 0)
        skipped = kept.setdefault(slot, [])
        available = (head <= generation <= head + max_forward) or generation in skipped
        if not available:
            with pytest.raises(SecretTreeError):
                tree.key_nonce(leaf, kind, generation)
            continue
        key, nonce, tree = tree.key_nonce(leaf, kind, generation)
        assert (key, nonce) == reference_key_nonce(SUITE, ROOT, 4, leaf, kind, generation)
        if generation < head:
            skipped.remove(generation)
        else:
            skipped.extend(range(head, generation))
            del skipped[: max(0, len(skipped) - max_skipped)]
            heads[slot] = generation + 1


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from([HS, APP]), st.integers(-1, 14), st.booleans()), max_size=25),
       st.integers(0, 6), st.integers(0, 4))
def test_a_draft_gives_what_key_nonce_gives(requests, max_forward, max_skipped):
    """A draft hands out the keys and errors ``key_nonce`` does; only kept keys are consumed, and its
    tree equals the one the same kept ``key_nonce`` calls leave (encoding included)."""
    start = SecretTree.create(SUITE, ROOT, 4, max_forward=max_forward, max_skipped=max_skipped)
    tree, draft = start, SecretTreeDraft(start)
    for leaf, kind, generation, keep in requests:
        try:
            expected = tree.key_nonce(leaf, kind, generation)
        except SecretTreeError:
            with pytest.raises(SecretTreeError):
                draft.take(leaf, kind, generation)
            continue
        assert draft.take(leaf, kind, generation) == expected[:2]
        if keep:
            draft.keep()
            tree = expected[2]
    assert draft.tree() == tree and draft.tree().encode() == tree.encode()
    assert start == SecretTree.create(SUITE, ROOT, 4, max_forward=max_forward, max_skipped=max_skipped)


def test_a_draft_keeps_only_what_it_took():
    draft = SecretTreeDraft(SecretTree.create(SUITE, ROOT, 4))
    with pytest.raises(LibraryError):
        draft.keep()
    draft.take(2, APP, 0)
    draft.keep()
    with pytest.raises(SecretTreeError):
        draft.take(2, APP, 0)
    with pytest.raises(SecretTreeError):
        draft.take(4, APP, 0)
