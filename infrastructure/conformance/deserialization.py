"""Checks deserialization.json: RFC 9420 variable-size vector length headers (section 2.1.2).

Each entry is a ``vlbytes_header`` (hex) and the ``length`` it encodes. The header must decode,
as a whole, to that length, and encoding the length must give back the same header (the
encoding is minimal).
"""

from __future__ import annotations

from typing import Any

from mlsgroup.domain.mls.codec import Reader, encode_varint
from mlsgroup.domain.mls.errors import DecodeError

from . import VectorMismatch, expect_equal

__all__ = ["FILE", "check"]

FILE = "deserialization.json"


def check(entry: dict[str, Any]) -> None:
    header = bytes.fromhex(entry["vlbytes_header"])
    length = entry["length"]
    reader = Reader(header)
    try:
        decoded = reader.varint()
        reader.finish()
    except DecodeError as exc:
        raise VectorMismatch(f"vlbytes_header {header.hex()} does not decode: {exc}") from exc
    expect_equal("decoded length", decoded, length)
    expect_equal("encoded header", encode_varint(length), header)
