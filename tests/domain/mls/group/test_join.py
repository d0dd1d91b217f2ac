"""Joining from a Welcome (RFC 9420 12.4.3.1): tree in the extension or supplied, and the checks."""

import attrs
import pytest

from mlsgroup.domain.mls.cipher_suite import SUPPORTED_SUITES
from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.mls.group import (
    InvalidWelcome,
    MissingRatchetTree,
    UnexpectedMessage,
    WelcomeNotForUs,
    commit,
    create_group,
    join_group,
    merge_commit,
    propose_psk,
)
from mlsgroup.domain.mls.group.key_package_bundles import sign_leaf_node
from mlsgroup.domain.mls.messages import MLSMessage
from mlsgroup.domain.mls.ratchet_tree import RatchetTree
from mlsgroup.domain.mls.tree_errors import TreeHashMismatch

from .builders import GROUP_ID, key_package, seed


@pytest.fixture(scope="module")
def invitation():
    alice = create_group(1, GROUP_ID, key_package(b"alice", 1), seed=seed(2))
    bob = key_package(b"bob", 3)
    staged = commit(alice, adds=[bob.key_package], update_path=True, seed=seed(4))
    return alice, bob, staged


@pytest.mark.parametrize("suite", SUPPORTED_SUITES)
def test_join_in_every_suite(suite):
    alice = create_group(suite, GROUP_ID, key_package(b"alice", 1, suite), seed=seed(2))
    bob, carol = key_package(b"bob", 3, suite), key_package(b"carol", 4, suite)
    staged = commit(alice, adds=[bob.key_package, carol.key_package], update_path=True, seed=seed(5))
    joined = [join_group(staged.welcome, b) for b in (bob, carol)]
    assert {j.epoch_authenticator for j in joined} == {staged.new_state.epoch_authenticator}
    assert [j.own_leaf_index for j in joined] == [1, 2]
    # the path secret gave the joiners the key of the root the committer set
    assert all(j.private.node_keys for j in joined)


def test_join_with_a_supplied_tree(invitation):
    alice, bob, _ = invitation
    staged = commit(alice, adds=[bob.key_package], ratchet_tree_in_welcome=False, seed=seed(6))
    with pytest.raises(MissingRatchetTree):
        join_group(staged.welcome, bob)
    for tree in (staged.ratchet_tree, staged.new_state.tree):
        joined = join_group(staged.welcome, bob, ratchet_tree=tree)
        assert joined.epoch_authenticator == staged.new_state.epoch_authenticator


def test_join_with_a_wrong_tree(invitation):
    alice, bob, staged = invitation
    other = commit(alice, adds=[bob.key_package], seed=seed(7)).new_state.tree
    with pytest.raises(TreeHashMismatch):
        join_group(staged.welcome, bob, ratchet_tree=other)
    with pytest.raises(InvalidWelcome):
        join_group(staged.welcome, bob, ratchet_tree=RatchetTree(2, other.nodes))


def test_welcome_for_someone_else(invitation):
    _, _, staged = invitation
    with pytest.raises(WelcomeNotForUs):
        join_group(staged.welcome, key_package(b"mallory", 9))
    with pytest.raises(WelcomeNotForUs):
        join_group(staged.welcome, key_package(b"bob", 3, suite=3))


def test_not_a_welcome(invitation):
    _, bob, staged = invitation
    with pytest.raises(UnexpectedMessage):
        join_group(staged.message, bob)
    with pytest.raises(DecodeError):
        join_group(b"\x00\x01\x00", bob)


def test_join_is_deterministic_and_state_round_trips(invitation):
    _, bob, staged = invitation
    first = join_group(staged.welcome, bob)
    assert first == join_group(staged.welcome, bob)
    assert type(first).decode(first.encode()) == first


def test_joiner_bundle_with_changed_leaf_is_not_found(invitation):
    _, bob, staged = invitation
    leaf = sign_leaf_node(1, bob.signature_private, attrs.evolve(bob.leaf_node, extensions=()))
    changed = attrs.evolve(bob, key_package=attrs.evolve(bob.key_package, leaf_node=attrs.evolve(leaf, signature=b"x")))
    with pytest.raises(WelcomeNotForUs):
        join_group(staged.welcome, changed)


def test_welcome_with_external_psk(invitation):
    alice, bob, _ = invitation
    store = {b"ext": b"\x05" * 32}
    alice, _ = propose_psk(alice, b"ext", seed=seed(8))
    staged = commit(alice, adds=[bob.key_package], psk_store=store, seed=seed(9))
    assert len(staged.effect.psks) == 1
    joined = join_group(staged.welcome, bob, psk_store=store)
    assert joined.epoch_authenticator == merge_commit(alice, staged).epoch_authenticator
    with pytest.raises(Exception) as raised:
        join_group(staged.welcome, bob)
    assert type(raised.value).__name__ == "PskNotFound"


def test_tampered_welcome_fails_cleanly(invitation):
    _, bob, staged = invitation
    welcome = MLSMessage.decode(staged.welcome).body
    body = attrs.evolve(welcome, encrypted_group_info=welcome.encrypted_group_info[:-1] + b"\x00")
    with pytest.raises(InvalidWelcome):
        join_group(MLSMessage.wrap(body).encode(), bob)


def test_exported_group_info_verifies(invitation):
    from mlsgroup.domain.mls.group import export_group_info
    from mlsgroup.domain.mls.group.join import verify_group_info_signature
    from mlsgroup.domain.mls.key_schedule import verify_confirmation_tag

    alice = invitation[0]
    group_info = MLSMessage.decode(export_group_info(alice)).body
    verify_group_info_signature(alice.suite, group_info, alice.own_leaf().signature_key)
    verify_confirmation_tag(
        alice.suite, alice.epoch_secrets.confirmation_key, group_info.group_context.confirmed_transcript_hash,
        group_info.confirmation_tag,
    )
    assert RatchetTree.decode(1, group_info.extensions[0].extension_data) == alice.tree
    assert MLSMessage.decode(export_group_info(alice, with_ratchet_tree=False)).body.extensions == ()
