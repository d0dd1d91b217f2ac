"""The binary transcoder: exact round trips of every supported type, strict rejection of bad bytes, size."""

from __future__ import annotations

import base64
import json
import math
import os
import uuid
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlsgroup.domain.eventing import register_adapter, register_value, topic_of
from mlsgroup.infrastructure.persistence import (
    AesGcmCipher,
    BinaryTranscoder,
    EventMapper,
    TranscodingError,
    UnregisteredTypeError,
    UnsupportedValueError,
    ZstdCompressor,
)
from mlsgroup.infrastructure.persistence import decoding
from mlsgroup.infrastructure.persistence.transcoding import MAX_DEPTH

from .sample_events import Box, Member, PayloadStored, Priority, Role

T = BinaryTranscoder()


class Point:
    """A plain (non-attrs) immutable class stored through an adapter."""

    __slots__ = ("x", "y")

    def __init__(self, x: int, y: int) -> None:
        if type(x) is not int or type(y) is not int:
            raise TypeError("Point coordinates are ints")
        self.x, self.y = x, y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)

    def __hash__(self) -> int:
        return hash((self.x, self.y))


register_adapter("mlsgroup.test.Point", Point, to_state=lambda p: (p.x, p.y), from_state=lambda s: Point(*s))


def roundtrip(value: object) -> object:
    encoded = T.encode(value)
    decoded = T.decode(encoded)
    # Equal encodings of the decoded value prove types survived too (True vs 1, tuple vs list ...).
    assert T.encode(decoded) == encoded
    return decoded


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        127,
        128,
        -1,
        2**64 - 1,
        2**64,
        -(2**64),
        -(2**64) - 1,
        2**200,
        -(2**200),
        1.5,
        -0.0,
        math.inf,
        "",
        "héllo ✓",
        b"",
        b"\x00\xff" * 40,
        uuid.UUID(int=0x1234),
    ],
    ids=repr,
)
def test_scalars_round_trip_with_their_type(value: object) -> None:
    decoded = roundtrip(value)
    assert decoded == value
    assert type(decoded) is type(value)


def test_nan_round_trips() -> None:
    assert math.isnan(roundtrip(math.nan))  # type: ignore[arg-type]


def test_tuples_stay_tuples_and_lists_stay_lists() -> None:
    value = ((1, 2), [1, 2], ([(),[]],), [()])
    decoded = roundtrip(value)
    assert decoded == value
    assert type(decoded[0]) is tuple and type(decoded[1]) is list
    assert type(decoded[2][0]) is list and type(decoded[2][0][0]) is tuple
    assert type(decoded[3][0]) is tuple


def test_int_dict_keys_stay_ints_and_order_is_kept() -> None:
    value = {3: b"c", 1: b"a", "1": "string key", (1, 2): None, b"k": True}
    decoded = roundtrip(value)
    assert decoded == value
    assert list(decoded) == list(value)
    assert 1 in decoded and "1" in decoded and decoded["1"] == "string key"


def test_bool_and_int_are_kept_apart() -> None:
    decoded = roundtrip([True, 1, False, 0, {True: "t", 2: "two"}])
    assert [type(x) for x in decoded[:4]] == [bool, int, bool, int]  # type: ignore[index]


def test_sets_round_trip_and_encode_identically_whatever_their_order() -> None:
    a = frozenset({"x", "y", 3, (1, b"z")})
    b = frozenset(reversed(list(a)))
    assert T.encode(a) == T.encode(b)
    assert roundtrip(a) == a
    assert type(roundtrip({1, 2})) is set


def test_registered_enums_round_trip_as_members() -> None:
    decoded = roundtrip((Role.ADMIN, Priority.HIGH))
    assert decoded[0] is Role.ADMIN  # type: ignore[index]
    assert decoded[1] is Priority.HIGH  # type: ignore[index]


def test_nested_attrs_values_are_rebuilt_through_init() -> None:
    member = Member("inbox", (b"i1", b"i2"), Role.ADMIN)
    value = Box(content={7: [member, Box((member,), label="inner")]}, label="outer")
    decoded = roundtrip(value)
    assert decoded == value
    assert type(decoded.content[7][1].content) is tuple  # type: ignore[attr-defined]


