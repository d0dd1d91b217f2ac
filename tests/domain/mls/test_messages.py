"""MLSMessage (RFC 9420 section 6): the version and wire-format select, round trips over every
body type, and bad input (random bytes and mutations of every MLSMessage in messages.json)."""

import pytest
from hypothesis import given, settings, strategies as st

from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.mls.framing import PrivateMessage, PublicMessage
from mlsgroup.domain.mls.key_packages import KeyPackage
from mlsgroup.domain.mls.messages import MLSMessage, WireFormat
from mlsgroup.domain.mls.proposals import Remove
from mlsgroup.domain.mls.welcome import GroupInfo, Welcome

from .wire_testing import assert_decodes_or_rejects, encode_method, message_seeds, mls_messages, mutations

FIELDS = {
    "mls_welcome": (WireFormat.WELCOME, Welcome),
    "mls_group_info": (WireFormat.GROUP_INFO, GroupInfo),
    "mls_key_package": (WireFormat.KEY_PACKAGE, KeyPackage),
    "public_message_application": (WireFormat.PUBLIC_MESSAGE, PublicMessage),
    "public_message_proposal": (WireFormat.PUBLIC_MESSAGE, PublicMessage),
    "public_message_commit": (WireFormat.PUBLIC_MESSAGE, PublicMessage),
    "private_message": (WireFormat.PRIVATE_MESSAGE, PrivateMessage),
}


@pytest.mark.parametrize("field", FIELDS)
def test_header_then_body(field):
    wire_format, cls = FIELDS[field]
    data = message_seeds(field)[0]
    message = MLSMessage.decode(data)
    assert type(message.body) is cls and message.wire_format == wire_format
    assert data[:4] == b"\x00\x01" + wire_format.to_bytes(2, "big")
    assert cls.decode(data[4:]) == message.body
    assert MLSMessage.wrap(message.body) == message


@pytest.mark.parametrize("header", ["0000", "0002", "ffff"])
def test_only_mls10_decodes(header):
    data = message_seeds("mls_key_package")[0]
    with pytest.raises(DecodeError):
        MLSMessage.decode(bytes.fromhex(header) + data[2:])


@pytest.mark.parametrize("wire_format", [0, 6, 0xF000])
def test_unknown_wire_format_is_a_decode_error(wire_format):
    data = message_seeds("mls_key_package")[0]
    with pytest.raises(DecodeError):
        MLSMessage.decode(data[:2] + wire_format.to_bytes(2, "big") + data[4:])


def test_only_message_bodies_can_be_wrapped():
    with pytest.raises(TypeError):
        MLSMessage.wrap(Remove(0)).encode()


@settings(max_examples=50)
@given(mls_messages)
def test_round_trip(message):
    decoded = MLSMessage.decode(message.encode())
    assert decoded == message and hash(decoded) == hash(message)


@given(st.binary(max_size=256))
def test_random_bytes_only_raise_decode_error(data):
    assert_decodes_or_rejects(MLSMessage.decode, encode_method, data)


@given(st.binary(max_size=256))
def test_random_bodies_behind_a_valid_header_only_raise_decode_error(data):
    for wire_format in WireFormat:
        assert_decodes_or_rejects(MLSMessage.decode, encode_method, b"\x00\x01\x00" + bytes([wire_format]) + data)


@pytest.mark.parametrize("field", FIELDS)
@given(data=st.data())
def test_mutated_vectors_only_raise_decode_error(field, data):
    assert_decodes_or_rejects(MLSMessage.decode, encode_method, data.draw(mutations(message_seeds(field))))
