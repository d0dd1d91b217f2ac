"""Base support for domain events: frozen attrs facts with explicit, stable topics (ARCHITECTURE 3).

Every stored event class is a frozen attrs class derived from :class:`DomainEvent` and registered
under a topic that names the fact, not the module that happens to define it::

    @register_event("mlsgroup.GroupAggregate.IntentQueued")
    @attrs.frozen(kw_only=True)
    class IntentQueued(DomainEvent):
        intent_id: bytes
        kind: IntentKind          # an Enum registered with register_value
        payload: tuple[bytes, ...]

    event = IntentQueued(originator_id=group_uuid, originator_version=7,
                         timestamp_ns=clock.now_ns(), intent_id=..., kind=..., payload=...)

Values nested inside events (attrs frozen classes and Enum classes) are registered the same way
with :func:`register_value`; any other immutable class can be stored through
:func:`register_adapter`, which names functions to and from a storable state (e.g. a mapping
class stored as a dict). A class whose stored shape changes gets ``class_version=n`` and static
methods ``upcast_v1_v2(state: dict) -> None`` ... that rewrite an old state dict in place; the
store rebuilds every event and value through its ``__init__``, so attrs validators always run.

Time is not read here: ``timestamp_ns`` comes from a :class:`Clock` the infrastructure injects.
"""

from __future__ import annotations

import enum
import re
from typing import Any, Callable, ClassVar, Protocol, TypeVar
from uuid import UUID

import attrs
from eventsourcing.domain import register_topic as _register_library_topic

__all__ = [
    "Clock",
    "DomainEvent",
    "EventRegistrationError",
    "register_event",
    "register_value",
    "register_adapter",
    "adapter_for",
    "registered_class",
    "topic_of",
    "class_version_of",
    "init_fields",
]

T = TypeVar("T", bound=type)

_TOPIC_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+")
_RESERVED_STATE_KEYS = frozenset({"class_version"})

