"""Identity updates: inbox id derivation, wire round trip and garbage, and the chain rules (signers,
sequence ids, MAX_INSTALLATIONS_PER_INBOX, revocation) checked example by example and against a model."""

from __future__ import annotations

import functools
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsgroup.domain import identity as ident
from mlsgroup.domain import identity_errors as errors
from mlsgroup.domain.identity import (
    AddInstallation,
    CreateInbox,
    IdentityUpdate,
    IdentityUpdateContent,
    InboxState,
    RevokeInstallations,
    apply_update,
    sign_update,
)
from mlsgroup.domain.mls.cipher_suite import cipher_suite
from mlsgroup.domain.mls.errors import DecodeError


@functools.lru_cache(maxsize=None)
def key(n: int) -> bytes:
    return ident.installation_key_pair(hashlib.sha256(b"test installation %d" % n).digest())[0]


@functools.lru_cache(maxsize=None)
def iid(n: int) -> bytes:
    return ident.installation_id_of(key(n))


def created(n: int = 0) -> InboxState:
    return apply_update(None, ident.create_inbox(key(n), 1))


def chain(*builders) -> tuple[InboxState, list[IdentityUpdate]]:
    """Apply updates built from the current state in turn; returns the final state and the updates."""
    update = ident.create_inbox(key(0), 1)
    state, updates = apply_update(None, update), [update]
    for build in builders:
        update = build(state)
        state = apply_update(state, update)
        updates.append(update)
    return state, updates


def add(signer: int, new: int):
    return lambda state: ident.add_installation(state, key(signer), key(new), 100 + state.sequence_id)


def revoke(signer: int, *targets: int):
    return lambda state: ident.revoke_installations(state, key(signer), [iid(t) for t in targets], 100)


# -- keys and inbox ids ------------------------------------------------------------------------


def test_installation_keys_are_ed25519_and_deterministic() -> None:
    private, public = ident.installation_key_pair(b"\x07" * 32)
    assert (private, public) == ident.installation_key_pair(b"\x07" * 32)
    assert repr(private) == "***" and len(public) == 32
    assert ident.installation_id_of(private) == public
    signature = cipher_suite(3).sign_with_label(private, b"x", b"content")
    cipher_suite(1).verify_with_label(public, b"x", b"content", signature)
    with pytest.raises(ValueError):
        ident.installation_key_pair(b"short")


def test_inbox_id_is_the_documented_hash_of_the_first_installation() -> None:
    expected = hashlib.sha256(b"mlsgroup inbox v1" + iid(0)).hexdigest()
    assert ident.inbox_id_for(iid(0)) == expected
    assert created().inbox_id == expected and len(expected) == 64
    assert ident.inbox_id_for(iid(1)) != expected


# -- wire format -------------------------------------------------------------------------------

ids32 = st.binary(min_size=32, max_size=32)
signatures = st.binary(min_size=64, max_size=64)
actions = st.one_of(
    ids32.map(CreateInbox),
    ids32.map(AddInstallation),
    st.lists(ids32, max_size=4).map(lambda ids: RevokeInstallations(tuple(ids))),
)
contents = st.builds(
    IdentityUpdateContent, ids32.map(bytes.hex), st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1), actions
)
updates = st.builds(IdentityUpdate, contents, ids32, signatures, st.none() | signatures)


@given(updates)
def test_updates_round_trip(update: IdentityUpdate) -> None:
    encoded = update.encode()
    assert IdentityUpdate.decode(encoded) == update
    assert IdentityUpdate.decode(encoded).encode() == encoded


@given(st.binary(max_size=300))
def test_garbage_raises_decode_error_only(data: bytes) -> None:
    try:
        update = IdentityUpdate.decode(data)
    except DecodeError:
        return
    assert update.encode() == data


@given(updates, st.data())
def test_truncated_or_extended_encodings_are_rejected(update: IdentityUpdate, data: st.DataObject) -> None:
    encoded = update.encode()
    cut = data.draw(st.integers(0, len(encoded) - 1))
    with pytest.raises(DecodeError):
        IdentityUpdate.decode(encoded[:cut])
    with pytest.raises(DecodeError):
        IdentityUpdate.decode(encoded + data.draw(st.binary(min_size=1, max_size=3)))


def test_unknown_action_and_bad_optional_octet_are_rejected() -> None:
    encoded = bytearray(ident.create_inbox(key(0), 1).encode())
    action_offset = 32 + 8 + 8
    assert encoded[action_offset] == 1
    for tag in (0, 4, 255):
        mutated = bytearray(encoded)
        mutated[action_offset] = tag
        with pytest.raises(DecodeError):
            IdentityUpdate.decode(bytes(mutated))
    mutated = bytearray(encoded)
    mutated[-1] = 2
    with pytest.raises(DecodeError):
        IdentityUpdate.decode(bytes(mutated))
    with pytest.raises(DecodeError):
        IdentityUpdate.decode("not bytes")  # type: ignore[arg-type]


