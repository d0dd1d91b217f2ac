"""Reads the binary transcoder's format (described in ``transcoding``), strictly and fast (ARCHITECTURE 3).

Each reader takes (data, pos, depth) and returns (value, position after it): locals instead of
attribute lookups, and the container loops read the tags that dominate event state (small ints,
short bytes and strings, long varints) inline instead of calling per value. Indexing past the end
raises IndexError and bad UTF-8 raises UnicodeDecodeError wherever it happens; :func:`read_value`
turns both into ``TranscodingError``, so only slices (which never raise) need explicit bounds
checks. Everything caller-supplied (validators, upcasters, enum lookups, adapters) is wrapped
where it is called, so no foreign IndexError can be mistaken for truncation.

Keys the reader expects (an attrs record's fields, or an event state's ``StateFields``) are
matched as stored bytes instead of being decoded; a value written with other keys or in another
order (an older class version) is read key by key instead. :func:`state_reader` goes one step
further for an event topic's state: the per-field loop is written out once as a function for that
plan (keys and their sizes as constants, each field's usual type read first), which reads what
:func:`read_value` reads and rejects what it rejects.
"""

from __future__ import annotations

import enum
import reprlib
import textwrap
from functools import cache
from typing import Any, Callable, Sequence
from uuid import UUID

from mlsgroup.domain.eventing import adapter_for, init_fields, registered_class

from .binary_format import (
    CONTINUED8,
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
    U64LE,
    FLOAT_STRUCT,
    StateFields,
    record_keys,
)
from .errors import TranscodingError

__all__ = ["read_value", "rebuild", "state_reader"]

_Reader = Callable[[bytes, int, int], tuple[Any, int]]

_RECORD_KIND, _ENUM_KIND, _ADAPTED_KIND = TAG_RECORD, TAG_ENUM, TAG_ADAPTED


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
            x = U64LE.unpack_from(data, pos)[0]
            if x & CONTINUED8 == CONTINUED8:
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
    if result > U64_MAX:
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
    if tag >= TAG_FIXINT:
        return tag & 0x7F, pos + 1
    if tag == TAG_BYTES or tag == TAG_STR:
        size = data[pos + 1]
        if size < 0x80:
            start = pos + 2
        else:
            size, start = _long_varint(data, pos + 1)
        stop = start + size
        if stop > len(data):
            raise _fail(f"length {size} runs past the end", start)
        if tag == TAG_BYTES:
            return data[start:stop], stop
        return data[start:stop].decode(), stop
    if tag == TAG_UINT:
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
        if tag >= TAG_FIXINT:
            append(tag & 0x7F)
            pos += 1
        elif (tag == TAG_BYTES or tag == TAG_STR) and data[pos + 1] < 0x80:
            start = pos + 2
            pos = start + data[start - 1]
            if pos > end:
                raise _fail("length runs past the end", start)
            append(data[start:pos] if tag == TAG_BYTES else data[start:pos].decode())
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
        if tag == TAG_STR and data[pos + 1] < 0x80:
            start = pos + 2
            pos = start + data[start - 1]
            if pos > end:
                raise _fail("length runs past the end", start)
            key: Any = data[start:pos].decode()
        else:
            key, pos = _read(data, pos, depth)
        tag = data[pos]
        if tag >= TAG_FIXINT:
            item: Any = tag & 0x7F
            pos += 1
        elif (tag == TAG_BYTES or tag == TAG_STR) and data[pos + 1] < 0x80:
            start = pos + 2
            pos = start + data[start - 1]
            if pos > end:
                raise _fail("length runs past the end", start)
            item = data[start:pos] if tag == TAG_BYTES else data[start:pos].decode()
        elif tag == TAG_UINT and data[pos + 1] >= 0x80:
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
        if tag >= TAG_FIXINT:
            item: Any = tag & 0x7F
            pos += 1
        elif (tag == TAG_BYTES or tag == TAG_STR) and data[pos + 1] < 0x80:
            start = pos + 2
            pos = start + data[start - 1]
            if pos > end:
                raise _fail("length runs past the end", start)
            item = data[start:pos] if tag == TAG_BYTES else data[start:pos].decode()
        elif tag == TAG_UINT and data[pos + 1] >= 0x80:
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
    if -U64_MAX - 1 <= n <= U64_MAX or size != (n.bit_length() + 8) // 8:
        raise _fail("non-canonical big int", pos)
    return n, pos + size


