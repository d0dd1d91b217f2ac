"""Received application messages kept as their opening fields (domain/mls/group/received.py):
resealing them gives the received bytes and what ``process_message`` gave, consuming their key gives
the state it left, in the current epoch and in kept past ones; the epoch rules are those of
``process_message``. A ``ResealRun`` rebuilds a run of them as one ``reseal_application`` after the
other would."""

import pytest
from mlsgroup.domain.mls.errors import SecretTreeError, SignatureError
from mlsgroup.domain.mls.group import (
    MAX_PAST_EPOCHS,
    ApplicationMessage,
    EpochNotAvailable,
    OwnMessageReceived,
    ResealRun,
    UnknownSender,
    WrongEpoch,
    commit,
    consume_application_key,
    encrypt_application,
    process_message,
    reseal_application,
)

from .builders import deliver, group, seed


@pytest.fixture(scope="module")
def members():
    return group([b"alice", b"bob", b"carol"])


def _fields(output: ApplicationMessage, **changes) -> dict:
    fields = dict(
        epoch=output.epoch, leaf=output.sender_leaf, generation=output.generation, reuse_guard=output.reuse_guard,
        authenticated_data=output.authenticated_data, data=output.data, signature=output.signature,
        padding=output.padding,
    )
    fields.update(changes)
    return fields


def test_resealing_gives_the_received_bytes_and_the_processed_result(members):
    alice, bob, _ = members
    alice, _ = encrypt_application(alice, b"first", seed(1))
    _, message = encrypt_application(alice, b"second", seed(2), b"meta", padding_block=32)
    processed = process_message(bob, message)
    output = processed.output
    assert (output.generation, len(output.signature), len(output.reuse_guard)) == (1, 64, 4) and output.padding > 0
    resealed, encoded = reseal_application(bob, **_fields(output))
    assert encoded == message
    assert resealed.new_state == processed.new_state
    assert resealed.output == output and resealed.output.signature == output.signature
    consumed = consume_application_key(bob, output.epoch, output.sender_leaf, output.generation)
    assert consumed == processed.new_state
    with pytest.raises(SecretTreeError):
        consume_application_key(consumed, output.epoch, output.sender_leaf, output.generation)


def test_edited_fields_fail_or_give_other_bytes(members):
    alice, bob, _ = members
    _, message = encrypt_application(alice, b"signed", seed(3))
    output = process_message(bob, message).output
    with pytest.raises(SignatureError):
        reseal_application(bob, **_fields(output, data=b"edited"))
    with pytest.raises(UnknownSender):
        reseal_application(bob, **_fields(output, leaf=7))
    for changes in (dict(reuse_guard=b"\x00" * 4), dict(padding=1), dict(generation=2)):
        assert reseal_application(bob, **_fields(output, **changes))[1] != message


def test_our_own_message_is_recognised(members):
    alice, _, _ = members
    _, message = encrypt_application(alice, b"mine", seed(4))
    output = process_message(members[1], message).output
    resealed, encoded = reseal_application(alice, **_fields(output))
    assert encoded == message and isinstance(resealed.output, OwnMessageReceived)


def test_past_epochs_are_kept_for_a_while_and_future_ones_refused(members):
    alice, bob, carol = members
    late = []
    states = [alice, bob, carol]
    for round_ in range(MAX_PAST_EPOCHS + 1):
        sender, message = encrypt_application(states[0], b"late %d" % round_, seed(10 + round_))
        late.append((message, process_message(states[1], message).output))
        states = deliver(commit(sender, seed=seed(20 + round_)), sender, states[1:])
    bob_now = states[1]
    for message, output in late[1:]:
        processed = process_message(bob_now, message)
        resealed, encoded = reseal_application(bob_now, **_fields(output))
        assert encoded == message and resealed.new_state == processed.new_state
        assert consume_application_key(bob_now, output.epoch, output.sender_leaf, output.generation) == processed.new_state
    oldest = late[0][1]
    with pytest.raises(EpochNotAvailable):
        reseal_application(bob_now, **_fields(oldest))
    with pytest.raises(EpochNotAvailable):
        consume_application_key(bob_now, oldest.epoch, oldest.sender_leaf, oldest.generation)
    with pytest.raises(WrongEpoch):
        reseal_application(bob, **_fields(late[-1][1], epoch=bob.epoch + 1))


def test_a_run_rebuilds_messages_as_reseal_application_does_one_by_one(members):
    alice, bob, carol = members
    received = []
    for n, (sender, text) in enumerate([(0, b"one"), (2, b"two"), (0, b"three"), (2, b"four")]):
        states = [alice, bob, carol]
        after, message = encrypt_application(states[sender], text, seed(40 + n), b"ad" * n, padding_block=16 * n)
        alice, carol = (after, carol) if sender == 0 else (alice, after)
        received.append((message, process_message(bob, message).output))
    run, one_by_one = ResealRun(bob), bob
    for message, output in received:
        assert run.reseal(**{k: v for k, v in _fields(output).items() if k != "epoch"}) == message
        run.keep()
        one_by_one = reseal_application(one_by_one, **_fields(output))[0].new_state
    assert run.state() == one_by_one and run.state().encode() == one_by_one.encode()


def test_a_run_consumes_only_kept_keys_and_checks_like_reseal_application(members):
    alice, bob, _ = members
    _, message = encrypt_application(alice, b"signed", seed(50))
    output = process_message(bob, message).output
    fields = {k: v for k, v in _fields(output).items() if k != "epoch"}
    run = ResealRun(bob)
    with pytest.raises(SignatureError):
        run.reseal(**{**fields, "data": b"edited"})
    with pytest.raises(UnknownSender):
        run.reseal(**{**fields, "leaf": 7})
    assert run.reseal(**fields) == message  # not kept: the key is still there
    assert run.state() is bob
    run.keep()
    with pytest.raises(SecretTreeError):
        run.reseal(**fields)
    assert run.state() == process_message(bob, message).new_state


@pytest.mark.parametrize("size", [0, 40, 16_400])
def test_a_run_writes_every_length_prefix_as_the_encoder_does(members, size):
    """Short, usual and long (four-byte length) ciphertexts, with and without authenticated data."""
    alice, bob, _ = members
    for n, authenticated_data in enumerate((b"", b"x" * 70)):
        _, message = encrypt_application(alice, bytes(size), seed(60 + n), authenticated_data)
        output = process_message(bob, message).output
        assert ResealRun(bob).reseal(**{k: v for k, v in _fields(output).items() if k != "epoch"}) == message