def test_adapted_classes_round_trip() -> None:
    value = {Point(1, 2): [Point(-3, 4)]}
    assert roundtrip(value) == value


@pytest.mark.parametrize(
    "value",
    [bytearray(b"x"), memoryview(b"x"), object(), 1j, range(3), Member, (x for x in ())],
    ids=lambda value: type(value).__name__,
)
def test_unsupported_types_are_refused(value: object) -> None:
    with pytest.raises(UnsupportedValueError):
        T.encode(value)


def test_unregistered_attrs_classes_and_enums_are_refused() -> None:
    import enum

    import attrs

    @attrs.frozen
    class Loose:
        x: int

    class Colour(enum.Enum):
        RED = 1

    with pytest.raises(UnregisteredTypeError):
        T.encode([Loose(1)])
    with pytest.raises(UnregisteredTypeError):
        T.encode({"c": Colour.RED})


def test_too_deep_or_self_containing_values_are_refused() -> None:
    deep: list[object] = []
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(UnsupportedValueError):
        T.encode(deep)
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(UnsupportedValueError):
        T.encode(loop)


# Property tests --------------------------------------------------------------------------------

hashable_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary()
    | st.uuids()
    | st.sampled_from(Role)
    | st.sampled_from(Priority)
)
hashables = st.recursive(
    hashable_scalars,
    lambda inner: st.lists(inner, max_size=4).map(tuple) | st.frozensets(inner, max_size=4),
    max_leaves=8,
)
members = st.builds(
    Member,
    inbox_id=st.text(max_size=20),
    installation_ids=st.lists(st.binary(max_size=16), max_size=3).map(tuple),
    role=st.sampled_from(Role),
)
storable = st.recursive(
    hashable_scalars | members,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=5).map(tuple)
        | st.dictionaries(hashables, inner, max_size=5)
        | st.frozensets(hashables, max_size=5)
        | st.sets(hashables, max_size=5)
        | st.builds(Box, content=inner, label=st.text(max_size=5))
    ),
    max_leaves=25,
)


@given(storable)
def test_any_storable_value_round_trips_exactly(value: object) -> None:
    assert roundtrip(value) == value


@given(st.binary(max_size=200))
def test_garbage_raises_only_transcoding_error(data: bytes) -> None:
    try:
        T.decode(data)
    except TranscodingError:
        pass


@given(storable, st.data())
def test_every_truncation_of_a_valid_encoding_is_rejected(value: object, data: st.DataObject) -> None:
    encoded = T.encode(value)
    cut = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    with pytest.raises(TranscodingError):
        T.decode(encoded[:cut])


@given(storable, st.data())
def test_corrupted_encodings_raise_only_transcoding_error(value: object, data: st.DataObject) -> None:
    encoded = bytearray(T.encode(value))
    position = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    encoded[position] = data.draw(st.integers(min_value=0, max_value=255))
    try:
        T.decode(bytes(encoded))
    except TranscodingError:
        pass


def _topic(name: str) -> bytes:
    return bytes((len(name),)) + name.encode()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x12",  # unknown tag
        b"\x00\x00",  # trailing byte
        b"\x03\x05",  # small int in the wide form
        b"\x03\x80\x00",  # non-minimal varint
        b"\x03" + b"\xff" * 10 + b"\x01",  # varint past 64 bits
        b"\x05\x01\x05",  # big int that fits a varint
        b"\x07\x02\xc3\x28",  # invalid UTF-8
        b"\x08\x05abc",  # length past the end
        b"\x0a\xff\xff\xff\x0f",  # a count no input could honour
        b"\x0b\x02\x81\x00\x81\x00",  # duplicate dict key
        b"\x0b\x01\x0a\x00\x00",  # unhashable dict key (a list)
        b"\x0c\x02\x81\x81",  # duplicate set element
        b"\x0e" + b"\x00" * 15,  # short UUID
        b"\x0f" + _topic("no.such.one") + b"\x81",  # unknown topic
        b"\x0f" + _topic("mlsgroup.test.Role") + b"\x07\x03bad",  # not a member of the enum
        b"\x0f" + _topic("mlsgroup.test.Member") + b"\x81",  # record topic used as an enum
        b"\x10" + _topic("mlsgroup.test.Role") + b"\x01\x00",  # enum topic used as a record
        b"\x10" + _topic("mlsgroup.test.Point") + b"\x01\x00",  # adapter topic used as a record
        b"\x10" + _topic("mlsgroup.test.Member") + b"\x01\x01\x04role\x00",  # record missing fields
        b"\x10" + _topic("mlsgroup.test.Member") + b"\x01\x02\x04role\x00\x04role\x00",  # duplicate field
        b"\x10" + _topic("mlsgroup.test.Member") + b"\x02\x00",  # record from a future class_version
        b"\x11" + _topic("mlsgroup.test.Member") + b"\x00",  # record topic used as an adapter
        b"\x11" + _topic("mlsgroup.test.Point") + b"\x09\x01\x81",  # adapter rejects its state
        b"\x0a\x01" * (MAX_DEPTH + 2) + b"\x00",  # nesting bomb
    ],
    ids=lambda data: data[:40].hex(),
)
def test_crafted_bad_encodings_raise_transcoding_error(data: bytes) -> None:
    with pytest.raises(TranscodingError):
        T.decode(data)


