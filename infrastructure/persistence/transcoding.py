"""A compact tagged binary transcoder for event state (ARCHITECTURE 3: bytes, tuples and int keys survive).

JSON loses what the domain relies on (bytes need base64, tuples become lists, int dict keys become
strings), so events are stored in this small self-describing format instead. Each value is one tag
byte followed by its body; lengths and counts are unsigned LEB128 varints:

    0x00 None      0x01 False     0x02 True       0x80|n  int 0..127 in the tag byte
    0x03 int 128..2**64-1 (varint)                0x04 int -2**64..-1 (varint of -1-n)
    0x05 any other int: length + signed big-endian bytes
    0x06 float (8 bytes, IEEE 754 big-endian)     0x07 str: length + UTF-8
    0x08 bytes: length + raw                      0x09 tuple / 0x0A list: count + items
    0x0B dict: count + (key, value) items, in insertion order
    0x0C frozenset / 0x0D set: count + items, sorted by their encodings
    0x0E UUID: 16 bytes
    0x0F registered Enum: topic + value
    0x10 registered attrs value: topic + class_version + count + (field keyword, value) items
    0x11 value of a class registered with register_adapter: topic + its storable state

Types are kept exactly: a tuple comes back a tuple, an IntEnum member comes back that member, and a
type the format does not know (bytearray, NamedTuple, an unregistered class) is refused rather than
coerced. Decoding is strict: a truncated body, an unknown tag, a non-minimal varint or int, bad
UTF-8, duplicate keys, an unknown topic, trailing bytes or a value its class rejects raise
``TranscodingError`` and nothing else.
"""

from __future__ import annotations

import enum
import reprlib
import struct
from functools import cache
from typing import Any, Callable, Iterable
from uuid import UUID

from eventsourcing.persistence import Transcoder

from mlsgroup.domain.eventing import adapter_for, class_version_of, init_fields, registered_class, topic_of

from .errors import TranscodingError, UnregisteredTypeError, UnsupportedValueError

__all__ = ["BinaryTranscoder", "MAX_DEPTH", "StateFields"]

MAX_DEPTH = 64
"""Deepest nesting encoded or decoded; deeper values are refused instead of exhausting the stack."""

_NONE, _FALSE, _TRUE = 0x00, 0x01, 0x02
_UINT, _NINT, _BIGINT, _FLOAT = 0x03, 0x04, 0x05, 0x06
_STR, _BYTES, _TUPLE, _LIST, _DICT = 0x07, 0x08, 0x09, 0x0A, 0x0B
_FROZENSET, _SET, _UUID, _ENUM, _RECORD, _ADAPTED = 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11
_FIXINT = 0x80

StateFields = tuple[tuple[str, bytes, int], ...]
"""Expected keys of a top-level dict: (key, its tagged encoding, the encoding's size), in order."""

_U64_MAX = (1 << 64) - 1
_FLOAT_STRUCT = struct.Struct(">d")
_U64LE = struct.Struct("<Q")
_CONTINUED8 = 0x8080808080808080  # the continuation bits of eight varint bytes


def _put_varint(out: bytearray, n: int) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _put_text(out: bytearray, text: str) -> None:
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UnsupportedValueError(f"string is not valid Unicode text: {exc}") from None
    size = len(data)
    if size < 0x80:
        out.append(size)
    else:
        _put_varint(out, size)
    out += data


@cache
def _record_plan(cls: type) -> tuple[tuple[str, bytes], ...]:
    """Attribute name and pre-encoded keyword of each ``__init__`` field of an attrs class."""
    plan = []
    for name, alias in init_fields(cls):
        key = bytearray()
        _put_text(key, alias)
        plan.append((name, bytes(key)))
    return tuple(plan)


