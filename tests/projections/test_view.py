"""View declarations: handler dispatch, topics, fingerprints, compose, and pure replay of the sample view."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from mlsgroup.infrastructure.persistence import ManualClock
from mlsgroup.projections import INT, TEXT, Column, Rows, Table, Upsert, View, ViewDefinitionError, compose, replay

from tests.infrastructure.persistence.sample_events import (
    Created,
    Member,
    MessageSent,
    PayloadStored,
    Priority,
    Renamed,
    Role,
)
from tests.infrastructure.persistence.test_store_backends import history

from .sample_views import TOTAL_KEY, make_sample_view, sample_view


def _counter(name: str, table: str, *classes: type, version: int = 1) -> View:
    view = View(name, version=version, tables=[Table(table, [Column("id", TEXT), Column("n", INT)], key=["id"])])

    @view.on(*classes)
    def _count(rows: Rows, event: Any) -> list[Any]:
        row = rows.get(table, ("all",))
        return [Upsert(table, {"id": "all", "n": 1 if row is None else row["n"] + 1})]

    return view


def test_names_and_versions_are_checked() -> None:
    for name in ("", "Bad", "x" * 32, "a-b"):
        with pytest.raises(ViewDefinitionError):
            View(name, tables=[Table("t", [Column("id", INT)], key=["id"])])
    with pytest.raises(ViewDefinitionError):
        View("v", version=0, tables=[Table("t", [Column("id", INT)], key=["id"])])


def test_only_registered_event_classes_can_be_handled() -> None:
    view = _counter("v", "t", Created)
    with pytest.raises(ViewDefinitionError):
        view.on(int)
    with pytest.raises(ViewDefinitionError):
        view.on()


def test_events_dispatch_on_their_exact_class_and_topics_follow() -> None:
    view = _counter("v", "t", Created, Renamed)
    assert view.topics == tuple(sorted([Created.TOPIC, Renamed.TOPIC]))
    events = history(uuid.uuid4(), ManualClock(), count=6)  # Created, MembersAdded, MessageSent, Renamed, ...
    assert replay(view, events)["t"] == {("all",): {"id": "all", "n": 2}}
    assert view.project(None, object()) == []  # type: ignore[arg-type]


def test_fingerprint_follows_version_schema_and_composition() -> None:
    a1, a2 = _counter("a", "t", Created), _counter("a", "t", Created, version=2)
    other_table = _counter("a", "u", Created)
    assert a1.fingerprint() == _counter("a", "t", Renamed).fingerprint()  # handlers are named by the version
    assert len({a1.fingerprint(), a2.fingerprint(), other_table.fingerprint()}) == 3


def test_compose_joins_tables_and_handlers() -> None:
    counts_created = _counter("a", "created", Created)
    counts_messages = _counter("b", "messages", MessageSent, Created)
    both = compose("both", counts_created, counts_messages)
    assert list(both.schema.by_name) == ["created", "messages"]
    assert both.topics == tuple(sorted([Created.TOPIC, MessageSent.TOPIC]))
    events = history(uuid.uuid4(), ManualClock(), count=10)
    rows = replay(both, events)
    assert rows["created"] == replay(counts_created, events)["created"]
    assert rows["messages"] == replay(counts_messages, events)["messages"]
    with pytest.raises(ViewDefinitionError):
        compose("clash", counts_created, _counter("c", "created", Renamed))
    with pytest.raises(ViewDefinitionError):
        compose("empty")


def test_compose_fingerprint_changes_with_a_part_version() -> None:
    a, b = _counter("a", "x", Created), _counter("b", "y", Created)
    b2 = _counter("b", "y", Created, version=2)
    assert compose("c", a, b).fingerprint() != compose("c", a, b2).fingerprint()


def test_sample_view_replay() -> None:
    clock = ManualClock()
    group = uuid.uuid4()
    events = history(group, clock, count=11)  # v1 Created, then MembersAdded, MessageSent, Renamed, PayloadStored...
    rows = replay(sample_view, events)
    aggregate = rows["aggregates"][(group.bytes,)]
    assert aggregate["name"] == "name 8" and aggregate["renamed"] is True and aggregate["previous_name"] == "name 4"
    assert aggregate["messages"] == 3 and aggregate["epoch"] == 10 and aggregate["payload_bytes"] == 200
    assert set(rows["members"]) == {(group.bytes, "alice"), (group.bytes, "bob")}
    assert sorted(version for _, version in rows["messages"]) == [3, 7, 11]
    assert rows["applied"][TOTAL_KEY]["count"] == 11


def test_payload_retracts_the_message_before_it() -> None:
    clock = ManualClock()
    group = uuid.uuid4()
    events = [
        Created(originator_id=group, originator_version=1, timestamp_ns=clock.now_ns(), name="n",
                creator=Member("alice", (b"\x01",)), seed=bytes(32)),
        MessageSent(originator_id=group, originator_version=2, timestamp_ns=clock.now_ns(), content=b"m",
                    content_type="text", priority=Priority.HIGH, reply_to=None, scores=[], flags=frozenset()),
        PayloadStored(originator_id=group, originator_version=3, timestamp_ns=clock.now_ns(), payload=b"xyz"),
    ]
    assert replay(sample_view, events[:2])["messages"] != {}
    rows = replay(sample_view, events)
    assert rows["messages"] == {} and rows["aggregates"][(group.bytes,)]["payload_bytes"] == 3


def test_handlers_see_changes_of_earlier_events_in_the_replay() -> None:
    view = make_sample_view()
    clock = ManualClock()
    group = uuid.uuid4()
    alice = Member("alice", (b"\x01",), Role.ADMIN)
    events = [Created(originator_id=group, originator_version=1, timestamp_ns=clock.now_ns(), name="n",
                      creator=alice, seed=bytes(32))]
    for version in range(2, 6):
        events.append(MessageSent(originator_id=group, originator_version=version, timestamp_ns=clock.now_ns(),
                                  content=b"m", content_type="text", priority=Priority.LOW, reply_to=None,
                                  scores=[], flags=frozenset()))
    assert replay(view, events)["aggregates"][(group.bytes,)]["messages"] == 4
