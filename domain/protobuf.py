"""A small hand-written protobuf (proto3) wire codec for XMTP's extension and transcript messages.

Encoding follows proto3: scalar fields at their default value are omitted unless the field has
explicit presence (``optional``), sub-messages are always written when present, map entries are
written as repeated ``{1: key, 2: value}`` messages (in key order, so encodings are deterministic).
Decoding follows protobuf's rules: unknown fields (including groups) are skipped, the last value of a
repeated singular scalar wins, repeated occurrences of a singular sub-message merge (their payloads
concatenate), and malformed input (truncated varints or lengths, field number 0, a wire type that does
not match a known field, invalid UTF-8, unbalanced groups, nesting past the recursion limit) raises
``DecodeError`` and nothing else.
"""

from __future__ import annotations

from typing import Iterable

from .mls.errors import DecodeError

__all__ = [
    "DecodeError",
    "WIRE_VARINT",
    "WIRE_I64",
    "WIRE_LEN",
    "WIRE_I32",
    "RECURSION_LIMIT",
    "encode_varint",
    "decode_varint",
    "to_int32",
    "ProtoWriter",
    "ProtoMessage",
    "decode_map_entry",
]

WIRE_VARINT = 0
WIRE_I64 = 1
WIRE_LEN = 2
WIRE_SGROUP = 3
WIRE_EGROUP = 4
WIRE_I32 = 5

# prost's default: deeper nesting is rejected rather than risking the interpreter's stack.
RECURSION_LIMIT = 100

_MAX_FIELD_NUMBER = (1 << 29) - 1
_UINT64_MAX = (1 << 64) - 1


def encode_varint(value: int) -> bytes:
    """Base-128 little-endian varint of an unsigned 64-bit value."""
    if value < 0 or value > _UINT64_MAX:
        raise ValueError(f"varint value {value} out of the uint64 range")
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_varint(data: bytes, pos: int) -> tuple[int, int]:
    """Read a varint at ``pos``; returns (value, next position)."""
    result = 0
    shift = 0
    end = len(data)
    for i in range(10):
        if pos >= end:
            raise DecodeError("truncated varint")
        byte = data[pos]
        pos += 1
        if i == 9 and byte > 1:
            raise DecodeError("varint overflows 64 bits")
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
    raise DecodeError("varint longer than 10 bytes")


def to_int32(value: int) -> int:
    """The int32 a decoder sees for a varint (protobuf truncates to the low 32 bits, two's complement)."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _tag(field: int, wire_type: int) -> bytes:
    return encode_varint((field << 3) | wire_type)


class ProtoWriter:
    """Accumulates the fields of one message, in the order written."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def varint(self, field: int, value: int, *, present: bool = False) -> ProtoWriter:
        """A uint64/enum field; omitted at 0 unless ``present`` (explicit presence)."""
        if value or present:
            self._parts.append(_tag(field, WIRE_VARINT))
            self._parts.append(encode_varint(value))
        return self

    def bytes(self, field: int, value: bytes, *, present: bool = False) -> ProtoWriter:
        """A bytes field; omitted when empty unless ``present``."""
        if value or present:
            self._parts.append(_tag(field, WIRE_LEN))
            self._parts.append(encode_varint(len(value)))
            self._parts.append(value)
        return self

    def string(self, field: int, value: str, *, present: bool = False) -> ProtoWriter:
        """A string field; omitted when empty unless ``present``."""
        return self.bytes(field, value.encode("utf-8"), present=present)

    def message(self, field: int, payload: bytes) -> ProtoWriter:
        """An embedded message (already encoded); always written, even when empty."""
        return self.bytes(field, payload, present=True)

    def repeated_bytes(self, field: int, values: Iterable[bytes]) -> ProtoWriter:
        for value in values:
            self.bytes(field, value, present=True)
        return self

    def repeated_strings(self, field: int, values: Iterable[str]) -> ProtoWriter:
        for value in values:
            self.string(field, value, present=True)
        return self

    def repeated_messages(self, field: int, payloads: Iterable[bytes]) -> ProtoWriter:
        for payload in payloads:
            self.message(field, payload)
        return self

    def finish(self) -> bytes:
        return b"".join(self._parts)


def _skip_group(data: bytes, pos: int, field: int, depth: int) -> int:
    """Skip an unknown group's contents up to its matching end tag; returns the position after it."""
    if depth > RECURSION_LIMIT:
        raise DecodeError("recursion limit reached")
    end = len(data)
    while pos < end:
        key, pos = decode_varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0 or number > _MAX_FIELD_NUMBER:
            raise DecodeError(f"invalid field number {number}")
        if wire_type == WIRE_EGROUP:
            if number != field:
                raise DecodeError("unexpected end group tag")
            return pos
        pos = _skip_value(data, pos, number, wire_type, depth + 1)
    raise DecodeError("unterminated group")


