"""Creating commits (RFC 9420 12.4.1): by value and by reference, path rules, determinism,
wire formats, staging and merging."""

import pytest

from mlsgroup.domain.mls.enums import WireFormat
from mlsgroup.domain.mls.extensions import Extension
from mlsgroup.domain.mls.group import (
    GroupUsageError,
    InvalidCommitRequest,
    PskNotFound,
    StaleStagedCommit,
    commit,
    export_secret,
    merge_commit,
    process_message,
    propose_add,
    propose_remove,
    propose_update,
)
from mlsgroup.domain.mls.group.outputs import ProposalReceived
from mlsgroup.domain.mls.messages import MLSMessage
from mlsgroup.domain.mls.commits import ProposalRef

from .builders import deliver, group, key_package, seed


@pytest.fixture(scope="module")
def members():
    return group([b"alice", b"bob", b"carol"])


def test_staging_does_not_advance_the_epoch(members):
    alice = members[0]
    staged = commit(alice, seed=seed(1))
    assert alice.epoch == 1 and staged.new_state.epoch == 2 and staged.from_epoch == 1
    assert merge_commit(alice, staged).epoch == 2


def test_empty_commit_is_a_self_update_with_path(members):
    staged = commit(members[0], seed=seed(1))
    assert staged.effect.path_included and staged.welcome is None
    assert staged.effect.updated[0].leaf_index == 0
    assert staged.new_state.own_leaf().encryption_key != members[0].own_leaf().encryption_key


def test_commits_are_deterministic_per_seed(members):
    alice = members[0]
    erin = key_package(b"erin", 40)
    one = commit(alice, adds=[erin.key_package], removes=[2], seed=seed(2))
    two = commit(alice, adds=[erin.key_package], removes=[2], seed=seed(2))
    assert one.message == two.message and one.welcome == two.welcome
    assert one.new_state == two.new_state
    assert commit(alice, adds=[erin.key_package], seed=seed(3)).message != one.message


def test_wire_formats(members):
    alice = members[0]
    public = commit(alice, seed=seed(4), handshake_wire_format="public")
    private = commit(alice, seed=seed(4))
    assert MLSMessage.decode(public.message).wire_format == WireFormat.PUBLIC_MESSAGE
    assert MLSMessage.decode(private.message).wire_format == WireFormat.PRIVATE_MESSAGE
    with pytest.raises(GroupUsageError):
        commit(alice, seed=seed(4), handshake_wire_format="carrier pigeon")


def test_path_rules(members):
    alice = members[0]
    erin = key_package(b"erin", 41).key_package
    assert not commit(alice, adds=[erin], seed=seed(5)).effect.path_included
    assert commit(alice, adds=[erin], update_path=True, seed=seed(5)).effect.path_included
    with pytest.raises(InvalidCommitRequest):
        commit(alice, removes=[1], update_path=False, seed=seed(5))
    with pytest.raises(InvalidCommitRequest):
        commit(alice, update_path=False, seed=seed(5))


def test_bad_requests(members):
    alice = members[0]
    with pytest.raises(InvalidCommitRequest):
        commit(alice, removes=[0], seed=seed(6))
    with pytest.raises(InvalidCommitRequest):
        commit(alice, removes=[7], seed=seed(6))
    with pytest.raises(InvalidCommitRequest):
        commit(alice, removes=[1, 1], seed=seed(6))
    with pytest.raises(TypeError):
        commit(alice, adds=["nope"], seed=seed(6))


def test_adds_removes_and_extensions_reach_everyone(members):
    alice, bob, carol = members
    erin = key_package(b"erin", 42)
    staged = commit(
        alice, adds=[erin.message()], removes=[2], group_context_extensions=[Extension(1, b"\x03app")],
        seed=seed(7), handshake_wire_format="public",
    )
    effect = staged.effect
    assert [a.credential.identity for a in effect.added] == [b"erin"]
    assert [m.credential.identity for m in effect.removed] == [b"carol"]
    assert effect.extensions_changed and effect.extensions_after == (Extension(1, b"\x03app"),)
    assert effect.added[0].key_package_ref == erin.ref
    alice2, bob2 = deliver(staged, alice, [bob])
    from mlsgroup.domain.mls.group import join_group

    erin2 = join_group(staged.welcome, erin)
    assert {s.epoch_authenticator for s in (alice2, bob2, erin2)} == {alice2.epoch_authenticator}
    assert erin2.extensions == alice2.extensions == (Extension(1, b"\x03app"),)
    assert erin2.own_leaf_index == 2


