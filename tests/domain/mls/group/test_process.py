"""Processing messages (RFC 9420 6.2, 6.3.2, 12.1, 12.4.2): every forgery raises its typed error and
leaves the state unchanged; proposals become pending; our own messages are recognised."""

import attrs
import pytest

from mlsgroup.domain.mls.commits import Commit, ProposalRef
from mlsgroup.domain.mls.enums import ExtensionType
from mlsgroup.domain.mls.errors import ConfirmationTagError, DecodeError, MembershipTagError, MlsError, SignatureError
from mlsgroup.domain.mls.extensions import EXTERNAL_SENDERS, Extension, ExternalSender
from mlsgroup.domain.mls.framing import SenderExternal, SenderMember
from mlsgroup.domain.mls.group import (
    DuplicateProposal,
    KeyPackageValidationError,
    NotAMember,
    OwnMessageReceived,
    PathRequired,
    ProposalReceived,
    StagedCommit,
    UnexpectedMessage,
    UnknownProposalRef,
    UnknownSender,
    UnsupportedProposal,
    WrongEpoch,
    WrongGroup,
    commit,
    merge_commit,
    process_message,
    propose_remove,
)
from mlsgroup.domain.mls.group.key_package_bundles import sign_leaf_node
from mlsgroup.domain.mls.messages import MLSMessage
from mlsgroup.domain.mls.proposals import Add, ExternalInit, ReInit, Remove
from mlsgroup.domain.mls.tree_errors import ParentHashMismatch
from mlsgroup.domain.mls.tree_structs import CommitSource

from .builders import deliver, group, key_package, seed
from .forgery import forge_public


@pytest.fixture(scope="module")
def members():
    return group([b"alice", b"bob", b"carol"])


def rejects(state, message, error, **kwargs):
    before = state.encode()
    with pytest.raises(error):
        process_message(state, message, **kwargs)
    assert state.encode() == before


def test_valid_commit_gives_staged_commit_and_unchanged_state(members):
    alice, bob, _ = members
    staged = commit(bob, removes=[2], seed=seed(1))
    processed = process_message(alice, staged.message)
    assert isinstance(processed.output, StagedCommit)
    assert processed.new_state == alice
    assert processed.output.new_state.epoch_authenticator == staged.new_state.epoch_authenticator


def test_bad_signature(members):
    alice, bob, _ = members
    forged = forge_public(bob, Commit((), None), signer=alice.signature_private)
    rejects(alice, forged, SignatureError)


def test_bad_membership_tag(members):
    alice, bob, _ = members
    message = commit(bob, seed=seed(2), handshake_wire_format="public").message
    rejects(alice, message[:-1] + bytes([message[-1] ^ 1]), MembershipTagError)


def test_bad_confirmation_tag(members):
    alice, bob, _ = members
    forged = forge_public(bob, Commit((Remove(2),), None), confirmation_tag=b"\x01" * 32)
    # the remove needs a path: take one from a genuine commit
    genuine = commit(bob, removes=[2], seed=seed(3), handshake_wire_format="public")
    path = MLSMessage.decode(genuine.message).body.content.content.path
    forged = forge_public(bob, Commit((Remove(2),), path), confirmation_tag=b"\x01" * 32)
    rejects(alice, forged, ConfirmationTagError)


def test_wrong_epoch(members):
    alice, bob, carol = members
    staged = commit(bob, seed=seed(4))
    alice2, carol2 = deliver(staged, bob, [alice])[1], None
    rejects(alice2, staged.message, WrongEpoch)  # a commit of the previous epoch
    future = forge_public(bob, Commit((), None), epoch=bob.epoch + 5)
    rejects(alice, future, WrongEpoch)
    assert carol2 is None


def test_wrong_group(members):
    alice, _, _ = members
    stranger = group([b"mallory"], base=5000, group_id=b"M" * 16)[0]
    rejects(alice, commit(stranger, seed=seed(5), handshake_wire_format="public").message, WrongGroup)
    rejects(alice, commit(stranger, seed=seed(5)).message, WrongGroup)


def test_unknown_sender(members):
    alice, bob, _ = members
    rejects(alice, forge_public(bob, Commit((), None), sender=SenderMember(9)), UnknownSender)
    rejects(alice, forge_public(bob, Remove(1), sender=SenderExternal(0)), UnknownSender)


def test_duplicate_proposals(members):
    alice, bob, _ = members
    rejects(alice, forge_public(bob, Commit((Remove(2), Remove(2)), None)), DuplicateProposal)
    bob2, proposal = propose_remove(bob, 2, seed=seed(6), wire_format="public")
    alice2 = process_message(alice, proposal).new_state
    rejects(alice2, proposal, DuplicateProposal)  # a replayed proposal
    ref = alice2.pending[0].ref
    rejects(alice2, forge_public(bob2, Commit((ProposalRef(ref), ProposalRef(ref)), None)), DuplicateProposal)


def test_unknown_proposal_ref(members):
    alice, bob, _ = members
    rejects(alice, forge_public(bob, Commit((ProposalRef(b"\x00" * 32),), None)), UnknownProposalRef)


