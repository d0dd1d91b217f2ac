"""AES-256-GCM records: round trip, and a typed StoreDecryptionError for wrong keys and any tampering."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlsgroup.infrastructure.persistence import AesGcmCipher, StoreConfigurationError, StoreDecryptionError
from mlsgroup.infrastructure.persistence.cipher import decode_key, encode_key
from eventsourcing.utils import Environment

KEY = bytes(range(32))
CIPHER = AesGcmCipher.from_key(KEY)


def test_round_trip_with_and_without_associated_data() -> None:
    assert CIPHER.decrypt(CIPHER.encrypt(b"state")) == b"state"
    assert CIPHER.decrypt(CIPHER.encrypt(b"state", b"id|7|topic"), b"id|7|topic") == b"state"
    assert CIPHER.decrypt(CIPHER.encrypt(b"")) == b""


def test_records_use_a_fresh_nonce_and_add_29_bytes() -> None:
    first, second = CIPHER.encrypt(b"same"), CIPHER.encrypt(b"same")
    assert first != second and first[1:13] != second[1:13]
    assert len(first) == len(b"same") + 29


def test_wrong_key_raises_typed_error() -> None:
    record = CIPHER.encrypt(b"secret state")
    with pytest.raises(StoreDecryptionError, match="wrong encryption key or tampered"):
        AesGcmCipher.from_key(os.urandom(32)).decrypt(record)


def test_other_associated_data_raises_typed_error() -> None:
    record = CIPHER.encrypt(b"secret state", b"aggregate-1|version-1")
    with pytest.raises(StoreDecryptionError):
        CIPHER.decrypt(record, b"aggregate-1|version-2")


def test_every_flipped_byte_raises_typed_error() -> None:
    record = CIPHER.encrypt(b"0123456789abcdef" * 3, b"aad")
    for position in range(len(record)):
        for bit in (0x01, 0x80):
            tampered = bytearray(record)
            tampered[position] ^= bit
            with pytest.raises(StoreDecryptionError):
                CIPHER.decrypt(bytes(tampered), b"aad")


@given(st.binary(max_size=100))
def test_garbage_records_raise_typed_error(data: bytes) -> None:
    with pytest.raises(StoreDecryptionError):
        CIPHER.decrypt(data)


def test_truncated_records_raise_typed_error() -> None:
    record = CIPHER.encrypt(b"state")
    for size in range(len(record)):
        with pytest.raises(StoreDecryptionError):
            CIPHER.decrypt(record[:size])


@pytest.mark.parametrize("key", [b"", b"\x00" * 16, b"\x00" * 31, b"\x00" * 33, bytearray(32), "k" * 32])
def test_keys_must_be_32_bytes(key: object) -> None:
    with pytest.raises(StoreConfigurationError):
        AesGcmCipher.from_key(key)  # type: ignore[arg-type]


def test_cipher_is_built_from_the_environment_key() -> None:
    record = AesGcmCipher(Environment(env={"CIPHER_KEY": encode_key(KEY)})).encrypt(b"x")
    assert CIPHER.decrypt(record) == b"x"
    assert decode_key(encode_key(KEY)) == KEY
    with pytest.raises(StoreConfigurationError):
        AesGcmCipher(Environment(env={}))
    with pytest.raises(StoreConfigurationError):
        AesGcmCipher(Environment(env={"CIPHER_KEY": "not base64!"}))


def test_repr_hides_the_key() -> None:
    assert repr(CIPHER) == "AesGcmCipher(key=***)"
