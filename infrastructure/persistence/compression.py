"""Zstandard compression of stored event state, with reused per-thread contexts (ARCHITECTURE 3).

Records are compressed before they are encrypted. Each record starts with one marker byte:

* ``0x02`` a zstd frame without its magic number, compressed against the record vocabulary's
  dictionary (``vocabulary``, version 1): what new records use;
* ``0x01`` a plain zstd frame (records written before the vocabulary; still read);
* ``0x00`` the state unchanged, when zstd would not make it smaller.

The vocabulary makes the field names and topics every record spells cost a few bytes each, which is
most of what a small record can save: its values (keys, seeds, signatures, ciphertexts) do not
compress. Frames carry their content size and no checksum: AES-GCM already authenticates them.

New records are written at level -1, the fastest mode: it leaves literals without Huffman coding,
so decompressing a small record costs a fifth of a level-3 frame (rebuilding projections decodes
every record), for about 1% more bytes on real group stores (records are mostly keys, seeds and
ciphertexts, which do not compress). Frames of any level read the same way.

A frame's declared content size is checked before decompressing (a corrupt header must not make
zstd allocate gigabytes). Parsing the header costs as much as a small record's decompression, so a
vocabulary frame whose header descriptor alone shows a single segment of at most 65,791 bytes (every
record this writes below that size) is decompressed straight away; any other frame has its header
parsed first.
"""

from __future__ import annotations

import functools
import threading

import zstandard
from eventsourcing.persistence import Compressor

from .errors import DecompressionError
from .vocabulary import dictionary_bytes

__all__ = ["ZstdCompressor", "MAX_RECORD_SIZE"]

MAX_RECORD_SIZE = 64 * 1024 * 1024
"""Largest decompressed record accepted; a frame claiming more is treated as corrupt."""

_RAW = 0x00
_ZSTD = 0x01
_ZSTD_V1 = 0x02
_RAW_MARKER = bytes((_RAW,))
_ZSTD_V1_MARKER = bytes((_ZSTD_V1,))
_MAGICLESS = zstandard.FORMAT_ZSTD1_MAGICLESS
_VOCABULARY = 1


def _declares_small_size(descriptor: int) -> bool:
    """Whether a zstd frame header descriptor (RFC 8878 3.1.1.1.1) declares a single-segment frame of a
    content size held in 1 or 2 bytes (at most 65,791 bytes, which is then also its window size).

    Its top two bits choose the size field: 0 means one byte (with the single-segment bit, 0x20),
    1 means two bytes. Frames with a window descriptor, a 4- or 8-byte size or the reserved bit
    (0x08) set are left to the checked path.
    """
    return not descriptor & 0x08 and bool(descriptor & 0x20) and descriptor >> 6 <= 1


_SMALL_SIZE_DESCRIPTOR = tuple(_declares_small_size(descriptor) for descriptor in range(256))


@functools.cache
def _dictionary(level: int) -> zstandard.ZstdCompressionDict:
    dictionary = zstandard.ZstdCompressionDict(dictionary_bytes(_VOCABULARY), dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    dictionary.precompute_compress(level=level)
    return dictionary


class ZstdCompressor(Compressor):
    """eventsourcing Compressor using zstandard; safe to share between threads."""

    DEFAULT_LEVEL = -1

    def __init__(self, level: int = DEFAULT_LEVEL) -> None:
        self.level = level
        # zstd contexts are not thread-safe, so each thread keeps its own pair and reuses it.
        self._local = threading.local()

    def _contexts(self) -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor, zstandard.ZstdDecompressor]:
        """This thread's (vocabulary compressor, vocabulary decompressor, plain-frame decompressor)."""
        local = self._local
        try:
            return local.compressor, local.decompressor, local.plain_decompressor
        except AttributeError:
            dictionary = _dictionary(self.level)
            params = zstandard.ZstdCompressionParameters.from_level(
                self.level, format=_MAGICLESS, write_checksum=0, write_content_size=1, write_dict_id=0
            )
            local.compressor = zstandard.ZstdCompressor(dict_data=dictionary, compression_params=params)
            local.decompressor = zstandard.ZstdDecompressor(dict_data=dictionary, format=_MAGICLESS)
            local.plain_decompressor = zstandard.ZstdDecompressor()
            return local.compressor, local.decompressor, local.plain_decompressor

    def compress(self, data: bytes) -> bytes:
        try:
            compressor = self._local.compressor
        except AttributeError:
            compressor = self._contexts()[0]
        frame = compressor.compress(data)
        if len(frame) < len(data):
            return _ZSTD_V1_MARKER + frame
        return _RAW_MARKER + data

    def decompress(self, data: bytes) -> bytes:
        if len(data) > 1 and data[0] == _ZSTD_V1 and _SMALL_SIZE_DESCRIPTOR[data[1]]:
            try:
                decompressor = self._local.decompressor
            except AttributeError:
                decompressor = self._contexts()[1]
            try:
                return decompressor.decompress(data[1:])
            except zstandard.ZstdError as exc:
                raise DecompressionError(f"corrupt zstd frame: {exc}") from None
        return self._decompress_checked(data)

    def _decompress_checked(self, data: bytes) -> bytes:
        """Any record, its frame's declared content size checked before decompressing."""
        if not data:
            raise DecompressionError("empty record")
        marker = data[0]
        if marker == _RAW:
            return bytes(data[1:])
        frame = data[1:]
        try:
            if marker == _ZSTD_V1:
                size = zstandard.get_frame_parameters(frame, format=_MAGICLESS).content_size
                decompressor = self._local.decompressor
            elif marker == _ZSTD:
                size = zstandard.frame_content_size(frame)
                decompressor = self._local.plain_decompressor
            else:
                raise DecompressionError(f"unknown compression marker 0x{marker:02x}")
        except zstandard.ZstdError as exc:
            raise DecompressionError(f"invalid zstd frame header: {exc}") from None
        except AttributeError:
            decompressor = self._contexts()[1 if marker == _ZSTD_V1 else 2]
        if size < 0 or size > MAX_RECORD_SIZE:
            raise DecompressionError(f"zstd frame declares an unacceptable content size ({size})")
        try:
            return decompressor.decompress(frame)
        except zstandard.ZstdError as exc:
            raise DecompressionError(f"corrupt zstd frame: {exc}") from None
