"""The hand-written protobuf wire codec: known encodings from the protobuf documentation, proto3
default omission, unknown-field skipping (every wire type, groups included), merge semantics, and
rejection of malformed input with DecodeError only."""

import pytest
from hypothesis import given, settings, strategies as st

from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.protobuf import (
    RECURSION_LIMIT,
    WIRE_LEN,
    WIRE_VARINT,
    decode_map_entry,
    ProtoMessage,
    ProtoWriter,
    decode_varint,
    encode_varint,
    to_int32,
)


def test_documented_encodings():
    # The examples of https://protobuf.dev/programming-guides/encoding/
    assert ProtoWriter().varint(1, 150).finish() == bytes.fromhex("089601")
    assert ProtoWriter().string(2, "testing").finish() == bytes.fromhex("120774657374696e67")
    assert ProtoWriter().message(3, bytes.fromhex("089601")).finish() == bytes.fromhex("1a03089601")


def test_proto3_defaults_are_omitted_unless_present():
    assert ProtoWriter().varint(1, 0).string(2, "").bytes(3, b"").finish() == b""
    assert ProtoWriter().varint(1, 0, present=True).finish() == b"\x08\x00"
    assert ProtoWriter().string(2, "", present=True).finish() == b"\x12\x00"
    assert ProtoWriter().message(3, b"").finish() == b"\x1a\x00"


@given(st.integers(0, 2**64 - 1))
def test_varint_round_trip(value):
    data = encode_varint(value)
    assert decode_varint(data, 0) == (value, len(data))
    assert len(data) <= 10


def test_varint_range():
    with pytest.raises(ValueError):
        encode_varint(-1)
    with pytest.raises(ValueError):
        encode_varint(2**64)


@pytest.mark.parametrize(
    "data",
    [
        b"\x80",  # truncated
        b"\xff" * 10 + b"\x01",  # longer than 10 bytes
        b"\xff" * 9 + b"\x02",  # 10th byte overflows 64 bits
    ],
)
def test_bad_varints(data):
    with pytest.raises(DecodeError):
        decode_varint(data, 0)


def test_to_int32_truncates_like_protobuf():
    assert to_int32(1) == 1
    assert to_int32(2**64 - 1) == -1
    assert to_int32(2**32 + 5) == 5


def test_unknown_fields_of_every_wire_type_are_skipped():
    unknown = (
        b"\xf8\x06\x05"  # field 111 varint
        + b"\xf9\x06" + bytes(8)  # field 111 fixed64
        + b"\xfa\x06\x02ab"  # field 111 bytes
        + b"\xfd\x06" + bytes(4)  # field 111 fixed32
        + b"\xfb\x06" + b"\x08\x01" + b"\x1b\x1c" + b"\xfc\x06"  # field 111 group with a nested group
    )
    message = ProtoMessage(unknown + ProtoWriter().string(1, "kept").finish())
    assert message.string(1) == "kept"
    assert message.string(2) is None


def test_singular_scalar_last_wins_and_messages_merge():
    data = ProtoWriter().varint(1, 3).varint(1, 7).message(2, b"\x08\x01").message(2, b"\x10\x02").finish()
    message = ProtoMessage(data)
    assert message.varint(1) == 7
    inner = ProtoMessage(message.message(2))
    assert (inner.varint(1), inner.varint(2)) == (1, 2)


def test_last_of_picks_the_oneof_member_seen_last():
    message = ProtoMessage(ProtoWriter().varint(1, 1).message(2, b"").varint(1, 2).finish())
    assert message.last_of((1, 2, 3)) == 1
    assert ProtoMessage(b"").last_of((1, 2)) is None


def test_repeated_accessors():
    data = ProtoWriter().repeated_strings(1, ["a", "", "c"]).repeated_bytes(2, [b"x", b""]).finish()
    message = ProtoMessage(data)
    assert message.repeated_strings(1) == ["a", "", "c"]
    assert message.repeated_bytes(2) == [b"x", b""]


@pytest.mark.parametrize(
    "data",
    [
        b"\x08",  # varint value missing
        b"\x0a\x05ab",  # length past the end
        b"\x00\x01",  # field number 0
        b"\x0e\x00",  # wire type 6
        b"\x0f\x00",  # wire type 7
        b"\x0c",  # end group without start
        b"\x0b",  # unterminated group
        b"\x0b\x14",  # group closed with another field's end tag
        b"\x09\x00\x00",  # fixed64 truncated
        b"\x0d\x00",  # fixed32 truncated
    ],
)
def test_malformed_messages(data):
    with pytest.raises(DecodeError):
        ProtoMessage(data)


def test_wire_type_mismatch_on_a_known_field():
    message = ProtoMessage(b"\x08\x01")
    with pytest.raises(DecodeError):
        message.string(1)
    with pytest.raises(DecodeError):
        ProtoMessage(b"\x0a\x00").varint(1)
    with pytest.raises(DecodeError):
        ProtoMessage(b"\x0b\x0c").message(1)  # a group where a message is expected


def test_invalid_utf8_in_a_string_field():
    with pytest.raises(DecodeError):
        ProtoMessage(b"\x0a\x01\xff").string(1)


def test_nested_groups_past_the_recursion_limit():
    depth = RECURSION_LIMIT + 5
    data = b"\x0b" * depth + b"\x0c" * depth
    with pytest.raises(DecodeError):
        ProtoMessage(data)
    shallow = b"\x0b" * 10 + b"\x0c" * 10
    assert ProtoMessage(shallow).has(1)


@settings(max_examples=300)
@given(st.binary(max_size=64))
def test_random_bytes_raise_only_decode_error(data):
    try:
        message = ProtoMessage(data)
    except DecodeError:
        return
    for field in range(1, 4):
        for read in (message.varint, message.string, message.message, message.repeated_strings):
            try:
                read(field)
            except DecodeError:
                pass


def _general_entry(data, wire_type):
    message = ProtoMessage(data)
    key = message.string(1) or ""
    if wire_type == WIRE_VARINT:
        return key, message.varint(2) if message.has(2) else None
    return key, message.bytes(2)


entry_bytes = st.one_of(
    st.binary(max_size=24),
    st.builds(lambda k, v: ProtoWriter().string(1, k).varint(2, v).finish(), st.text(max_size=8), st.integers(0, 2**64 - 1)),
    st.builds(lambda k, v: ProtoWriter().string(1, k).bytes(2, v).finish(), st.text(max_size=8), st.binary(max_size=8)),
)


@settings(max_examples=300)
@given(entry_bytes, st.sampled_from([WIRE_VARINT, WIRE_LEN]))
def test_map_entry_fast_path_agrees_with_the_general_decoder(data, wire_type):
    try:
        expected = _general_entry(data, wire_type)
    except DecodeError:
        with pytest.raises(DecodeError):
            decode_map_entry(data, wire_type)
        return
    assert decode_map_entry(data, wire_type) == expected