def test_invalid_key_package(members):
    alice, bob, _ = members
    erin = key_package(b"erin", 7).key_package
    rejects(alice, forge_public(bob, Commit((Add(attrs.evolve(erin, signature=bytes(64))),), None)), KeyPackageValidationError)
    rejects(alice, forge_public(bob, Add(attrs.evolve(erin, cipher_suite=3))), KeyPackageValidationError)


def test_path_required(members):
    alice, bob, _ = members
    rejects(alice, forge_public(bob, Commit((Remove(2),), None)), PathRequired)
    rejects(alice, forge_public(bob, Commit((), None)), PathRequired)


def test_bad_parent_hash(members):
    alice, bob, _ = members
    genuine = commit(bob, seed=seed(8), handshake_wire_format="public")
    path = MLSMessage.decode(genuine.message).body.content.content.path
    leaf = attrs.evolve(path.leaf_node, source=CommitSource(b"\x00" * 32))
    leaf = sign_leaf_node(1, bob.signature_private, leaf, bob.group_id, 1)
    rejects(alice, forge_public(bob, Commit((), attrs.evolve(path, leaf_node=leaf))), ParentHashMismatch)


@pytest.mark.parametrize("proposal", [ReInit(b"g2", 1, 1, ()), ExternalInit(b"kem")])
def test_unsupported_proposals(members, proposal):
    alice, bob, _ = members
    rejects(alice, forge_public(bob, proposal), (UnsupportedProposal, MlsError))
    rejects(alice, forge_public(bob, Commit((proposal,), None)), UnsupportedProposal)


def test_proposals_become_pending(members):
    alice, bob, carol = members
    bob2, message = propose_remove(bob, 2, seed=seed(9))
    processed = process_message(alice, message)
    assert isinstance(processed.output, ProposalReceived)
    assert processed.new_state.pending[0].ref == processed.output.ref == bob2.pending[0].ref
    assert processed.output.sender == SenderMember(1)


def test_own_messages_are_recognised(members):
    alice = members[0]
    for wire_format in ("public", "private"):
        staged = commit(alice, seed=seed(10), handshake_wire_format=wire_format)
        processed = process_message(alice, staged.message)
        assert isinstance(processed.output, OwnMessageReceived)
        # only the ratchet key of our own private message is consumed
        assert attrs.evolve(processed.new_state, secret_tree=alice.secret_tree) == alice
        proposing, message = propose_remove(alice, 1, seed=seed(11), wire_format=wire_format)
        assert isinstance(process_message(proposing, message).output, OwnMessageReceived)


def test_non_group_messages(members):
    alice, _, _ = members
    rejects(alice, key_package(b"x", 12).message(), UnexpectedMessage)
    rejects(alice, b"\x00\x01\x00\x02\xff", DecodeError)
    rejects(alice, b"", DecodeError)


def test_removed_member_processes_no_handshakes(members):
    alice, bob, carol = members
    staged = commit(alice, removes=[2], seed=seed(13))
    carol2 = merge_commit(carol, process_message(carol, staged.message).output)
    late_commit = commit(bob, seed=seed(14), handshake_wire_format="public").message
    rejects(carol2, late_commit, NotAMember)


def test_external_sender_proposal():
    import mlsgroup.domain.mls.group as g

    outsider = key_package(b"service", 20)
    senders = EXTERNAL_SENDERS.encode((ExternalSender(outsider.leaf_node.signature_key, outsider.credential),))
    alice = g.create_group(
        1, b"E" * 16, key_package(b"alice", 21),
        extensions=[Extension(ExtensionType.EXTERNAL_SENDERS, senders)], seed=seed(22),
    )
    bob = key_package(b"bob", 23)
    staged = commit(alice, adds=[bob.key_package], seed=seed(24))
    alice = merge_commit(alice, staged)
    proposal = forge_public(alice, Remove(1), sender=SenderExternal(0), signer=outsider.signature_private)
    processed = process_message(alice, proposal)
    assert processed.output.sender == SenderExternal(0)
    rejects(alice, forge_public(alice, Remove(1), sender=SenderExternal(0), signer=bob.signature_private), SignatureError)
    done = commit(processed.new_state, seed=seed(25))
    assert [m.leaf_index for m in done.effect.removed] == [1]


class RejectRemovals:
    def validate_commit(self, state, effect):
        if effect.removed:
            raise NotAMember("policy: no removals")  # any MlsError will do


class RejectAllProposals:
    def validate_proposal(self, state, proposal, sender):
        raise UnsupportedProposal("policy")


def test_rules_decide(members):
    alice, bob, _ = members
    removal = commit(bob, removes=[2], seed=seed(15)).message
    rejects(alice, removal, NotAMember, rules=RejectRemovals())
    assert isinstance(process_message(alice, commit(bob, seed=seed(16)).message, rules=RejectRemovals()).output, StagedCommit)
    _, proposal = propose_remove(bob, 2, seed=seed(17))
    rejects(alice, proposal, UnsupportedProposal, rules=RejectAllProposals())
    assert isinstance(process_message(alice, proposal, rules=RejectRemovals()).output, ProposalReceived)


def test_rules_also_guard_our_own_commits(members):
    alice = members[0]
    with pytest.raises(NotAMember):
        commit(alice, removes=[1], seed=seed(18), rules=RejectRemovals())
    commit(alice, seed=seed(18), rules=RejectRemovals())