def test_validators_run_when_records_are_decoded() -> None:
    good = T.encode(Member("inbox", (b"i",)))
    bad = good.replace(b"\x07\x05inbox", b"\x85")  # inbox_id stored as the int 5
    with pytest.raises(TranscodingError, match="rejected its stored state"):
        T.decode(bad)


# Size ------------------------------------------------------------------------------------------


def test_stored_bytes_per_event_for_1kib_random_payload_ratio_at_most_1_15(record_property: Any) -> None:
    """Stored state per event / payload bytes for a 1 KiB random payload, before compression."""
    payload = os.urandom(1024)
    event = PayloadStored(
        originator_id=uuid.uuid4(), originator_version=12345, timestamp_ns=1_764_000_000_000_000_000, payload=payload
    )
    transcoded = EventMapper(BinaryTranscoder()).to_stored_event(event)
    encrypted = EventMapper(BinaryTranscoder(), cipher=AesGcmCipher.from_key(os.urandom(32))).to_stored_event(event)
    pipeline = EventMapper(
        BinaryTranscoder(), compressor=ZstdCompressor(), cipher=AesGcmCipher.from_key(os.urandom(32))
    ).to_stored_event(event)
    row = len(encrypted.state) + len(encrypted.topic.encode()) + 16 + 8  # + id and version columns
    json_b64 = len(json.dumps({"timestamp_ns": event.timestamp_ns, "payload": base64.b64encode(payload).decode()}))

    ratios = {
        "transcoded state": len(transcoded.state) / len(payload),
        "transcoded + AES-GCM": len(encrypted.state) / len(payload),
        "transcoded + zstd + AES-GCM": len(pipeline.state) / len(payload),
        "whole row incl. topic/id/version": row / len(payload),
        "JSON + base64 (for comparison)": json_b64 / len(payload),
    }
    print()
    for name, ratio in ratios.items():
        label = f"stored bytes / payload bytes, 1 KiB random payload, {name}"
        print(f"{label}: {ratio:.4f}")
        record_property(f"summary: {label}", f"{ratio:.4f}")
    assert ratios["transcoded state"] <= 1.15
    assert ratios["transcoded + AES-GCM"] <= 1.15


# Fast paths ------------------------------------------------------------------------------------
# The decoder reads common shapes inline and matches planned keys as bytes; these pin that every
# fast path gives exactly what the general reader gives, and falls back when the shape differs.

STATE_KEYS = ["timestamp_ns", "content", "k" * 130, "class_version"]


@pytest.mark.parametrize(
    "value",
    [0x80, 0x3FFF, 0x4000, 2**21 - 1, 2**28, 2**49, 2**56 - 1, 2**56, 1_764_000_000_123_456_789, 2**63 - 1, 2**63,
     2**64 - 1, -(2**56) - 1, -(2**63)],
)
def test_varints_of_every_length_round_trip(value: int) -> None:
    assert roundtrip([value, {"t": value}, Box(content=value)]) == [value, {"t": value}, Box(content=value)]


