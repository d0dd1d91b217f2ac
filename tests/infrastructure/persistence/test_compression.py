"""Zstandard record compression: round trips, raw fallback, the frozen vocabulary dictionary, plain frames
of older records, reused per-thread contexts, typed errors."""

from __future__ import annotations

import hashlib
import os
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlsgroup.infrastructure.persistence import BinaryTranscoder, DecompressionError, ZstdCompressor
from mlsgroup.infrastructure.persistence.vocabulary import VOCABULARY_V1, dictionary_bytes

COMPRESSOR = ZstdCompressor()


@given(st.binary(max_size=3000))
def test_round_trip(data: bytes) -> None:
    assert COMPRESSOR.decompress(COMPRESSOR.compress(data)) == data


def test_compressible_state_shrinks_and_random_state_is_kept_raw() -> None:
    text = b"mlsgroup.GroupAggregate.IntentQueued " * 100
    packed = COMPRESSOR.compress(text)
    assert packed[0] == 0x02 and len(packed) < len(text) // 10
    noise = os.urandom(1024)
    assert COMPRESSOR.compress(noise) == b"\x00" + noise


def test_contexts_are_reused_within_a_thread_and_separate_across_threads() -> None:
    compressor = ZstdCompressor()
    compressor.compress(b"x" * 100)
    mine = compressor._contexts()
    compressor.decompress(compressor.compress(b"y" * 100))
    assert compressor._contexts()[0] is mine[0] and compressor._contexts()[1] is mine[1]

    others: list[object] = []
    failures: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            for i in range(200):
                data = bytes([seed]) * (50 + i) + os.urandom(i % 7)
                assert compressor.decompress(compressor.compress(data)) == data
            others.append(compressor._contexts()[0])
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len({id(c) for c in others}) == 4 and all(c is not mine[0] for c in others)


@pytest.mark.parametrize(
    "data",
    [b"", b"\x02abc", b"\x01", b"\x01garbage", b"\x01" + COMPRESSOR.compress(b"z" * 500)[1:-3]],
    ids=["empty", "unknown-marker", "no-frame", "bad-frame", "truncated-frame"],
)
def test_bad_records_raise_typed_error(data: bytes) -> None:
    with pytest.raises(DecompressionError):
        COMPRESSOR.decompress(data)


@given(st.binary(max_size=200))
def test_garbage_frames_raise_only_typed_error(data: bytes) -> None:
    try:
        COMPRESSOR.decompress(b"\x01" + data)
    except DecompressionError:
        pass


def test_frames_of_any_level_read_back() -> None:
    text = b"mlsgroup.GroupAggregate.EnvelopeProcessed timestamp_ns payload " * 20
    assert COMPRESSOR.level == ZstdCompressor.DEFAULT_LEVEL == -1  # fast mode: literals are not Huffman coded
    for level in (-5, -1, 1, 3, 19):
        record = ZstdCompressor(level=level).compress(text)
        assert record[0] == 0x02 and COMPRESSOR.decompress(record) == text


def test_plain_frames_of_records_written_before_the_vocabulary_still_read() -> None:
    import zstandard

    text = b"mlsgroup.GroupAggregate.EnvelopeProcessed timestamp_ns payload " * 20
    frame = zstandard.ZstdCompressor(level=-1, write_checksum=False, write_content_size=True).compress(text)
    assert COMPRESSOR.decompress(b"\x01" + frame) == text


def test_the_vocabulary_dictionary_is_frozen() -> None:
    # Records written with vocabulary 1 need exactly these bytes to be read: never edit it, add a version.
    assert len(VOCABULARY_V1) == len(set(VOCABULARY_V1)) == 112
    assert hashlib.sha256(dictionary_bytes(1)).hexdigest() == PINNED_VOCABULARY_V1
    with pytest.raises(ValueError):
        dictionary_bytes(2)


def test_the_vocabulary_makes_field_names_and_topics_cheap() -> None:
    import zstandard

    # An envelope record's shape: its keys and outcome topic spelled out, values that do not compress.
    state = {
        "timestamp_ns": 1_795_698_545_000_129_717,
        "cursor": 7,
        "payload": b"",
        "server_time_ns": 1_795_698_545_000_129_718,
        "outcome": os.urandom(300),
    }
    raw = BinaryTranscoder().encode(state) + b"\x10(mlsgroup.EnvelopeOutcome.MessageReceived\x01\x01\x04wire"
    plain = zstandard.ZstdCompressor(level=-1, write_checksum=False, write_content_size=True).compress(raw)
    record = COMPRESSOR.compress(raw)
    assert record[0] == 0x02 and COMPRESSOR.decompress(record) == raw
    names = len(raw) - 300 - 16  # the bytes that are not values
    assert len(record) <= len(raw) - names // 2
    assert len(record) < len(plain) - 40


