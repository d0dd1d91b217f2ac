"""StoreApplication.delete_snapshots_before on every backend (popo, sqlite, postgres): it deletes
one aggregate's older snapshot rows and nothing else, and what is left still loads."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from mlsgroup.infrastructure.persistence import ManualClock, StoreSettings
from mlsgroup.infrastructure.persistence.store import _delete_older

from ..replay_checks import snapshot_rows
from .sample_events import project
from .test_store_backends import KEY, SampleStore, history


def _snapshot_every(app: SampleStore, aggregate: uuid.UUID, clock: ManualClock, versions: int, every: int) -> None:
    for event in history(aggregate, clock, count=versions):
        app.save(event)
        if event.originator_version % every == 0:
            app.take_snapshot(aggregate, version=event.originator_version, projector_func=project)


def test_deletes_only_the_older_snapshots_of_one_aggregate(backend: Any) -> None:
    clock = ManualClock()
    first, second = sorted([uuid.uuid4(), uuid.uuid4()])
    with SampleStore.open(backend.settings(encryption_key=KEY)) as app:
        _snapshot_every(app, first, clock, versions=10, every=2)
        _snapshot_every(app, second, clock, versions=7, every=3)
        assert snapshot_rows(app) == [(first, v) for v in (2, 4, 6, 8, 10)] + [(second, 3), (second, 6)]

        app.delete_snapshots_before(first, 8)
        assert snapshot_rows(app) == [(first, 8), (first, 10), (second, 3), (second, 6)]
        app.delete_snapshots_before(first, 10)
        app.delete_snapshots_before(first, 10)  # nothing left to delete: no error
        assert snapshot_rows(app) == [(first, 10), (second, 3), (second, 6)]

        # What is left still reads back, from the snapshot and from the events alone.
        for aggregate, versions in ((first, 10), (second, 7)):
            full = project(None, app.events.get(aggregate))
            assert full is not None and full.version == versions
            assert app.repository.get(aggregate, projector_func=project) == full
        assert [s.originator_version for s in app.snapshots.get(second)] == [3, 6]
        assert app.repository.get(second, version=5, projector_func=project) == project(None, app.events.get(second, lte=5))


def test_an_aggregate_without_snapshots_is_left_alone(backend: Any) -> None:
    clock = ManualClock()
    kept, other = uuid.uuid4(), uuid.uuid4()
    with SampleStore.open(backend.settings()) as app:
        _snapshot_every(app, kept, clock, versions=4, every=2)
        app.delete_snapshots_before(other, 100)
        assert snapshot_rows(app) == [(kept, 2), (kept, 4)]


def test_refuses_an_application_recorder() -> None:
    """Notification ids of an application recorder must never move, so its rows are not deleted."""
    with SampleStore.open(StoreSettings.memory()) as app, pytest.raises(TypeError):
        _delete_older(app.recorder, uuid.uuid4(), 1)