@pytest.mark.parametrize(
    "data",
    [
        b"\x03" + b"\x80" * 8 + b"\x00",  # nine-byte varint with a zero last byte
        b"\x03\x80\x00",  # two-byte varint with a zero last byte
        b"\x03" + b"\xff" * 9 + b"\x02",  # ten bytes holding more than 64 bits
        b"\x03" + b"\xff" * 8,  # nine-byte varint cut short
        b"\x0b\x01\x07\x01t\x03" + b"\x80" * 8 + b"\x00",  # the same inside a dict
        b"\x0b\x01\x07\x01t\x03\x05",  # small int in the wide form inside a dict
    ],
    ids=lambda data: data.hex(),
)
def test_bad_long_varints_raise_transcoding_error(data: bytes) -> None:
    with pytest.raises(TranscodingError):
        T.decode(data)
    with pytest.raises(TranscodingError):
        T.decode_state(data, T.state_fields(["t"]))


@given(st.lists(storable, max_size=4), st.permutations(STATE_KEYS), st.integers(0, len(STATE_KEYS)))
def test_decode_state_gives_what_decode_gives_whatever_the_plan(
    values: list[object], keys: list[str], planned: int
) -> None:
    encoded = T.encode(dict(zip(keys, values)))
    decoded = T.decode_state(encoded, T.state_fields(STATE_KEYS[:planned]))
    assert decoded == T.decode(encoded) and T.encode(decoded) == encoded


@given(st.lists(storable, min_size=1, max_size=4), st.data())
def test_decode_state_rejects_exactly_what_decode_rejects(values: list[object], data: st.DataObject) -> None:
    keys = STATE_KEYS[: len(values)]
    encoded = bytearray(T.encode(dict(zip(keys, values))))
    position = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    encoded[position] = data.draw(st.integers(min_value=0, max_value=255))
    if data.draw(st.booleans()):
        del encoded[data.draw(st.integers(min_value=0, max_value=len(encoded) - 1)):]
    outcomes = []
    for decode in (T.decode, lambda d: T.decode_state(d, T.state_fields(keys))):
        try:
            outcomes.append(T.encode(decode(bytes(encoded))))
        except TranscodingError:
            outcomes.append(None)
    assert outcomes[0] == outcomes[1]


@given(st.lists(storable, min_size=len(STATE_KEYS), max_size=len(STATE_KEYS)))
def test_encode_state_writes_what_encode_writes(values: list[object]) -> None:
    fields = T.state_fields(STATE_KEYS)
    assert T.encode_state(fields, values) == T.encode(dict(zip(STATE_KEYS, values)))


def test_state_fields_are_distinct_and_need_one_value_each() -> None:
    with pytest.raises(ValueError):
        T.encode_state(T.state_fields(["a", "b"]), [1])
    with pytest.raises(ValueError):
        T.state_fields(["a", "b", "a"])


def test_records_with_fields_in_another_order_or_set_are_read_key_by_key() -> None:
    member = Member("inbox", (b"i",), Role.ADMIN)
    fields = {b"inbox_id": T.encode("inbox"), b"installation_ids": T.encode((b"i",)), b"role": T.encode(Role.ADMIN)}
    head = b"\x10" + _topic("mlsgroup.test.Member") + b"\x01"

    def record(names: list[bytes]) -> bytes:
        return head + bytes((len(names),)) + b"".join(_topic(n.decode()) + fields[n] for n in names)

    assert T.decode(record([b"role", b"installation_ids", b"inbox_id"])) == member
    assert T.decode(record([b"inbox_id", b"installation_ids"])) == Member("inbox", (b"i",))  # role has a default
    with pytest.raises(TranscodingError):
        T.decode(record([b"inbox_id", b"inbox_id", b"role"]))


# Nested records: a short topic already seen is read inline, anything else through the general path --


@register_value("mlsgroup.test." + "AVeryLongTopicName" * 8 + ".Labelled")
@attrs.frozen
class Labelled:
    label: str = attrs.field(validator=attrs.validators.instance_of(str))


def _outcome(encoded: bytes) -> tuple[str, object]:
    try:
        return "ok", T.decode(encoded)
    except TranscodingError:
        return "error", None