def _read_float(data: bytes, pos: int, _depth: int) -> tuple[float, int]:
    if pos + 8 > len(data):
        raise _fail("8 bytes needed for a float", pos)
    return FLOAT_STRUCT.unpack_from(data, pos)[0], pos + 8


def _read_uuid(data: bytes, pos: int, _depth: int) -> tuple[UUID, int]:
    stop = pos + 16
    if stop > len(data):
        raise _fail("16 bytes needed for a UUID", pos)
    return UUID(bytes=data[pos:stop]), stop


# Topic bytes as stored -> (topic, class, kind, class_version). Only registered topics are cached, and
# the registry never forgets a topic, so an entry never goes stale and the cache is bounded by the registry.
_TopicEntry = tuple[str, type, int | None, int]
_TOPICS: dict[bytes, _TopicEntry] = {}


def _topic_entry(data: bytes, pos: int) -> tuple[_TopicEntry, int]:
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
        entry = (topic, cls, kind, cls.__dict__.get("class_version", 1))
        _TOPICS[raw] = entry
    return entry, stop


def _read_enum(data: bytes, pos: int, depth: int) -> tuple[enum.Enum, int]:
    (topic, cls, kind, _), pos = _topic_entry(data, pos)
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
    return tuple((alias, key, len(key)) for (_, key), (_, alias) in zip(record_keys(cls), init_fields(cls)))


