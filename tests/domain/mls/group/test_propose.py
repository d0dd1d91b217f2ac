"""Sending proposals by reference (RFC 9420 12.1)."""

import pytest

from mlsgroup.domain.mls.extensions import Extension
from mlsgroup.domain.mls.group import (
    InvalidCommitRequest,
    KeyPackageValidationError,
    commit,
    merge_commit,
    process_message,
    propose_add,
    propose_group_context_extensions,
    propose_psk,
    propose_remove,
    propose_update,
)
from mlsgroup.domain.mls.proposals import GroupContextExtensions, Update

from .builders import group, key_package, seed


@pytest.fixture(scope="module")
def members():
    return group([b"alice", b"bob"])


def test_each_proposal_is_pending_by_reference(members):
    alice, bob = members
    erin = key_package(b"erin", 1)
    alice, _ = propose_add(alice, erin.key_package, seed=seed(2))
    alice, _ = propose_remove(alice, 1, seed=seed(3))
    alice, _ = propose_psk(alice, b"psk", seed=seed(4))
    alice, _ = propose_group_context_extensions(alice, [Extension(1, b"\x01a")], seed=seed(5))
    alice, _ = propose_update(alice, seed=seed(6))
    kinds = [type(p.proposal).__name__ for p in alice.pending]
    assert kinds == ["Add", "Remove", "PreSharedKey", "GroupContextExtensions", "Update"]
    assert len({p.ref for p in alice.pending}) == 5
    assert alice.pending[-1].encryption_private is not None
    assert "***" in repr(alice.pending[-1])


def test_own_update_committed_by_another_member(members):
    alice, bob = members
    alice2, message = propose_update(alice, seed=seed(7), wire_format="public")
    bob2 = process_message(bob, message).new_state
    staged = commit(bob2, seed=seed(8))
    alice3 = merge_commit(alice2, process_message(alice2, staged.message).output)
    bob3 = merge_commit(bob2, staged)
    assert alice3.epoch_authenticator == bob3.epoch_authenticator
    new_leaf = alice2.pending[0].proposal.leaf_node
    assert alice3.own_leaf() == new_leaf
    # our new leaf key works: bob's next commit with a path reaches us
    staged = commit(bob3, seed=seed(9))
    alice4 = merge_commit(alice3, process_message(alice3, staged.message).output)
    assert alice4.epoch_authenticator == staged.new_state.epoch_authenticator


def test_committer_skips_its_own_update(members):
    alice, _ = members
    alice2, _ = propose_update(alice, seed=seed(10))
    staged = commit(alice2, seed=seed(11))
    assert not any(isinstance(p, Update) for p in staged.effect.proposals)


def test_bad_proposals_are_refused(members):
    alice, _ = members
    with pytest.raises(InvalidCommitRequest):
        propose_remove(alice, 5, seed=seed(12))
    erin = key_package(b"erin", 13, suite=2)
    with pytest.raises(KeyPackageValidationError):
        propose_add(alice, erin.message(), seed=seed(14))


def test_pending_extensions_are_committed(members):
    alice, bob = members
    bob2, message = propose_group_context_extensions(bob, [Extension(1, b"\x01a")], seed=seed(15))
    alice2 = process_message(alice, message).new_state
    staged = commit(alice2, seed=seed(16))
    assert isinstance(staged.effect.proposals[0], GroupContextExtensions)
    assert staged.new_state.extensions == (Extension(1, b"\x01a"),)
