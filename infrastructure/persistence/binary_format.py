"""Tag bytes, limits and the varint / text writers of the binary transcoder's format (ARCHITECTURE 3).

``transcoding`` describes the format and writes it; ``decoding`` reads it. Both take their
constants from here, so the two can never disagree on a tag.
"""

from __future__ import annotations

import struct
from functools import cache

from mlsgroup.domain.eventing import init_fields

from .errors import UnsupportedValueError

__all__ = [
    "MAX_DEPTH", "StateFields", "U64_MAX", "FLOAT_STRUCT", "U64LE", "CONTINUED8",
    "TAG_NONE", "TAG_FALSE", "TAG_TRUE", "TAG_UINT", "TAG_NINT", "TAG_BIGINT", "TAG_FLOAT", "TAG_STR", "TAG_BYTES",
    "TAG_TUPLE", "TAG_LIST", "TAG_DICT", "TAG_FROZENSET", "TAG_SET", "TAG_UUID", "TAG_ENUM", "TAG_RECORD",
    "TAG_ADAPTED", "TAG_FIXINT", "put_varint", "put_text", "record_keys",
]

MAX_DEPTH = 64
"""Deepest nesting encoded or decoded; deeper values are refused instead of exhausting the stack."""

TAG_NONE, TAG_FALSE, TAG_TRUE = 0x00, 0x01, 0x02
TAG_UINT, TAG_NINT, TAG_BIGINT, TAG_FLOAT = 0x03, 0x04, 0x05, 0x06
TAG_STR, TAG_BYTES, TAG_TUPLE, TAG_LIST, TAG_DICT = 0x07, 0x08, 0x09, 0x0A, 0x0B
TAG_FROZENSET, TAG_SET, TAG_UUID, TAG_ENUM, TAG_RECORD, TAG_ADAPTED = 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11
TAG_FIXINT = 0x80

StateFields = tuple[tuple[str, bytes, int], ...]
"""Expected keys of a top-level dict: (key, its tagged encoding, the encoding's size), in order."""

U64_MAX = (1 << 64) - 1
FLOAT_STRUCT = struct.Struct(">d")
U64LE = struct.Struct("<Q")
CONTINUED8 = 0x8080808080808080  # the continuation bits of eight varint bytes


def put_varint(out: bytearray, n: int) -> None:
    if 0x100000000000000 <= n < 0x8000000000000000:
        # Nine bytes (nanosecond timestamps): spread the low 56 bits over eight bytes in three steps.
        x = n & 0xFFFFFFFFFFFFFF
        x = (x & 0x000000000FFFFFFF) | ((x & 0x00FFFFFFF0000000) << 4)
        x = (x & 0x00003FFF00003FFF) | ((x & 0x0FFFC0000FFFC000) << 2)
        x = (x & 0x007F007F007F007F) | ((x & 0x3F803F803F803F80) << 1)
        out += U64LE.pack(x | CONTINUED8)
        out.append(n >> 56)
        return
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def put_text(out: bytearray, text: str) -> None:
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnsupportedValueError(f"string is not valid Unicode text: {exc}") from None
    size = len(data)
    if size < 0x80:
        out.append(size)
    else:
        put_varint(out, size)
    out += data


@cache
def record_keys(cls: type) -> tuple[tuple[str, bytes], ...]:
    """Attribute name and pre-encoded keyword of each ``__init__`` field of an attrs class."""
    plan = []
    for name, alias in init_fields(cls):
        key = bytearray()
        put_text(key, alias)
        plan.append((name, bytes(key)))
    return tuple(plan)
