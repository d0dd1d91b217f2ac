"""The TLS presentation language as RFC 9420 uses it (section 2.1): integers, variable-length
vectors with the QUIC-style varint size prefix (2.1.2), optionals, enums, selects and structs.

Structs are declared once, as frozen attrs classes whose fields carry their codec::

    @wire_struct
    class Extension:
        extension_type: int = wire(uint16)
        extension_data: bytes = wire(opaque)

and get ``encode()`` / ``decode(data)`` from that declaration. Decoding is strict: a non-minimal
varint, a length past the end, trailing bytes, or an enum value the RFC does not allow raise
``DecodeError``, and nothing else escapes.
"""

from __future__ import annotations

import struct as _struct
from typing import Any, Callable, Generic, Iterable, Mapping, TypeVar

import attrs

from .errors import DecodeError

__all__ = [
    "DecodeError",
    "Reader",
    "Writer",
    "Codec",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "opaque",
    "boolean",
    "Fixed",
    "Vector",
    "Optional",
    "Enum",
    "Select",
    "StructCodec",
    "wire",
    "wire_struct",
    "encode_varint",
    "encode_opaque",
    "decode_all",
]

T = TypeVar("T")

MAX_VARINT = (1 << 30) - 1

_U16 = _struct.Struct(">H")
_U32 = _struct.Struct(">I")
_U64 = _struct.Struct(">Q")


def encode_varint(n: int) -> bytes:
    """The minimal RFC 9420 varint (1, 2 or 4 bytes) for 0 <= n < 2**30."""
    if n < 0x40:
        return bytes((n,))
    if n < 0x4000:
        return (0x4000 | n).to_bytes(2, "big")
    if n <= MAX_VARINT:
        return (0x80000000 | n).to_bytes(4, "big")
    raise ValueError(f"length {n} does not fit an MLS varint")


def encode_opaque(data: bytes) -> bytes:
    """``opaque data<V>``: a varint length prefix followed by the bytes."""
    return encode_varint(len(data)) + data


class Reader:
    """A cursor over bytes being decoded; every read past ``end`` raises DecodeError."""

    __slots__ = ("data", "pos", "end")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data if isinstance(data, bytes) else bytes(data)
        self.pos = pos
        self.end = len(self.data) if end is None else end

    def remaining(self) -> int:
        return self.end - self.pos

    def at_end(self) -> bool:
        return self.pos >= self.end

    def finish(self) -> None:
        """Raise DecodeError if bytes are left over."""
        if self.pos != self.end:
            raise DecodeError(f"{self.end - self.pos} trailing bytes")

    def take(self, n: int) -> bytes:
        start = self.pos
        stop = start + n
        if n < 0 or stop > self.end:
            raise DecodeError(f"need {n} bytes at offset {start}, only {self.end - start} left")
        self.pos = stop
        return self.data[start:stop]

    def uint8(self) -> int:
        pos = self.pos
        if pos >= self.end:
            raise DecodeError(f"need 1 byte at offset {pos}, none left")
        self.pos = pos + 1
        return self.data[pos]

    def uint16(self) -> int:
        return _U16.unpack(self.take(2))[0]

    def uint32(self) -> int:
        return _U32.unpack(self.take(4))[0]

    def uint64(self) -> int:
        return _U64.unpack(self.take(8))[0]

    def varint(self) -> int:
        first = self.uint8()
        prefix = first >> 6
        if prefix == 0:
            return first
        if prefix == 1:
            value = ((first & 0x3F) << 8) | self.uint8()
            if value < 0x40:
                raise DecodeError("non-minimal varint length")
            return value
        if prefix == 2:
            rest = self.take(3)
            value = ((first & 0x3F) << 24) | (rest[0] << 16) | (rest[1] << 8) | rest[2]
            if value < 0x4000:
                raise DecodeError("non-minimal varint length")
            return value
        raise DecodeError("invalid varint prefix 0b11")

    def opaque(self) -> bytes:
        return self.take(self.varint())

    def vector(self) -> "Reader":
        """A sub-reader over the next varint-prefixed vector; this reader moves past it."""
        length = self.varint()
        start = self.pos
        stop = start + length
        if stop > self.end:
            raise DecodeError(f"vector of {length} bytes at offset {start} runs past the end")
        self.pos = stop
        return Reader(self.data, start, stop)


