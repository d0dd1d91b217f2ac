"""Maps registered attrs domain events to stored records and back through their ``__init__`` (ARCHITECTURE 3).

The library's default mapper reads ``vars(event)`` (attrs slotted classes have none) and rebuilds
events with ``object.__new__``, skipping validators; this one keeps the event's ``__init__`` in the
loop. Writing: the event's ``__init__`` fields except ``originator_id`` / ``originator_version``
(which the recorder stores in their own columns) become a dict (plus ``class_version`` when above
1), which is transcoded, compressed, then encrypted with the record's identity as associated data.
Reading reverses that, runs the class's upcasters, and calls the class. Failures raise the typed
errors of ``errors``: unknown topic, decryption, decompression, transcoding, reconstruction.

With the :class:`BinaryTranscoder`, each event topic's keys are encoded once: written without
building the dict, and matched as stored bytes when read (a record of another layout, such as an
older class version, takes the transcoder's general path); each topic's reader is compiled once
(``decoding.state_reader``), with its fields' declared types as hints. :meth:`EventMapper.decode_record`
reads a record from its columns, so a reader need not build a ``StoredEvent`` per record.
"""

from __future__ import annotations

import struct
from functools import cache
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.persistence import Cipher, Compressor, Mapper, StoredEvent, Transcoder

from mlsgroup.domain.eventing import DomainEvent, class_version_of, init_fields, registered_class, topic_of

from .cipher import AesGcmCipher
from .decoding import state_reader
from .errors import EventReconstructionError, TranscodingError, UnknownTopicError, UnregisteredTypeError
from .transcoding import BinaryTranscoder, rebuild

__all__ = ["EventMapper", "record_identity"]

_IDENTITY_PREFIX = b"mlsgroup.store.record.v1"
_UUID_IDENTITY_PREFIX = _IDENTITY_PREFIX + b"\x01"
_VERSION = struct.Struct(">q")
_ID_FIELDS = ("originator_id", "originator_version")
_MAX_CACHED_PREFIXES = 65536


def record_identity(originator_id: UUID | str, originator_version: int, topic: str) -> bytes:
    """Associated data binding an encrypted record to its aggregate, position and topic."""
    if isinstance(originator_id, UUID):
        id_part = b"\x01" + originator_id.bytes
    else:
        raw = originator_id.encode("utf-8")
        id_part = b"\x02" + len(raw).to_bytes(4, "big") + raw
    return _IDENTITY_PREFIX + id_part + _VERSION.pack(originator_version) + topic.encode("utf-8")


@cache
def _state_plan(cls: type) -> tuple[tuple[str, str], ...]:
    return tuple((name, alias) for name, alias in init_fields(cls) if name not in _ID_FIELDS)


class _EventPlan:
    """How records of one event topic are written and read, worked out once per topic."""

    __slots__ = ("cls", "topic", "topic_bytes", "version", "names", "fields", "read")

    def __init__(self, cls: type, topic: str) -> None:
        self.cls = cls
        self.topic = topic
        self.topic_bytes = topic.encode("utf-8")
        self.version = class_version_of(cls)
        self.names = tuple(name for name, _ in _state_plan(cls))
        # The keys a record's state holds, in the order written: class_version last, when above 1.
        keys = [alias for _, alias in _state_plan(cls)]
        kinds = _usual_kinds(cls, self.names)
        if self.version > 1:
            keys.append("class_version")
            kinds.append(int)
        self.fields = BinaryTranscoder.state_fields(keys)
        self.read = state_reader(self.fields, kinds)


_KINDS: dict[object, type] = {bytes: bytes, str: str, int: int, "bytes": bytes, "str": str, "int": int}


def _usual_kinds(cls: type, names: tuple[str, ...]) -> list[type | None]:
    """The type each named field is declared with, when it is bytes, str or int (a hint for reading)."""
    declared = {field.name: field.type for field in attrs.fields(cls)}
    return [_KINDS.get(kind) if isinstance(kind, (str, type)) else None for kind in map(declared.get, names)]


# Only registered event topics are cached, and the registry never forgets one: bounded, never stale.
_PLANS: dict[str, _EventPlan] = {}


def _as_uuid(originator_id: Any) -> UUID:
    try:
        return UUID(originator_id)
    except (ValueError, TypeError, AttributeError):
        raise EventReconstructionError(f"originator_id {originator_id!r} is not a UUID") from None


def _plan_of(topic: str) -> _EventPlan:
    plan = _PLANS.get(topic)
    if plan is None:
        cls = registered_class(topic)
        if cls is None or not issubclass(cls, DomainEvent):
            raise UnknownTopicError(f"no event class is registered for topic {topic!r}")
        plan = _PLANS[topic] = _EventPlan(cls, topic)
    return plan