def test_signed_updates_survive_the_wire() -> None:
    state, chain_updates = chain(add(0, 1), revoke(1, 0))
    decoded = [IdentityUpdate.decode(u.encode()) for u in chain_updates]
    assert decoded == chain_updates
    assert ident.inbox_state_from_updates(decoded) == state


# -- chain rules -------------------------------------------------------------------------------


def test_create_inbox_starts_the_chain() -> None:
    state = created()
    assert state.sequence_id == 1
    assert state.active_installation_ids == {iid(0)}
    assert state.installation(iid(0)).added_at == 1 and state.installation(iid(1)) is None


def test_add_and_revoke_advance_the_sequence_id_and_keep_history() -> None:
    state, _ = chain(add(0, 1), add(1, 2), revoke(2, 0, 1))
    assert state.sequence_id == 4
    assert state.active_installation_ids == {iid(2)}
    assert state.revoked_installation_ids == {iid(0), iid(1)}
    assert state.installations_at(1) == {iid(0)}
    assert state.installations_at(2) == {iid(0), iid(1)}
    assert state.installations_at(3) == {iid(0), iid(1), iid(2)}
    assert state.installations_at(4) == {iid(2)}
    for bad in (0, 5):
        with pytest.raises(errors.UnknownSequenceId):
            state.installations_at(bad)
    assert ident.identity_states({state.inbox_id: state}, [(state.inbox_id, 2)]) == {(state.inbox_id, 2): {iid(0), iid(1)}}
    with pytest.raises(errors.InboxNotFound):
        ident.identity_states({}, [(state.inbox_id, 2)])


def test_an_installation_may_revoke_itself() -> None:
    state, _ = chain(add(0, 1), revoke(1, 1))
    assert state.active_installation_ids == {iid(0)}


def test_first_update_must_create_the_inbox_it_names() -> None:
    add_first = sign_update(IdentityUpdateContent(created().inbox_id, 1, 0, AddInstallation(iid(1))), key(0), key(1))
    with pytest.raises(errors.MissingCreateInbox):
        apply_update(None, add_first)
    wrong_inbox = sign_update(IdentityUpdateContent(ident.inbox_id_for(iid(1)), 1, 0, CreateInbox(iid(0))), key(0))
    with pytest.raises(errors.InboxIdMismatch):
        apply_update(None, wrong_inbox)
    foreign_signer = sign_update(IdentityUpdateContent(created().inbox_id, 1, 0, CreateInbox(iid(0))), key(1))
    with pytest.raises(errors.UnknownSigner):
        apply_update(None, foreign_signer)
    late = sign_update(IdentityUpdateContent(created().inbox_id, 2, 0, CreateInbox(iid(0))), key(0))
    with pytest.raises(errors.UnexpectedSequenceId):
        apply_update(None, late)
    with pytest.raises(errors.InboxAlreadyExists):
        apply_update(created(), ident.create_inbox(key(0), 1))
    with pytest.raises(errors.MissingCreateInbox):
        ident.inbox_state_from_updates([])


def test_sequence_ids_only_increase_by_one() -> None:
    state = created()
    update = add(0, 1)(state)
    next_state = apply_update(state, update)
    with pytest.raises(errors.UnexpectedSequenceId) as caught:
        apply_update(next_state, update)
    assert (caught.value.expected, caught.value.got) == (3, 2)
    skipping = sign_update(IdentityUpdateContent(state.inbox_id, 3, 0, AddInstallation(iid(1))), key(0), key(1))
    with pytest.raises(errors.UnexpectedSequenceId):
        apply_update(state, skipping)


def test_updates_for_another_inbox_are_rejected() -> None:
    other = created(5)
    with pytest.raises(errors.InboxIdMismatch):
        apply_update(created(), add(5, 1)(other))


def test_signatures_are_checked() -> None:
    state = created()
    update = add(0, 1)(state)
    tampered = IdentityUpdate(
        IdentityUpdateContent(update.inbox_id, 2, 999, update.action), update.signer, update.signature, update.possession_signature
    )
    with pytest.raises(errors.InvalidIdentitySignature):
        apply_update(state, tampered)
    # The new installation's possession signature, made by a key other than the one being added.
    stolen = sign_update(update.content, key(0), key(2))
    with pytest.raises(errors.InvalidIdentitySignature):
        apply_update(state, stolen)
    create = ident.create_inbox(key(0), 1)
    with pytest.raises(errors.InvalidIdentitySignature):
        apply_update(None, IdentityUpdate(create.content, create.signer, bytes(64)))


def test_only_active_installations_sign() -> None:
    state = created()
    stranger = sign_update(IdentityUpdateContent(state.inbox_id, 2, 0, AddInstallation(iid(2))), key(1), key(2))
    with pytest.raises(errors.UnknownSigner):
        apply_update(state, stranger)
    state, _ = chain(add(0, 1), revoke(0, 1))
    content = IdentityUpdateContent(state.inbox_id, 4, 0, AddInstallation(iid(2)))
    with pytest.raises(errors.RevokedSigner):
        apply_update(state, sign_update(content, key(1), key(2)))
    with pytest.raises(errors.RevokedSigner):
        add(1, 2)(state)  # the command checks locally before anything is published