class Writer:
    """An append-only byte buffer for encoding."""

    __slots__ = ("buf",)

    def __init__(self) -> None:
        self.buf = bytearray()

    def getvalue(self) -> bytes:
        return bytes(self.buf)

    def raw(self, data: bytes) -> None:
        self.buf += data

    def uint8(self, n: int) -> None:
        if not 0 <= n <= 0xFF:
            raise ValueError(f"{n} does not fit uint8")
        self.buf.append(n)

    def uint16(self, n: int) -> None:
        self.buf += _U16.pack(n)

    def uint32(self, n: int) -> None:
        self.buf += _U32.pack(n)

    def uint64(self, n: int) -> None:
        self.buf += _U64.pack(n)

    def varint(self, n: int) -> None:
        self.buf += encode_varint(n)

    def opaque(self, data: bytes) -> None:
        self.buf += encode_varint(len(data))
        self.buf += data

    def vector(self, write_body: Callable[["Writer"], None]) -> None:
        """Write a varint-prefixed vector whose body ``write_body`` appends."""
        inner = Writer()
        write_body(inner)
        self.opaque(inner.buf)


class Codec(Generic[T]):
    """How one value travels on the wire."""

    def write(self, w: Writer, value: T) -> None:
        raise NotImplementedError

    def read(self, r: Reader) -> T:
        raise NotImplementedError

    def encode(self, value: T) -> bytes:
        w = Writer()
        self.write(w, value)
        return w.getvalue()

    def decode(self, data: bytes) -> T:
        return decode_all(self, data)


class _UInt(Codec[int]):
    def __init__(self, name: str, bits: int) -> None:
        self.name = name
        self.limit = 1 << bits
        self._write = getattr(Writer, name)
        self._read = getattr(Reader, name)

    def write(self, w: Writer, value: int) -> None:
        if not 0 <= value < self.limit:
            raise ValueError(f"{value} does not fit {self.name}")
        self._write(w, value)

    def read(self, r: Reader) -> int:
        return self._read(r)

    def __repr__(self) -> str:
        return self.name


uint8: Codec[int] = _UInt("uint8", 8)
uint16: Codec[int] = _UInt("uint16", 16)
uint32: Codec[int] = _UInt("uint32", 32)
uint64: Codec[int] = _UInt("uint64", 64)


class _Opaque(Codec[bytes]):
    def write(self, w: Writer, value: bytes) -> None:
        w.opaque(value)

    def read(self, r: Reader) -> bytes:
        return r.opaque()

    def __repr__(self) -> str:
        return "opaque"


opaque: Codec[bytes] = _Opaque()


class _Bool(Codec[bool]):
    def write(self, w: Writer, value: bool) -> None:
        w.uint8(1 if value else 0)

    def read(self, r: Reader) -> bool:
        b = r.uint8()
        if b > 1:
            raise DecodeError(f"invalid boolean {b}")
        return b == 1


boolean: Codec[bool] = _Bool()


class Fixed(Codec[bytes]):
    """``opaque data[n]``: exactly n bytes, no prefix."""

    def __init__(self, n: int) -> None:
        self.n = n

    def write(self, w: Writer, value: bytes) -> None:
        if len(value) != self.n:
            raise ValueError(f"expected {self.n} bytes, got {len(value)}")
        w.raw(value)

    def read(self, r: Reader) -> bytes:
        return r.take(self.n)


class Vector(Codec[tuple]):
    """``T items<V>``: a varint byte-length prefix, then the items back to back, as a tuple."""

    def __init__(self, item: Codec[Any]) -> None:
        self.item = item

    def write(self, w: Writer, value: Iterable[Any]) -> None:
        inner = Writer()
        write_item = self.item.write
        for element in value:
            write_item(inner, element)
        w.opaque(inner.buf)

    def read(self, r: Reader) -> tuple:
        sub = r.vector()
        read_item = self.item.read
        items = []
        while sub.pos < sub.end:
            items.append(read_item(sub))
        return tuple(items)


class Optional(Codec[Any]):
    """``optional<T>``: a presence octet (0 or 1), then T when present; absent is None."""

    def __init__(self, item: Codec[Any]) -> None:
        self.item = item

    def write(self, w: Writer, value: Any) -> None:
        if value is None:
            w.uint8(0)
        else:
            w.uint8(1)
            self.item.write(w, value)

    def read(self, r: Reader) -> Any:
        present = r.uint8()
        if present == 0:
            return None
        if present != 1:
            raise DecodeError(f"invalid optional presence octet {present}")
        return self.item.read(r)


