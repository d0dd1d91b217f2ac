"""GroupStore snapshots on every backend (popo, sqlite, postgres): each group keeps one snapshot row,
its latest; loading from it equals the full replay; a crash between storing a new snapshot and
deleting the older ones leaves a spare snapshot, never a group without its latest."""

from __future__ import annotations

from typing import Any

import pytest

from mlsgroup.domain import Preset
from mlsgroup.domain.group_aggregate import group_uuid
from mlsgroup.infrastructure import Client, Network

from .replay_checks import check_prefix_replays, check_store_replays, reopen_and_compare, snapshot_rows

INTERVAL = 3


def _latest_snapshot_version(version: int, rows: list[tuple[Any, int]]) -> int:
    """The version of the only row, which must be in the same interval as ``version``."""
    assert len(rows) == 1
    stored = rows[0][1]
    assert stored <= version and stored // INTERVAL == version // INTERVAL
    return stored


def test_each_group_keeps_only_its_latest_snapshot(backend: Any) -> None:
    net = Network.in_memory()
    settings = backend.settings(encryption_key=bytes([7]) * 32)
    alice = Client.create(net, store=settings, snapshot_interval=INTERVAL)
    try:
        with Client.create(net) as bob:
            first = alice.create_group([bob.inbox_id], permissions=Preset.DEFAULT)
            second = alice.create_group([], permissions=Preset.DEFAULT)
            for number in range(12):
                first.send(b"m%d" % number)
                if number % 3 == 0:
                    second.send_text(f"n{number}")
            first.update_name("renamed")
        app = alice.group_store.app
        rows = snapshot_rows(app)
        for group in (first, second):
            state = group.state()
            assert state.version > 3 * INTERVAL  # several snapshots were taken on the way
            _latest_snapshot_version(state.version, [r for r in rows if r[0] == group_uuid(group.group_id)])
            store = alice.group_store
            assert store.replay(group.group_id, use_snapshots=True) == store.replay(group.group_id) == state
            assert check_prefix_replays("alice", alice, group.group_id) == state.version
        assert len(rows) == 2
        check_store_replays("alice", alice)
        if backend.name != "popo":  # a file or database store outlives its client: load it from the snapshot
            alice = reopen_and_compare("alice", net, alice, store=settings, snapshot_interval=INTERVAL)
            assert snapshot_rows(alice.group_store.app) == rows
    finally:
        alice.close()


def test_a_crash_before_the_older_snapshots_go_leaves_the_latest(backend: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    net = Network.in_memory()
    with Client.create(net, store=backend.settings(), snapshot_interval=INTERVAL) as alice:
        group = alice.create_group([], permissions=Preset.DEFAULT)
        while not snapshot_rows(alice.group_store.app):
            group.send_text("before")
        app = alice.group_store.app
        (before,) = snapshot_rows(app)

        def crash(*_: Any) -> None:
            raise RuntimeError("crashed after storing the snapshot")

        monkeypatch.setattr(app, "delete_snapshots_before", crash)
        with pytest.raises(RuntimeError):
            for _ in range(INTERVAL):
                group.send_text("crossing")
        monkeypatch.undo()
        rows = snapshot_rows(app)
        assert rows[0] == before and len(rows) == 2 and rows[1][1] > before[1]
        store = alice.group_store
        full = store.replay(group.group_id)
        assert full is not None and full.version >= rows[1][1]
        assert store.replay(group.group_id, use_snapshots=True) == full

        # The next snapshot removes both older ones.
        while snapshot_rows(app)[-1][1] // INTERVAL == full.version // INTERVAL:
            group.send_text("after")
        (latest,) = snapshot_rows(app)
        assert latest[1] > rows[1][1]
        check_store_replays("alice", alice)
