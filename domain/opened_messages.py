"""The stored form of a received application message (ARCHITECTURE 2, 3; RFC 9420 6.3): what opening
its PrivateMessage revealed, in a compact wire encoding, instead of the ciphertext beside the plaintext.

A PrivateMessage is a deterministic function of its sender's leaf index and generation, the reuse
guard, the authenticated data, the application data, the signature, the padding length and the
epoch's secrets (content key and nonce from the secret tree, sender-data key and nonce from the
sender-data secret and the ciphertext sample). ``OpenedMessage`` keeps those fields, the sender's
inbox and installation ids (what the views show, checked against the sender's leaf by an audit)
and the SHA-256 of the envelope's bytes, which the rebuilt message must reproduce::

    struct {
        uleb epoch; uleb leaf; uleb generation; opaque reuse_guard[4];
        opaque authenticated_data<V>; opaque data<V>;  // data: the ApplicationContent protobuf
        opaque signature<V>; uleb padding;
        InboxId sender_inbox_id; opaque sender_installation_id<V>; opaque payload_hash[32];
    } OpenedMessage;

``uleb`` is an unsigned LEB128 integer (minimal, at most 64 bits: epochs and generations are small
but may exceed an MLS varint); ``InboxId`` is ``0x00 || opaque hex_bytes<V>`` for an inbox id in
lower-case hex (as XMTP derives them, half the size) or ``0x01 || opaque utf8<V>`` for any other.
Decoding is strict (one encoding per value) and raises DecodeError only.
"""

from __future__ import annotations

import string

from .mls.codec import (
    Codec,
    DecodeError,
    Fixed,
    Reader,
    Writer,
    opaque,
    wire,
    wire_struct,
)

__all__ = ["OpenedMessage", "PAYLOAD_HASH_LEN"]

PAYLOAD_HASH_LEN = 32
_U64_LIMIT = 1 << 64
_HEX = frozenset(string.hexdigits.lower())


class _Uleb(Codec[int]):
    def write(self, w: Writer, value: int) -> None:
        if not 0 <= value < _U64_LIMIT:
            raise ValueError(f"{value} does not fit a 64-bit LEB128 integer")
        out = bytearray()
        while value >= 0x80:
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        out.append(value)
        w.raw(bytes(out))

    def read(self, r: Reader) -> int:
        value = shift = 0
        while True:
            byte = r.uint8()
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                if byte == 0 and shift:
                    raise DecodeError("non-minimal LEB128 integer")
                if value >= _U64_LIMIT:
                    raise DecodeError("LEB128 integer over 64 bits")
                return value
            shift += 7
            if shift > 63:
                raise DecodeError("LEB128 integer over 64 bits")


def _is_packed_hex(text: str) -> bool:
    return bool(text) and len(text) % 2 == 0 and set(text) <= _HEX


