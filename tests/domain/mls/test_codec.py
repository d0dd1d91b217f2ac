"""The TLS presentation-language codec (RFC 9420 section 2.1): round trips and strict decoding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlsgroup.domain.mls.codec import (
    DecodeError,
    Enum,
    Fixed,
    Optional,
    Reader,
    Select,
    Vector,
    boolean,
    encode_varint,
    opaque,
    uint8,
    uint16,
    uint32,
    uint64,
    wire,
    wire_struct,
)


@wire_struct
class Pair:
    kind: int = wire(uint16)
    data: bytes = wire(opaque)


@wire_struct
class Holder:
    pairs: tuple = wire(Vector(Pair.CODEC))
    maybe: object = wire(Optional(uint32))
    flag: bool = wire(boolean)
    tail: bytes = wire(Fixed(2))


@wire_struct
class Small:
    TAG = 1
    value: int = wire(uint8)


@wire_struct
class Large:
    TAG = 2
    value: int = wire(uint64)


CHOICE = Select(uint8, {1: Small.CODEC, 2: Large.CODEC}, name="choice")

pairs = st.builds(Pair, st.integers(0, 0xFFFF), st.binary(max_size=80))
holders = st.builds(
    Holder,
    st.lists(pairs, max_size=5).map(tuple),
    st.none() | st.integers(0, 2**32 - 1),
    st.booleans(),
    st.binary(min_size=2, max_size=2),
)


@pytest.mark.parametrize(
    ("n", "encoded"),
    [(0, "00"), (63, "3f"), (64, "4040"), (16383, "7fff"), (16384, "80004000"), (2**30 - 1, "bfffffff")],
)
def test_varint_boundaries_encode_minimally(n: int, encoded: str) -> None:
    assert encode_varint(n).hex() == encoded
    assert Reader(bytes.fromhex(encoded)).varint() == n


def test_varint_too_large_is_local_misuse() -> None:
    with pytest.raises(ValueError):
        encode_varint(2**30)


@pytest.mark.parametrize("encoded", ["4000", "403f", "80000000", "80003fff", "c0000000000000"])
def test_non_minimal_and_reserved_varints_are_rejected(encoded: str) -> None:
    with pytest.raises(DecodeError):
        Reader(bytes.fromhex(encoded)).varint()


@given(holders)
def test_struct_round_trip(value: Holder) -> None:
    assert Holder.decode(value.encode()) == value


@given(st.integers(0, 2**30 - 1))
def test_varint_round_trip(n: int) -> None:
    r = Reader(encode_varint(n))
    assert r.varint() == n
    r.finish()


@given(st.one_of(st.builds(Small, st.integers(0, 255)), st.builds(Large, st.integers(0, 2**64 - 1))))
def test_select_round_trip(value: Small | Large) -> None:
    assert CHOICE.decode(CHOICE.encode(value)) == value


def test_select_rejects_unknown_tag() -> None:
    with pytest.raises(DecodeError, match="unknown choice type 3"):
        CHOICE.decode(b"\x03\x00")


def test_trailing_bytes_are_rejected() -> None:
    with pytest.raises(DecodeError, match="trailing"):
        Pair.decode(Pair(1, b"x").encode() + b"\x00")


def test_length_past_end_is_rejected() -> None:
    with pytest.raises(DecodeError):
        Pair.decode(b"\x00\x01\x05ab")


def test_vector_items_must_fill_the_vector_exactly() -> None:
    # a vector of uint16 whose byte length (3) is not a whole number of items
    with pytest.raises(DecodeError):
        Vector(uint16).decode(b"\x03\x00\x01\x02")


def test_optional_and_boolean_reject_other_octets() -> None:
    with pytest.raises(DecodeError):
        Optional(uint8).decode(b"\x02\x00")
    with pytest.raises(DecodeError):
        boolean.decode(b"\x02")


def test_closed_enum_rejects_unknown_values() -> None:
    kinds = Enum(uint8, [1, 2], name="kind")
    assert kinds.decode(b"\x02") == 2
    with pytest.raises(DecodeError, match="unknown kind value 9"):
        kinds.decode(b"\x09")


def test_encoding_out_of_range_integers_is_local_misuse() -> None:
    with pytest.raises(ValueError):
        Pair(0x10000, b"").encode()


def test_decode_rejects_non_bytes() -> None:
    with pytest.raises(DecodeError):
        Pair.decode("not bytes")  # type: ignore[arg-type]


@given(st.binary(max_size=64))
def test_garbage_raises_decode_error_only(data: bytes) -> None:
    try:
        Holder.decode(data)
    except DecodeError:
        pass


@given(holders, st.data())
def test_mutations_raise_decode_error_only(value: Holder, data: st.DataObject) -> None:
    encoded = bytearray(value.encode())
    position = data.draw(st.integers(0, len(encoded) - 1))
    encoded[position] ^= data.draw(st.integers(1, 255))
    cut = data.draw(st.integers(0, len(encoded)))
    for candidate in (bytes(encoded), bytes(encoded[:cut])):
        try:
            Holder.decode(candidate)
        except DecodeError:
            pass


def test_uint_readers() -> None:
    r = Reader(bytes.fromhex("01" "0203" "04050607" "08090a0b0c0d0e0f"))
    assert (r.uint8(), r.uint16(), r.uint32(), r.uint64()) == (1, 0x0203, 0x04050607, 0x08090A0B0C0D0E0F)
    assert r.at_end()
    assert uint64.decode(b"\xff" * 8) == 2**64 - 1
