"""Zstandard compression of stored event state, with reused per-thread contexts (ARCHITECTURE 3).

Records are compressed before they are encrypted. Each record starts with one marker byte:
``0x01`` followed by a zstd frame, or ``0x00`` followed by the state unchanged when zstd would not
make it smaller (seeds, ciphertexts and key material do not compress, and a frame around them only
adds bytes). Frames carry their content size and no checksum: AES-GCM already authenticates them.

New records are written at level -1, the fastest mode: it leaves literals without Huffman coding,
so decompressing a small record costs a fifth of a level-3 frame (rebuilding projections decodes
every record), for about 1% more bytes on real group stores (records are mostly keys, seeds and
ciphertexts, which do not compress). Frames of any level read the same way.
"""

from __future__ import annotations

import threading

import zstandard
from eventsourcing.persistence import Compressor

from .errors import DecompressionError

__all__ = ["ZstdCompressor", "MAX_RECORD_SIZE"]

MAX_RECORD_SIZE = 64 * 1024 * 1024
"""Largest decompressed record accepted; a frame claiming more is treated as corrupt."""

_RAW = 0x00
_ZSTD = 0x01
_RAW_MARKER = bytes((_RAW,))
_ZSTD_MARKER = bytes((_ZSTD,))


class ZstdCompressor(Compressor):
    """eventsourcing Compressor using zstandard; safe to share between threads."""

    DEFAULT_LEVEL = -1

    def __init__(self, level: int = DEFAULT_LEVEL) -> None:
        self.level = level
        # zstd contexts are not thread-safe, so each thread keeps its own pair and reuses it.
        self._local = threading.local()

    def _contexts(self) -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
        local = self._local
        try:
            return local.compressor, local.decompressor
        except AttributeError:
            local.compressor = zstandard.ZstdCompressor(
                level=self.level, write_checksum=False, write_content_size=True, write_dict_id=False
            )
            local.decompressor = zstandard.ZstdDecompressor()
            return local.compressor, local.decompressor

    def compress(self, data: bytes) -> bytes:
        try:
            compressor = self._local.compressor
        except AttributeError:
            compressor = self._contexts()[0]
        frame = compressor.compress(data)
        if len(frame) < len(data):
            return _ZSTD_MARKER + frame
        return _RAW_MARKER + data

    def decompress(self, data: bytes) -> bytes:
        if not data:
            raise DecompressionError("empty record")
        marker = data[0]
        if marker == _RAW:
            return bytes(data[1:])
        if marker != _ZSTD:
            raise DecompressionError(f"unknown compression marker 0x{marker:02x}")
        frame = data[1:]
        try:
            size = zstandard.frame_content_size(frame)
        except zstandard.ZstdError as exc:
            raise DecompressionError(f"invalid zstd frame header: {exc}") from None
        if size < 0 or size > MAX_RECORD_SIZE:
            raise DecompressionError(f"zstd frame declares an unacceptable content size ({size})")
        try:
            decompressor = self._local.decompressor
        except AttributeError:
            decompressor = self._contexts()[1]
        try:
            return decompressor.decompress(frame)
        except zstandard.ZstdError as exc:
            raise DecompressionError(f"corrupt zstd frame: {exc}") from None