@pytest.mark.parametrize("data", [b"\x02", b"\x02garbage", b"\x03" + b"x" * 10])
def test_malformed_vocabulary_frames_raise_decompression_error(data: bytes) -> None:
    with pytest.raises(DecompressionError):
        COMPRESSOR.decompress(data)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_after_the_vocabulary_marker_raise_only_decompression_error(data: bytes) -> None:
    try:
        COMPRESSOR.decompress(b"\x02" + data)
    except DecompressionError:
        pass


def test_frames_declaring_a_huge_content_size_are_refused_before_allocating() -> None:
    import zstandard

    frame = zstandard.ZstdCompressor(write_content_size=True).compress(b"\x00" * 100)
    header = bytearray(frame)
    # Frame header descriptor 0x20-0x3f: single segment, 1-byte content size; lie with an 8-byte one.
    huge = b"\x28\xb5\x2f\xfd" + bytes((0xE0,)) + (2**40).to_bytes(8, "little") + bytes(header[6:])
    with pytest.raises(DecompressionError):
        COMPRESSOR.decompress(b"\x01" + huge)


PINNED_VOCABULARY_V1 = "d213a455be761f8ab8e3bcad7613c091c29cfbbd77b0589dee3cf6bb42aa12f8"


# The unchecked path: small vocabulary frames are decompressed without parsing their header first ---


def test_the_unchecked_descriptors_declare_a_small_single_segment_whatever_follows() -> None:
    import zstandard

    from mlsgroup.infrastructure.persistence.compression import _SMALL_SIZE_DESCRIPTOR

    unchecked = [d for d in range(256) if _SMALL_SIZE_DESCRIPTOR[d]]
    assert 0x20 in unchecked and 0x60 in unchecked and 0xA0 not in unchecked and 0x28 not in unchecked
    for descriptor in unchecked:
        for fill in range(256):
            header = bytes((descriptor,)) + bytes((fill,)) * 8
            params = zstandard.get_frame_parameters(header, format=zstandard.FORMAT_ZSTD1_MAGICLESS)
            assert 0 <= params.content_size <= 65791 and params.window_size <= 65791


@pytest.mark.parametrize("size", [100, 255, 256, 4000, 65791])
def test_records_below_64_kib_take_the_unchecked_path(size: int) -> None:
    from mlsgroup.infrastructure.persistence.compression import _SMALL_SIZE_DESCRIPTOR

    record = COMPRESSOR.compress(os.urandom(size // 2) + b"a" * (size - size // 2))
    assert record[0] == 0x02 and _SMALL_SIZE_DESCRIPTOR[record[1]]


def _outcome(decompress: object, record: bytes) -> tuple[str, bytes]:
    try:
        return "ok", decompress(record)  # type: ignore[operator]
    except DecompressionError:
        return "error", b""


@given(st.binary(max_size=2000), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=3))
def test_the_unchecked_path_agrees_with_the_checked_path(payload: bytes, flips: list[tuple[int, int]]) -> None:
    record = bytearray(COMPRESSOR.compress(b"mlsgroup.EnvelopeOutcome " + payload))
    for position, byte in flips:
        record[1 + position % (len(record) - 1)] = byte
    fast = _outcome(COMPRESSOR.decompress, bytes(record))
    assert fast == _outcome(COMPRESSOR._decompress_checked, bytes(record))
    if not flips:
        assert fast == ("ok", b"mlsgroup.EnvelopeOutcome " + payload)


@given(st.binary(max_size=300))
def test_unchecked_garbage_raises_only_decompression_error(tail: bytes) -> None:
    for descriptor in (0x20, 0x60, 0x67, 0x37):
        assert _outcome(COMPRESSOR.decompress, bytes((0x02, descriptor)) + tail) == _outcome(
            COMPRESSOR._decompress_checked, bytes((0x02, descriptor)) + tail
        )