class Enum(Codec[int]):
    """An integer enum; ``allowed`` (when given) is the closed set of values the RFC accepts."""

    def __init__(self, base: Codec[int], allowed: Iterable[int] | None = None, name: str = "enum") -> None:
        self.base = base
        self.allowed = None if allowed is None else frozenset(int(v) for v in allowed)
        self.name = name

    def write(self, w: Writer, value: int) -> None:
        self.base.write(w, int(value))

    def read(self, r: Reader) -> int:
        value = self.base.read(r)
        if self.allowed is not None and value not in self.allowed:
            raise DecodeError(f"unknown {self.name} value {value}")
        return value


class Select(Codec[Any]):
    """``select (tag) { case t: T; ... }`` together with its tag: the tag is read, then the case.

    ``cases`` maps each allowed tag to the codec of its body; ``tag_of`` tells the tag of a value
    being written (by default the value's ``TAG`` class attribute). Unknown tags raise DecodeError.
    """

    def __init__(
        self,
        tag: Codec[int],
        cases: Mapping[int, Codec[Any]],
        tag_of: Callable[[Any], int] | None = None,
        name: str = "select",
    ) -> None:
        self.tag = tag
        self.cases = dict(cases)
        self.tag_of = tag_of or (lambda value: value.TAG)
        self.name = name

    def write(self, w: Writer, value: Any) -> None:
        tag = self.tag_of(value)
        self.tag.write(w, tag)
        self.cases[tag].write(w, value)

    def read(self, r: Reader) -> Any:
        tag = self.tag.read(r)
        case = self.cases.get(tag)
        if case is None:
            raise DecodeError(f"unknown {self.name} type {tag}")
        return case.read(r)


class StructCodec(Codec[Any]):
    """The codec of a class made by ``wire_struct`` (or any class with ``_write`` and ``_read``)."""

    def __init__(self, cls: type) -> None:
        self.cls = cls

    def write(self, w: Writer, value: Any) -> None:
        value._write(w)

    def read(self, r: Reader) -> Any:
        return self.cls._read(r)

    def __repr__(self) -> str:
        return f"StructCodec({self.cls.__name__})"


def wire(codec: Codec[Any], **kwargs: Any) -> Any:
    """An attrs field that travels with ``codec``; ``codec`` may also be a wire_struct class."""
    if isinstance(codec, type):
        codec = codec.CODEC
    metadata = dict(kwargs.pop("metadata", {}))
    metadata["wire"] = codec
    return attrs.field(metadata=metadata, **kwargs)


def wire_struct(cls: type | None = None, **attrs_kwargs: Any) -> Any:
    """Make ``cls`` a frozen attrs class whose ``wire`` fields, in order, are its wire encoding.

    Adds ``encode()``, ``decode(data)`` (strict: whole input), ``_write(w)``, ``_read(r)`` and a
    ``CODEC`` class attribute for use inside other declarations.
    """

    def build(target: type) -> type:
        made = attrs.frozen(target, **attrs_kwargs)
        plan = [(f.name, f.metadata["wire"]) for f in attrs.fields(made) if "wire" in f.metadata]
        names = tuple(name for name, _ in plan)
        readers = tuple(codec.read for _, codec in plan)
        writers = tuple((name, codec.write) for name, codec in plan)
        extra_fields = [f for f in attrs.fields(made) if "wire" not in f.metadata and f.init]
        if extra_fields:
            raise TypeError(f"{made.__name__}: every init field needs a wire codec")

        def _write(self: Any, w: Writer) -> None:
            for name, write in writers:
                write(w, getattr(self, name))

        def _read(kls: type, r: Reader) -> Any:
            return kls(*[read(r) for read in readers])

        def encode(self: Any) -> bytes:
            w = Writer()
            self._write(w)
            return w.getvalue()

        def decode(kls: type, data: bytes) -> Any:
            return decode_all(kls.CODEC, data)

        made._write = _write
        made._read = classmethod(_read)
        made.encode = encode
        made.decode = classmethod(decode)
        made.CODEC = StructCodec(made)
        made.WIRE_FIELDS = names
        return made

    if cls is None:
        return build
    return build(cls)


def decode_all(codec: Codec[T], data: bytes) -> T:
    """Decode exactly one value from the whole of ``data``; only DecodeError escapes."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DecodeError(f"expected bytes, got {type(data).__name__}")
    r = Reader(bytes(data))
    try:
        value = codec.read(r)
    except DecodeError:
        raise
    except (ValueError, TypeError, IndexError, KeyError, OverflowError) as exc:
        raise DecodeError(f"invalid encoding: {exc}") from exc
    r.finish()
    return value
