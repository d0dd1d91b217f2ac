"""The stored form of a received application message (domain/opened_messages.py) and the outcome that
carries it (``MessageReceived`` in domain/group_events.py): the wire encoding round-trips, is strict
(one encoding per value) and rejects garbage with DecodeError only; the outcome exposes the names
the views read, derives the message id from its group, and survives the store's transcoder."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mlsgroup.domain.application_content import ApplicationContent, message_id
from mlsgroup.domain.group_events import EnvelopeProcessed, MessageReceived
from mlsgroup.domain.mls.codec import decode_all
from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.opened_messages import OpenedMessage
from mlsgroup.infrastructure.persistence import BinaryTranscoder, EventMapper

GROUP_ID = bytes(range(16))
CONTENT = ApplicationContent("text", b"hello", b"1700000000000000000").encode()

uints = st.integers(0, 2**64 - 1)
inbox_ids = st.one_of(st.binary(min_size=1, max_size=40).map(bytes.hex), st.text(max_size=40))
opened_messages = st.builds(
    OpenedMessage,
    epoch=uints,
    leaf=uints,
    generation=uints,
    reuse_guard=st.binary(min_size=4, max_size=4),
    authenticated_data=st.binary(max_size=20),
    data=st.binary(max_size=200),
    signature=st.binary(max_size=80),
    padding=uints,
    sender_inbox_id=inbox_ids,
    sender_installation_id=st.binary(max_size=40),
    payload_hash=st.binary(min_size=32, max_size=32),
)


def opened(**changes) -> OpenedMessage:
    fields = dict(
        epoch=3, leaf=1, generation=300, reuse_guard=b"guar", authenticated_data=b"", data=CONTENT,
        signature=b"s" * 64, padding=0, sender_inbox_id="ab" * 32, sender_installation_id=b"i" * 32,
        payload_hash=b"h" * 32,
    )
    fields.update(changes)
    return OpenedMessage(**fields)


@given(opened_messages)
def test_round_trip(value: OpenedMessage) -> None:
    assert OpenedMessage.decode(value.encode()) == value


@given(st.binary(max_size=300))
def test_garbage_raises_only_decode_error(data: bytes) -> None:
    try:
        OpenedMessage.decode(data)
    except DecodeError:
        pass


def _generic(data: bytes):
    try:
        return decode_all(OpenedMessage.CODEC, data)
    except DecodeError:
        return DecodeError


def _fast(data: bytes):
    try:
        return OpenedMessage.decode(data)
    except DecodeError:
        return DecodeError


@given(st.one_of(opened_messages.map(OpenedMessage.encode), st.binary(max_size=300)), st.data())
def test_the_fast_decoder_agrees_with_the_declared_struct(data: bytes, draw) -> None:
    if data and draw.draw(st.booleans()):  # also a valid encoding damaged at one byte
        at = draw.draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([draw.draw(st.integers(0, 255))]) + data[at + 1 :]
    assert _fast(data) == _generic(data)


# What senders write: generations past one LEB128 byte, application data and signatures with a
# two-byte length prefix, the strict decoder's in-place paths.
usual_messages = st.builds(
    OpenedMessage,
    epoch=st.integers(0, 300),
    leaf=st.integers(0, 300),
    generation=st.integers(0, 20_000),
    reuse_guard=st.binary(min_size=4, max_size=4),
    authenticated_data=st.binary(max_size=70),
    data=st.binary(max_size=300),
    signature=st.binary(min_size=60, max_size=70),
    padding=st.integers(0, 300),
    sender_inbox_id=inbox_ids,
    sender_installation_id=st.binary(max_size=40),
    payload_hash=st.binary(min_size=32, max_size=32),
)


@given(usual_messages.map(OpenedMessage.encode), st.data())
def test_the_fast_decoder_agrees_with_the_declared_struct_on_usual_messages(data: bytes, draw) -> None:
    if draw.draw(st.booleans()):  # damaged at one byte, or cut short
        at = draw.draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([draw.draw(st.integers(0, 255))]) + data[at + 1 :]
    elif draw.draw(st.booleans()):
        data = data[: draw.draw(st.integers(0, len(data)))]
    assert _fast(data) == _generic(data)


def test_a_hex_inbox_id_is_stored_packed_and_any_other_as_text() -> None:
    packed, text = opened().encode(), opened(sender_inbox_id="Alice").encode()
    assert len(packed) < len(opened(sender_inbox_id="AB" * 32).encode())
    assert OpenedMessage.decode(text).sender_inbox_id == "Alice"
    # epoch, leaf, generation 300, guard, no authenticated data, data, signature (a two-byte length),
    # padding, inbox (kind, length, 32 bytes), installation, hash: eleven bytes of framing in all.
    assert len(packed) == 1 + 1 + 2 + 4 + 1 + (1 + len(CONTENT)) + (2 + 64) + 1 + (2 + 32) + (1 + 32) + 32


@pytest.mark.parametrize(
    "edit",
    [
        lambda b: b[:1] + b"\x80\x00" + b[1:],  # epoch 3 as a two-byte LEB128
        lambda b: b + b"\x00",  # trailing byte
        lambda b: b[:-33],  # cut short
    ],
    ids=["non-minimal", "trailing", "short"],
)
def test_non_canonical_encodings_are_refused(edit) -> None:
    with pytest.raises(DecodeError):
        OpenedMessage.decode(edit(opened().encode()))


def test_a_hex_inbox_id_written_as_text_is_refused() -> None:
    good = opened(sender_inbox_id="Alice").encode()
    forged = good.replace(b"\x01\x05Alice", b"\x01\x04abcd")
    with pytest.raises(DecodeError):
        OpenedMessage.decode(forged)


def test_the_outcome_exposes_what_the_views_read() -> None:
    outcome = MessageReceived.of(opened())
    assert MessageReceived(wire=outcome.wire) == outcome
    assert (outcome.content_type, outcome.content, outcome.idempotency_key) == ("text", b"hello", b"1700000000000000000")
    assert (outcome.sender_inbox_id, outcome.sender_installation_id, outcome.epoch) == ("ab" * 32, b"i" * 32, 3)
    assert outcome.payload_hash == b"h" * 32 and "generation=300" in repr(outcome)
    with pytest.raises(AttributeError):
        _ = outcome.message_id  # no group yet
    event = EnvelopeProcessed(
        originator_id=uuid.UUID(bytes=GROUP_ID), originator_version=2, timestamp_ns=5, cursor=7, payload=b"",
        server_time_ns=6, outcome=outcome,
    )
    assert event.outcome.message_id == message_id(GROUP_ID, b"1700000000000000000", b"hello")


def test_the_outcome_refuses_a_malformed_encoding() -> None:
    with pytest.raises(DecodeError):
        MessageReceived(wire=b"\x00")


def test_the_store_keeps_the_outcome_and_binds_the_group_on_reading() -> None:
    mapper = EventMapper(BinaryTranscoder())
    event = EnvelopeProcessed(
        originator_id=uuid.UUID(bytes=GROUP_ID), originator_version=2, timestamp_ns=5, cursor=7, payload=b"",
        server_time_ns=6, outcome=MessageReceived.of(opened()),
    )
    stored = mapper.to_stored_event(event)
    read = mapper.to_domain_event(stored)
    assert read == event and read.outcome.message_id == event.outcome.message_id
    assert b"sender_inbox_id" not in stored.state  # the opening fields travel in their own encoding
