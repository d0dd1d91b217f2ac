"""Bad input on a group's topic, injected with ``net.api.send_group_messages``: garbage, truncated,
replayed, wrong-epoch, forged and non-member envelopes are skipped (sync neither raises nor changes
the group) and the group keeps working afterwards; a welcome whose membership was doctored is
rejected. libxmtp semantics sections 7 and 9: messages at or below the cursor are never reprocessed.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import attrs
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from mlsgroup.domain.mls.messages import MLSMessage

from .helpers import agree, group_of, member_inboxes, texts


def _state(group: Any) -> tuple[object, ...]:
    return (group.epoch, bytes(group.epoch_authenticator), member_inboxes(group), group.name, texts(group))


def _still_works(a: Any, b: Any, tag: str) -> None:
    """A message and a commit still go through in both directions after the injection."""
    a.send_text(f"{tag}: from a")
    b.sync()
    b.send_text(f"{tag}: from b")
    b.update_name(f"renamed after {tag}")
    a.sync()
    assert texts(a)[-2:] == texts(b)[-2:]
    assert texts(b)[-2][1] == f"{tag}: from a".encode()
    assert a.name == f"renamed after {tag}"
    agree([a, b])


def _inject_and_check(net: Any, a: Any, b: Any, payloads: list[bytes], tag: str) -> None:
    a.sync()
    b.sync()
    before_a, before_b = _state(a), _state(b)
    net.api.send_group_messages(a.group_id, payloads)
    a.sync()
    b.sync()
    assert _state(a) == before_a, f"{tag}: the injection changed the sender's group"
    assert _state(b) == before_b, f"{tag}: the injection changed the receiver's group"
    _still_works(a, b, tag)


@pytest.fixture
def pair(net, make_client):
    alice, bob = make_client(net), make_client(net)
    a, b = group_of(alice, bob)
    a.send_text("warm up")
    b.sync()
    b.send_text("warm up back")
    a.sync()
    return alice, bob, a, b


def _payloads(net: Any, group_id: bytes) -> list[bytes]:
    return [e.payload for e in net.api.query_group_messages(group_id)]


def test_garbage_is_skipped(net, pair):
    _, _, a, b = pair
    _inject_and_check(net, a, b, [b"", b"\x00", os.urandom(200), b"\x00\x01\x00\x02" + os.urandom(64)], "garbage")


def test_truncated_envelopes_are_skipped(net, pair):
    _, _, a, b = pair
    real = _payloads(net, a.group_id)
    truncated = [p[: len(p) // 2] for p in real] + [p[:-1] for p in real]
    _inject_and_check(net, a, b, truncated, "truncated")


def test_replayed_envelopes_are_skipped(net, pair):
    _, _, a, b = pair
    real = _payloads(net, a.group_id)
    _inject_and_check(net, a, b, real, "replayed")
    assert texts(b).count((a.creator_inbox_id, b"warm up")) == 1


def test_replayed_current_epoch_message_is_not_stored_twice(net, pair):
    alice, _, a, b = pair
    a.send_text("only once")
    last = net.api.query_group_messages(a.group_id)[-1].payload
    net.api.send_group_messages(a.group_id, [last, last])
    b.sync()
    a.sync()
    assert texts(b).count((alice.inbox_id, b"only once")) == 1
    assert texts(a).count((alice.inbox_id, b"only once")) == 1
    _still_works(a, b, "replay of the newest message")


def _with_epoch(payload: bytes, change: Callable[[int], int]) -> bytes:
    """The same PrivateMessage claiming another epoch in its cleartext header."""
    message = MLSMessage.decode(payload)
    return MLSMessage.wrap(attrs.evolve(message.body, epoch=change(message.body.epoch))).encode()


def test_wrong_epoch_envelopes_are_skipped(net, pair):
    _, _, a, b = pair
    real = _payloads(net, a.group_id)
    doctored = [_with_epoch(p, lambda e: e + 1) for p in real] + [_with_epoch(p, lambda e: e + 1000) for p in real]
    _inject_and_check(net, a, b, doctored, "wrong epoch")


def _flip(payload: bytes, index: int) -> bytes:
    data = bytearray(payload)
    data[index] ^= 0x01
    return bytes(data)


def test_forged_envelopes_are_skipped(net, pair):
    _, _, a, b = pair
    a.send_text("to be forged")
    message = net.api.query_group_messages(a.group_id)[-1].payload
    forged = [_flip(message, i) for i in (len(message) - 1, len(message) - 20, len(message) // 2)]
    # Also a well-formed PrivateMessage whose ciphertext was swapped for another message's.
    body = MLSMessage.decode(message).body
    other = MLSMessage.decode(_payloads(net, a.group_id)[-2]).body
    forged.append(MLSMessage.wrap(attrs.evolve(body, ciphertext=other.ciphertext)).encode())
    forged.append(MLSMessage.wrap(attrs.evolve(body, encrypted_sender_data=os.urandom(len(body.encrypted_sender_data)))).encode())
    _inject_and_check(net, a, b, forged, "forged")
    assert texts(b).count((a.creator_inbox_id, b"to be forged")) == 1


def test_envelopes_of_another_group_are_skipped(net, make_client, pair):
    alice, bob, a, b = pair
    carol = make_client(net)
    other = carol.create_group([alice.inbox_id])
    other.send_text("wrong topic")
    other.update_name("other group")
    _inject_and_check(net, a, b, _payloads(net, other.group_id), "another group")


def test_non_member_envelopes_are_skipped(net, make_client, pair):
    """Mallory builds her own MLS group under the victim group's id and sends into its topic."""
    from mlsgroup.domain.application_content import ApplicationContent
    from mlsgroup.domain.identity import installation_key_pair
    from mlsgroup.domain.mls.group import create_group, encrypt_application
    from mlsgroup.domain.xmtp_mls import CIPHERSUITE, generate_xmtp_key_package

    _, _, a, b = pair
    mallory = make_client(net)
    # Mallory signs with a fresh key: her client's own key stays inside her client.
    signing_key, _ = installation_key_pair(os.urandom(32))
    bundle = generate_xmtp_key_package(mallory.inbox_id, signing_key, os.urandom(32), net.clock.now_ns() // 10**9)
    state = create_group(CIPHERSUITE, a.group_id, bundle, seed=os.urandom(32))
    content = ApplicationContent("text", b"let me in", os.urandom(16)).encode()
    payloads = []
    for _ in range(2):
        state, payload = encrypt_application(state, content, os.urandom(32))
        payloads.append(payload)
    _inject_and_check(net, a, b, payloads, "non-member")
    assert (mallory.inbox_id, b"let me in") not in texts(b)


@given(payloads=st.lists(st.binary(max_size=300), min_size=1, max_size=4))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_arbitrary_bytes_never_break_a_group(net, make_client, payloads):
    alice, bob = make_client(net), make_client(net)
    a, b = group_of(alice, bob)
    _inject_and_check(net, a, b, payloads, "random bytes")
