"""Key schedule (RFC 9420 section 8) against key-schedule.json, plus focused unit tests.

key-schedule.json: per cipher suite, a ``group_id``, an ``initial_init_secret`` and five epochs.
Each epoch gives the generator's inputs (``tree_hash``, ``commit_secret``, ``psk_secret``,
``confirmed_transcript_hash``) and every derived value. The checker builds the GroupContext
(mls10, the suite, group id, epoch = position, tree hash, confirmed transcript hash, no
extensions) and compares it with ``group_context``, runs the schedule from the previous epoch's
init_secret, and compares joiner, welcome, init, sender-data, encryption, exporter, external,
confirmation, membership, resumption secrets and the epoch authenticator, the external HPKE
public key derived from external_secret, and one MLS-Exporter output.
"""

from __future__ import annotations

import hmac

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from mlsgroup.domain.mls import key_schedule as ks
from mlsgroup.domain.mls.cipher_suite import cipher_suite
from mlsgroup.domain.mls.errors import ConfirmationTagError, KeyScheduleError
from mlsgroup.infrastructure.conformance import key_schedule as conformance
from tests.vectors import load_vectors, suite_ids

VECTORS = load_vectors(conformance.FILE)
SUITE = cipher_suite(1)
CONTEXT = conformance.group_context_bytes(1, b"group", 3, b"\x01" * 32, b"\x02" * 32)


@pytest.mark.parametrize("entry", VECTORS, ids=suite_ids(VECTORS))
def test_vector(entry):
    conformance.check(entry)


def _independent_expand_with_label(secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    def vlen(data: bytes) -> bytes:  # QUIC-style varint, 1 or 2 bytes suffice here
        return bytes([len(data)]) if len(data) < 64 else (0x4000 | len(data)).to_bytes(2, "big")

    full = b"MLS 1.0 " + label
    info = length.to_bytes(2, "big") + vlen(full) + full + vlen(context) + context
    return HKDFExpand(hashes.SHA256(), length, info).derive(secret)


def test_advance_epoch_matches_an_independent_hkdf_computation():
    init, commit = b"\x03" * 32, b"\x04" * 32
    prk = hmac.digest(init, commit, "sha256")
    joiner = _independent_expand_with_label(prk, b"joiner", CONTEXT, 32)
    member = hmac.digest(joiner, bytes(32), "sha256")
    epoch = _independent_expand_with_label(member, b"epoch", CONTEXT, 32)
    secrets = ks.advance_epoch(SUITE, init, commit, CONTEXT)
    assert secrets.joiner_secret == joiner
    assert secrets.welcome_secret == _independent_expand_with_label(member, b"welcome", b"", 32)
    assert secrets.encryption_secret == _independent_expand_with_label(epoch, b"encryption", b"", 32)
    assert secrets.epoch_authenticator == _independent_expand_with_label(epoch, b"authentication", b"", 32)
    assert secrets.init_secret == _independent_expand_with_label(epoch, b"init", b"", 32)


def test_join_and_advance_agree_and_zero_psk_is_the_default():
    init, commit, psk = b"\x05" * 32, b"\x06" * 32, b"\x07" * 32
    by_commit = ks.advance_epoch(SUITE, init, commit, CONTEXT, psk)
    by_welcome = ks.join_epoch(SUITE, by_commit.joiner_secret, CONTEXT, psk)
    assert by_commit == by_welcome
    assert ks.advance_epoch(SUITE, init, commit, CONTEXT) == ks.advance_epoch(SUITE, init, commit, CONTEXT, bytes(32))
    assert ks.advance_epoch(SUITE, init, commit, CONTEXT, psk) != ks.advance_epoch(SUITE, init, commit, CONTEXT)
    epoch = ks.epoch_secret(SUITE, by_commit.joiner_secret, CONTEXT, psk)
    assert ks.derive_epoch_secrets(
        SUITE, epoch, joiner_secret=by_commit.joiner_secret, welcome_secret=by_commit.welcome_secret
    ) == by_commit
    assert ks.welcome_secret(SUITE, by_commit.joiner_secret, psk) == by_commit.welcome_secret


def test_group_context_binds_the_epoch():
    other = conformance.group_context_bytes(1, b"group", 4, b"\x01" * 32, b"\x02" * 32)
    a = ks.advance_epoch(SUITE, b"\x01" * 32, b"\x02" * 32, CONTEXT)
    b = ks.advance_epoch(SUITE, b"\x01" * 32, b"\x02" * 32, other)
    assert a.joiner_secret != b.joiner_secret and a.encryption_secret != b.encryption_secret


@pytest.mark.parametrize("field", ["init", "commit", "psk"])
def test_wrong_secret_lengths_raise(field):
    args = {"init": b"\x01" * 32, "commit": b"\x02" * 32, "psk": b"\x03" * 32}
    args[field] = args[field][:31]
    with pytest.raises(KeyScheduleError):
        ks.advance_epoch(SUITE, args["init"], args["commit"], CONTEXT, args["psk"])


def test_welcome_key_and_nonce():
    secret = b"\x09" * 32
    key, nonce = ks.welcome_key_nonce(SUITE, secret)
    assert key == _independent_expand_with_label(secret, b"key", b"", 16)
    assert nonce == _independent_expand_with_label(secret, b"nonce", b"", 12)


def test_exporter_depends_on_label_context_and_length():
    exporter = b"\x0a" * 32
    base = ks.mls_exporter(SUITE, exporter, b"label", b"ctx", 32)
    assert len(base) == 32
    assert base != ks.mls_exporter(SUITE, exporter, b"label2", b"ctx", 32)
    assert base != ks.mls_exporter(SUITE, exporter, b"label", b"ctx2", 32)
    assert len(ks.mls_exporter(SUITE, exporter, b"label", b"ctx", 80)) == 80


def test_confirmation_tag_round_trip_and_rejection():
    key, transcript = b"\x0b" * 32, b"\x0c" * 32
    tag = ks.confirmation_tag(SUITE, key, transcript)
    ks.verify_confirmation_tag(SUITE, key, transcript, tag)
    with pytest.raises(ConfirmationTagError):
        ks.verify_confirmation_tag(SUITE, key, transcript, tag[:-1] + bytes([tag[-1] ^ 1]))
    with pytest.raises(ConfirmationTagError):
        ks.verify_confirmation_tag(SUITE, key, transcript, tag[:-1])


def test_external_key_pair_is_deterministic():
    private, public = ks.external_key_pair(SUITE, b"\x0d" * 32)
    assert ks.external_key_pair(SUITE, b"\x0d" * 32) == (private, public)
    assert len(public) == 32


def test_secrets_never_print():
    secrets = ks.advance_epoch(SUITE, b"\x01" * 32, b"\x02" * 32, CONTEXT)
    text = repr(secrets)
    for value in (secrets.encryption_secret, secrets.joiner_secret, secrets.init_secret):
        assert value.hex() not in text
        assert repr(value)[2:12] not in text
    assert "***" in text