def test_commit_by_reference_covers_pending_proposals(members):
    alice, bob, carol = members
    bob, update = propose_update(bob, seed=seed(8))
    carol, removal = propose_remove(carol, 0, seed=seed(9))  # someone proposes removing alice
    erin = key_package(b"erin", 43)
    bob, add = propose_add(bob, erin.message(), seed=seed(10))
    for message in (update, removal, add):
        processed = process_message(alice, message)
        assert isinstance(processed.output, ProposalReceived)
        alice = processed.new_state
    bob = process_message(bob, removal).new_state
    carol = process_message(process_message(carol, update).new_state, add).new_state
    assert len(bob.pending) == len(carol.pending) == 3
    staged = commit(alice, seed=seed(11))
    proposals = MLSMessage.decode(commit(alice, seed=seed(11), handshake_wire_format="public").message)
    refs = [p for p in proposals.body.content.content.proposals if isinstance(p, ProposalRef)]
    assert len(refs) == 2  # bob's update and add; the removal of the committer is left out
    assert [u.leaf_index for u in staged.effect.updated] == [1, 0]
    bob2 = merge_commit(bob, process_message(bob, staged.message).output)
    carol2 = merge_commit(carol, process_message(carol, staged.message).output)
    alice2 = merge_commit(alice, staged)
    assert alice2.epoch_authenticator == bob2.epoch_authenticator == carol2.epoch_authenticator
    assert alice2.pending == () and len(alice2.members()) == 4
    assert export_secret(bob2, b"l", b"", 8) == export_secret(alice2, b"l", b"", 8)
    by_carol = commit(carol, seed=seed(12))  # carol may commit alice's removal
    assert [m.leaf_index for m in by_carol.effect.removed] == [0] and len(by_carol.effect.proposals) == 3
    assert commit(alice, include_pending=False, seed=seed(11)).effect.proposals == ()


def test_external_psk(members):
    alice, bob, _ = members
    store = {b"psk-1": b"\x07" * 32}
    with pytest.raises(PskNotFound):
        commit(alice, psks=[b"psk-1"], seed=seed(13))
    staged = commit(alice, psks=[b"psk-1"], psk_store=store, seed=seed(13))
    with pytest.raises(PskNotFound):
        process_message(bob, staged.message)
    bob2 = merge_commit(bob, process_message(bob, staged.message, psk_store=store).output)
    assert bob2.epoch_authenticator == staged.new_state.epoch_authenticator
    assert not staged.effect.path_included and len(staged.effect.psks) == 1


def test_merging_a_stale_commit_is_refused(members):
    alice, bob, _ = members
    staged = commit(alice, seed=seed(14))
    with pytest.raises(StaleStagedCommit):
        merge_commit(merge_commit(alice, staged), staged)
    other = group([b"x"], base=3000, group_id=b"X" * 16)[0]
    with pytest.raises(StaleStagedCommit):
        merge_commit(other, staged)


def test_conflicting_pending_proposals_are_left_out(members):
    alice, bob, carol = members
    erin = key_package(b"erin", 44)
    bob, first_add = propose_add(bob, erin.key_package, seed=seed(15))
    bob, second_add = propose_add(bob, erin.key_package, seed=seed(16), authenticated_data=b"again")
    bob, update = propose_update(bob, seed=seed(17))
    carol, removal = propose_remove(carol, 1, seed=seed(18))
    carol, again = propose_remove(carol, 1, seed=seed(19), authenticated_data=b"again")
    bob_kp = key_package(b"bob", 1010).key_package  # bob's own KeyPackage: bob is a member
    carol, bob_add = propose_add(carol, key_package(b"bob2", 1010).key_package, seed=seed(20))
    for message in (first_add, second_add, update, removal, again, bob_add):
        alice = process_message(alice, message).new_state
    assert len(alice.pending) == 6 and bob_kp.leaf_node == alice.tree.leaf(1)
    staged = commit(alice, seed=seed(21))
    kinds = [type(p).__name__ for p in staged.effect.proposals]
    # one Add of erin, bob's Update dropped for his Remove, one Remove; bob2 shares bob's key
    # (same seed) but bob is removed, so that Add stays
    assert kinds.count("Add") == 2 and kinds.count("Remove") == 1 and "Update" not in kinds