def test_records_with_a_topic_longer_than_127_bytes_read_back() -> None:
    assert len(topic_of(Labelled) or "") >= 128
    value = (Labelled("x"), [Labelled("y"), Box(content=Labelled("z"), label="b")])
    for _ in range(2):  # the first read caches the topic, the second reads it as cached
        assert roundtrip(value) == value
    with pytest.raises(TranscodingError):
        T.decode(T.encode(Labelled("x")).replace(b"\x07\x01x", b"\x80"))  # the validator refuses an int


@given(storable, st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=2))
def test_reading_with_cold_and_warm_topic_caches_agrees(value: object, flips: list[tuple[int, int]]) -> None:
    encoded = bytearray(T.encode(value))
    for position, byte in flips:
        encoded[position % len(encoded)] = byte
    decoding._TOPICS.clear()
    cold = _outcome(bytes(encoded))
    assert _outcome(bytes(encoded)) == cold
    if not flips:
        assert cold == ("ok", value)


# Compiled state readers: read_value(data, fields) written out per plan, with a path per usual type ----

KINDS = st.lists(st.sampled_from([None, bytes, str, int]), min_size=len(STATE_KEYS), max_size=len(STATE_KEYS))
TYPICAL_VALUES = st.one_of(
    storable,
    st.integers(min_value=0, max_value=2**64 - 1),
    st.integers(min_value=2**56, max_value=2**63 - 1),  # nine-byte varints, as timestamps are
    st.binary(max_size=300),
    st.text(max_size=200),
)


def _read_outcome(read: Any, data: bytes) -> tuple[str, bytes]:
    try:
        return "ok", T.encode(read(data))
    except TranscodingError:
        return "error", b""


@given(st.lists(TYPICAL_VALUES, max_size=len(STATE_KEYS)), st.permutations(STATE_KEYS), KINDS, st.integers(0, 4))
def test_a_compiled_state_reader_reads_what_read_value_reads(
    values: list[object], keys: list[str], kinds: list[type | None], planned: int
) -> None:
    fields = T.state_fields(STATE_KEYS[:planned])
    encoded = T.encode(dict(zip(keys, values)))
    read = decoding.state_reader(fields, kinds)
    assert read(encoded) == decoding.read_value(encoded, fields) == T.decode(encoded)
    assert T.encode(read(encoded)) == encoded


@given(st.lists(TYPICAL_VALUES, min_size=1, max_size=len(STATE_KEYS)), KINDS, st.data())
def test_a_compiled_state_reader_rejects_exactly_what_read_value_rejects(
    values: list[object], kinds: list[type | None], data: st.DataObject
) -> None:
    fields = T.state_fields(STATE_KEYS[: len(values)])
    encoded = bytearray(T.encode_state(fields, values))
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
        encoded[position] = data.draw(st.integers(min_value=0, max_value=255))
    if data.draw(st.booleans()):
        del encoded[data.draw(st.integers(min_value=0, max_value=len(encoded) - 1)):]
    read = decoding.state_reader(fields, kinds)
    assert _read_outcome(read, bytes(encoded)) == _read_outcome(lambda d: decoding.read_value(d, fields), bytes(encoded))


@pytest.mark.parametrize("value", [2**56, 2**56 + 1, 1_795_698_545_000_129_717, 2**63 - 1, 2**63, 2**64 - 1, 300, 128])
def test_a_compiled_state_reader_reads_every_long_int_as_read_value_does(value: int) -> None:
    fields = T.state_fields(["t", "u"])
    encoded = T.encode_state(fields, [value, b"x"])
    for kinds in ([int, bytes], [None, None], [str, int]):
        assert decoding.state_reader(fields, kinds)(encoded) == {"t": value, "u": b"x"}
    for position in range(len(encoded)):
        for byte in (0x00, 0x01, 0x7F, 0x80, 0x81, 0xFF):
            bad = bytearray(encoded)
            bad[position] = byte
            expected = _read_outcome(lambda d: decoding.read_value(d, fields), bytes(bad))
            for kinds in ([int, bytes], [None, None]):
                assert _read_outcome(decoding.state_reader(fields, kinds), bytes(bad)) == expected
