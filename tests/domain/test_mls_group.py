"""MlsGroup.members() of a removed member: what libxmtp lists once the removing commit is processed.

libxmtp's MLS library merges the removing commit's public part (the new tree and group context)
before marking the group inactive, and ``members()`` reads that context's membership extension: the
removed inbox is gone from its own list, and an inbox whose installation alone was removed stays,
without that installation. The removed member's store is on each backend, with snapshots every
two events, so the recorded view must also survive replay, snapshots and ``Client.open``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from mlsgroup.domain import PermissionLevel
from mlsgroup.domain.mls_group import MlsGroup
from mlsgroup.infrastructure import Client, Network
from mlsgroup.infrastructure.persistence import ManualClock

KEY = bytes(range(32))


class World:
    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.net = Network.in_memory(clock=ManualClock())
        self.carol_store = backend.settings(encryption_key=KEY)
        self.alice = Client.create(self.net)
        self.bob = Client.create(self.net)
        self.carol = Client.create(self.net, store=self.carol_store, snapshot_interval=2)
        self.clients = [self.alice, self.bob, self.carol]

    def joined(self, client: Client, group: MlsGroup) -> MlsGroup:
        client.sync_welcomes()
        return client.group(group.group_id)

    def reopen_carol(self) -> Client:
        self.carol.close()
        self.carol = Client.open(self.net, store=self.carol_store, snapshot_interval=2)
        self.clients.append(self.carol)
        return self.carol

    def close(self) -> None:
        for client in self.clients:
            client.close()


@pytest.fixture
def world(backend: Any) -> Iterator[World]:
    made = World(backend)
    yield made
    made.close()


def test_a_removed_member_no_longer_lists_itself(world: World) -> None:
    alice, bob, carol = world.alice, world.bob, world.carol
    group = alice.create_group([bob.inbox_id, carol.inbox_id])
    carols = world.joined(carol, group)
    group.add_admin(bob.inbox_id)
    group.remove_members([carol.inbox_id])
    carols.sync()
    assert not carols.is_active
    assert carols.members() == group.members()
    assert {m.inbox_id: m.permission_level for m in carols.members()} == {
        alice.inbox_id: PermissionLevel.SUPER_ADMIN,
        bob.inbox_id: PermissionLevel.ADMIN,
    }
    store = carol.group_store
    assert store.replay(group.group_id) == store.replay(group.group_id, use_snapshots=True) == carols.state()
    if world.backend.name != "popo":
        reopened = world.reopen_carol().group(group.group_id)
        assert reopened.state() == carols.state() and reopened.members() == group.members()


def test_a_removed_installation_leaves_its_inbox_listed_without_it(world: World) -> None:
    alice, carol = world.alice, world.carol
    second = carol.register_installation()
    world.clients.append(second)
    group = alice.create_group([carol.inbox_id])
    seconds = world.joined(second, group)
    carol.revoke_installations([second.installation_id])
    group.update_installations()
    seconds.sync()
    assert not seconds.is_active
    assert seconds.members() == group.members()
    assert {m.inbox_id: m.installation_ids for m in seconds.members()}[carol.inbox_id] == (carol.installation_id,)


def test_a_readded_member_lists_the_members_of_its_new_epoch(world: World) -> None:
    alice, bob, carol = world.alice, world.bob, world.carol
    group = alice.create_group([carol.inbox_id])
    carols = world.joined(carol, group)
    group.remove_members([carol.inbox_id])
    carols.sync()
    group.add_members([bob.inbox_id, carol.inbox_id])
    carol.sync_welcomes()
    assert carols.is_active and carols.state().after_removal is None
    assert carols.members() == group.members()
    assert {m.inbox_id for m in carols.members()} == {alice.inbox_id, bob.inbox_id, carol.inbox_id}