_CLASS_BY_TOPIC: dict[str, type] = {}
_TOPIC_BY_CLASS: dict[type, str] = {}
_ADAPTERS: dict[type, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {}


class EventRegistrationError(TypeError):
    """An event or value class was declared or registered in a way the store cannot keep stable."""


class Clock(Protocol):
    """Source of event timestamps, injected by the infrastructure (the domain never reads time)."""

    def now_ns(self) -> int:
        """Nanoseconds since the Unix epoch."""
        ...


def _is_int(value: object) -> bool:
    return type(value) is int


def _check_uuid(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if type(value) is not UUID:
        raise TypeError(f"{attribute.name} must be a UUID, not {type(value).__name__}")


def _check_version(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not _is_int(value) or value < 1:  # type: ignore[operator]
        raise ValueError(f"{attribute.name} must be an int >= 1, got {value!r}")


def _check_timestamp(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not _is_int(value) or value < 0:  # type: ignore[operator]
        raise ValueError(f"{attribute.name} must be an int >= 0 (ns since the epoch), got {value!r}")


@attrs.frozen(kw_only=True)
class DomainEvent:
    """A fact about one aggregate: which aggregate, its version after the fact, and when.

    Subclasses add their own fields and are registered with :func:`register_event`.
    """

    TOPIC: ClassVar[str]
    class_version: ClassVar[int] = 1

    originator_id: UUID = attrs.field(validator=_check_uuid)
    originator_version: int = attrs.field(validator=_check_version)
    timestamp_ns: int = attrs.field(validator=_check_timestamp)


def _is_frozen_attrs(cls: type) -> bool:
    """True for a class itself decorated as a frozen attrs class (not merely inheriting one)."""
    if "__attrs_attrs__" not in cls.__dict__:
        return False
    inspect = getattr(attrs, "inspect", None)
    if inspect is not None:
        return bool(inspect(cls).is_frozen)
    return getattr(cls.__setattr__, "__name__", "") == "_frozen_setattrs"


def init_fields(cls: type) -> tuple[tuple[str, str], ...]:
    """(attribute name, ``__init__`` keyword) of each field an attrs class takes in ``__init__``."""
    return tuple((f.name, f.alias or f.name) for f in attrs.fields(cls) if f.init)


def _check_upcasters(cls: type, class_version: int) -> None:
    if type(class_version) is not int or class_version < 1:
        raise EventRegistrationError(f"{cls.__qualname__}: class_version must be an int >= 1")
    for version in range(1, class_version):
        name = f"upcast_v{version}_v{version + 1}"
        if not callable(getattr(cls, name, None)):
            raise EventRegistrationError(
                f"{cls.__qualname__} is at class_version {class_version} but has no {name}(state)"
            )


def _register(topic: str, cls: type, class_version: int, *, annotate: bool = True) -> None:
    if not isinstance(topic, str) or not _TOPIC_PATTERN.fullmatch(topic):
        raise EventRegistrationError(f"topic {topic!r} must be a dotted name like 'mlsgroup.Group.Created'")
    registered = _CLASS_BY_TOPIC.get(topic)
    if registered is not None and registered is not cls:
        raise EventRegistrationError(f"topic {topic!r} is already registered for {registered.__qualname__}")
    previous_topic = _TOPIC_BY_CLASS.get(cls)
    if previous_topic is not None and previous_topic != topic:
        raise EventRegistrationError(f"{cls.__qualname__} is already registered as {previous_topic!r}")
    _check_upcasters(cls, class_version)
    try:
        _register_library_topic(topic, cls)
    except Exception as exc:  # eventsourcing's TopicError: the name already resolves to something else
        raise EventRegistrationError(f"topic {topic!r} is taken in eventsourcing's registry: {exc}") from None
    if annotate:
        # Set on the class itself so a subclass never silently inherits its parent's topic.
        type.__setattr__(cls, "TOPIC", topic)
        type.__setattr__(cls, "class_version", class_version)
    _CLASS_BY_TOPIC[topic] = cls
    _TOPIC_BY_CLASS[cls] = topic


def register_event(topic: str, *, class_version: int = 1) -> Callable[[T], T]:
    """Class decorator: register a frozen attrs :class:`DomainEvent` subclass under ``topic``."""

    def decorate(cls: T) -> T:
        if not (isinstance(cls, type) and issubclass(cls, DomainEvent)):
            raise EventRegistrationError(f"{cls!r} is not a DomainEvent subclass")
        if not _is_frozen_attrs(cls):
            raise EventRegistrationError(
                f"{cls.__qualname__} must itself be decorated with @attrs.frozen (below the registration)"
            )
        clashes = {alias for _, alias in init_fields(cls)} & _RESERVED_STATE_KEYS
        if clashes:
            raise EventRegistrationError(f"{cls.__qualname__} uses reserved field names {sorted(clashes)}")
        _register(topic, cls, class_version)
        return cls

    return decorate


def register_value(topic: str, *, class_version: int = 1) -> Callable[[T], T]:
    """Class decorator: register a frozen attrs value class or an Enum for use inside events."""

    def decorate(cls: T) -> T:
        if isinstance(cls, type) and issubclass(cls, enum.Enum):
            if class_version != 1:
                raise EventRegistrationError(f"{cls.__qualname__}: enums are not versioned")
        elif not (isinstance(cls, type) and _is_frozen_attrs(cls)):
            raise EventRegistrationError(f"{cls!r} must be an Enum or an @attrs.frozen class")
        _register(topic, cls, class_version)
        return cls

    return decorate


def register_adapter(
    topic: str,
    cls: type,
    *,
    to_state: Callable[[Any], Any],
    from_state: Callable[[Any], Any],
) -> None:
    """Store instances of ``cls`` (exactly that class) as ``to_state(obj)``, rebuilt by ``from_state``.

    The state must itself be storable; ``from_state(to_state(obj)) == obj`` must hold.
    """
    if not isinstance(cls, type) or attrs.has(cls) or issubclass(cls, enum.Enum):
        raise EventRegistrationError(f"{cls!r}: attrs classes and enums use register_value instead")
    if not (callable(to_state) and callable(from_state)):
        raise EventRegistrationError("to_state and from_state must be callables")
    registered = _ADAPTERS.get(cls)
    if registered is not None and registered != (to_state, from_state):
        raise EventRegistrationError(f"{cls.__qualname__} already has a different adapter")
    _register(topic, cls, 1, annotate=False)
    _ADAPTERS[cls] = (to_state, from_state)


def adapter_for(cls: type) -> tuple[Callable[[Any], Any], Callable[[Any], Any]] | None:
    """The (to_state, from_state) pair registered for exactly ``cls``, or None."""
    return _ADAPTERS.get(cls)


def registered_class(topic: str) -> type | None:
    """The event or value class registered under ``topic``, or None."""
    return _CLASS_BY_TOPIC.get(topic)


def topic_of(cls: type) -> str | None:
    """The topic ``cls`` itself was registered under (never an inherited one), or None."""
    return _TOPIC_BY_CLASS.get(cls)


def class_version_of(cls: type) -> int:
    """The current stored-shape version of a registered class."""
    return int(cls.__dict__.get("class_version", 1))
