"""Byte-wise mutations of valid commits, Welcomes and application messages only ever raise typed
MlsError subclasses (or, for bytes that do not matter to this reader, give the original result),
and never change the state."""

import pytest
from hypothesis import given, settings, strategies as st

from mlsgroup.domain.mls.errors import MlsError
from mlsgroup.domain.mls.group import (
    GroupState,
    commit,
    encrypt_application,
    join_group,
    process_message,
    propose_remove,
)

from .builders import group, key_package, seed

_MEMBERS = group([b"alice", b"bob", b"carol"])
_ALICE, _BOB, _ = _MEMBERS
_ERIN = key_package(b"erin", 77)
_MESSAGES = {
    "private commit": commit(_ALICE, removes=[2], seed=seed(1)).message,
    "public commit": commit(_ALICE, removes=[2], seed=seed(2), handshake_wire_format="public").message,
    "private proposal": propose_remove(_ALICE, 2, seed=seed(3))[1],
    "application": encrypt_application(_ALICE, b"some application data", seed(4))[1],
}
_WELCOME = commit(_ALICE, adds=[_ERIN.key_package], update_path=True, seed=seed(5)).welcome
_BOB_BYTES = _BOB.encode()


def _outcome(function, *args):
    try:
        return function(*args)
    except MlsError as exc:
        return exc


def mutate(data: bytes, position: int, value: int, cut: int) -> bytes:
    position %= len(data)
    mutated = data[:position] + bytes([value]) + data[position + 1 :]
    return mutated if mutated != data else mutated[: max(0, len(mutated) - cut)]


mutations = st.tuples(st.integers(0, 1 << 20), st.integers(0, 255), st.integers(1, 8))


@pytest.mark.parametrize("kind", sorted(_MESSAGES))
@settings(max_examples=60)
@given(mutation=mutations)
def test_mutated_messages(kind, mutation):
    message = _MESSAGES[kind]
    original = process_message(_BOB, message)
    result = _outcome(process_message, _BOB, mutate(message, *mutation))
    assert isinstance(result, MlsError) or result == original
    assert _BOB.encode() == _BOB_BYTES


@settings(max_examples=40)
@given(mutation=mutations)
def test_mutated_welcomes(mutation):
    original = join_group(_WELCOME, _ERIN)
    result = _outcome(join_group, mutate(_WELCOME, *mutation), _ERIN)
    assert isinstance(result, MlsError) or result == original


@settings(max_examples=40)
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes(data):
    for function, argument in ((process_message, _BOB), (join_group, None)):
        result = _outcome(function, _BOB, data) if argument is not None else _outcome(join_group, data, _ERIN)
        assert isinstance(result, MlsError)


@settings(max_examples=40)
@given(mutation=mutations)
def test_mutated_states_decode_or_fail_cleanly(mutation):
    result = _outcome(GroupState.decode, mutate(_BOB_BYTES, *mutation))
    assert isinstance(result, (MlsError, GroupState))


_MEMBERS4 = group([b"alice", b"bob", b"carol", b"dave"], base=4000)
_COMMIT_BODIES = [
    commit(_MEMBERS4[0], adds=[_ERIN.key_package], removes=[2], seed=seed(6), handshake_wire_format="public"),
    commit(_MEMBERS4[0], seed=seed(7), handshake_wire_format="public"),
]


@pytest.mark.parametrize("base", [0, 1], ids=["add-remove", "self-update"])
@settings(max_examples=40)
@given(mutation=mutations)
def test_insider_forged_commits(base, mutation):
    """A member re-signs a mutated commit body: the checks behind the signature still hold."""
    from mlsgroup.domain.mls.commits import Commit
    from mlsgroup.domain.mls.messages import MLSMessage

    from .forgery import forge_public

    body = MLSMessage.decode(_COMMIT_BODIES[base].message).body.content.content.encode()
    try:
        mutated = Commit.decode(mutate(body, *mutation))
    except MlsError:
        return
    bob = _MEMBERS4[1]
    before = bob.encode()
    result = _outcome(process_message, bob, forge_public(_MEMBERS4[0], mutated))
    # Only an authentic removal of bob himself can pass: a removed member gets no path secret, so
    # it cannot check the confirmation tag (RFC 9420 12.4.2).
    assert isinstance(result, MlsError) or result.output.effect.own_leaf_removed
    assert bob.encode() == before
