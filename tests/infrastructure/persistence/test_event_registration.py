"""Event and value registration (mlsgroup.domain.eventing): stable topics, versions, and misuse refused."""

from __future__ import annotations

import enum
import uuid

import attrs
import pytest
from eventsourcing.utils import get_topic, resolve_topic

from mlsgroup.domain.eventing import (
    DomainEvent,
    EventRegistrationError,
    class_version_of,
    register_adapter,
    register_event,
    register_value,
    registered_class,
    topic_of,
)

from .sample_events import MembersAdded, Renamed, Role


def test_registered_topics_are_explicit_and_known_to_eventsourcing() -> None:
    topic = "mlsgroup.test.SampleAggregate.MembersAdded"
    assert MembersAdded.TOPIC == topic
    assert topic_of(MembersAdded) == topic and registered_class(topic) is MembersAdded
    assert get_topic(MembersAdded) == topic and resolve_topic(topic) is MembersAdded
    assert class_version_of(Renamed) == 2 and class_version_of(MembersAdded) == 1
    assert topic_of(Role) == "mlsgroup.test.Role"


def test_base_fields_are_validated() -> None:
    good = {"originator_id": uuid.uuid4(), "originator_version": 1, "timestamp_ns": 0}
    DomainEvent(**good)
    for field, bad in [
        ("originator_id", str(uuid.uuid4())),
        ("originator_version", 0),
        ("originator_version", True),
        ("timestamp_ns", -1),
        ("timestamp_ns", 1.5),
    ]:
        with pytest.raises((TypeError, ValueError)):
            DomainEvent(**{**good, field: bad})


def test_events_are_frozen() -> None:
    event = DomainEvent(originator_id=uuid.uuid4(), originator_version=1, timestamp_ns=0)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.originator_version = 2  # type: ignore[misc]


def test_subclasses_do_not_inherit_a_topic() -> None:
    @attrs.frozen(kw_only=True)
    class Later(MembersAdded):
        extra: int = 0

    assert topic_of(Later) is None
    with pytest.raises(EventRegistrationError):
        register_event("mlsgroup.test.SampleAggregate.MembersAdded")(Later)


@pytest.mark.parametrize(
    "topic", ["", "NoDots", "mlsgroup.", "mlsgroup..x", "module.path:Class", "1x.y", "a.b c"]
)
def test_topics_must_be_dotted_names(topic: str) -> None:
    @attrs.frozen(kw_only=True)
    class Event(DomainEvent):
        pass

    with pytest.raises(EventRegistrationError):
        register_event(topic)(Event)


def test_misdeclared_classes_are_refused() -> None:
    class NotAttrs(DomainEvent):
        pass

    @attrs.frozen
    class NotAnEvent:
        x: int

    @attrs.frozen(kw_only=True)
    class ReservedName(DomainEvent):
        class_version_: int = attrs.field(alias="class_version")

    @attrs.frozen(kw_only=True)
    class MissingUpcaster(DomainEvent):
        pass

    for cls, kwargs in [
        (NotAttrs, {}),
        (NotAnEvent, {}),
        (ReservedName, {}),
        (MissingUpcaster, {"class_version": 3}),
    ]:
        with pytest.raises(EventRegistrationError):
            register_event(f"mlsgroup.test.Refused.{cls.__name__}", **kwargs)(cls)
        assert registered_class(f"mlsgroup.test.Refused.{cls.__name__}") is None


def test_one_topic_per_class_and_one_class_per_topic() -> None:
    @attrs.frozen(kw_only=True)
    class First(DomainEvent):
        pass

    @attrs.frozen(kw_only=True)
    class Second(DomainEvent):
        pass

    register_event("mlsgroup.test.Unique.First")(First)
    register_event("mlsgroup.test.Unique.First")(First)  # idempotent
    with pytest.raises(EventRegistrationError):
        register_event("mlsgroup.test.Unique.First")(Second)
    with pytest.raises(EventRegistrationError):
        register_event("mlsgroup.test.Unique.Other")(First)


def test_values_must_be_frozen_attrs_or_enums() -> None:
    @attrs.define
    class Mutable:
        x: int

    class Plain:
        pass

    class Colour(enum.Enum):
        RED = 1

    for cls in (Mutable, Plain):
        with pytest.raises(EventRegistrationError):
            register_value(f"mlsgroup.test.Bad.{cls.__name__}")(cls)
    with pytest.raises(EventRegistrationError):
        register_value("mlsgroup.test.Bad.Colour", class_version=2)(Colour)
    with pytest.raises(EventRegistrationError):
        register_adapter("mlsgroup.test.Bad.ColourAdapter", Colour, to_state=str, from_state=str)
