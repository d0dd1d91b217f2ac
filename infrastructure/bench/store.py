"""``mlsgroup bench store``: the event store's costs on SQLite (ARCHITECTURE 3).

Rows:

* projection rebuild, events per second (``projections.rebuild_rate``), beside reading and
  decoding the same records without projecting;
* loading a group whose history has ``messages`` events, from its latest snapshot and tail,
  beside a full replay of every event;
* ``mlsgroup audit`` of that store (a ``members``-member group, ``messages`` received 100-byte
  messages) beside its crypto floor: the signature verifications and AEAD opens the audit cannot
  avoid (per message one Ed25519 verify and two ChaCha20-Poly1305 opens, sender data and content;
  per stored record one AES-256-GCM open), each priced with raw ``cryptography`` calls in this run
  at the sizes found in the store; hashing and key derivation are left out of the floor;
* stored bytes per received 100-byte application message (its encrypted, compressed event record,
  and the SQLite file's growth) beside the size of its MLS ciphertext.

The history is made through the public API: an in-memory sender sends, the measured member syncs
into its encrypted SQLite store (default snapshot interval).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import attrs
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from mlsgroup.domain.group_aggregate import group_uuid
from mlsgroup.domain.group_events import ApplicationReceived, EnvelopeProcessed

from ..audit import audit_store
from ..client import Client
from ..group_store import GroupStore
from ..network import Network
from ..persistence import StoreSettings
from .projections import rebuild_rate
from .timing import compare

__all__ = ["StoreFigures", "store_figures", "format_store_figures"]

_MESSAGE = b"s" * 100
_SENDER_DATA = 12  # leaf index, generation, reuse guard
_TBS = 170  # FramedContentTBS of a 100-byte application message: content, framing, group context


@attrs.frozen
class StoreFigures:
    """Every figure of the run, flat, for the table and for JSON."""

    parameters: dict[str, Any]
    rebuild_events_per_s: float
    rebuild_floor_events_per_s: float
    group_events: int
    load_snapshot_ms: float
    load_full_replay_ms: float
    audit_s: float
    audit_floor_s: float
    audit_ok: bool
    audit_work: dict[str, int]
    stored_bytes_per_message: float
    file_bytes_per_message: float
    ciphertext_bytes_per_message: float

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _history(folder: Path, members: int, messages: int) -> tuple[Path, bytes, bytes, int]:
    """A receiver's store holding ``messages`` received messages; (path, key, group id, bytes before)."""
    net = Network.in_memory()
    key = os.urandom(32)
    path = folder / "receiver.db"
    sender = Client.create(net)
    fillers = [Client.create(net) for _ in range(members - 2)]
    with Client.create(net, store=path, encryption_key=key) as receiver:
        group = sender.create_group([receiver.inbox_id] + [f.inbox_id for f in fillers])
        receiver.sync_welcomes()
        theirs = receiver.group(group.group_id)
        theirs.sync()
        before = _file_bytes(path)
        sent = 0
        while sent < messages:
            for _ in range(min(500, messages - sent)):
                group.send(_MESSAGE)
                sent += 1
            theirs.sync()
        if sum(1 for m in theirs.messages() if m.content == _MESSAGE) != messages:
            raise RuntimeError("the receiver did not store every message")
    for client in [sender, *fillers]:
        client.close()
    return path, key, group.group_id, before


def _file_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def _load_figures(path: Path, key: bytes, group_id: bytes, samples: int) -> tuple[float, float, int]:
    store = GroupStore.open(StoreSettings.sqlite(path, encryption_key=key))
    try:
        events = len(store.app.recorder.select_events(group_uuid(group_id)))
        start = time.perf_counter()
        full = store.replay(group_id)
        full_ms = (time.perf_counter() - start) * 1e3
        if store.replay(group_id, use_snapshots=True) != full:
            raise RuntimeError("snapshot + tail differs from the full replay")
        snapshot_ms = compare({"load": lambda: store.replay(group_id, use_snapshots=True)}, samples=samples)["load"]
    finally:
        store.close()
    return snapshot_ms, full_ms, events


def _sizes(path: Path, key: bytes, group_id: bytes) -> tuple[list[int], list[int]]:
    """(stored record sizes, MLS ciphertext sizes) of the received application messages."""
    store = GroupStore.open(StoreSettings.sqlite(path, encryption_key=key))
    try:
        records, ciphertexts = [], []
        for stored in store.app.recorder.select_events(group_uuid(group_id)):
            event = store.app.mapper.to_domain_event(stored)
            if isinstance(event, EnvelopeProcessed) and isinstance(event.outcome, ApplicationReceived):
                records.append(len(stored.state))
                ciphertexts.append(len(event.payload))
        return records, ciphertexts
    finally:
        store.close()


