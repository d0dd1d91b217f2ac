"""Joining from a welcome: the "you were added" transcript carries the welcome envelope's server time.

libxmtp stamps that transcript (and every transcript) with the delivery service's time, not the
joiner's clock. Here the joiner's clock runs a day behind the network's, so the two cannot be
confused; the joiner's store is on each backend and is reopened where it outlives the client.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import attrs
import pytest
from mlsgroup.domain import ConversationType, MessageKind
from mlsgroup.domain.group_events import GroupJoined
from mlsgroup.infrastructure import Client, Network
from mlsgroup.infrastructure.persistence import ManualClock

KEY = bytes(range(32))
DAY_NS = 86_400 * 10**9


@pytest.fixture
def net() -> Iterator[Network]:
    with Network.in_memory(clock=ManualClock(start_ns=1_700_000_000 * 10**9)) as network:
        yield network


def test_the_joiners_transcript_is_stamped_with_the_welcomes_server_time(net: Network, backend: Any) -> None:
    store = backend.settings(encryption_key=KEY)
    alice = Client.create(net)
    bob = Client.create(net, store=store, clock=ManualClock(start_ns=1_700_000_000 * 10**9 - DAY_NS))
    try:
        group = alice.create_group([bob.inbox_id])
        (welcome,) = net.api.query_welcome_messages(bob.installation_id, after_cursor=0)
        bob.sync_welcomes()
        (joined,) = [e for e in bob.group_store.events(group.group_id) if isinstance(e, GroupJoined)]
        assert joined.server_time_ns == joined.added_at_ns == welcome.server_time_ns
        assert welcome.server_time_ns - joined.timestamp_ns > DAY_NS // 2  # the joiner's clock is a day behind
        (added,) = bob.group(group.group_id).messages(kind=MessageKind.MEMBERSHIP_CHANGE)
        assert added.sent_at_ns == welcome.server_time_ns
        assert added.group_updated.added_inboxes == (bob.inbox_id,)
        if backend.name != "popo":
            bob.close()
            bob = Client.open(net, store=store)
            (reopened,) = bob.group(group.group_id).messages(kind=MessageKind.MEMBERSHIP_CHANGE)
            assert reopened.sent_at_ns == welcome.server_time_ns
    finally:
        alice.close()
        bob.close()


def test_a_join_recorded_without_the_server_time_keeps_the_events_time() -> None:
    event = GroupJoined(
        originator_id=uuid4(), originator_version=1, timestamp_ns=42, group_id=bytes(16), inbox_id="a",
        installation_id=b"i", conversation_type=ConversationType.GROUP, dm_id=None,
        added_by_inbox_id="b", welcome=b"", cursor=1, group_updated=b"", key_package_bundle=b"", epoch=1,
        extensions=(),
    )
    assert event.server_time_ns is None and event.added_at_ns == 42
    assert attrs.evolve(event, server_time_ns=7).added_at_ns == 7
