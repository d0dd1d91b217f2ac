"""A small event-sourced sample aggregate used by the event-store tests (not part of mlsgroup's domain).

It exercises what the group aggregate will need: nested attrs values, enums, tuples, bytes, int
dict keys, an upcast event, an immutable state value rebuilt by a projector function, and a
snapshot event whose timestamp comes from the state (no clock read at snapshot time).
"""

from __future__ import annotations

import enum
from typing import Any, Iterable
from uuid import UUID

import attrs
from attrs import validators as v

from mlsgroup.domain.eventing import DomainEvent, register_event, register_value

__all__ = [
    "Role",
    "Priority",
    "Member",
    "Box",
    "Created",
    "MembersAdded",
    "MessageSent",
    "Renamed",
    "PayloadStored",
    "SampleState",
    "SampleSnapshot",
    "project",
]


@register_value("mlsgroup.test.Role")
class Role(enum.Enum):
    MEMBER = "member"
    ADMIN = "admin"


@register_value("mlsgroup.test.Priority")
class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


@register_value("mlsgroup.test.Member")
@attrs.frozen
class Member:
    inbox_id: str = attrs.field(validator=v.instance_of(str))
    installation_ids: tuple[bytes, ...] = attrs.field(validator=v.instance_of(tuple))
    role: Role = Role.MEMBER


@register_value("mlsgroup.test.Box")
@attrs.frozen(eq=True, hash=False)
class Box:
    """Wraps any storable value, to nest records inside arbitrary structures in property tests."""

    content: Any
    _label: str = ""


def _seed_length(_instance: object, _attribute: object, value: bytes) -> None:
    if type(value) is not bytes or len(value) != 32:
        raise ValueError("seed must be 32 bytes")


@register_event("mlsgroup.test.SampleAggregate.Created")
@attrs.frozen(kw_only=True)
class Created(DomainEvent):
    name: str
    creator: Member
    seed: bytes = attrs.field(validator=_seed_length)


@register_event("mlsgroup.test.SampleAggregate.MembersAdded")
@attrs.frozen(kw_only=True)
class MembersAdded(DomainEvent):
    members: tuple[Member, ...] = attrs.field(validator=v.instance_of(tuple))
    epoch: int
    leaf_secrets: dict[int, bytes]


@register_event("mlsgroup.test.SampleAggregate.MessageSent")
@attrs.frozen(kw_only=True)
class MessageSent(DomainEvent):
    content: bytes
    content_type: str
    priority: Priority
    reply_to: UUID | None
    scores: list[float]
    flags: frozenset[str]


@register_event("mlsgroup.test.SampleAggregate.Renamed", class_version=2)
@attrs.frozen(kw_only=True)
class Renamed(DomainEvent):
    """Version 1 stored only ``title``; version 2 calls it ``name`` and remembers the ``previous`` one."""

    name: str
    previous: str

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["name"] = state.pop("title")
        state["previous"] = ""


@register_event("mlsgroup.test.SampleAggregate.PayloadStored")
@attrs.frozen(kw_only=True)
class PayloadStored(DomainEvent):
    payload: bytes


@register_value("mlsgroup.test.SampleState")
@attrs.frozen(kw_only=True)
class SampleState:
    id: UUID
    version: int
    modified_ns: int
    name: str
    members: tuple[Member, ...] = ()
    epoch: int = 0
    messages: int = 0
    payload_bytes: int = 0


@register_event("mlsgroup.test.SampleAggregate.Snapshot")
@attrs.frozen(kw_only=True)
class SampleSnapshot(DomainEvent):
    state: SampleState

    @classmethod
    def take(cls, aggregate: SampleState) -> SampleSnapshot:
        return cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp_ns=aggregate.modified_ns,
            state=aggregate,
        )


def _apply(state: SampleState | None, event: DomainEvent) -> SampleState:
    if isinstance(event, SampleSnapshot):
        return event.state
    if isinstance(event, Created):
        return SampleState(
            id=event.originator_id,
            version=event.originator_version,
            modified_ns=event.timestamp_ns,
            name=event.name,
            members=(event.creator,),
        )
    if state is None or event.originator_version != state.version + 1:
        raise ValueError(f"{type(event).__name__} v{event.originator_version} does not follow the state")
    changes: dict[str, Any] = {"version": event.originator_version, "modified_ns": event.timestamp_ns}
    if isinstance(event, MembersAdded):
        changes.update(members=state.members + event.members, epoch=event.epoch)
    elif isinstance(event, MessageSent):
        changes.update(messages=state.messages + 1)
    elif isinstance(event, Renamed):
        changes.update(name=event.name)
    elif isinstance(event, PayloadStored):
        changes.update(payload_bytes=state.payload_bytes + len(event.payload))
    return attrs.evolve(state, **changes)


def project(state: SampleState | None, events: Iterable[DomainEvent]) -> SampleState | None:
    """The projector function the repository folds events with."""
    for event in events:
        state = _apply(state, event)
    return state
