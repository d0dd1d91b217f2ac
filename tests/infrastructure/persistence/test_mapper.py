"""The event mapper: events rebuilt through __init__, upcasting, record binding, typed errors."""

from __future__ import annotations

import os
import uuid
from dataclasses import replace

import attrs
import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import given
from hypothesis import strategies as st

from mlsgroup.domain.eventing import DomainEvent
from mlsgroup.infrastructure.persistence import (
    AesGcmCipher,
    BinaryTranscoder,
    DecompressionError,
    EventMapper,
    EventReconstructionError,
    StoreDecryptionError,
    StoredDataError,
    TranscodingError,
    UnknownTopicError,
    UnregisteredTypeError,
    ZstdCompressor,
)

from .sample_events import Created, Member, MembersAdded, MessageSent, Priority, Renamed, Role

KEY = os.urandom(32)
AGGREGATE = uuid.UUID("0f0e0d0c-0b0a-0908-0706-050403020100")


def full_mapper(key: bytes = KEY) -> EventMapper:
    return EventMapper(BinaryTranscoder(), compressor=ZstdCompressor(), cipher=AesGcmCipher.from_key(key))


def members_added(version: int = 2) -> MembersAdded:
    return MembersAdded(
        originator_id=AGGREGATE,
        originator_version=version,
        timestamp_ns=1_700_000_000_000_000_123,
        members=(Member("bob", (b"\x01" * 32, b"\x02" * 32), Role.ADMIN), Member("carol", ())),
        epoch=3,
        leaf_secrets={0: b"\xaa" * 32, 5: b"\xbb" * 32},
    )


def test_event_with_tuple_and_bytes_fields_comes_back_equal() -> None:
    mapper = full_mapper()
    event = members_added()
    stored = mapper.to_stored_event(event)
    assert stored.topic == "mlsgroup.test.SampleAggregate.MembersAdded"
    assert stored.originator_id == AGGREGATE and stored.originator_version == 2
    assert b"bob" not in stored.state  # encrypted at rest
    back = mapper.to_domain_event(stored)
    assert back == event
    assert type(back.members) is tuple and type(back.members[0].installation_ids) is tuple
    assert list(back.leaf_secrets) == [0, 5]


def test_every_field_type_survives_the_full_pipeline() -> None:
    event = MessageSent(
        originator_id=AGGREGATE,
        originator_version=9,
        timestamp_ns=42,
        content=bytes(range(256)),
        content_type="text",
        priority=Priority.HIGH,
        reply_to=uuid.uuid4(),
        scores=[0.5, -1e300],
        flags=frozenset({"pinned", "edited"}),
    )
    back = full_mapper().to_domain_event(full_mapper().to_stored_event(event))
    assert back == event and back.priority is Priority.HIGH and type(back.scores) is list


def test_validators_run_when_events_are_rebuilt() -> None:
    mapper = EventMapper(BinaryTranscoder())
    good = mapper.to_stored_event(
        Created(originator_id=AGGREGATE, originator_version=1, timestamp_ns=0, name="g", creator=Member("a", ()),
                seed=b"\x00" * 32)
    )
    short_seed = good.state.replace(b"\x08\x20" + b"\x00" * 32, b"\x08\x01\x00")
    with pytest.raises(EventReconstructionError, match="Created rejected its stored state"):
        mapper.to_domain_event(replace(good, state=short_seed))
    with pytest.raises(EventReconstructionError):
        mapper.to_domain_event(replace(good, originator_version=0))


def test_old_versions_are_upcast() -> None:
    mapper = EventMapper(BinaryTranscoder(), compressor=ZstdCompressor())
    v1_state = BinaryTranscoder().encode({"timestamp_ns": 5, "title": "old name"})
    stored = StoredEvent(AGGREGATE, 3, "mlsgroup.test.SampleAggregate.Renamed", ZstdCompressor().compress(v1_state))
    assert mapper.to_domain_event(stored) == Renamed(
        originator_id=AGGREGATE, originator_version=3, timestamp_ns=5, name="old name", previous=""
    )
    current = Renamed(originator_id=AGGREGATE, originator_version=4, timestamp_ns=6, name="n", previous="p")
    assert mapper.to_domain_event(mapper.to_stored_event(current)) == current
    assert b"class_version" in ZstdCompressor().decompress(mapper.to_stored_event(current).state)


def test_records_are_bound_to_their_position() -> None:
    mapper = full_mapper()
    stored = mapper.to_stored_event(members_added(version=2))
    for moved in (
        replace(stored, originator_version=3),
        replace(stored, originator_id=uuid.uuid4()),
        replace(stored, topic="mlsgroup.test.SampleAggregate.Created"),
    ):
        with pytest.raises(StoreDecryptionError):
            mapper.to_domain_event(moved)