def _inbox_id_of(kind: int, raw: bytes) -> str:
    """The inbox id stored as ``kind`` and ``raw`` (see ``InboxId`` in the module docstring)."""
    if kind == 0:
        if not raw:
            raise DecodeError("an empty packed inbox id")
        return raw.hex()
    if kind != 1:
        raise DecodeError(f"unknown inbox id encoding {kind}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"inbox id is not UTF-8: {exc}") from None
    if _is_packed_hex(text):
        raise DecodeError("a hex inbox id stored unpacked")
    return text


class _InboxId(Codec[str]):
    def write(self, w: Writer, value: str) -> None:
        if _is_packed_hex(value):
            w.uint8(0)
            w.opaque(bytes.fromhex(value))
        else:
            w.uint8(1)
            w.opaque(value.encode("utf-8"))

    def read(self, r: Reader) -> str:
        kind = r.uint8()
        return _inbox_id_of(kind, r.opaque())


uleb: Codec[int] = _Uleb()
inbox_id: Codec[str] = _InboxId()


@wire_struct
class OpenedMessage:
    """A received application message as opening its PrivateMessage revealed (see the module docstring)."""

    epoch: int = wire(uleb)
    leaf: int = wire(uleb)
    generation: int = wire(uleb)
    reuse_guard: bytes = wire(Fixed(4))
    authenticated_data: bytes = wire(opaque)
    data: bytes = wire(opaque)
    signature: bytes = wire(opaque)
    padding: int = wire(uleb)
    sender_inbox_id: str = wire(inbox_id)
    sender_installation_id: bytes = wire(opaque)
    payload_hash: bytes = wire(Fixed(PAYLOAD_HASH_LEN))


def _read_uleb(data: bytes, pos: int) -> tuple[int, int]:
    """A LEB128 integer of more than one byte at ``pos`` (the callers read one-byte ones in place)."""
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            if byte == 0:
                raise DecodeError("non-minimal LEB128 integer")
            if value >= _U64_LIMIT:
                raise DecodeError("LEB128 integer over 64 bits")
            return value, pos
        shift += 7
        if shift > 63:
            raise DecodeError("LEB128 integer over 64 bits")


def _read_opaque(data: bytes, pos: int) -> tuple[bytes, int]:
    """An ``opaque<V>`` whose length prefix has two or four bytes (one-byte ones are read in place)."""
    first = data[pos]
    if 0x40 <= first < 0x80:  # application data and signatures: a two-byte length
        size = ((first & 0x3F) << 8) | data[pos + 1]
        if size < 0x40:
            raise DecodeError("non-minimal varint length")
        start = pos + 2
    else:
        reader = Reader(data, pos)
        size = reader.varint()
        start = reader.pos
    end = start + size
    if end > len(data):
        raise DecodeError(f"opaque of {size} bytes at offset {start} runs past the end")
    return data[start:end], end


def _decode(cls: type[OpenedMessage], data: bytes) -> OpenedMessage:
    """``OpenedMessage.decode``, read field by field in place, one-byte integers and length prefixes
    without a call: every stored message is decoded when a view or an audit reads it (the
    generic struct codec gives the same values and errors; a test holds them equal)."""
    if type(data) is not bytes:
        if not isinstance(data, (bytearray, memoryview)):
            raise DecodeError(f"expected bytes, got {type(data).__name__}")
        data = bytes(data)
    size = len(data)
    try:
        epoch = data[0]
        if epoch < 0x80:
            pos = 1
        else:
            epoch, pos = _read_uleb(data, 0)
        leaf = data[pos]
        if leaf < 0x80:
            pos += 1
        else:
            leaf, pos = _read_uleb(data, pos)
        generation = data[pos]
        if generation < 0x80:
            pos += 1
        else:
            generation, pos = _read_uleb(data, pos)
        reuse_guard = data[pos : pos + 4]
        pos += 4
        fields = []
        for _ in range(3):  # authenticated data, application data, signature
            length = data[pos]
            if length < 0x40:
                pos += 1 + length
                if pos > size:
                    raise DecodeError(f"opaque of {length} bytes at offset {pos - length} runs past the end")
                fields.append(data[pos - length : pos])
            else:
                value, pos = _read_opaque(data, pos)
                fields.append(value)
        padding = data[pos]
        if padding < 0x80:
            pos += 1
        else:
            padding, pos = _read_uleb(data, pos)
        kind = data[pos]
        length = data[pos + 1]
        if length < 0x40:
            pos += 2 + length
            if pos > size:
                raise DecodeError(f"opaque of {length} bytes at offset {pos - length} runs past the end")
            raw = data[pos - length : pos]
        else:
            raw, pos = _read_opaque(data, pos + 1)
        sender_inbox_id = raw.hex() if kind == 0 and raw else _inbox_id_of(kind, raw)
        length = data[pos]
        if length < 0x40:
            pos += 1 + length
            if pos > size:
                raise DecodeError(f"opaque of {length} bytes at offset {pos - length} runs past the end")
            sender_installation_id = data[pos - length : pos]
        else:
            sender_installation_id, pos = _read_opaque(data, pos)
        payload_hash = data[pos : pos + PAYLOAD_HASH_LEN]
        pos += PAYLOAD_HASH_LEN
    except IndexError:
        raise DecodeError("OpenedMessage cut short") from None
    if pos != size:
        raise DecodeError("OpenedMessage cut short" if pos > size else f"{size - pos} trailing bytes")
    return cls(
        epoch, leaf, generation, reuse_guard, fields[0], fields[1], fields[2], padding,
        sender_inbox_id, sender_installation_id, payload_hash,
    )


OpenedMessage.decode = classmethod(_decode)  # type: ignore[method-assign]
