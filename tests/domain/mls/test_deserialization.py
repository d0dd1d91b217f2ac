"""deserialization.json (test-vectors.md "Vector Deserialization"): each ``vlbytes_header`` is a
varint vector length header (RFC 9420 section 2.1.2) that must decode to ``length`` and be the
minimal encoding of it. Plus the RFC's own examples and its rejection rules."""

import pytest
from hypothesis import given, strategies as st

from mlsgroup.domain.mls.codec import Reader, encode_varint
from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.infrastructure.conformance import VectorMismatch
from mlsgroup.infrastructure.conformance.deserialization import FILE, check
from tests.vectors import load_vectors, suite_ids

ENTRIES = load_vectors(FILE)


@pytest.mark.parametrize("entry", ENTRIES, ids=suite_ids(ENTRIES, prefix="header"))
def test_entry(entry):
    check(entry)


@pytest.mark.parametrize(
    "entry",
    [
        {"vlbytes_header": "4040", "length": 63},  # wrong length
        {"vlbytes_header": "4000", "length": 0},  # non-minimal
        {"vlbytes_header": "c0000000", "length": 0},  # 0b11 prefix
        {"vlbytes_header": "0d00", "length": 13},  # trailing byte
    ],
)
def test_bad_headers_are_mismatches(entry):
    with pytest.raises(VectorMismatch):
        check(entry)


@pytest.mark.parametrize("header, value", [("9d7f3e7d", 494878333), ("7bbd", 15293), ("25", 37)])
def test_rfc_examples(header, value):
    assert Reader(bytes.fromhex(header)).varint() == value
    assert encode_varint(value) == bytes.fromhex(header)


@given(st.integers(0, (1 << 30) - 1))
def test_varint_round_trip(n):
    reader = Reader(encode_varint(n))
    assert reader.varint() == n and reader.at_end()


@given(st.binary(min_size=1, max_size=4))
def test_any_header_decodes_minimally_or_is_rejected(data):
    reader = Reader(data)
    try:
        value = reader.varint()
    except DecodeError:
        return
    assert encode_varint(value) == data[: reader.pos]
