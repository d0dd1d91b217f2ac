"""Hypothesis strategies for histories of the sample aggregate (several aggregates, interleaved)."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import strategies as st

from mlsgroup.infrastructure.persistence import ManualClock

from tests.infrastructure.persistence.sample_events import (
    Created,
    Member,
    MembersAdded,
    MessageSent,
    PayloadStored,
    Priority,
    Renamed,
    Role,
)

__all__ = ["sample_histories", "build_history"]

INBOXES = ("alice", "bob", "carol", "dave")
NAMES = ("", "team", "équipe", "x" * 40)


def build_history(steps: list[tuple[int, int, int]], aggregates: int = 3) -> list[Any]:
    """Events from (aggregate, kind, parameter) steps; an aggregate's first event is always Created."""
    clock = ManualClock()
    ids = [uuid.uuid4() for _ in range(aggregates)]
    versions = [0] * aggregates
    events: list[Any] = []
    for which, kind, parameter in steps:
        aggregate = ids[which % aggregates]
        versions[which % aggregates] += 1
        version = versions[which % aggregates]
        common = {"originator_id": aggregate, "originator_version": version, "timestamp_ns": clock.now_ns()}
        inbox = INBOXES[parameter % len(INBOXES)]
        if version == 1:
            events.append(Created(**common, name=NAMES[parameter % len(NAMES)],
                                  creator=Member(inbox, (bytes([parameter]) * 32,), Role.ADMIN), seed=bytes(32)))
        elif kind == 0:
            members = tuple(Member(INBOXES[(parameter + i) % len(INBOXES)], (bytes([i]) * 32,) * (i + 1))
                            for i in range(parameter % 3 + 1))
            events.append(MembersAdded(**common, members=members, epoch=version, leaf_secrets={1: bytes(32)}))
        elif kind == 1:
            events.append(MessageSent(
                **common, content=b"message %d" % version * (parameter + 1), content_type="text",
                priority=Priority.HIGH if parameter % 2 else Priority.LOW,
                reply_to=None if parameter % 3 else aggregate, scores=[float(parameter)],
                flags=frozenset({"flagged"}) if parameter == 3 else frozenset(),
            ))
        elif kind == 2:
            events.append(Renamed(**common, name=NAMES[parameter % len(NAMES)] + str(version), previous=""))
        else:
            events.append(PayloadStored(**common, payload=bytes(parameter * 7)))
    return events


@st.composite
def sample_histories(draw: Any, max_events: int = 30) -> list[Any]:
    steps = draw(st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=max_events
    ))
    return build_history(steps)
