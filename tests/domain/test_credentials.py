"""The MlsCredential identity {1: inbox_id} carried in Basic credentials."""

import pytest
from hypothesis import given, strategies as st

from mlsgroup.domain.credentials import MlsCredential, encode_credential_identity, inbox_id_from_identity
from mlsgroup.domain.mls.errors import DecodeError


def test_bytes():
    assert encode_credential_identity("abc") == b"\x0a\x03abc"
    assert inbox_id_from_identity(b"\x0a\x03abc") == "abc"


@given(st.text())
def test_round_trip(inbox_id):
    assert MlsCredential.decode(MlsCredential(inbox_id).encode()) == MlsCredential(inbox_id)


@pytest.mark.parametrize("data", [b"\x0a\x05ab", b"\x0a\x01\xff", b"\x08"])
def test_malformed(data):
    with pytest.raises(DecodeError):
        inbox_id_from_identity(data)
