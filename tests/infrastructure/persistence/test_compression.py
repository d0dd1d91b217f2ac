"""Zstandard record compression: round trips, raw fallback, reused per-thread contexts, typed errors."""

from __future__ import annotations

import os
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlsgroup.infrastructure.persistence import DecompressionError, ZstdCompressor

COMPRESSOR = ZstdCompressor()


@given(st.binary(max_size=3000))
def test_round_trip(data: bytes) -> None:
    assert COMPRESSOR.decompress(COMPRESSOR.compress(data)) == data


def test_compressible_state_shrinks_and_random_state_is_kept_raw() -> None:
    text = b"mlsgroup.GroupAggregate.IntentQueued " * 100
    packed = COMPRESSOR.compress(text)
    assert packed[0] == 0x01 and len(packed) < len(text) // 10
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
        assert record[0] == 0x01 and COMPRESSOR.decompress(record) == text


def test_frames_declaring_a_huge_content_size_are_refused_before_allocating() -> None:
    import zstandard

    frame = zstandard.ZstdCompressor(write_content_size=True).compress(b"\x00" * 100)
    header = bytearray(frame)
    # Frame header descriptor 0x20-0x3f: single segment, 1-byte content size; lie with an 8-byte one.
    huge = b"\x28\xb5\x2f\xfd" + bytes((0xE0,)) + (2**40).to_bytes(8, "little") + bytes(header[6:])
    with pytest.raises(DecompressionError):
        COMPRESSOR.decompress(b"\x01" + huge)
