"""The CommitEffect values a commit describes itself with."""

from mlsgroup.domain.mls.group import CommitEffect, commit, process_message, propose_update

from .builders import group, key_package, seed


def test_effect_of_a_mixed_commit():
    alice, bob, carol = group([b"alice", b"bob", b"carol"])
    bob2, update = propose_update(bob, seed=seed(1))
    alice = process_message(alice, update).new_state
    carol = process_message(carol, update).new_state
    erin = key_package(b"erin", 2)
    staged = commit(alice, adds=[erin.key_package], removes=[2], seed=seed(3))
    effect = staged.effect
    assert isinstance(effect, CommitEffect)
    assert effect.epoch == alice.epoch + 1 and effect.committer == 0
    assert effect.committer_credential.identity == b"alice"
    assert [(a.leaf_index, a.credential.identity) for a in effect.added] == [(2, b"erin")]
    assert [(m.leaf_index, m.credential.identity) for m in effect.removed] == [(2, b"carol")]
    assert [u.leaf_index for u in effect.updated] == [1, 0]  # bob's Update, then alice's path
    assert not any(u.credential_changed for u in effect.updated)
    assert effect.updated[0].after.encryption_key == bob2.pending[0].proposal.leaf_node.encryption_key
    assert effect.path_included and not effect.extensions_changed and not effect.own_leaf_removed
    assert [type(p).__name__ for p in effect.proposals] == ["Update", "Remove", "Add"]
    assert effect.proposal_senders[0].leaf_index == 1
    received = process_message(carol, staged.message).output.effect
    assert received.own_leaf_removed and received.added == effect.added and received.removed == effect.removed
