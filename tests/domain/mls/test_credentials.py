"""Credentials (RFC 9420 section 5.3): the basic/x509 select, its strictness and round trips."""

import pytest
from hypothesis import given, strategies as st

from mlsgroup.domain.mls.credentials import CREDENTIAL, BasicCredential, CredentialType, X509Credential
from mlsgroup.domain.mls.errors import DecodeError

from .wire_testing import assert_decodes_or_rejects, credentials


def test_basic_credential_layout():
    encoded = CREDENTIAL.encode(BasicCredential(b"Alice"))
    assert encoded == bytes.fromhex("0001") + b"\x05Alice"
    assert CREDENTIAL.decode(encoded) == BasicCredential(b"Alice")


def test_x509_credential_is_a_vector_of_certificates():
    value = X509Credential((b"leaf", b"ca"))
    encoded = CREDENTIAL.encode(value)
    assert encoded == bytes.fromhex("0002") + b"\x08" + b"\x04leaf" + b"\x02ca"
    assert CREDENTIAL.decode(encoded) == value
    assert value.credential_type == CredentialType.X509


@pytest.mark.parametrize("credential_type", [0, 3, 0x0A0A, 0xFFFF])
def test_unknown_credential_type_is_a_decode_error(credential_type):
    with pytest.raises(DecodeError):
        CREDENTIAL.decode(credential_type.to_bytes(2, "big") + b"\x00")


def test_trailing_bytes_are_rejected():
    with pytest.raises(DecodeError):
        CREDENTIAL.decode(CREDENTIAL.encode(BasicCredential(b"x")) + b"\x00")


@given(credentials)
def test_round_trip(credential):
    encoded = CREDENTIAL.encode(credential)
    decoded = CREDENTIAL.decode(encoded)
    assert decoded == credential and hash(decoded) == hash(credential)
    assert CREDENTIAL.encode(decoded) == encoded


@given(st.binary(max_size=64))
def test_garbage_only_raises_decode_error(data):
    assert_decodes_or_rejects(CREDENTIAL.decode, CREDENTIAL.encode, data)
