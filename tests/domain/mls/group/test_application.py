"""Application messages (RFC 9420 15, 6.3): encryption, decryption, replays, late messages."""

import pytest

from mlsgroup.domain.mls.errors import SecretTreeError
from mlsgroup.domain.mls.group import (
    MAX_PAST_EPOCHS,
    ApplicationMessage,
    EpochNotAvailable,
    InvalidSeed,
    OwnMessageReceived,
    WrongEpoch,
    commit,
    encrypt_application,
    process_message,
)
from mlsgroup.domain.mls.messages import MLSMessage

from .builders import deliver, group, seed


@pytest.fixture(scope="module")
def members():
    return group([b"alice", b"bob", b"carol"])


def test_round_trip(members):
    alice, bob, carol = members
    alice2, message = encrypt_application(alice, b"hello", seed(1), b"meta")
    for reader in (bob, carol):
        output = process_message(reader, message).output
        assert output == ApplicationMessage(0, alice.own_leaf().credential, b"hello", b"meta", alice.epoch, 0)
    assert alice2.secret_tree != alice.secret_tree
    assert isinstance(process_message(alice2, message).output, OwnMessageReceived)


def test_generations_advance_and_replays_fail(members):
    alice, bob, _ = members
    alice, first = encrypt_application(alice, b"1", seed(2))
    alice, second = encrypt_application(alice, b"2", seed(3))
    processed = process_message(bob, second)  # out of order
    assert processed.output.generation == 1
    bob2 = process_message(processed.new_state, first).new_state
    with pytest.raises(SecretTreeError):
        process_message(bob2, first)
    with pytest.raises(SecretTreeError):
        process_message(bob2, second)


def test_padding(members):
    alice, bob, _ = members
    _, plain = encrypt_application(alice, b"x", seed(4))
    _, padded = encrypt_application(alice, b"x", seed(4), padding_block=256)
    assert len(padded) > len(plain)
    assert process_message(bob, padded).output.data == b"x"


def test_deterministic_per_seed(members):
    alice = members[0]
    assert encrypt_application(alice, b"x", seed(5)) == encrypt_application(alice, b"x", seed(5))
    assert encrypt_application(alice, b"x", seed(5))[1] != encrypt_application(alice, b"x", seed(6))[1]
    with pytest.raises(InvalidSeed):
        encrypt_application(alice, b"x", b"short")


def test_late_messages_from_past_epochs(members):
    alice, bob, carol = members
    late = []
    states = [alice, bob, carol]
    for round_ in range(MAX_PAST_EPOCHS + 1):
        sender, message = encrypt_application(states[0], b"late %d" % round_, seed(10 + round_))
        late.append((states[0].epoch, message))
        staged = commit(sender, seed=seed(20 + round_))
        states = deliver(staged, sender, states[1:])
    bob_now = states[1]
    # the newest MAX_PAST_EPOCHS epochs are readable, the oldest no longer
    for epoch, message in late[1:]:
        output = process_message(bob_now, message).output
        assert output.epoch == epoch and output.data.startswith(b"late")
    with pytest.raises(EpochNotAvailable):
        process_message(bob_now, late[0][1])
    # a past epoch's key is consumed too
    after = process_message(bob_now, late[-1][1]).new_state
    with pytest.raises(SecretTreeError):
        process_message(after, late[-1][1])


def test_future_epoch(members):
    alice, bob, _ = members
    staged = commit(alice, seed=seed(30))
    alice2 = deliver(staged, alice, [])[0]
    _, message = encrypt_application(alice2, b"from the future", seed(31))
    with pytest.raises(WrongEpoch):
        process_message(bob, message)
    assert MLSMessage.decode(message).body.epoch == bob.epoch + 1


def test_own_late_message_is_recognised(members):
    alice, bob, _ = members
    alice2, message = encrypt_application(alice, b"mine", seed(40))
    staged = commit(alice2, seed=seed(41))
    alice3 = deliver(staged, alice2, [])[0]
    assert isinstance(process_message(alice3, message).output, OwnMessageReceived)
    # a handshake message of a past epoch is refused as of the wrong epoch
    with pytest.raises(WrongEpoch):
        process_message(alice3, staged.message)
