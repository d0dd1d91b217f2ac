"""Stores for the audit tests: a short real history, and the ways an attacker could edit it.

``build_history`` drives alice, bob and carol through the public API on an in-memory network, with
encrypted SQLite stores and a small snapshot interval: an ADMINS_ONLY group, messages both ways, an
admin change, a commit carol forges past her own client's permission check (every member rejects
it), a leave and its removal, and a DM. The edits work on copies:
``flip_byte`` damages a stored record, ``rewrite_event`` re-encrypts a changed event with the right
key (what someone holding the key could do), ``delete_event`` drops a record.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any, Callable
from uuid import UUID

import attrs

from mlsgroup.domain import Preset
from mlsgroup.domain.group_aggregate import stage_commit
from mlsgroup.domain.group_decisions import plan_commit
from mlsgroup.domain.intents import Intent, IntentKind, MetadataUpdateData
from mlsgroup.infrastructure import Client, Network
from mlsgroup.infrastructure.group_store import GroupStoreApplication
from mlsgroup.infrastructure.persistence import StoreSettings

NAMES = ("alice", "bob", "carol")


@attrs.frozen
class History:
    folder: Path
    keys: dict[str, bytes]
    inboxes: dict[str, str]
    group_id: bytes
    dm_id: bytes

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.db"

    def copy(self, name: str, into: Path) -> Path:
        """A copy of ``name``'s store (with its WAL, if any) in ``into``."""
        target = into / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            source = Path(str(self.path(name)) + suffix)
            if source.exists():
                shutil.copyfile(source, Path(str(target) + suffix))
        return target


def forge_rename(client: Client, group_id: bytes, name: str) -> None:
    """Post a rename commit built straight from ``client``'s MLS state, skipping its permission check."""
    state = client.group_store.load(group_id)
    data = MetadataUpdateData(field_name="group_name", value=name)
    intent = Intent(intent_id=os.urandom(16), kind=IntentKind.METADATA_UPDATE, data=data)
    plan = plan_commit(state, intent)
    staged = stage_commit(state.mls, attrs.evolve(intent, plan=plan, publish_seed=os.urandom(32)))
    client.api.send_group_messages(group_id, [staged.message])


def build_history(folder: Path, *, snapshot_interval: int = 5) -> History:
    keys = {name: os.urandom(32) for name in NAMES}
    with Network.in_memory() as net:
        clients = {
            name: Client.create(net, store=folder / f"{name}.db", encryption_key=keys[name], snapshot_interval=snapshot_interval)
            for name in NAMES
        }
        alice, bob, carol = (clients[n] for n in NAMES)
        try:
            group = alice.create_group([bob.inbox_id, carol.inbox_id], permissions=Preset.ADMINS_ONLY, name="audit")
            bob.sync_welcomes()
            carol.sync_welcomes()
            g_bob, g_carol = bob.group(group.group_id), carol.group(group.group_id)
            group.send_text("hello")
            g_bob.sync()
            g_bob.send_text("hi alice")
            group.add_admin(bob.inbox_id)
            g_carol.sync()
            forge_rename(carol, group.group_id, "carol's group")
            group.sync()
            g_bob.sync()
            g_carol.send_text("bye")
            g_carol.leave()
            group.sync()
            g_bob.sync()
            g_carol.sync()
            dm = alice.find_or_create_dm(bob.inbox_id)
            dm.send_text("psst")
            bob.sync_welcomes()
            bob.sync_all()
            inboxes = {name: c.inbox_id for name, c in clients.items()}
        finally:
            for client in clients.values():
                client.close()
    return History(folder, keys, inboxes, group.group_id, dm.group_id)


def _where(group_id: bytes, version: int) -> tuple[str, int]:
    return UUID(bytes=group_id).hex, version


def stored_state(path: Path, group_id: bytes, version: int) -> bytes:
    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT state FROM stored_events WHERE originator_id = ? AND originator_version = ?", _where(group_id, version)
        ).fetchone()
    if row is None:
        raise LookupError(f"no record v{version}")
    return bytes(row[0])


def _put_state(path: Path, group_id: bytes, version: int, state: bytes) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = ?",
            (state, *_where(group_id, version)),
        )
        db.commit()
    finally:
        db.close()


def flip_byte(path: Path, group_id: bytes, version: int, offset: int = -20) -> None:
    state = bytearray(stored_state(path, group_id, version))
    state[offset] ^= 0x01
    _put_state(path, group_id, version, bytes(state))


def delete_event(path: Path, group_id: bytes, version: int) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute("DELETE FROM stored_events WHERE originator_id = ? AND originator_version = ?", _where(group_id, version))
        db.commit()
    finally:
        db.close()


def events(path: Path, key: bytes, group_id: bytes) -> list[Any]:
    with GroupStoreApplication.open(StoreSettings.sqlite(path, encryption_key=key)) as app:
        return list(app.events.get(UUID(bytes=group_id)))


def rewrite_event(path: Path, key: bytes, group_id: bytes, version: int, change: Callable[[Any], Any]) -> None:
    """Replace the event at ``version`` by ``change(event)``, encrypted with the store's key."""
    with GroupStoreApplication.open(StoreSettings.sqlite(path, encryption_key=key)) as app:
        (stored,) = app.recorder.select_events(UUID(bytes=group_id), gt=version - 1, lte=version)
        event = change(app.mapper.to_domain_event(stored))
        state = app.mapper.to_stored_event(event).state
    _put_state(path, group_id, version, state)