def _read_record(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    # A short topic already seen, a one-byte class_version and a one-byte count are read inline.
    end = len(data)
    size = data[pos]
    entry = _TOPICS.get(data[pos + 1 : pos + 1 + size]) if size < 0x80 else None
    if entry is None or pos + 1 + size > end:
        entry, pos = _topic_entry(data, pos)
    else:
        pos += 1 + size
    topic, cls, kind, current = entry
    if kind != _RECORD_KIND:
        raise _fail(f"topic {topic!r} is not an attrs record", pos)
    stored_version = data[pos]
    if stored_version < 0x80:
        pos += 1
    else:
        stored_version, pos = _long_varint(data, pos)
    body = pos
    count = data[pos]
    if count < 0x80:
        pos += 1
        if pos + count > end:
            raise _fail(f"length {count} runs past the end", pos)
    else:
        count, pos = _length(data, pos)
    depth += 1
    if count and depth > MAX_DEPTH:
        raise _fail(f"nesting deeper than {MAX_DEPTH}", pos)
    fields = _field_plan(cls)
    state: dict[str, Any] | None = {}
    if count == len(fields):
        for key, encoded, size in fields:
            if not data.startswith(encoded, pos):
                state = None  # written by another class_version (or by hand): read it key by key
                break
            pos += size
            tag = data[pos]
            if tag >= TAG_FIXINT:
                item: Any = tag & 0x7F
                pos += 1
            elif (tag == TAG_BYTES or tag == TAG_STR) and data[pos + 1] < 0x80:
                start = pos + 2
                pos = start + data[start - 1]
                if pos > end:
                    raise _fail("length runs past the end", start)
                item = data[start:pos] if tag == TAG_BYTES else data[start:pos].decode()
            elif tag == TAG_UINT and data[pos + 1] >= 0x80:
                item, pos = _long_varint(data, pos + 1)
            else:
                item, pos = _read(data, pos, depth)
            state[key] = item  # type: ignore[index]
    else:
        state = None
    if state is None:
        state, pos = _record_state(data, body, depth)
    if stored_version != current:
        return rebuild(cls, topic, stored_version, state, TranscodingError), pos
    try:
        return cls(**state), pos
    except Exception as exc:  # as in rebuild(): the class's validators judge, their text stays out
        raise TranscodingError(f"{topic} rejected its stored state ({type(exc).__name__})") from exc


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
    (topic, cls, kind, _), pos = _topic_entry(data, pos)
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
    table: list[_Reader | None] = [None] * TAG_FIXINT
    table[TAG_NONE] = _constant(None)
    table[TAG_FALSE] = _constant(False)
    table[TAG_TRUE] = _constant(True)
    table[TAG_NINT] = _read_nint
    table[TAG_BIGINT] = _read_bigint
    table[TAG_FLOAT] = _read_float
    table[TAG_TUPLE] = _read_tuple
    table[TAG_LIST] = _items
    table[TAG_DICT] = _read_dict
    table[TAG_FROZENSET] = _read_frozenset
    table[TAG_SET] = _read_unique
    table[TAG_UUID] = _read_uuid
    table[TAG_ENUM] = _read_enum
    table[TAG_RECORD] = _read_record
    table[TAG_ADAPTED] = _read_adapted
    return tuple(table)  # TAG_STR, TAG_BYTES and TAG_UINT are read inline by _read


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
        if stored_version != current:
            for version in range(stored_version, current):
                getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        return cls(**state)
    except Exception as exc:  # the class's own validators decide what is acceptable
        # The message leaves out the validator's text: it may quote stored (secret) values.
        raise fail(f"{topic} rejected its stored state ({type(exc).__name__})") from exc


# A state reader compiled for one plan: the per-field loop of _read_planned unrolled, each key's size a
# constant, and a field that usually holds bytes, a str or an int read on a path for that type first
# (any other value of that field takes the general path, so a hint is never wrong, only slower).

# The key, then a small int read in place: how the ANY and INT fields start.
_FIELD_HEAD = """\
    if data[pos:pos + {size}] != K{i}:
        return None
    pos += {size}
    tag = data[pos]
    if tag >= 0x80:
        v{i} = tag & 0x7F
        pos += 1
"""

_FIELD_ANY = _FIELD_HEAD + """\
    elif (tag == {BYTES} or tag == {STR}) and data[pos + 1] < 0x80:
        start = pos + 2
        pos = start + data[pos + 1]
        if pos > end:
            raise _fail("length runs past the end", start)
        v{i} = data[start:pos] if tag == {BYTES} else data[start:pos].decode()
    elif tag == {UINT} and data[pos + 1] >= 0x80:
        v{i}, pos = _long_varint(data, pos + 1)
    elif tag == {RECORD}:
        v{i}, pos = _read_record(data, pos + 1, 1)
    else:
        v{i}, pos = _read(data, pos, 1)
"""

_FIELD_SIZED = """\
    if data[pos:pos + {size1}] == KT{i}:
        n = data[pos + {size1}]
        if n < 0x80:
            start = pos + {size2}
            pos = start + n
            if pos > end:
                raise _fail("length runs past the end", start)
            v{i} = data[start:pos]{convert}
        else:
            v{i}, pos = _read(data, pos + {size}, 1)
    elif data[pos:pos + {size}] == K{i}:
        v{i}, pos = _read(data, pos + {size}, 1)
    else:
        return None
"""

# A nine-byte varint (a nanosecond timestamp) is read as in _long_varint, without the call.
_FIELD_INT = _FIELD_HEAD + """\
    elif (
        tag == {UINT} and pos + 10 <= end and 0 < data[pos + 9] < 0x80
        and (x := _u64le(data, pos + 1)[0]) & 0x8080808080808080 == 0x8080808080808080
    ):
        x &= 0x7F7F7F7F7F7F7F7F
        x = (x & 0x007F007F007F007F) | ((x & 0x7F007F007F007F00) >> 1)
        x = (x & 0x00003FFF00003FFF) | ((x & 0x3FFF00003FFF0000) >> 2)
        v{i} = (x & 0x000000000FFFFFFF) | ((x & 0x0FFFFFFF00000000) >> 4) | data[pos + 9] << 56
        pos += 10
    elif tag == {UINT} and data[pos + 1] >= 0x80:
        v{i}, pos = _long_varint(data, pos + 1)
    else:
        v{i}, pos = _read(data, pos, 1)
"""


def state_reader(fields: StateFields, kinds: Sequence[type | None] = ()) -> Callable[[bytes], Any]:
    """``read_value(data, fields)`` as one function written out for ``fields``: what a mapper calls per record.

    ``kinds`` gives the type each field usually holds (bytes, str or int; None for any), read first.
    A value that is not a dict of exactly these keys, in order, is read by :func:`read_value`.
    """
    count = len(fields)
    if not count or count >= 0x80:
        return lambda data: read_value(data, fields)
    kinds = tuple(kinds) + (None,) * (count - len(kinds))
    body = [
        "end = len(data)",
        f"if data[0] != {TAG_DICT} or data[1] != {count}:",
        "    return _general(data)",
        f"if {2 + count} > end:",
        f"    raise _fail('length {count} runs past the end', 2)",
        "pos = 2",
    ]
    names: dict[str, Any] = {
        "_fail": _fail, "_read": _read, "_read_record": _read_record, "_long_varint": _long_varint,
        "_u64le": U64LE.unpack_from, "_general": read_value, "TranscodingError": TranscodingError,
    }
    tags = {"BYTES": TAG_BYTES, "STR": TAG_STR, "UINT": TAG_UINT, "RECORD": TAG_RECORD}
    for i, ((_, encoded, size), kind) in enumerate(zip(fields, kinds)):
        names[f"K{i}"] = encoded
        if kind is bytes or kind is str:
            names[f"KT{i}"] = encoded + bytes((TAG_BYTES if kind is bytes else TAG_STR,))
            convert = "" if kind is bytes else ".decode()"
            field = _FIELD_SIZED.format(i=i, size=size, size1=size + 1, size2=size + 2, convert=convert)
        elif kind is int:
            field = _FIELD_INT.format(i=i, size=size, **tags)
        else:
            field = _FIELD_ANY.format(i=i, size=size, **tags)
        body += textwrap.dedent(field).replace("return None", "return _general(data)").splitlines()
    items = ", ".join(f"{key!r}: v{i}" for i, (key, _, _) in enumerate(fields))
    lines = [
        "def read(data):",
        "    try:",
        *("        " + line for line in body),
        "    except IndexError:",
        "        raise TranscodingError('truncated value') from None",
        "    except UnicodeDecodeError:",
        "        raise TranscodingError('invalid UTF-8') from None",
        "    if pos != end:",
        "        raise _fail(f'{end - pos} trailing bytes', pos)",
        f"    return {{{items}}}",
    ]
    # The source holds only the plan's own keys (as repr literals) and integer constants.
    exec(compile("\n".join(lines), f"<state reader of {count} fields>", "exec"), names)  # noqa: S102
    return names["read"]  # type: ignore[no-any-return]


def read_value(data: bytes, fields: StateFields = ()) -> Any:
    """The value ``data`` holds (all of it); a dict holding exactly ``fields``' keys in order is read faster."""
    try:
        planned = _read_planned(data, 1, fields) if fields and data[0] == TAG_DICT else None
        value, pos = _read(data, 0, 0) if planned is None else planned
    except IndexError:
        raise TranscodingError("truncated value") from None
    except UnicodeDecodeError:
        raise TranscodingError("invalid UTF-8") from None
    if pos != len(data):
        raise _fail(f"{len(data) - pos} trailing bytes", pos)
    return value
