"""Proposal validation and application (RFC 9420 12.1, 12.2, 12.3), on the list a commit covers."""

import attrs
import pytest

from mlsgroup.domain.mls.enums import ExtensionType
from mlsgroup.domain.mls.extensions import Extension, RequiredCapabilities
from mlsgroup.domain.mls.framing import SenderExternal, SenderMember
from mlsgroup.domain.mls.group import (
    CapabilityNotSupported,
    CommitterRemoval,
    CommitterUpdate,
    DuplicateProposal,
    InvalidLeafNode,
    InvalidProposal,
    InvalidPsk,
    KeyPackageValidationError,
    MemberAlreadyInGroup,
    ProposalTargetsBlankLeaf,
    UnsupportedProposal,
    propose_update,
)
from mlsgroup.domain.mls.group.proposals import ProposalEntry, apply_proposals, check_proposal
from mlsgroup.domain.mls.proposals import (
    Add,
    ExternalInit,
    ExternalPsk,
    GroupContextExtensions,
    PreSharedKey,
    PreSharedKeyID,
    ReInit,
    Remove,
    ResumptionPsk,
    Update,
)
from mlsgroup.domain.mls.tree_errors import LeafNodeValidationError

from .builders import group, key_package, seed

ALICE = SenderMember(0)
BOB = SenderMember(1)


@pytest.fixture(scope="module")
def members():
    return group([b"alice", b"bob", b"carol", b"dave"])


@pytest.fixture(scope="module")
def bob_update(members):
    bob, _ = propose_update(members[1], seed=seed(50))
    return bob.pending[-1].proposal


def apply(state, *entries, committer=0):
    return apply_proposals(state, [ProposalEntry(p, s) for p, s in entries], committer)


def psk(psk_id=b"p", nonce=bytes(32)):
    return PreSharedKey(PreSharedKeyID(ExternalPsk(psk_id), nonce))


def test_order_updates_removes_adds(members, bob_update):
    alice = members[0]
    erin = key_package(b"erin", 60).key_package
    applied = apply(alice, (Add(erin), ALICE), (Remove(2), ALICE), (bob_update, BOB))
    assert applied.removed[0][0] == 2
    assert applied.added[0][0] == 2  # the leftmost blank leaf, freed by the Remove
    assert applied.updated[0][0] == 1
    assert applied.tree.leaf(1) == bob_update.leaf_node
    assert applied.path_required


def test_path_required_rules(members):
    alice = members[0]
    assert apply(alice).path_required
    assert not apply(alice, (Add(key_package(b"erin", 60).key_package), ALICE)).path_required
    assert not apply(alice, (psk(), ALICE)).path_required
    assert apply(alice, (Remove(3), ALICE)).path_required
    assert apply(alice, (GroupContextExtensions(()), ALICE)).path_required


def test_conflicting_update_and_remove(members, bob_update):
    alice = members[0]
    with pytest.raises(DuplicateProposal):
        apply(alice, (Remove(1), ALICE), (Remove(1), ALICE))
    with pytest.raises(DuplicateProposal):
        apply(alice, (bob_update, BOB), (Remove(1), ALICE))


def test_remove_of_blank_or_missing_leaf(members):
    with pytest.raises(ProposalTargetsBlankLeaf):
        apply(members[0], (Remove(9), ALICE))


def test_committer_cannot_remove_or_update_itself(members, bob_update):
    with pytest.raises(CommitterRemoval):
        apply(members[0], (Remove(0), ALICE))
    with pytest.raises(CommitterUpdate):
        apply(members[1], (bob_update, BOB), committer=1)


def test_adds_of_members_or_twice(members):
    alice = members[0]
    erin = key_package(b"erin", 60).key_package
    with pytest.raises(MemberAlreadyInGroup):
        apply(alice, (Add(erin), ALICE), (Add(erin), ALICE))
    bob_again = key_package(b"bob", 1010).key_package  # the KeyPackage bob joined with
    assert bob_again.leaf_node == alice.tree.leaf(1)
    with pytest.raises(MemberAlreadyInGroup):
        apply(alice, (Add(bob_again), ALICE))
    # allowed together with bob's removal
    applied = apply(alice, (Remove(1), ALICE), (Add(bob_again), ALICE))
    assert applied.added[0][0] == 1


def test_add_with_invalid_key_package(members):
    erin = key_package(b"erin", 60).key_package
    with pytest.raises(KeyPackageValidationError):
        apply(members[0], (Add(attrs.evolve(erin, signature=bytes(64))), ALICE))


def test_psk_rules(members):
    alice = members[0]
    with pytest.raises(DuplicateProposal):
        apply(alice, (psk(), ALICE), (psk(), ALICE))
    assert len(apply(alice, (psk(), ALICE), (psk(b"q"), ALICE)).psks) == 2
    with pytest.raises(InvalidPsk):
        apply(alice, (psk(nonce=b"short"), ALICE))
    reinit = PreSharedKey(PreSharedKeyID(ResumptionPsk(2, alice.group_id, 0), bytes(32)))
    with pytest.raises(InvalidPsk):
        apply(alice, (reinit, ALICE))


def test_one_group_context_extensions(members):
    with pytest.raises(DuplicateProposal):
        apply(members[0], (GroupContextExtensions(()), ALICE), (GroupContextExtensions(()), ALICE))


@pytest.mark.parametrize("proposal", [ReInit(b"new", 1, 1, ()), ExternalInit(b"kem")])
def test_reinit_and_external_init_are_rejected(members, proposal):
    with pytest.raises(UnsupportedProposal):
        apply(members[0], (proposal, ALICE))
    with pytest.raises(UnsupportedProposal):
        check_proposal(members[0], proposal, ALICE)


def test_required_capabilities(members):
    alice = members[0]
    required = RequiredCapabilities((0xFF00,), (), ())
    extension = Extension(ExtensionType.REQUIRED_CAPABILITIES, required.encode())
    with pytest.raises(CapabilityNotSupported):
        apply(alice, (GroupContextExtensions((extension,)), ALICE))
    with pytest.raises(CapabilityNotSupported):
        apply(alice, (GroupContextExtensions((Extension(0xFF00, b""),)), ALICE))
    # default extension and proposal types need no listing
    fine = RequiredCapabilities((ExtensionType.APPLICATION_ID,), (7,), (1,))
    gce = GroupContextExtensions((Extension(ExtensionType.REQUIRED_CAPABILITIES, fine.encode()),))
    assert apply(alice, (gce, ALICE)).extensions_changed
    with pytest.raises(InvalidProposal):
        apply(alice, (GroupContextExtensions((Extension(3, b"\xff"),)), ALICE))


def test_update_checks(members, bob_update):
    alice = members[0]
    same_key = attrs.evolve(bob_update.leaf_node, encryption_key=alice.tree.leaf(1).encryption_key)
    with pytest.raises((InvalidLeafNode, LeafNodeValidationError)):
        check_proposal(alice, Update(same_key), BOB)
    with pytest.raises(LeafNodeValidationError):
        check_proposal(alice, Update(attrs.evolve(bob_update.leaf_node, signature=bytes(64))), BOB)
    with pytest.raises(LeafNodeValidationError):
        check_proposal(alice, bob_update, SenderMember(2))  # signed for leaf 1
    with pytest.raises(InvalidProposal):
        check_proposal(alice, bob_update, SenderExternal(0))
    check_proposal(alice, bob_update, BOB)