def test_at_most_ten_active_installations() -> None:
    state, _ = chain(*(add(0, n) for n in range(1, ident.MAX_INSTALLATIONS_PER_INBOX)))
    assert len(state.active_installation_ids) == ident.MAX_INSTALLATIONS_PER_INBOX == 10
    with pytest.raises(errors.TooManyInstallations):
        add(0, 10)(state)
    content = IdentityUpdateContent(state.inbox_id, state.sequence_id + 1, 0, AddInstallation(iid(10)))
    with pytest.raises(errors.TooManyInstallations):
        apply_update(state, sign_update(content, key(0), key(10)))
    state = apply_update(state, revoke(0, 9)(state))
    state = apply_update(state, add(0, 10)(state))
    assert len(state.active_installation_ids) == 10


def test_installations_cannot_be_added_twice_or_come_back() -> None:
    state, _ = chain(add(0, 1))
    content = IdentityUpdateContent(state.inbox_id, 3, 0, AddInstallation(iid(1)))
    with pytest.raises(errors.InstallationAlreadyAdded):
        apply_update(state, sign_update(content, key(0), key(1)))
    state = apply_update(state, revoke(0, 1)(state))
    with pytest.raises(errors.InstallationPreviouslyRevoked):
        add(0, 1)(state)


def test_revocations_name_active_installations_once() -> None:
    state, _ = chain(add(0, 1), revoke(0, 1))
    with pytest.raises(errors.InstallationNotActive):
        revoke(0, 1)(state)
    with pytest.raises(errors.InstallationNotActive):
        revoke(0, 7)(state)
    for ids in ((), (iid(0), iid(0))):
        content = IdentityUpdateContent(state.inbox_id, 4, 0, RevokeInstallations(ids))
        with pytest.raises(errors.MalformedIdentityUpdate):
            apply_update(state, sign_update(content, key(0)))


def test_possession_signature_only_on_add() -> None:
    state = created()
    update = add(0, 1)(state)
    with pytest.raises(errors.MalformedIdentityUpdate):
        apply_update(state, IdentityUpdate(update.content, update.signer, update.signature, None))
    create = ident.create_inbox(key(0), 1)
    with pytest.raises(errors.MalformedIdentityUpdate):
        apply_update(None, IdentityUpdate(create.content, create.signer, create.signature, bytes(64)))


def test_errors_are_typed() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.IdentityError) and cls.__doc__
    assert issubclass(errors.TooManyInstallations, errors.IdentityUpdateRejected)
    assert issubclass(errors.InboxNotFound, LookupError)


# -- model-based -------------------------------------------------------------------------------

POOL = 14
operations = st.lists(st.tuples(st.sampled_from(["add", "revoke"]), st.integers(1, POOL - 1)), max_size=16)


@settings(max_examples=40)
@given(operations)
def test_chain_matches_a_naive_model(ops: list[tuple[str, int]]) -> None:
    """Every accepted update moves the sequence id by one; rejected ones change nothing; the active
    set never exceeds the limit; history and a replay of the accepted chain agree with the model."""
    state = created()
    accepted = [ident.create_inbox(key(0), 1)]
    active, revoked = [0], set()
    history = {1: {0}}
    for op, n in ops:
        if not active:
            break
        signer = active[0]
        sequence_id = state.sequence_id + 1
        if op == "add":
            update = sign_update(IdentityUpdateContent(state.inbox_id, sequence_id, 0, AddInstallation(iid(n))), key(signer), key(n))
            if n in active:
                expected = errors.InstallationAlreadyAdded
            elif n in revoked:
                expected = errors.InstallationPreviouslyRevoked
            elif len(active) >= ident.MAX_INSTALLATIONS_PER_INBOX:
                expected = errors.TooManyInstallations
            else:
                expected = None
        else:
            update = sign_update(IdentityUpdateContent(state.inbox_id, sequence_id, 0, RevokeInstallations((iid(n),))), key(signer))
            expected = None if n in active else errors.InstallationNotActive
        if expected is not None:
            with pytest.raises(expected):
                apply_update(state, update)
            continue
        state = apply_update(state, update)
        accepted.append(update)
        if op == "add":
            active.append(n)
        else:
            active.remove(n)
            revoked.add(n)
        history[sequence_id] = set(active)
        assert state.sequence_id == sequence_id == len(accepted)
        assert state.active_installation_ids == {iid(i) for i in active}
        assert len(state.active_installation_ids) <= ident.MAX_INSTALLATIONS_PER_INBOX
    for sequence_id, members in history.items():
        assert state.installations_at(sequence_id) == {iid(i) for i in members}
    assert ident.inbox_state_from_updates(accepted) == state
