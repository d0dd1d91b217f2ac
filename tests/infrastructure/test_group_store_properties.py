"""GroupStore replay as a property (ARCHITECTURE 3 and 5), on every backend: snapshot + tail
equals the full replay, both equal the live state, and a reopened client equals the live one.

Hypothesis draws a snapshot interval and a history of one group among three clients whose stores
all live on the backend under test: sends, metadata updates, adds, removes, admin changes, key
updates, leaves and syncs in any order, by any client (refused calls stay in the history: their
events must replay too). After every step each client's store must replay every group, from all
events and from its latest snapshot plus the tail, to the client's live state; at the end, the
snapshot + tail at EVERY version equals the fold of that prefix, and (on SQLite and PostgreSQL,
where a store outlives its client) ``Client.open`` restores the same states and query answers.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from mlsgroup.domain import MetadataField, Preset, errors
from mlsgroup.infrastructure import Client, Network

from tests.infrastructure.replay_checks import (
    check_prefix_replays,
    check_store_replays,
    check_views_rebuild,
    reopen_and_compare,
    snapshot_count,
)

CLIENTS = 3  # client 0 creates the group with the next `invited` clients; the others start outside
_ACTORS = st.integers(0, CLIENTS - 1)
_FIELDS = [MetadataField.GROUP_NAME, MetadataField.DESCRIPTION, MetadataField.GROUP_IMAGE_URL_SQUARE, MetadataField.APP_DATA]
_SETTERS = {
    MetadataField.GROUP_NAME: "update_name",
    MetadataField.DESCRIPTION: "update_description",
    MetadataField.GROUP_IMAGE_URL_SQUARE: "update_image_url_square",
    MetadataField.APP_DATA: "update_app_data",
}

# One step of a history, as a tuple that reads back as Python in a failing example.
steps = st.one_of(
    st.tuples(st.just("send"), _ACTORS, st.binary(max_size=24)),
    st.tuples(st.just("metadata"), _ACTORS, st.sampled_from(_FIELDS), st.text(max_size=10)),
    st.tuples(st.just("add"), _ACTORS, _ACTORS),
    st.tuples(st.just("remove"), _ACTORS, _ACTORS),
    st.tuples(st.just("add_admin"), _ACTORS, _ACTORS),
    st.tuples(st.just("key_update"), _ACTORS),
    st.tuples(st.just("leave"), _ACTORS),
    st.tuples(st.just("sync"), _ACTORS),
)
histories = st.lists(steps, min_size=1, max_size=16)

# Examples per backend under the ci profile (25 examples); dev (100) runs 4x as many, deep (1000) 40x.
_BUDGETS = {"popo": 12, "sqlite": 6, "postgres": 2}


def _settings(backend: str) -> settings:
    return settings(
        max_examples=max(1, _BUDGETS[backend] * settings.default.max_examples // 25),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    )


def _apply(clients: list[Client], group_id: bytes, step: tuple[Any, ...]) -> str:
    """Run one step; returns "ok" or the name of the group error it raised (refusals are history too)."""
    kind, actor, *args = step
    client = clients[actor]
    try:
        if kind == "sync":
            client.sync_all()
            return "ok"
        if group_id not in client.group_store.group_ids():
            client.sync_welcomes()  # as an app would before acting on a group it was invited to
        group = client.group(group_id)
        if kind == "send":
            group.send(args[0])
        elif kind == "metadata":
            getattr(group, _SETTERS[args[0]])(args[1])
        elif kind == "add":
            group.add_members([clients[args[0]].inbox_id])
        elif kind == "remove":
            group.remove_members([clients[args[0]].inbox_id])
        elif kind == "add_admin":
            group.add_admin(clients[args[0]].inbox_id)
        elif kind == "key_update":
            group.key_update()
        elif kind == "leave":
            group.leave()
        else:
            raise ValueError(f"unknown step {step!r}")
    except errors.GroupError as refused:
        return type(refused).__name__
    return "ok"


def _check_all(clients: list[Client], after: str) -> None:
    for number, client in enumerate(clients):
        check_store_replays(f"after {after}: client {number}", client)


def _run_history(backend: Any, preset: Preset, invited: int, interval: int, history: list[tuple[Any, ...]]) -> None:
    net = Network.in_memory()
    stores = [backend.settings(encryption_key=bytes([n + 1]) * 32) for n in range(CLIENTS)]
    clients = [Client.create(net, store=s, snapshot_interval=interval) for s in stores]
    try:
        group = clients[0].create_group([c.inbox_id for c in clients[1 : 1 + invited]], permissions=preset)
        group_id = group.group_id
        _check_all(clients, "create_group")
        for index, step in enumerate(history):
            outcome = _apply(clients, group_id, step)
            event(f"{step[0]}: {outcome}")
            _check_all(clients, f"step {index} {step!r}")
        for client in clients:  # everyone catches up: the longest tails, including every welcome
            client.sync_all()
        _check_all(clients, "the final sync_all")

        for number, client in enumerate(clients):
            check_views_rebuild(f"client {number}", client)
            if group_id in client.group_store.group_ids():
                versions = check_prefix_replays(f"client {number}", client, group_id)
                event(f"snapshots taken: {'some' if snapshot_count(client, group_id) else 'none'}")
                if versions < interval:
                    event("history shorter than the snapshot interval")

        if backend.name == "popo":
            return  # an in-memory store ends with its client: nothing to reopen
        for number, store in enumerate(stores):
            clients[number] = reopen_and_compare(f"client {number}", net, clients[number], store=store, snapshot_interval=interval)
    finally:
        for client in clients:
            client.close()


def test_snapshot_and_tail_equal_full_replay_and_the_live_state(backend: Any) -> None:
    @_settings(backend.name)
    @given(
        preset=st.sampled_from([Preset.DEFAULT, Preset.ADMINS_ONLY]),
        invited=st.integers(0, CLIENTS - 1),
        interval=st.integers(1, 8),
        history=histories,
    )
    def prop(preset: Preset, invited: int, interval: int, history: list[tuple[Any, ...]]) -> None:
        _run_history(backend, preset, invited, interval, history)

    prop()


def test_a_history_longer_than_the_interval_takes_snapshots(backend: Any) -> None:
    """The property above is only meaningful if snapshots exist: this fixed history crosses the
    interval several times, and snapshot + tail still equals the full replay at every version."""
    net = Network.in_memory()
    store = backend.settings()
    with Client.create(net, store=store, snapshot_interval=3) as alice, Client.create(net) as bob:
        group = alice.create_group([bob.inbox_id], permissions=Preset.DEFAULT)
        for number in range(4):
            group.send(b"m%d" % number)
        group.update_name("snapshotted")
        assert snapshot_count(alice, group.group_id) == 1  # the latest only; the check takes the others
        assert check_prefix_replays("alice", alice, group.group_id) >= 9
        check_store_replays("alice", alice)
