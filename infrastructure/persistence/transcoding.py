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

This module writes the format; ``decoding`` reads it; ``binary_format`` holds the tags both use.
An event state's keys can be given as :data:`StateFields` (see :meth:`BinaryTranscoder.state_fields`):
written without building a dict, and matched as stored bytes when read.
"""

from __future__ import annotations

import enum
from functools import cache
from typing import Any, Callable, Iterable, Sequence
from uuid import UUID

from eventsourcing.persistence import Transcoder

from mlsgroup.domain.eventing import adapter_for, class_version_of, topic_of

from .binary_format import (
    FLOAT_STRUCT,
    MAX_DEPTH,
    TAG_ADAPTED,
    TAG_BIGINT,
    TAG_BYTES,
    TAG_DICT,
    TAG_ENUM,
    TAG_FALSE,
    TAG_FIXINT,
    TAG_FLOAT,
    TAG_FROZENSET,
    TAG_LIST,
    TAG_NINT,
    TAG_NONE,
    TAG_RECORD,
    TAG_SET,
    TAG_STR,
    TAG_TRUE,
    TAG_TUPLE,
    TAG_UINT,
    TAG_UUID,
    U64_MAX,
    StateFields,
    put_text,
    put_varint,
    record_keys,
)
from .decoding import read_value, rebuild
from .errors import UnregisteredTypeError, UnsupportedValueError

__all__ = ["BinaryTranscoder", "MAX_DEPTH", "StateFields", "rebuild"]


@cache
def _encoded_topic(cls: type) -> bytes:
    topic = topic_of(cls)
    if topic is None:
        raise UnregisteredTypeError(
            f"{cls.__module__}.{cls.__qualname__} is not registered; use register_event/register_value"
        )
    out = bytearray()
    put_text(out, topic)
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
            out.append(TAG_BYTES)
            size = len(obj)
            if size < 0x80:
                out.append(size)
            else:
                put_varint(out, size)
            out += obj
        elif kind is str:
            self.out.append(TAG_STR)
            put_text(self.out, obj)
        elif kind is int and 0 <= obj <= U64_MAX:
            if obj < 0x80:
                self.out.append(TAG_FIXINT | obj)
            else:
                self.out.append(TAG_UINT)
                put_varint(self.out, obj)
        else:
            handler = self.dispatch.get(kind) or _registered_handler(kind)
            handler(self, obj, depth)

    def _adapted(self, obj: Any, depth: int) -> None:
        to_state = adapter_for(type(obj))[0]  # type: ignore[index]
        self.out.append(TAG_ADAPTED)
        self.out += _encoded_topic(type(obj))
        self.value(to_state(obj), depth + 1)

    def _enum(self, obj: enum.Enum, depth: int) -> None:
        self.out.append(TAG_ENUM)
        self.out += _encoded_topic(type(obj))
        self.value(obj.value, depth + 1)

    def _none(self, _obj: None, _depth: int) -> None:
        self.out.append(TAG_NONE)

    def _bool(self, obj: bool, _depth: int) -> None:
        self.out.append(TAG_TRUE if obj else TAG_FALSE)

    def _int(self, obj: int, _depth: int) -> None:
        out = self.out
        if 0 <= obj < 0x80:
            out.append(TAG_FIXINT | obj)
        elif 0 <= obj <= U64_MAX:
            out.append(TAG_UINT)
            put_varint(out, obj)
        elif -U64_MAX - 1 <= obj < 0:
            out.append(TAG_NINT)
            put_varint(out, -1 - obj)
        else:
            size = (obj.bit_length() + 8) // 8
            out.append(TAG_BIGINT)
            put_varint(out, size)
            out += obj.to_bytes(size, "big", signed=True)

    def _float(self, obj: float, _depth: int) -> None:
        self.out.append(TAG_FLOAT)
        self.out += FLOAT_STRUCT.pack(obj)

    def _sequence(self, tag: int, items: Any, depth: int) -> None:
        self.out.append(tag)
        put_varint(self.out, len(items))
        for item in items:
            self.value(item, depth + 1)

    def _tuple(self, obj: tuple[Any, ...], depth: int) -> None:
        self._sequence(TAG_TUPLE, obj, depth)

    def _list(self, obj: list[Any], depth: int) -> None:
        self._sequence(TAG_LIST, obj, depth)

    def _dict(self, obj: dict[Any, Any], depth: int) -> None:
        self.out.append(TAG_DICT)
        put_varint(self.out, len(obj))
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
        put_varint(self.out, len(encoded))
        for item_bytes in encoded:
            self.out += item_bytes

    def _frozenset(self, obj: frozenset[Any], depth: int) -> None:
        self._unordered(TAG_FROZENSET, obj, depth)

    def _set(self, obj: set[Any], depth: int) -> None:
        self._unordered(TAG_SET, obj, depth)

    def _uuid(self, obj: UUID, _depth: int) -> None:
        self.out.append(TAG_UUID)
        self.out += obj.bytes

    def _record(self, obj: Any, depth: int) -> None:
        cls = type(obj)
        out = self.out
        out.append(TAG_RECORD)
        out += _encoded_topic(cls)
        put_varint(out, class_version_of(cls))
        plan = record_keys(cls)
        put_varint(out, len(plan))
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


class BinaryTranscoder(Transcoder):
    """eventsourcing Transcoder for the tagged binary format described in this module."""

    def encode(self, obj: Any) -> bytes:
        encoder = _Encoder()
        try:
            encoder.value(obj, 0)
        except RecursionError:
            raise UnsupportedValueError("value nests too deeply (or contains itself)") from None
        return bytes(encoder.out)

    def encode_state(self, fields: StateFields, values: Sequence[Any]) -> bytes:
        """What :meth:`encode` writes for the dict of ``fields``' keys and ``values``, without building it."""
        if len(values) != len(fields):
            raise ValueError(f"{len(fields)} fields but {len(values)} values")
        encoder = _Encoder()
        out = encoder.out
        out.append(TAG_DICT)
        put_varint(out, len(fields))
        value = encoder.value
        try:
            for (_, encoded, _), item in zip(fields, values):
                out += encoded
                value(item, 1)
        except RecursionError:
            raise UnsupportedValueError("value nests too deeply (or contains itself)") from None
        return bytes(out)

    def decode(self, data: bytes) -> Any:
        return self.decode_state(data, ())

    @staticmethod
    def state_fields(keys: Iterable[str]) -> StateFields:
        """The plan :meth:`decode_state` takes for dicts usually written with these string keys in this order."""
        plan = []
        for key in keys:
            encoded = bytearray((TAG_STR,))
            put_text(encoded, key)
            plan.append((key, bytes(encoded), len(encoded)))
        if len({key for key, _, _ in plan}) != len(plan):
            raise ValueError("state fields must be distinct keys")
        return tuple(plan)

    def decode_state(self, data: bytes, fields: StateFields) -> Any:
        """Like :meth:`decode`; a dict holding exactly the keys of ``fields``, in order, is read faster."""
        return read_value(data if type(data) is bytes else bytes(data), fields)