def test_wrong_key_and_flipped_bytes_raise_typed_error() -> None:
    stored = full_mapper().to_stored_event(members_added())
    with pytest.raises(StoreDecryptionError):
        full_mapper(os.urandom(32)).to_domain_event(stored)
    for position in (0, 5, len(stored.state) // 2, len(stored.state) - 1):
        tampered = bytearray(stored.state)
        tampered[position] ^= 0x40
        with pytest.raises(StoreDecryptionError):
            full_mapper().to_domain_event(replace(stored, state=bytes(tampered)))


def test_unregistered_events_are_refused() -> None:
    @attrs.frozen(kw_only=True)
    class Unregistered(DomainEvent):
        note: str

    with pytest.raises(UnregisteredTypeError):
        full_mapper().to_stored_event(Unregistered(originator_id=AGGREGATE, originator_version=1, timestamp_ns=0, note=""))


def test_unknown_topics_are_refused() -> None:
    stored = replace(full_mapper().to_stored_event(members_added()), topic="mlsgroup.Unknown.Thing")
    with pytest.raises(UnknownTopicError):
        full_mapper().to_domain_event(stored)
    value_topic = replace(stored, topic="mlsgroup.test.Member")  # registered, but not an event
    with pytest.raises(UnknownTopicError):
        full_mapper().to_domain_event(value_topic)


def test_state_that_is_not_a_dict_is_refused() -> None:
    mapper = EventMapper(BinaryTranscoder())
    stored = StoredEvent(AGGREGATE, 1, "mlsgroup.test.SampleAggregate.Renamed", BinaryTranscoder().encode([1]))
    with pytest.raises(TranscodingError):
        mapper.to_domain_event(stored)


@given(st.binary(max_size=300))
def test_garbage_state_raises_only_stored_data_errors(state: bytes) -> None:
    stored = StoredEvent(AGGREGATE, 2, "mlsgroup.test.SampleAggregate.MembersAdded", state)
    for mapper in (EventMapper(BinaryTranscoder()), EventMapper(BinaryTranscoder(), compressor=ZstdCompressor())):
        try:
            mapper.to_domain_event(stored)
        except StoredDataError:
            pass
    with pytest.raises(StoreDecryptionError):
        full_mapper().to_domain_event(stored)


def test_compressed_garbage_raises_decompression_error() -> None:
    stored = StoredEvent(AGGREGATE, 2, "mlsgroup.test.SampleAggregate.MembersAdded", b"\x01not a frame")
    with pytest.raises(DecompressionError):
        EventMapper(BinaryTranscoder(), compressor=ZstdCompressor()).to_domain_event(stored)


def test_decode_record_reads_columns_as_recorders_hold_them() -> None:
    mapper = full_mapper()
    event = members_added()
    stored = mapper.to_stored_event(event)
    for originator_id in (AGGREGATE, AGGREGATE.hex, str(AGGREGATE)):
        assert mapper.decode_record(originator_id, 2, stored.topic, stored.state) == event
    with pytest.raises(StoreDecryptionError):
        mapper.decode_record(AGGREGATE, 3, stored.topic, stored.state)
    with pytest.raises(EventReconstructionError):
        EventMapper(BinaryTranscoder()).decode_record("not a uuid", 2, stored.topic,
                                                      EventMapper(BinaryTranscoder()).to_stored_event(event).state)


def test_open_record_gives_the_transcoded_state_that_decode_record_reads() -> None:
    mapper, plain = full_mapper(), EventMapper(BinaryTranscoder())
    event = members_added()
    stored = mapper.to_stored_event(event)
    for originator_id in (AGGREGATE, str(AGGREGATE)):
        assert mapper.open_record(originator_id, 2, stored.topic, stored.state) == plain.to_stored_event(event).state
    with pytest.raises(StoreDecryptionError):
        mapper.open_record(AGGREGATE, 3, stored.topic, stored.state)
    with pytest.raises(EventReconstructionError):
        mapper.open_record("not a uuid", 2, stored.topic, stored.state)


def test_records_of_an_old_class_version_are_read_whatever_the_state_layout() -> None:
    mapper = EventMapper(BinaryTranscoder())
    for state in ({"title": "t", "timestamp_ns": 5}, {"timestamp_ns": 5, "title": "t", "class_version": 1}):
        stored = StoredEvent(AGGREGATE, 3, "mlsgroup.test.SampleAggregate.Renamed", BinaryTranscoder().encode(state))
        assert mapper.to_domain_event(stored).name == "t"
    future = BinaryTranscoder().encode({"timestamp_ns": 5, "name": "n", "previous": "", "class_version": 3})
    with pytest.raises(EventReconstructionError):
        mapper.to_domain_event(StoredEvent(AGGREGATE, 3, "mlsgroup.test.SampleAggregate.Renamed", future))


def test_state_held_in_any_bytes_like_column_reads_the_same() -> None:
    mapper = EventMapper(BinaryTranscoder())
    event = members_added()
    state = mapper.to_stored_event(event).state
    for column in (state, memoryview(state), bytearray(state)):
        assert mapper.decode_record(AGGREGATE, 2, "mlsgroup.test.SampleAggregate.MembersAdded", column) == event


def test_a_transcoder_subclass_that_reads_state_its_own_way_is_used() -> None:
    calls: list[bytes] = []

    class Counting(BinaryTranscoder):
        def decode_state(self, data: bytes, fields: tuple) -> object:  # type: ignore[override]
            calls.append(data)
            return super().decode_state(data, fields)

    event = members_added()
    mapper = EventMapper(Counting(), compressor=ZstdCompressor(), cipher=AesGcmCipher.from_key(KEY))
    assert mapper.to_domain_event(mapper.to_stored_event(event)) == event and len(calls) == 1


def test_records_of_many_aggregates_are_bound_to_their_own_ids() -> None:
    mapper = full_mapper()
    events = [attrs.evolve(members_added(), originator_id=uuid.UUID(int=n)) for n in range(1, 40)]
    stored = [mapper.to_stored_event(e) for e in events]
    assert [mapper.to_domain_event(s) for s in stored] == events
    with pytest.raises(StoreDecryptionError):
        mapper.to_domain_event(replace(stored[0], originator_id=stored[1].originator_id))