@cache
def _encoded_topic(cls: type) -> bytes:
    topic = topic_of(cls)
    if topic is None:
        raise UnregisteredTypeError(
            f"{cls.__module__}.{cls.__qualname__} is not registered; use register_event/register_value"
        )
    out = bytearray()
    _put_text(out, topic)
    return bytes(out)


class _Encoder:
    __slots__ = ("out",)

    dispatch: dict[type, Callable[[_Encoder, Any, int], None]]

    def __init__(self) -> None:
        self.out = bytearray()

    def value(self, obj: Any, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise UnsupportedValueError(f"value nests deeper than {MAX_DEPTH} levels")
        kind = type(obj)
        # Bytes, strings and small ints dominate event state; handle them without a call.
        if kind is bytes:
            out = self.out
            out.append(_BYTES)
            size = len(obj)
            if size < 0x80:
                out.append(size)
            else:
                _put_varint(out, size)
            out += obj
        elif kind is str:
            self.out.append(_STR)
            _put_text(self.out, obj)
        elif kind is int and 0 <= obj < 0x80:
            self.out.append(_FIXINT | obj)
        else:
            handler = self.dispatch.get(kind) or _registered_handler(kind)
            handler(self, obj, depth)

    def _adapted(self, obj: Any, depth: int) -> None:
        to_state = adapter_for(type(obj))[0]  # type: ignore[index]
        self.out.append(_ADAPTED)
        self.out += _encoded_topic(type(obj))
        self.value(to_state(obj), depth + 1)

    def _enum(self, obj: enum.Enum, depth: int) -> None:
        self.out.append(_ENUM)
        self.out += _encoded_topic(type(obj))
        self.value(obj.value, depth + 1)

    def _none(self, _obj: None, _depth: int) -> None:
        self.out.append(_NONE)

    def _bool(self, obj: bool, _depth: int) -> None:
        self.out.append(_TRUE if obj else _FALSE)

    def _int(self, obj: int, _depth: int) -> None:
        out = self.out
        if 0 <= obj < 0x80:
            out.append(_FIXINT | obj)
        elif 0 <= obj <= _U64_MAX:
            out.append(_UINT)
            _put_varint(out, obj)
        elif -_U64_MAX - 1 <= obj < 0:
            out.append(_NINT)
            _put_varint(out, -1 - obj)
        else:
            size = (obj.bit_length() + 8) // 8
            out.append(_BIGINT)
            _put_varint(out, size)
            out += obj.to_bytes(size, "big", signed=True)

    def _float(self, obj: float, _depth: int) -> None:
        self.out.append(_FLOAT)
        self.out += _FLOAT_STRUCT.pack(obj)

    def _sequence(self, tag: int, items: Any, depth: int) -> None:
        self.out.append(tag)
        _put_varint(self.out, len(items))
        for item in items:
            self.value(item, depth + 1)

    def _tuple(self, obj: tuple[Any, ...], depth: int) -> None:
        self._sequence(_TUPLE, obj, depth)

    def _list(self, obj: list[Any], depth: int) -> None:
        self._sequence(_LIST, obj, depth)

    def _dict(self, obj: dict[Any, Any], depth: int) -> None:
        self.out.append(_DICT)
        _put_varint(self.out, len(obj))
        for key, item in obj.items():
            self.value(key, depth + 1)
            self.value(item, depth + 1)

    def _unordered(self, tag: int, obj: frozenset[Any] | set[Any], depth: int) -> None:
        # Sorted encodings make equal sets encode identically whatever the hash seed.
        encoded = []
        for item in obj:
            sub = _Encoder()
            sub.value(item, depth + 1)
            encoded.append(bytes(sub.out))
        encoded.sort()
        self.out.append(tag)
        _put_varint(self.out, len(encoded))
        for item_bytes in encoded:
            self.out += item_bytes

    def _frozenset(self, obj: frozenset[Any], depth: int) -> None:
        self._unordered(_FROZENSET, obj, depth)

    def _set(self, obj: set[Any], depth: int) -> None:
        self._unordered(_SET, obj, depth)

    def _uuid(self, obj: UUID, _depth: int) -> None:
        self.out.append(_UUID)
        self.out += obj.bytes

    def _record(self, obj: Any, depth: int) -> None:
        cls = type(obj)
        out = self.out
        out.append(_RECORD)
        out += _encoded_topic(cls)
        _put_varint(out, class_version_of(cls))
        plan = _record_plan(cls)
        _put_varint(out, len(plan))
        for name, key in plan:
            out += key
            self.value(getattr(obj, name), depth + 1)


_Encoder.dispatch = {
    type(None): _Encoder._none,
    bool: _Encoder._bool,
    int: _Encoder._int,
    float: _Encoder._float,
    tuple: _Encoder._tuple,
    list: _Encoder._list,
    dict: _Encoder._dict,
    frozenset: _Encoder._frozenset,
    set: _Encoder._set,
    UUID: _Encoder._uuid,
}

_REGISTERED_HANDLERS: dict[type, Callable[[_Encoder, Any, int], None]] = {}


def _registered_handler(kind: type) -> Callable[[_Encoder, Any, int], None]:
    """How to encode a registered enum, adapted class or attrs record (raises for anything else)."""
    handler = _REGISTERED_HANDLERS.get(kind)
    if handler is not None:
        return handler
    if adapter_for(kind) is not None:
        handler = _Encoder._adapted
    elif issubclass(kind, enum.Enum):
        handler = _Encoder._enum
    elif hasattr(kind, "__attrs_attrs__"):
        handler = _Encoder._record
    else:
        raise UnsupportedValueError(f"cannot store a value of type {kind.__qualname__}")
    _encoded_topic(kind)  # refuses unregistered classes before anything is cached
    _REGISTERED_HANDLERS[kind] = handler
    return handler



# Decoding --------------------------------------------------------------------------------------
#
# Each reader takes (data, pos, depth) and returns (value, position after it): locals instead of
# attribute lookups, and the container loops read the tags that dominate event state (small ints,
# short bytes and strings) inline instead of calling per value. Indexing past the end raises
# IndexError and bad UTF-8 raises UnicodeDecodeError wherever it happens; BinaryTranscoder.decode
# turns both into TranscodingError, so only slices (which never raise) need explicit bounds checks.
# Everything caller-supplied (validators, upcasters, enum lookups, adapters) is wrapped where it is
# called, so no foreign IndexError can be mistaken for truncation.

_Reader = Callable[[bytes, int, int], tuple[Any, int]]

_RECORD_KIND, _ENUM_KIND, _ADAPTED_KIND = _RECORD, _ENUM, _ADAPTED


def _fail(reason: str, pos: int) -> TranscodingError:
    return TranscodingError(f"{reason} at offset {pos}")


def _long_varint(data: bytes, pos: int) -> tuple[int, int]:
    """A varint of two or more bytes at ``pos`` (its first byte is known to be >= 0x80).

    Two-byte varints (lengths up to 16 KiB) and nine-byte ones (nanosecond timestamps, in every
    event) are the common long ones: the first is read directly, the second with one 64-bit load
    whose seven-bit groups are packed together in three steps instead of a loop over nine bytes.
    """
    byte = data[pos + 1]
    if byte < 0x80:
        if not byte:
            raise _fail("non-minimal varint", pos)
        return (data[pos] & 0x7F) | byte << 7, pos + 2
    if pos + 9 <= len(data):
        last = data[pos + 8]
        if last < 0x80:
            x = _U64LE.unpack_from(data, pos)[0]
            if x & _CONTINUED8 == _CONTINUED8:
                if not last:
                    raise _fail("non-minimal varint", pos)
                x &= 0x7F7F7F7F7F7F7F7F
                x = (x & 0x007F007F007F007F) | ((x & 0x7F007F007F007F00) >> 1)
                x = (x & 0x00003FFF00003FFF) | ((x & 0x3FFF00003FFF0000) >> 2)
                x = (x & 0x000000000FFFFFFF) | ((x & 0x0FFFFFFF00000000) >> 4)
                return x | last << 56, pos + 9
    start = pos
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            break
        shift += 7
        if shift >= 70:
            raise _fail("varint longer than 10 bytes", start)
    if not byte:
        raise _fail("non-minimal varint", start)
    if result > _U64_MAX:
        raise _fail("varint exceeds 64 bits", start)
    return result, pos


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    byte = data[pos]
    if byte < 0x80:
        return byte, pos + 1
    return _long_varint(data, pos)


def _length(data: bytes, pos: int) -> tuple[int, int]:
    """A length (or a count: every item takes at least one byte) that fits in what is left."""
    size = data[pos]
    if size < 0x80:
        pos += 1
    else:
        size, pos = _long_varint(data, pos)
    if pos + size > len(data):
        raise _fail(f"length {size} runs past the end", pos)
    return size, pos


def _read(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    tag = data[pos]
    if tag >= _FIXINT:
        return tag & 0x7F, pos + 1
    if tag == _BYTES or tag == _STR:
        size = data[pos + 1]
        if size < 0x80:
            start = pos + 2
        else:
            size, start = _long_varint(data, pos + 1)
        stop = start + size
        if stop > len(data):
            raise _fail(f"length {size} runs past the end", start)
        if tag == _BYTES:
            return data[start:stop], stop
        return data[start:stop].decode(), stop
    if tag == _UINT:
        # A minimal varint of two or more bytes is at least 0x80, so it is canonical by itself.
        if data[pos + 1] < 0x80:
            raise _fail("non-canonical int", pos)
        return _long_varint(data, pos + 1)
    reader = _READERS[tag]
    if reader is None:
        raise _fail(f"unknown tag 0x{tag:02x}", pos)
    return reader(data, pos + 1, depth)


# The loops below read small ints and short bytes and strings inline (the same few lines in each
# loop, because a call per value costs more than the value), and leave the rest to _read.


def _items(data: bytes, pos: int, depth: int) -> tuple[list[Any], int]:
    count, pos = _length(data, pos)
    items: list[Any] = []
    if not count:
        return items, pos
    depth += 1
    if depth > MAX_DEPTH:
        raise _fail(f"nesting deeper than {MAX_DEPTH}", pos)
    append = items.append
    end = len(data)
    for _ in range(count):
        tag = data[pos]
        if tag >= _FIXINT:
            append(tag & 0x7F)
            pos += 1
        elif (tag == _BYTES or tag == _STR) and data[pos + 1] < 0x80:
            start = pos + 2
            pos = start + data[start - 1]
            if pos > end:
                raise _fail("length runs past the end", start)
            append(data[start:pos] if tag == _BYTES else data[start:pos].decode())
        else:
            item, pos = _read(data, pos, depth)
            append(item)
    return items, pos


def _read_dict(data: bytes, pos: int, depth: int) -> tuple[dict[Any, Any], int]:
    count, pos = _length(data, pos)
    result: dict[Any, Any] = {}
    if not count:
        return result, pos
    depth += 1
    if depth > MAX_DEPTH:
        raise _fail(f"nesting deeper than {MAX_DEPTH}", pos)
    end = len(data)
    for _ in range(count):
        tag = data[pos]
        if tag == _STR and data[pos + 1] < 0x80:
            start = pos + 2
            pos = start + data[start - 1]
            if pos > end:
                raise _fail("length runs past the end", start)
            key: Any = data[start:pos].decode()
        else:
            key, pos = _read(data, pos, depth)
        tag = data[pos]
        if tag >= _FIXINT:
            item: Any = tag & 0x7F
            pos += 1
        elif (tag == _BYTES or tag == _STR) and data[pos + 1] < 0x80:
            start = pos + 2
            pos = start + data[start - 1]
            if pos > end:
                raise _fail("length runs past the end", start)
            item = data[start:pos] if tag == _BYTES else data[start:pos].decode()
        elif tag == _UINT and data[pos + 1] >= 0x80:
            item, pos = _long_varint(data, pos + 1)
        else:
            item, pos = _read(data, pos, depth)
        try:
            result[key] = item
        except TypeError:
            raise _fail("unhashable dict key", pos) from None
    if len(result) != count:
        raise _fail("duplicate dict key", pos)
    return result, pos


def _read_planned(data: bytes, pos: int, fields: StateFields) -> tuple[dict[str, Any], int] | None:
    """A top-level dict body holding exactly the keys of ``fields``, in order; None if it does not.

    Keys are matched as stored bytes instead of being decoded, and the loop runs over the plan.
    """
    count, pos = _length(data, pos)
    if count != len(fields):
        return None
    result: dict[str, Any] = {}
    end = len(data)
    for key, encoded, size in fields:
        if not data.startswith(encoded, pos):
            return None
        pos += size
        tag = data[pos]
        if tag >= _FIXINT:
            item: Any = tag & 0x7F
            pos += 1
        elif (tag == _BYTES or tag == _STR) and data[pos + 1] < 0x80:
            start = pos + 2
            pos = start + data[start - 1]
            if pos > end:
                raise _fail("length runs past the end", start)
            item = data[start:pos] if tag == _BYTES else data[start:pos].decode()
        elif tag == _UINT and data[pos + 1] >= 0x80:
            item, pos = _long_varint(data, pos + 1)
        else:
            item, pos = _read(data, pos, 1)
        result[key] = item
    return result, pos


def _read_unique(data: bytes, pos: int, depth: int) -> tuple[set[Any], int]:
    items, pos = _items(data, pos, depth)
    try:
        result = set(items)
    except TypeError:
        raise _fail("unhashable set element", pos) from None
    if len(result) != len(items):
        raise _fail("duplicate set element", pos)
    return result, pos


def _read_tuple(data: bytes, pos: int, depth: int) -> tuple[tuple[Any, ...], int]:
    items, pos = _items(data, pos, depth)
    return tuple(items), pos


def _read_frozenset(data: bytes, pos: int, depth: int) -> tuple[frozenset[Any], int]:
    items, pos = _read_unique(data, pos, depth)
    return frozenset(items), pos


def _read_nint(data: bytes, pos: int, _depth: int) -> tuple[int, int]:
    n, pos = _varint(data, pos)
    return -1 - n, pos


def _read_bigint(data: bytes, pos: int, _depth: int) -> tuple[int, int]:
    size, pos = _length(data, pos)
    n = int.from_bytes(data[pos : pos + size], "big", signed=True)
    if -_U64_MAX - 1 <= n <= _U64_MAX or size != (n.bit_length() + 8) // 8:
        raise _fail("non-canonical big int", pos)
    return n, pos + size


def _read_float(data: bytes, pos: int, _depth: int) -> tuple[float, int]:
    if pos + 8 > len(data):
        raise _fail("8 bytes needed for a float", pos)
    return _FLOAT_STRUCT.unpack_from(data, pos)[0], pos + 8


def _read_uuid(data: bytes, pos: int, _depth: int) -> tuple[UUID, int]:
    stop = pos + 16
    if stop > len(data):
        raise _fail("16 bytes needed for a UUID", pos)
    return UUID(bytes=data[pos:stop]), stop


# Topic bytes as stored -> (topic, class, kind). Only registered topics are cached, and the registry
# never forgets a topic, so an entry never goes stale and the cache is bounded by the registry.
_TOPICS: dict[bytes, tuple[str, type, int | None]] = {}


def _topic_entry(data: bytes, pos: int) -> tuple[tuple[str, type, int | None], int]:
    size, start = _length(data, pos)
    stop = start + size
    raw = data[start:stop]
    entry = _TOPICS.get(raw)
    if entry is None:
        topic = raw.decode()
        cls = registered_class(topic)
        if cls is None:
            raise _fail(f"unknown topic {topic!r}", pos)
        kind: int | None = None
        if adapter_for(cls) is not None:
            kind = _ADAPTED_KIND
        elif issubclass(cls, enum.Enum):
            kind = _ENUM_KIND
        elif hasattr(cls, "__attrs_attrs__"):
            kind = _RECORD_KIND
        entry = (topic, cls, kind)
        _TOPICS[raw] = entry
    return entry, stop


def _read_enum(data: bytes, pos: int, depth: int) -> tuple[enum.Enum, int]:
    (topic, cls, kind), pos = _topic_entry(data, pos)
    if kind != _ENUM_KIND:
        raise _fail(f"topic {topic!r} is not an enum", pos)
    if depth >= MAX_DEPTH:
        raise _fail(f"nesting deeper than {MAX_DEPTH}", pos)
    raw, pos = _read(data, pos, depth + 1)
    try:
        member = cls._value2member_map_.get(raw)  # type: ignore[attr-defined]
    except TypeError:  # an unhashable value: let the enum's own lookup judge it
        member = None
    if member is None:
        try:
            member = cls(raw)
        except (ValueError, TypeError):
            raise _fail(f"{reprlib.repr(raw)} is not a member of {topic}", pos) from None
    return member, pos


@cache
def _field_plan(cls: type) -> tuple[tuple[str, bytes, int], ...]:
    """(keyword, encoded keyword, its size) of each ``__init__`` field of an attrs record, in stored order."""
    return tuple((alias, key, len(key)) for (_, key), (_, alias) in zip(_record_plan(cls), init_fields(cls)))


def _read_record(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    (topic, cls, kind), pos = _topic_entry(data, pos)
    if kind != _RECORD_KIND:
        raise _fail(f"topic {topic!r} is not an attrs record", pos)
    stored_version, pos = _varint(data, pos)
    body = pos
    count, pos = _length(data, pos)
    depth += 1
    if count and depth > MAX_DEPTH:
        raise _fail(f"nesting deeper than {MAX_DEPTH}", pos)
    fields = _field_plan(cls)
    state: dict[str, Any] | None = {}
    if count == len(fields):
        end = len(data)
        for key, encoded, size in fields:
            if not data.startswith(encoded, pos):
                state = None  # written by another class_version (or by hand): read it key by key
                break
            pos += size
            tag = data[pos]
            if tag >= _FIXINT:
                item: Any = tag & 0x7F
                pos += 1
            elif (tag == _BYTES or tag == _STR) and data[pos + 1] < 0x80:
                start = pos + 2
                pos = start + data[start - 1]
                if pos > end:
                    raise _fail("length runs past the end", start)
                item = data[start:pos] if tag == _BYTES else data[start:pos].decode()
            elif tag == _UINT and data[pos + 1] >= 0x80:
                item, pos = _long_varint(data, pos + 1)
            else:
                item, pos = _read(data, pos, depth)
            state[key] = item  # type: ignore[index]
    else:
        state = None
    if state is None:
        state, pos = _record_state(data, body, depth)
    return rebuild(cls, topic, stored_version, state, TranscodingError), pos


def _record_state(data: bytes, pos: int, depth: int) -> tuple[dict[str, Any], int]:
    """A record's (field keyword, value) items whatever their keywords and order."""
    count, pos = _length(data, pos)
    state: dict[str, Any] = {}
    for _ in range(count):
        size, start = _length(data, pos)
        pos = start + size
        key = data[start:pos].decode()
        item, pos = _read(data, pos, depth)
        state[key] = item
    if len(state) != count:
        raise _fail("duplicate field", pos)
    return state, pos


def _read_adapted(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    (topic, cls, kind), pos = _topic_entry(data, pos)
    if kind != _ADAPTED_KIND:
        raise _fail(f"topic {topic!r} has no adapter", pos)
    if depth >= MAX_DEPTH:
        raise _fail(f"nesting deeper than {MAX_DEPTH}", pos)
    state, pos = _read(data, pos, depth + 1)
    from_state = adapter_for(cls)[1]  # type: ignore[index]
    try:
        return from_state(state), pos
    except Exception as exc:  # the adapter decides what a valid state is
        raise _fail(f"{topic} rejected its stored state ({type(exc).__name__})", pos) from exc


def _constant(value: Any) -> _Reader:
    def read(_data: bytes, pos: int, _depth: int) -> tuple[Any, int]:
        return value, pos

    return read


def _readers() -> tuple[_Reader | None, ...]:
    table: list[_Reader | None] = [None] * _FIXINT
    table[_NONE] = _constant(None)
    table[_FALSE] = _constant(False)
    table[_TRUE] = _constant(True)
    table[_NINT] = _read_nint
    table[_BIGINT] = _read_bigint
    table[_FLOAT] = _read_float
    table[_TUPLE] = _read_tuple
    table[_LIST] = _items
    table[_DICT] = _read_dict
    table[_FROZENSET] = _read_frozenset
    table[_SET] = _read_unique
    table[_UUID] = _read_uuid
    table[_ENUM] = _read_enum
    table[_RECORD] = _read_record
    table[_ADAPTED] = _read_adapted
    return tuple(table)  # _STR, _BYTES and _UINT are read inline by _read


_READERS = _readers()


def rebuild(
    cls: type,
    topic: str,
    stored_version: int,
    state: dict[str, Any],
    fail: Callable[[str], Exception],
) -> Any:
    """Upcast ``state`` from ``stored_version`` and construct ``cls`` through its ``__init__``."""
    current = cls.__dict__.get("class_version", 1)
    if stored_version != current and not 1 <= stored_version <= current:
        raise fail(f"{topic} stored at class_version {stored_version}, code is at {current}")
    try:
        for version in range(stored_version, current):
            getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        return cls(**state)
    except Exception as exc:  # the class's own validators decide what is acceptable
        # The message leaves out the validator's text: it may quote stored (secret) values.
        raise fail(f"{topic} rejected its stored state ({type(exc).__name__})") from exc


class BinaryTranscoder(Transcoder):
    """eventsourcing Transcoder for the tagged binary format described in this module."""

    def encode(self, obj: Any) -> bytes:
        encoder = _Encoder()
        try:
            encoder.value(obj, 0)
        except RecursionError:
            raise UnsupportedValueError("value nests too deeply (or contains itself)") from None
        return bytes(encoder.out)

    def decode(self, data: bytes) -> Any:
        return self.decode_state(data, ())

    @staticmethod
    def state_fields(keys: Iterable[str]) -> StateFields:
        """The plan :meth:`decode_state` takes for dicts usually written with these string keys in this order."""
        plan = []
        for key in keys:
            encoded = bytearray((_STR,))
            _put_text(encoded, key)
            plan.append((key, bytes(encoded), len(encoded)))
        return tuple(plan)

    def decode_state(self, data: bytes, fields: StateFields) -> Any:
        """Like :meth:`decode`; a dict whose keys come in the order of ``fields`` is read faster."""
        if type(data) is not bytes:
            data = bytes(data)
        try:
            planned = _read_planned(data, 1, fields) if fields and data[:1] == b"\x0b" else None
            value, pos = _read(data, 0, 0) if planned is None else planned
        except IndexError:
            raise TranscodingError("truncated value") from None
        except UnicodeDecodeError:
            raise TranscodingError("invalid UTF-8") from None
        if pos != len(data):
            raise _fail(f"{len(data) - pos} trailing bytes", pos)
        return value
