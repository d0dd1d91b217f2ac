"""Event-store infrastructure on eventsourcing 9.5: settings, mapper, binary transcoder, zstd, AES-GCM (ARCHITECTURE 3).

Defining events (domain code, see ``mlsgroup.domain.eventing``)::

    @register_event("mlsgroup.GroupAggregate.IntentQueued")
    @attrs.frozen(kw_only=True)
    class IntentQueued(DomainEvent):
        intent_id: bytes
        members: tuple[str, ...]

Opening a store (infrastructure code)::

    settings = StoreSettings.memory()                                    # tests
    settings = StoreSettings.sqlite("alice.db", encryption_key=key32)     # embedded default
    settings = StoreSettings.postgres(dsn, schema="alice_store", encryption_key=key32)

    class GroupStore(StoreApplication): ...
    with GroupStore.open(settings) as app:
        app.save(event)                    # or app.events.put([...]) / app.events.get(id)

    factory = open_factory(settings)       # recorders without an Application
    env = settings.env()                   # the raw eventsourcing environment

Records are transcoded (``BinaryTranscoder``), compressed (``ZstdCompressor``), then encrypted
(``AesGcmCipher``, bound to the record's aggregate id, version and topic). Reading a record with
the wrong key or tampered bytes raises ``StoreDecryptionError``; every failure is a typed error
from ``errors``. A version conflict on save raises ``eventsourcing.persistence.IntegrityError``.
"""

from __future__ import annotations

from .cipher import AesGcmCipher
from .clock import ManualClock, SystemClock
from .compression import ZstdCompressor
from .errors import (
    DecompressionError,
    EventReconstructionError,
    StoreConfigurationError,
    StoreDecryptionError,
    StoredDataError,
    StoreError,
    TranscodingError,
    UnknownTopicError,
    UnregisteredTypeError,
    UnsupportedValueError,
)
from .mapper import EventMapper
from .settings import Backend, StoreSettings, drop_postgres_schema, open_factory, prepare_backend
from .store import StoreApplication
from .transcoding import BinaryTranscoder

__all__ = [
    "AesGcmCipher",
    "Backend",
    "BinaryTranscoder",
    "DecompressionError",
    "EventMapper",
    "EventReconstructionError",
    "ManualClock",
    "StoreApplication",
    "StoreConfigurationError",
    "StoreDecryptionError",
    "StoreError",
    "StoreSettings",
    "StoredDataError",
    "SystemClock",
    "TranscodingError",
    "UnknownTopicError",
    "UnregisteredTypeError",
    "UnsupportedValueError",
    "ZstdCompressor",
    "drop_postgres_schema",
    "open_factory",
    "prepare_backend",
]