def _skip_value(data: bytes, pos: int, number: int, wire_type: int, depth: int) -> int:
    if wire_type == WIRE_VARINT:
        return decode_varint(data, pos)[1]
    if wire_type == WIRE_I64:
        pos += 8
    elif wire_type == WIRE_I32:
        pos += 4
    elif wire_type == WIRE_LEN:
        length, pos = decode_varint(data, pos)
        pos += length
    elif wire_type == WIRE_SGROUP:
        return _skip_group(data, pos, number, depth)
    else:
        raise DecodeError(f"invalid wire type {wire_type}")
    if pos > len(data):
        raise DecodeError("field runs past the end of the buffer")
    return pos


class ProtoMessage:
    """The fields of one decoded message, read through typed accessors that check wire types."""

    __slots__ = ("_fields", "_order")

    def __init__(self, data: bytes) -> None:
        if not isinstance(data, bytes):
            data = bytes(data)
        fields: dict[int, list[tuple[int, int | bytes]]] = {}
        order: list[int] = []
        pos = 0
        end = len(data)
        while pos < end:
            key, pos = decode_varint(data, pos)
            number, wire_type = key >> 3, key & 7
            if number == 0 or number > _MAX_FIELD_NUMBER:
                raise DecodeError(f"invalid field number {number}")
            value: int | bytes
            if wire_type == WIRE_VARINT:
                value, pos = decode_varint(data, pos)
            elif wire_type == WIRE_LEN:
                length, pos = decode_varint(data, pos)
                if length > end - pos:
                    raise DecodeError("length-delimited field runs past the end of the buffer")
                value = data[pos : pos + length]
                pos += length
            elif wire_type == WIRE_EGROUP:
                raise DecodeError("end group tag without a start")
            else:
                # Fixed-width and group fields: no XMTP message uses them, so they can only be
                # unknown fields; skip them, but remember the wire type so a known field rejects it.
                start = pos
                pos = _skip_value(data, pos, number, wire_type, 1)
                value = data[start:pos]
            fields.setdefault(number, []).append((wire_type, value))
            order.append(number)
        self._fields = fields
        self._order = order

    def _occurrences(self, field: int, wire_type: int) -> list[int | bytes]:
        found = self._fields.get(field, ())
        values = []
        for seen_type, value in found:
            if seen_type != wire_type:
                raise DecodeError(f"field {field}: wire type {seen_type}, expected {wire_type}")
            values.append(value)
        return values

    def has(self, field: int) -> bool:
        return field in self._fields

    def varint(self, field: int, default: int = 0) -> int:
        values = self._occurrences(field, WIRE_VARINT)
        return values[-1] if values else default  # type: ignore[return-value]

    def bytes(self, field: int) -> bytes | None:
        values = self._occurrences(field, WIRE_LEN)
        return values[-1] if values else None  # type: ignore[return-value]

    def string(self, field: int) -> str | None:
        raw = self.bytes(field)
        return None if raw is None else _utf8(raw)

    def message(self, field: int) -> bytes | None:
        """A singular sub-message: several occurrences merge, which is what concatenation decodes to."""
        values = self._occurrences(field, WIRE_LEN)
        return b"".join(values) if values else None  # type: ignore[arg-type]

    def repeated_bytes(self, field: int) -> list[bytes]:
        return self._occurrences(field, WIRE_LEN)  # type: ignore[return-value]

    def repeated_strings(self, field: int) -> list[str]:
        return [_utf8(raw) for raw in self.repeated_bytes(field)]  # type: ignore[arg-type]

    def repeated_messages(self, field: int) -> list[bytes]:
        return self.repeated_bytes(field)

    def last_of(self, fields: Iterable[int]) -> int | None:
        """Which of ``fields`` (the members of a oneof) appeared last; that one is the oneof's value."""
        wanted = set(fields)
        for number in reversed(self._order):
            if number in wanted:
                return number
        return None


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"invalid UTF-8 in a string field: {exc.reason}") from None


def decode_map_entry(data: bytes, value_wire_type: int) -> tuple[str, int | bytes | None]:
    """A map entry {1: string key, 2: value}: (key, raw value or None if absent).

    Entries as encoders write them (key then value, each once) take a fast path; anything else is
    read with the general decoder, so the result is the same either way."""
    end = len(data)
    if end >= 2 and data[0] == 0x0A and data[1] < 0x80:
        key_end = 2 + data[1]
        if key_end <= end:
            value_tag = 0x10 if value_wire_type == WIRE_VARINT else 0x12
            if key_end == end:
                return _utf8(data[2:key_end]), None
            if data[key_end] == value_tag:
                pos = key_end + 1
                if value_wire_type == WIRE_VARINT:
                    value, pos = decode_varint(data, pos)
                    if pos == end:
                        return _utf8(data[2:key_end]), value
                else:
                    length, pos = decode_varint(data, pos)
                    if pos + length == end:
                        return _utf8(data[2:key_end]), data[pos:end]
    message = ProtoMessage(data)
    key = message.string(1) or ""
    if value_wire_type == WIRE_VARINT:
        return key, message.varint(2) if message.has(2) else None
    return key, message.bytes(2)