class EventMapper(Mapper[UUID]):
    """eventsourcing Mapper for events registered with ``mlsgroup.domain.eventing.register_event``."""

    def __init__(
        self,
        transcoder: Transcoder,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
    ) -> None:
        super().__init__(transcoder=transcoder, compressor=compressor, cipher=cipher)
        self._binds_identity = isinstance(cipher, AesGcmCipher)
        binary = isinstance(transcoder, BinaryTranscoder)
        self._decode_state = transcoder.decode_state if binary else None  # type: ignore[attr-defined]
        # The plans' compiled readers do what BinaryTranscoder.decode_state does (unless a subclass changed it).
        self._reads_planned = binary and type(transcoder).decode_state is BinaryTranscoder.decode_state
        self._encode_state = transcoder.encode_state if binary else None  # type: ignore[attr-defined]
        # The associated data of a record starts with its aggregate's id: worked out once per aggregate.
        self._identity_prefixes: dict[int, bytes] = {}

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        cls = type(domain_event)
        topic = topic_of(cls)
        if topic is None or not issubclass(cls, DomainEvent):
            raise UnregisteredTypeError(f"{cls.__qualname__} is not a registered DomainEvent class")
        plan = _PLANS.get(topic) or _plan_of(topic)
        if self._encode_state is not None:
            values = [getattr(domain_event, name) for name in plan.names]
            if plan.version > 1:
                values.append(plan.version)
            data = self._encode_state(plan.fields, values)
        else:
            state = {alias: getattr(domain_event, name) for name, alias in _state_plan(cls)}
            if plan.version > 1:
                state["class_version"] = plan.version
            data = self.transcoder.encode(state)
        if self.compressor is not None:
            data = self.compressor.compress(data)
        originator_id = domain_event.originator_id
        originator_version = domain_event.originator_version
        if self.cipher is not None:
            if self._binds_identity:
                aad = record_identity(originator_id, originator_version, topic)
                data = self.cipher.encrypt(data, aad)  # type: ignore[call-arg]
            else:
                data = self.cipher.encrypt(data)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=topic,
            state=data,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return self.decode_record(
            stored_event.originator_id, stored_event.originator_version, stored_event.topic, stored_event.state
        )

    def open_record(self, originator_id: UUID | str, originator_version: int, topic: str, data: bytes) -> bytes:
        """A stored record's transcoded state: decrypted and decompressed, not yet read."""
        plan = _PLANS.get(topic) or _plan_of(topic)
        if type(originator_id) is not UUID:
            originator_id = _as_uuid(originator_id)
        return self._open(plan, originator_id, originator_version, data)

    def _open(self, plan: _EventPlan, originator_id: UUID, originator_version: int, data: bytes) -> bytes:
        if self.cipher is not None:
            if self._binds_identity:
                # Keyed by the id's int: hashing and comparing a UUID run Python code, an int's do not.
                prefixes = self._identity_prefixes
                prefix = prefixes.get(originator_id.int)
                if prefix is None:
                    if len(prefixes) >= _MAX_CACHED_PREFIXES:
                        prefixes.clear()
                    prefix = prefixes[originator_id.int] = _UUID_IDENTITY_PREFIX + originator_id.bytes
                aad = prefix + _VERSION.pack(originator_version) + plan.topic_bytes
                data = self.cipher.decrypt(data, aad)  # type: ignore[call-arg]
            else:
                data = self.cipher.decrypt(data)
        if self.compressor is not None:
            data = self.compressor.decompress(data)
        return data

    def decode_record(self, originator_id: UUID | str, originator_version: int, topic: str, data: bytes) -> Any:
        """The event a stored record's columns hold (what :meth:`to_domain_event` does, without a StoredEvent).

        ``originator_id`` may be the UUID or its text, as recorders hold it.
        """
        plan = _PLANS.get(topic) or _plan_of(topic)
        if type(originator_id) is not UUID:
            originator_id = _as_uuid(originator_id)
        if self.cipher is not None or self.compressor is not None:
            data = self._open(plan, originator_id, originator_version, data)
        if self._reads_planned:
            state = plan.read(data if type(data) is bytes else bytes(data))
        elif self._decode_state is not None:
            state = self._decode_state(data, plan.fields)
        else:
            state = self.transcoder.decode(data)
        if type(state) is not dict:
            raise TranscodingError(f"stored state of {topic} is a {type(state).__name__}, not a dict")
        stored_version = state.pop("class_version", 1)
        if type(stored_version) is not int:
            raise EventReconstructionError(f"class_version of {topic} is not an int")
        state["originator_id"] = originator_id
        state["originator_version"] = originator_version
        if stored_version != plan.version:
            return rebuild(plan.cls, topic, stored_version, state, EventReconstructionError)
        try:
            return plan.cls(**state)
        except Exception as exc:  # as in rebuild(): the class's validators judge, their text (secrets) stays out
            raise EventReconstructionError(f"{topic} rejected its stored state ({type(exc).__name__})") from exc
