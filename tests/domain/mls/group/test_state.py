"""GroupState: accessors, secrets hidden in reprs, and the encode/decode round trip."""

import pytest

from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.mls.group import (
    GroupState,
    InvalidGroupState,
    NotAMember,
    commit,
    encrypt_application,
    export_secret,
    merge_commit,
    process_message,
    propose_update,
)

from .builders import GROUP_ID, deliver, group, seed


@pytest.fixture(scope="module")
def members():
    return group([b"alice", b"bob", b"carol"])


def test_accessors(members):
    alice = members[0]
    assert alice.group_id == GROUP_ID and alice.epoch == 1 and alice.suite_id == 1
    assert alice.own_leaf_index == 0 and alice.is_active
    assert sorted(alice.members()) == [0, 1, 2]
    assert alice.members()[1].credential.identity == b"bob"
    assert alice.member(1) == alice.members()[1] and alice.member(7) is None
    assert alice.extensions == ()
    assert len(alice.epoch_authenticator) == 32


def test_exporter_agrees_and_depends_on_inputs(members):
    values = {export_secret(m, b"label", b"ctx", 20) for m in members}
    assert len(values) == 1 and len(values.pop()) == 20
    assert export_secret(members[0], b"label", b"other", 20) != export_secret(members[0], b"label", b"ctx", 20)


def test_repr_hides_secrets(members):
    alice = members[0]
    text = repr(alice)
    assert alice.signature_private.hex() not in text
    assert alice.epoch_secrets.exporter_secret.hex() not in text
    assert bytes(alice.signature_private) not in text.encode()


def test_round_trip_fresh_and_busy_states(members):
    alice, bob, carol = members
    assert GroupState.decode(alice.encode()) == alice
    # pending proposal, consumed ratchet keys, past epochs, resumption PSKs
    bob, _ = propose_update(bob, seed=seed(5))
    bob, _ = encrypt_application(bob, b"x", seed(6))
    staged = commit(alice, seed=seed(7))
    bob2 = merge_commit(bob, process_message(bob, staged.message).output)
    for state in (bob, bob2):
        decoded = GroupState.decode(state.encode())
        assert decoded == state
        assert decoded.encode() == state.encode()
    assert bob2.past_epochs and bob2.resumption_psks


def test_decode_rejects_garbage(members):
    encoded = members[0].encode()
    for bad in (b"", b"garbage", encoded[:-1], encoded + b"\x00", b"MLSG\x02" + encoded[5:]):
        with pytest.raises(InvalidGroupState):
            GroupState.decode(bad)
    assert issubclass(InvalidGroupState, DecodeError)
    with pytest.raises(InvalidGroupState):
        GroupState.decode("text")  # type: ignore[arg-type]


def test_removed_member_is_inactive(members):
    alice, bob, carol = members
    staged = commit(alice, removes=[2], seed=seed(8))
    carol2 = merge_commit(carol, process_message(carol, staged.message).output)
    assert not carol2.is_active and carol2.epoch == carol.epoch
    with pytest.raises(NotAMember):
        carol2.own_leaf()
    with pytest.raises(NotAMember):
        encrypt_application(carol2, b"x", seed(9))
    alice2, bob2 = deliver(staged, alice, [bob])
    assert alice2.epoch_authenticator == bob2.epoch_authenticator
    assert GroupState.decode(carol2.encode()) == carol2
