"""Store settings: one factory for the three backends, explicit environments, validation, projections."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import Tracking
from eventsourcing.popo import POPOFactory
from eventsourcing.utils import resolve_topic

from mlsgroup.infrastructure.persistence import (
    AesGcmCipher,
    Backend,
    BinaryTranscoder,
    EventMapper,
    ManualClock,
    StoreApplication,
    StoreConfigurationError,
    StoreSettings,
    SystemClock,
    ZstdCompressor,
    open_factory,
)

KEY = bytes(range(32))
DSN = "postgresql://app:s3cret@db.example:6543/events?connect_timeout=7"


@pytest.mark.parametrize(
    "settings",
    [
        StoreSettings.memory(encryption_key=KEY),
        StoreSettings.sqlite("/data/alice.db", encryption_key=KEY),
        StoreSettings.postgres(DSN, schema="alice_store", encryption_key=KEY),
    ],
    ids=lambda s: s.backend.value,
)
def test_env_names_every_component_explicitly(settings: StoreSettings) -> None:
    env = settings.env()
    assert env["PERSISTENCE_MODULE"] == f"eventsourcing.{settings.backend.value}"
    assert resolve_topic(env["MAPPER_TOPIC"]) is EventMapper
    assert resolve_topic(env["TRANSCODER_TOPIC"]) is BinaryTranscoder
    assert resolve_topic(env["COMPRESSOR_TOPIC"]) is ZstdCompressor
    assert resolve_topic(env["CIPHER_TOPIC"]) is AesGcmCipher
    assert env["CIPHER_KEY"] and env["ORIGINATOR_ID_TYPE"] == "uuid"


def test_without_key_or_compression_the_topics_are_still_set_explicitly() -> None:
    env = StoreSettings.memory(compress=False).env()
    assert env["CIPHER_TOPIC"] == "" and env["CIPHER_KEY"] == "" and env["COMPRESSOR_TOPIC"] == ""


def test_sqlite_and_postgres_env() -> None:
    sqlite_env = StoreSettings.sqlite(Path("/data/alice.db"), lock_timeout_s=9).env()
    assert sqlite_env["SQLITE_DBNAME"] == "/data/alice.db" and sqlite_env["SQLITE_LOCK_TIMEOUT"] == "9"
    pg = StoreSettings.postgres(DSN, schema="alice_store", pool_size=3).env()
    assert {k: pg[k] for k in pg if k.startswith("POSTGRES_")} == {
        "POSTGRES_DBNAME": "events",
        "POSTGRES_HOST": "db.example",
        "POSTGRES_PORT": "6543",
        "POSTGRES_USER": "app",
        "POSTGRES_PASSWORD": "s3cret",
        "POSTGRES_SCHEMA": "alice_store",
        "POSTGRES_CONNECT_TIMEOUT": "7",
        "POSTGRES_POOL_SIZE": "3",
        "POSTGRES_MAX_OVERFLOW": "3",
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "5",
    }


def test_repr_shows_neither_key_nor_dsn() -> None:
    for settings in (
        StoreSettings.memory(encryption_key=KEY),
        StoreSettings.postgres(DSN, schema="alice_store", encryption_key=KEY),
    ):
        text = repr(settings)
        assert "***" in text and KEY.hex() not in text and repr(KEY) not in text and "s3cret" not in text


@pytest.mark.parametrize(
    "make",
    [
        lambda: StoreSettings.memory(encryption_key=b"short"),
        lambda: StoreSettings.memory(encryption_key=bytearray(32)),  # type: ignore[arg-type]
        lambda: StoreSettings.sqlite(""),
        lambda: StoreSettings.sqlite(":memory:"),
        lambda: StoreSettings.sqlite("file:x?mode=memory"),
        lambda: StoreSettings.sqlite("a.db", lock_timeout_s=0),
        lambda: StoreSettings.postgres("", schema="s"),
        lambda: StoreSettings.postgres(DSN, schema=""),
        lambda: StoreSettings.postgres(DSN, schema="Public"),
        lambda: StoreSettings.postgres(DSN, schema="a-b"),
        lambda: StoreSettings.postgres(DSN, schema="s" * 64),
        lambda: StoreSettings.postgres(DSN, schema="s", pool_size=0),
        lambda: StoreSettings.postgres("postgresql://h/db?sslmode=require", schema="s").env(),
        lambda: StoreSettings.postgres("not a dsn = =", schema="s").env(),
        lambda: StoreSettings.memory().for_projection("bad name"),
    ],
)
def test_invalid_settings_raise_configuration_error(make: Any) -> None:
    with pytest.raises(StoreConfigurationError):
        make()


def test_projection_settings_hold_no_key_and_get_their_own_sqlite_file() -> None:
    store = StoreSettings.sqlite("/data/alice.db", encryption_key=KEY)
    groups, messages = store.for_projection("Groups"), store.for_projection("GroupMessages")
    assert groups.sqlite_path == "/data/alice.groups.db"
    assert messages.sqlite_path == "/data/alice.groupmessages.db"
    assert groups.encryption_key is None and groups.env()["CIPHER_KEY"] == ""
    pg = StoreSettings.postgres(DSN, schema="alice_store", encryption_key=KEY).for_projection("Groups")
    assert pg.postgres_schema == "alice_store" and pg.encryption_key is None


def test_store_application_ignores_process_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PERSISTENCE_MODULE", "eventsourcing.sqlite")
    monkeypatch.setenv("SQLITE_DBNAME", str(tmp_path / "stray.db"))
    monkeypatch.setenv("STOREAPPLICATION_CIPHER_KEY", "stray")
    monkeypatch.setenv("CIPHER_TOPIC", "eventsourcing.cipher:AESCipher")
    with StoreApplication.open(StoreSettings.memory()) as app:
        assert isinstance(app.factory, POPOFactory)
        assert app.mapper.cipher is None
    assert not (tmp_path / "stray.db").exists()


def test_two_projections_track_the_same_application_independently(backend: Any) -> None:
    store = backend.settings(encryption_key=KEY)
    groups_factory = open_factory(store.for_projection("GroupsView"), name="GroupsView")
    messages_factory = open_factory(store.for_projection("MessagesView"), name="MessagesView")
    try:
        groups, messages = groups_factory.tracking_recorder(), messages_factory.tracking_recorder()
        groups.insert_tracking(Tracking("GroupStore", 7))
        messages.insert_tracking(Tracking("GroupStore", 2))
        assert groups.max_tracking_id("GroupStore") == 7
        assert messages.max_tracking_id("GroupStore") == 2
    finally:
        groups_factory.close()
        messages_factory.close()


def test_backend_names_are_the_eventsourcing_modules() -> None:
    assert [b.persistence_module for b in Backend] == [
        "eventsourcing.popo",
        "eventsourcing.sqlite",
        "eventsourcing.postgres",
    ]


def test_manual_clock_is_deterministic() -> None:
    clock = ManualClock(start_ns=100, step_ns=10)
    assert [clock.now_ns() for _ in range(3)] == [100, 110, 120]
    clock.advance(1000)
    assert clock.now_ns() == 1130
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_system_clock_never_repeats_or_goes_back_across_threads() -> None:
    clock = SystemClock()
    seen: list[list[int]] = [[] for _ in range(4)]

    def read(into: list[int]) -> None:
        into.extend(clock.now_ns() for _ in range(2000))

    threads = [threading.Thread(target=read, args=(bucket,)) for bucket in seen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [t for bucket in seen for t in bucket]
    assert len(set(everything)) == len(everything)
    assert all(bucket == sorted(bucket) for bucket in seen)


def test_unreachable_postgres_raises_the_librarys_operational_error() -> None:
    from eventsourcing.persistence import OperationalError

    settings = StoreSettings.postgres("postgresql://nobody@127.0.0.1:1/none", schema="s", connect_timeout_s=2)
    with pytest.raises(OperationalError):
        StoreApplication.open(settings)
