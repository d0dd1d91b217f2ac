"""Any store the client state machine produces replays to exactly the same state and views (issue 7).

``ReplayMachine`` is the testing kit's ``GroupMachine`` (several clients on one network: groups
created with a permission preset, DMs, adds and removes, sends, syncs, renames, admin-list and
permission changes, leaves, key updates racing or not, adds past MAX_GROUP_SIZE, and the refusals
libxmtp gives for each), with every client on a durable, encrypted store, each with its own small
snapshot interval so snapshots are taken every few events. On top of the kit's model checks:

* after every step, each client's store replays every group, from all events and from its latest
  snapshot plus the tail, to the client's live state (MLS state by its full encoding: epoch,
  epoch authenticator, tree, extensions; the cursor, intents and standing);
* after every step, each client's durable views equal the pure fold of its stored events from an
  empty view (and at every reopen, the views rebuilt from scratch on the backend equal them too);
* ``restart`` (a kit rule) and the teardown close every store and ``Client.open`` it again: the same
  states, the same answers from ``groups()``, members, metadata, admin lists, permissions and
  ``messages()``, and the same replay and view checks on the reopened store.

Stores are SQLite files in the test's tmp folder; one shorter run puts them on PostgreSQL.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis.stateful import invariant, precondition, rule, run_state_machine_as_test
from mlsgroup.infrastructure import Network
from mlsgroup.infrastructure.persistence import StoreSettings
from mlsgroup.infrastructure.testing import GroupMachine

from tests.infrastructure.replay_checks import (
    check_group_replays,
    check_views_replay,
    reopen_and_compare,
    snapshot_count,
)

# Client n snapshots every _INTERVALS[n % len] events: every event, and a few short strides.
_INTERVALS = (1, 2, 3, 5)

StoreFactory = Callable[[int], Mapping[str, Any]]


class ReplayMachine(GroupMachine):
    """GroupMachine plus the replay, snapshot, view and reopen checks (see the module docstring)."""

    network_factory = staticmethod(Network.in_memory)

    def __init__(self) -> None:
        super().__init__()
        # What the invariants last checked: (client, group version) per group and (client, store
        # position) per client. A store that recorded nothing new replays as it did before (the
        # fold is deterministic), so the invariants replay only what changed since.
        self._replayed: dict[tuple[int, bytes], tuple[Any, int]] = {}
        self._projected: dict[int, tuple[Any, Any]] = {}

    def _reopen(self, actor: int) -> None:
        self.clients_[actor] = reopen_and_compare(f"client {actor}", self.net, self.clients_[actor], **self.stores[actor])

    @precondition(lambda self: type(self).store_factory is not None)
    @rule(actor=GroupMachine.clients)
    def restart(self, actor: int) -> None:
        """A restart (the kit's rule, with the stricter comparison of ``_reopen``)."""
        self._reopen(actor)

    @invariant()
    def stores_replay_to_the_live_state(self) -> None:
        checked = self._replayed
        for actor, client in enumerate(self.clients_):
            for group_id in client.group_store.group_ids():
                version = client.group(group_id).state().version
                if checked.get((actor, group_id)) != (client, version):
                    check_group_replays(f"client {actor}", client, group_id)
                    checked[(actor, group_id)] = (client, version)

    @invariant()
    def views_equal_a_replay(self) -> None:
        checked = self._projected
        for actor, client in enumerate(self.clients_):
            position = client.group_store.app.recorder.max_notification_id()
            if checked.get(actor) != (client, position):
                check_views_replay(f"client {actor}", client)
                checked[actor] = (client, position)

    def teardown(self) -> None:
        try:
            if sys.exc_info()[0] is not None:
                return  # a step failed (hypothesis tears down in a finally): report that failure alone
            snapshotted = 0
            for actor in range(len(self.clients_)):
                client = self.clients_[actor]
                snapshotted += sum(snapshot_count(client, g) for g in client.group_store.group_ids())
                self._reopen(actor)
            event(f"snapshots in the stores: {'some' if snapshotted else 'none'}")
        finally:
            super().teardown()


def _sqlite_stores(folder: Path) -> StoreFactory:
    runs = itertools.count()
    current = {"run": 0}

    def factory(number: int) -> Mapping[str, Any]:
        if number == 0:
            current["run"] = next(runs)
        path = folder / f"run{current['run']}" / f"client{number}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return {"store": path, "encryption_key": os.urandom(32), "snapshot_interval": _INTERVALS[number % len(_INTERVALS)]}

    return factory


def _postgres_stores(server: Any) -> StoreFactory:
    def factory(number: int) -> Mapping[str, Any]:
        store = StoreSettings.postgres(server.dsn, schema=server.new_schema(), encryption_key=os.urandom(32), pool_size=2)
        return {"store": store, "snapshot_interval": _INTERVALS[number % len(_INTERVALS)]}

    return factory


def _machine(stores: StoreFactory) -> type[ReplayMachine]:
    return type("ReplayMachineRun", (ReplayMachine,), {"store_factory": staticmethod(stores), "__module__": __name__})


# Runs and steps per run under the ci profile (25 examples); dev (100) runs 4x as many, deep
# (1000) 40x, with longer runs.
_BUDGETS = {"sqlite": (8, 20), "postgres": (1, 15)}


def _settings(kind: str) -> settings:
    runs, steps = _BUDGETS[kind]
    base = settings.default.max_examples
    return settings(
        max_examples=max(1, runs * base // 25),
        stateful_step_count=steps * 2 if base >= 1000 else steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def test_stores_of_the_client_machine_replay_on_sqlite(tmp_path: Path) -> None:
    run_state_machine_as_test(_machine(_sqlite_stores(tmp_path)), settings=_settings("sqlite"))


@pytest.mark.postgres
def test_stores_of_the_client_machine_replay_on_postgres(postgres_server: Any) -> None:
    if postgres_server is None:
        pytest.skip("PostgreSQL backend not configured: set MLSGROUP_TEST_POSTGRES_DSN to a server DSN")
    postgres_server.check_reachable()
    run_state_machine_as_test(_machine(_postgres_stores(postgres_server)), settings=_settings("postgres"))
