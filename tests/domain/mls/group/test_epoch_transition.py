"""Epoch transitions and merging: archives of past epochs and resumption PSKs (RFC 9420 8, 12.4)."""

import pytest

from mlsgroup.domain.mls.group import MAX_PAST_EPOCHS, commit, merge_commit, process_message
from mlsgroup.domain.mls.group.state import MAX_RESUMPTION_PSKS
from mlsgroup.domain.mls.proposals import PreSharedKeyID, ResumptionPsk

from .builders import deliver, group, seed


def test_archives_are_bounded():
    states = group([b"alice", b"bob"])
    for round_ in range(MAX_RESUMPTION_PSKS + 2):
        states = deliver(commit(states[0], seed=seed(round_)), states[0], states[1:])
    alice = states[0]
    assert [p.epoch for p in alice.past_epochs] == [alice.epoch - 1 - i for i in range(MAX_PAST_EPOCHS)]
    assert [e for e, _ in alice.resumption_psks] == [alice.epoch - 1 - i for i in range(MAX_RESUMPTION_PSKS)]
    assert set(alice.resumption_psk_map()) == {alice.epoch, *(e for e, _ in alice.resumption_psks)}


@pytest.mark.parametrize("back", [0, 2])
def test_resumption_psk_of_a_recent_epoch(back):
    states = group([b"alice", b"bob"])
    for round_ in range(3):
        states = deliver(commit(states[0], seed=seed(10 + round_)), states[0], states[1:])
    alice, bob = states
    psk = PreSharedKeyID(ResumptionPsk(1, alice.group_id, alice.epoch - back), b"\x09" * 32)
    staged = commit(alice, psks=[psk], seed=seed(20))
    bob2 = merge_commit(bob, process_message(bob, staged.message).output)
    assert bob2.epoch_authenticator == merge_commit(alice, staged).epoch_authenticator
