"""ApplicationContent: the direct reader of the usual encoding agrees with the general protobuf decoder."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlsgroup.domain.application_content import ApplicationContent, message_id
from mlsgroup.domain.protobuf import DecodeError, ProtoWriter


def _general(data: bytes) -> ApplicationContent | str:
    try:
        return ApplicationContent._decode_general(data)
    except DecodeError:
        return "error"


def _fast(data: bytes) -> ApplicationContent | str:
    try:
        return ApplicationContent.decode(data)
    except DecodeError:
        return "error"


contents = st.builds(
    ApplicationContent,
    st.text(min_size=1, max_size=40),
    st.binary(max_size=400),
    st.binary(max_size=40),
)


@given(contents)
def test_encodings_round_trip(content: ApplicationContent) -> None:
    assert ApplicationContent.decode(content.encode()) == content


@given(st.binary(max_size=300))
def test_any_bytes_decode_the_same_both_ways(data: bytes) -> None:
    assert _fast(data) == _general(data)


@st.composite
def field_soups(draw: st.DrawFn) -> bytes:
    """Fields 1-3 and others in any order, repeated, empty, with long or non-minimal lengths."""
    writer = ProtoWriter()
    for _ in range(draw(st.integers(0, 6))):
        number = draw(st.sampled_from([1, 2, 3, 3, 4, 15]))
        writer.bytes(number, draw(st.binary(max_size=200)))
    data = writer.finish()
    if data and draw(st.booleans()):
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    return data


@given(field_soups())
def test_field_soups_decode_the_same_both_ways(data: bytes) -> None:
    assert _fast(data) == _general(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",  # no content type
        b"\x0a\x00\x12\x01x",  # empty content type
        b"\x0a\x02\xff\xfe",  # not UTF-8
        b"\x0a\x05text",  # runs past the end
        b"\x0a\x80\x00",  # non-minimal length: the general decoder decides
    ],
)
def test_malformed_contents_raise_decode_error(data: bytes) -> None:
    with pytest.raises(DecodeError):
        ApplicationContent.decode(data)


def test_message_ids_follow_libxmtp() -> None:
    import hashlib

    assert message_id(b"g", b"k", b"c") == hashlib.sha256(b"g\tk\tc").digest()