def _primitive_costs(record_size: int, ciphertext_size: int, samples: int) -> dict[str, float]:
    """Median ms of one raw verify / ChaCha20-Poly1305 open / AES-256-GCM open at the sizes given."""
    signer = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    public = signer.public_key()
    tbs = os.urandom(_TBS)
    signature = signer.sign(tbs)
    chacha = ChaCha20Poly1305(os.urandom(32))
    nonce = os.urandom(12)
    sender_data = chacha.encrypt(nonce, os.urandom(_SENDER_DATA), b"aad" * 10)
    content = chacha.encrypt(nonce, os.urandom(max(ciphertext_size - 16, 1)), b"aad" * 10)
    aes = AESGCM(os.urandom(32))
    record = aes.encrypt(nonce, os.urandom(max(record_size - 29, 1)), b"record identity" * 4)
    return compare(
        {
            "verify": lambda: public.verify(signature, tbs),
            "open_sender_data": lambda: chacha.decrypt(nonce, sender_data, b"aad" * 10),
            "open_content": lambda: chacha.decrypt(nonce, content, b"aad" * 10),
            "open_record": lambda: aes.decrypt(nonce, record, b"record identity" * 4),
        },
        samples=samples,
        inner=200,
    )


def store_figures(
    *,
    rebuild_events: int = 50_000,
    members: int = 100,
    messages: int = 10_000,
    samples: int = 15,
    directory: Optional[str] = None,
) -> StoreFigures:
    """Run the store benchmarks (see the module docstring)."""
    if members < 2 or messages < 1 or rebuild_events < 1 or samples < 1:
        raise ValueError("bench store needs members >= 2, messages >= 1, rebuild_events >= 1, samples >= 1")
    parameters = {
        "rebuild_events": rebuild_events,
        "members": members,
        "messages": messages,
        "samples": samples,
        "store": "SQLite, AES-GCM encrypted, zstd",
    }
    rebuild = rebuild_rate(rebuild_events, encrypted=True, directory=directory, verbose=False)
    with tempfile.TemporaryDirectory(dir=directory) as folder:
        path, key, group_id, before = _history(Path(folder), members, messages)
        file_bytes = _file_bytes(path) - before
        snapshot_ms, full_ms, group_events = _load_figures(path, key, group_id, samples)
        start = time.perf_counter()
        audit = audit_store(path, key)
        audit_s = time.perf_counter() - start
        records, ciphertexts = _sizes(path, key, group_id)
    group = next(g for g in audit.groups if g.group_id == group_id)
    decrypted = group.counts.get("messages decrypted", 0)
    record_size = int(statistics.mean(records))
    ciphertext_size = int(statistics.mean(ciphertexts))
    costs = _primitive_costs(record_size, ciphertext_size, samples)
    snapshot_records = sum(g.snapshots for g in audit.groups)
    work = {
        "signature verifications": decrypted,
        "ChaCha20-Poly1305 opens": 2 * decrypted,
        "AES-256-GCM record opens": audit.events + snapshot_records,
    }
    floor_ms = (
        decrypted * (costs["verify"] + costs["open_sender_data"] + costs["open_content"])
        + work["AES-256-GCM record opens"] * costs["open_record"]
    )
    return StoreFigures(
        parameters=parameters,
        rebuild_events_per_s=rebuild.events_per_second,
        rebuild_floor_events_per_s=rebuild.floor_events_per_second,
        group_events=group_events,
        load_snapshot_ms=snapshot_ms,
        load_full_replay_ms=full_ms,
        audit_s=audit_s,
        audit_floor_s=floor_ms / 1e3,
        audit_ok=audit.ok,
        audit_work=work,
        stored_bytes_per_message=statistics.mean(records),
        file_bytes_per_message=file_bytes / messages,
        ciphertext_bytes_per_message=statistics.mean(ciphertexts),
    )


def format_store_figures(figures: StoreFigures, title: str) -> str:
    """The figures as labelled lines under the parameters used."""
    f = figures
    p = f.parameters
    work = ", ".join(f"{n} {name}" for name, n in f.audit_work.items())
    return "\n".join([
        title,
        "parameters: " + ", ".join(f"{k}={v}" for k, v in p.items()),
        f"projection rebuild ({p['rebuild_events']} events):   {f.rebuild_events_per_s:>12,.0f} events/s"
        f"   (reading + decoding alone: {f.rebuild_floor_events_per_s:,.0f} events/s)",
        f"load a group of {f.group_events} events:   {f.load_snapshot_ms:>10.2f} ms from its snapshot + tail"
        f"   (full replay: {f.load_full_replay_ms:,.0f} ms, {f.load_full_replay_ms / f.load_snapshot_ms:,.0f}x)",
        f"audit replay, {p['members']}-member group, {p['messages']} messages:   {f.audit_s:>8.2f} s"
        f"   crypto floor {f.audit_floor_s:.2f} s   ratio {f.audit_s / f.audit_floor_s:.1f}"
        f"   ({'no violations' if f.audit_ok else 'VIOLATIONS FOUND'}; floor = {work})",
        f"stored bytes per 100-byte message:   {f.stored_bytes_per_message:>8.1f} B event record,"
        f" {f.file_bytes_per_message:.1f} B SQLite file growth   vs MLS ciphertext {f.ciphertext_bytes_per_message:.1f} B"
        f"   (record/ciphertext {f.stored_bytes_per_message / f.ciphertext_bytes_per_message:.2f})",
    ])
