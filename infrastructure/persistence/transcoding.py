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
from typing import Any, Callable
from uuid import UUID

from eventsourcing.persistence import Transcoder

from mlsgroup.domain.eventing import adapter_for, class_version_of, init_fields, registered_class, topic_of

from .errors import TranscodingError, UnregisteredTypeError, UnsupportedValueError

__all__ = ["BinaryTranscoder", "MAX_DEPTH"]

MAX_DEPTH = 64
"""Deepest nesting encoded or decoded; deeper values are refused instead of exhausting the stack."""

_NONE, _FALSE, _TRUE = 0x00, 0x01, 0x02
_UINT, _NINT, _BIGINT, _FLOAT = 0x03, 0x04, 0x05, 0x06
_STR, _BYTES, _TUPLE, _LIST, _DICT = 0x07, 0x08, 0x09, 0x0A, 0x0B
_FROZENSET, _SET, _UUID, _ENUM, _RECORD, _ADAPTED = 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11
_FIXINT = 0x80

_U64_MAX = (1 << 64) - 1
_FLOAT_STRUCT = struct.Struct(">d")


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


class _Decoder:
    __slots__ = ("data", "pos", "end")

    dispatch: dict[int, Callable[[_Decoder, int], Any]]

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.end = len(data)

    def fail(self, reason: str) -> TranscodingError:
        return TranscodingError(f"{reason} at offset {self.pos}")

    def _take(self, size: int) -> bytes:
        start = self.pos
        stop = start + size
        if stop > self.end:
            raise self.fail(f"{size} bytes needed, {self.end - start} left")
        self.pos = stop
        return self.data[start:stop]

    def _varint(self) -> int:
        data, pos, end = self.data, self.pos, self.end
        if pos < end and data[pos] < 0x80:  # one-byte varints are the common case
            self.pos = pos + 1
            return data[pos]
        result = shift = 0
        while True:
            if pos >= end:
                raise self.fail("truncated varint")
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
            shift += 7
            if shift >= 70:
                raise self.fail("varint longer than 10 bytes")
        if byte == 0 and shift:
            raise self.fail("non-minimal varint")
        if result > _U64_MAX:
            raise self.fail("varint exceeds 64 bits")
        self.pos = pos
        return result

    def _length(self) -> int:
        size = self._varint()
        if size > self.end - self.pos:
            raise self.fail(f"length {size} runs past the end")
        return size

    def _count(self) -> int:
        # Every item takes at least one byte, so a larger count cannot be honest.
        return self._length()

    def _bytes(self, _depth: int = 0) -> bytes:
        size = self._length()
        start = self.pos
        stop = self.pos = start + size
        return self.data[start:stop]

    def _text(self, _depth: int = 0) -> str:
        size = self._length()
        start = self.pos
        stop = self.pos = start + size
        try:
            return self.data[start:stop].decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("invalid UTF-8") from None

    def value(self, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail(f"nesting deeper than {MAX_DEPTH}")
        data, pos, end = self.data, self.pos, self.end
        if pos >= end:
            raise self.fail("truncated value")
        tag = data[pos]
        pos += 1
        if tag >= _FIXINT:
            self.pos = pos
            return tag & 0x7F
        if (tag == _BYTES or tag == _STR) and pos < end and data[pos] < 0x80:
            # Short bytes and strings dominate event state; read them without further calls.
            start = pos + 1
            stop = start + data[pos]
            if stop <= end:
                self.pos = stop
                if tag == _BYTES:
                    return data[start:stop]
                try:
                    return data[start:stop].decode("utf-8")
                except UnicodeDecodeError:
                    raise self.fail("invalid UTF-8") from None
        self.pos = pos
        handler = self.dispatch.get(tag)
        if handler is None:
            raise self.fail(f"unknown tag 0x{tag:02x}")
        return handler(self, depth)

    def _uint(self, _depth: int) -> int:
        n = self._varint()
        if n < 0x80:
            raise self.fail("non-canonical int")
        return n

    def _nint(self, _depth: int) -> int:
        return -1 - self._varint()

    def _bigint(self, _depth: int) -> int:
        size = self._length()
        n = int.from_bytes(self._take(size), "big", signed=True)
        if -_U64_MAX - 1 <= n <= _U64_MAX or size != (n.bit_length() + 8) // 8:
            raise self.fail("non-canonical big int")
        return n

    def _float(self, _depth: int) -> float:
        return _FLOAT_STRUCT.unpack(self._take(8))[0]

    def _items(self, depth: int) -> list[Any]:
        return [self.value(depth + 1) for _ in range(self._count())]

    def _dict(self, depth: int) -> dict[Any, Any]:
        count = self._count()
        result: dict[Any, Any] = {}
        for _ in range(count):
            key = self.value(depth + 1)
            item = self.value(depth + 1)
            try:
                if key in result:
                    raise self.fail("duplicate dict key")
                result[key] = item
            except TypeError:
                raise self.fail("unhashable dict key") from None
        return result

    def _unique(self, depth: int) -> set[Any]:
        count = self._count()
        result: set[Any] = set()
        for _ in range(count):
            item = self.value(depth + 1)
            try:
                if item in result:
                    raise self.fail("duplicate set element")
                result.add(item)
            except TypeError:
                raise self.fail("unhashable set element") from None
        return result

    def _registered(self) -> tuple[str, type]:
        topic = self._text()
        cls = registered_class(topic)
        if cls is None:
            raise self.fail(f"unknown topic {topic!r}")
        return topic, cls

    def _enum(self, depth: int) -> enum.Enum:
        topic, cls = self._registered()
        if not issubclass(cls, enum.Enum):
            raise self.fail(f"topic {topic!r} is not an enum")
        raw = self.value(depth + 1)
        try:
            return cls(raw)
        except (ValueError, TypeError):
            raise self.fail(f"{reprlib.repr(raw)} is not a member of {topic}") from None

    def _record(self, depth: int) -> Any:
        topic, cls = self._registered()
        if issubclass(cls, enum.Enum) or not hasattr(cls, "__attrs_attrs__"):
            raise self.fail(f"topic {topic!r} is not an attrs record")
        stored_version = self._varint()
        state: dict[str, Any] = {}
        for _ in range(self._count()):
            key = self._text()
            if key in state:
                raise self.fail(f"duplicate field {key!r}")
            state[key] = self.value(depth + 1)
        return rebuild(cls, topic, stored_version, state, self.fail)

    def _adapted(self, depth: int) -> Any:
        topic, cls = self._registered()
        adapter = adapter_for(cls)
        if adapter is None:
            raise self.fail(f"topic {topic!r} has no adapter")
        state = self.value(depth + 1)
        try:
            return adapter[1](state)
        except Exception as exc:  # the adapter decides what a valid state is
            raise self.fail(f"{topic} rejected its stored state ({type(exc).__name__})") from exc


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


_Decoder.dispatch = {
    _NONE: lambda _self, _depth: None,
    _FALSE: lambda _self, _depth: False,
    _TRUE: lambda _self, _depth: True,
    _UINT: _Decoder._uint,
    _NINT: _Decoder._nint,
    _BIGINT: _Decoder._bigint,
    _FLOAT: _Decoder._float,
    _STR: _Decoder._text,
    _BYTES: _Decoder._bytes,
    _TUPLE: lambda self, depth: tuple(self._items(depth)),
    _LIST: _Decoder._items,
    _DICT: _Decoder._dict,
    _FROZENSET: lambda self, depth: frozenset(self._unique(depth)),
    _SET: _Decoder._unique,
    _UUID: lambda self, _depth: UUID(bytes=self._take(16)),
    _ENUM: _Decoder._enum,
    _RECORD: _Decoder._record,
    _ADAPTED: _Decoder._adapted,
}


def rebuild(
    cls: type,
    topic: str,
    stored_version: int,
    state: dict[str, Any],
    fail: Callable[[str], Exception],
) -> Any:
    """Upcast ``state`` from ``stored_version`` and construct ``cls`` through its ``__init__``."""
    current = class_version_of(cls)
    if not 1 <= stored_version <= current:
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
        if not isinstance(data, bytes):
            data = bytes(data)
        decoder = _Decoder(data)
        result = decoder.value(0)
        if decoder.pos != decoder.end:
            raise decoder.fail(f"{decoder.end - decoder.pos} trailing bytes")
        return result
