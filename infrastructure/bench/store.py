"""``mlsgroup bench store``: the event store's costs on SQLite (ARCHITECTURE 3).

Rows:

* projection rebuild, events per second (``projections.rebuild_rate``: a message-shaped view over
  message-shaped events), beside reading and decoding the same records without projecting, and
  beside the rebuild's SQLite and cryptography work alone (reading and opening the records, writing
  the already sealed rows in the same batches, the indexes);
* the rebuild of the client's real ``group_views`` from the receiver's store below, whose message
  records must also be opened (``OpenedMessage``, the ApplicationContent protobuf);
* loading a group whose history has ``messages`` events, from its latest snapshot and tail,
  beside a full replay of every event;
* ``mlsgroup audit`` of that store (a ``members``-member group, ``messages`` received 100-byte
  messages) beside its crypto floor: the cryptography the audit cannot avoid. A received message
  is stored as its opening fields (``MessageReceived``), so the audit ratchets to its key, rebuilds
  its PrivateMessage and checks the hash: per message one Ed25519 verify (of the FramedContentTBS,
  which holds the epoch's whole group context: kilobytes in a large group), two ChaCha20-Poly1305
  seals (content, sender data), five HMAC-SHA256 (the ratchet step's key, nonce and next secret; the
  sender-data key and nonce) and one SHA-256 of the rebuilt message; per stored record one
  AES-256-GCM open. The join is replayed too (``join_group`` on the recorded welcome): per join one
  HPKE open of our GroupSecrets (one X25519 exchange, six HMAC-SHA256, one ChaCha20-Poly1305 open),
  one ChaCha20-Poly1305 open of the GroupInfo, the GroupInfo's Ed25519 verify (its TBS holds the
  whole ratchet tree) and one Ed25519 verify per leaf of the tree (LeafNodeTBS), at the sizes of
  the store's welcome. Each is priced with raw ``cryptography`` / ``hmac`` calls in this run at the
  sizes found in the store, in CPU time, as the audit is (left out, so the floor is a lower bound:
  the first derivation of a sender's ratchet; the join's tree and parent hashes, key schedule and
  path-key derivations; loading keys the audit caches).
  The audit runs five times, each run followed by pricing the primitives (mean CPU time per call
  over all samples, so that both sides take in the machine's load alike); the row shows the run
  with the median ratio;
* stored bytes per received 100-byte application message (its encrypted, compressed event record,
  and the SQLite file's growth) beside the size of its MLS ciphertext; the same for the sender
  (every record one sent message adds: intent queued, published, confirmed).

The history is made through the public API: the sender and the measured member keep encrypted
SQLite stores (default snapshot interval). Each message is 100 printable characters drawn from a
fixed-seed PRNG, so compression gains nothing on them (a repeated byte would compress to nothing).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import statistics
import string
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

import attrs
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from mlsgroup.domain import MessageKind
from mlsgroup.domain.group_aggregate import group_uuid
from mlsgroup.domain.group_events import ApplicationReceived, EnvelopeProcessed, GroupJoined, MessageReceived
from mlsgroup.domain.mls.cipher_suite import MLS_PREFIX
from mlsgroup.domain.mls.codec import encode_opaque
from mlsgroup.domain.mls.enums import ExtensionType
from mlsgroup.domain.mls.extensions import find_extension
from mlsgroup.domain.mls.group import KeyPackageBundle
from mlsgroup.domain.mls.group.join import decode_welcome, open_welcome
from mlsgroup.domain.mls.ratchet_tree import RatchetTree
from mlsgroup.domain.welcomes import WelcomeEnvelope

from ..audit import audit_store
from ..client import Client
from ..group_store import GroupStore
from ..network import Network
from ..persistence import StoreSettings
from .projections import rebuild_rate
from .timing import compare

__all__ = ["StoreFigures", "store_figures", "format_store_figures"]

_MESSAGE_BYTES = 100
_SENDER_DATA = 12  # leaf index, generation, reuse guard
_AUDIT_RUNS = 5


@attrs.frozen
class StoreFigures:
    """Every figure of the run, flat, for the table and for JSON."""

    parameters: dict[str, Any]
    rebuild_events_per_s: float
    rebuild_floor_events_per_s: float
    rebuild_storage_floor_events_per_s: float
    group_events: int
    load_snapshot_ms: float
    load_full_replay_ms: float
    views_rebuild_events: int
    views_rebuild_events_per_s: float
    views_rebuild_cpu_events_per_s: float
    audit_s: float
    audit_cpu_s: float
    audit_floor_s: float
    audit_ratio: float
    audit_ok: bool
    audit_work: dict[str, int]
    stored_bytes_per_message: float
    file_bytes_per_message: float
    ciphertext_bytes_per_message: float
    sender_bytes_per_message: float
    sender_file_bytes_per_message: float

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _texts(messages: int) -> list[bytes]:
    """``messages`` distinct 100-byte printable texts from a fixed-seed PRNG (incompressible for zstd)."""
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + string.punctuation + " "
    return ["".join(rng.choices(alphabet, k=_MESSAGE_BYTES)).encode() for _ in range(messages)]


@attrs.frozen
class _History:
    path: Path
    key: bytes
    group_id: bytes
    file_bytes: int  # the receiver's file growth over the messages
    sender_records: int  # bytes of the sender's records written for the messages
    sender_file_bytes: int
    payload_sizes: dict[int, int]  # envelope cursor -> payload bytes


def _history(folder: Path, members: int, messages: int) -> _History:
    """A receiver's store holding ``messages`` received messages (and the sender's costs)."""
    net = Network.in_memory()
    key = os.urandom(32)
    path, sender_path = folder / "receiver.db", folder / "sender.db"
    texts = _texts(messages)
    fillers = [Client.create(net) for _ in range(members - 2)]
    with Client.create(net, store=sender_path, encryption_key=key) as sender, Client.create(
        net, store=path, encryption_key=key
    ) as receiver:
        group = sender.create_group([receiver.inbox_id] + [f.inbox_id for f in fillers])
        receiver.sync_welcomes()
        theirs = receiver.group(group.group_id)
        theirs.sync()
        before, sender_before = _file_bytes(path), _file_bytes(sender_path)
        sender_version = len(sender.group_store.app.recorder.select_events(group_uuid(group.group_id)))
        sent = 0
        while sent < messages:
            for _ in range(min(500, messages - sent)):
                group.send(texts[sent])
                sent += 1
            theirs.sync()
        if sorted(m.content for m in theirs.messages(kind=MessageKind.APPLICATION)) != sorted(texts):
            raise RuntimeError("the receiver did not store every message")
        sender_records = sum(
            len(stored.state)
            for stored in sender.group_store.app.recorder.select_events(group_uuid(group.group_id), gt=sender_version)
        )
        payload_sizes = {e.cursor: len(e.payload) for e in net.api.query_group_messages(group.group_id)}
        group_id = group.group_id
    file_bytes, sender_file_bytes = _file_bytes(path) - before, _file_bytes(sender_path) - sender_before
    for client in fillers:
        client.close()
    return _History(path, key, group_id, file_bytes, sender_records, sender_file_bytes, payload_sizes)


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


@attrs.frozen
class _Join:
    """The sizes of what an audit's replay of one ``GroupJoined`` decrypts and verifies (``join_group``)."""

    group_secrets: int  # our encrypted GroupSecrets (the HPKE ciphertext)
    group_info: int  # the encrypted GroupInfo
    group_info_tbs: int  # the GroupInfo's SignContent (label and GroupInfoTBS)
    leaf_tbs: tuple[int, ...]  # each leaf's SignContent (label and LeafNodeTBS)


def _sign_content_size(label: bytes, content: bytes) -> int:
    return len(encode_opaque(MLS_PREFIX + label)) + len(encode_opaque(content))


def _join_of(event: GroupJoined) -> _Join:
    """Open the recorded welcome as the replay does, to measure what the join's cryptography works on."""
    bundle = KeyPackageBundle.decode(event.key_package_bundle)
    welcome = decode_welcome(WelcomeEnvelope.decode(event.welcome).welcome)
    group_info = open_welcome(welcome, bundle.ref, bundle.init_private, bundle.suite_id).group_info
    ours = next(e for e in welcome.secrets if e.new_member == bundle.ref)
    extension = find_extension(group_info.extensions, ExtensionType.RATCHET_TREE)
    if extension is None:
        raise RuntimeError("the welcome carries no ratchet tree: the bench expects the one XMTP sends")
    tree = RatchetTree.decode(bundle.suite_id, extension.extension_data)
    group_id = group_info.group_context.group_id
    return _Join(
        group_secrets=len(ours.encrypted_group_secrets.ciphertext),
        group_info=len(welcome.encrypted_group_info),
        group_info_tbs=_sign_content_size(b"GroupInfoTBS", group_info.tbs()),
        leaf_tbs=tuple(_sign_content_size(b"LeafNodeTBS", leaf.tbs(group_id, index)) for index, leaf in tree.leaves()),
    )


def _sizes(history: _History) -> tuple[list[int], list[int], int, list[_Join]]:
    """(stored record sizes, MLS ciphertext sizes, application data bytes) of the received messages,
    and the joins of the group."""
    store = GroupStore.open(StoreSettings.sqlite(history.path, encryption_key=history.key))
    try:
        records, ciphertexts, data, joins = [], [], 0, []
        for stored in store.app.recorder.select_events(group_uuid(history.group_id)):
            event = store.app.mapper.to_domain_event(stored)
            if isinstance(event, EnvelopeProcessed) and isinstance(event.outcome, (ApplicationReceived, MessageReceived)):
                records.append(len(stored.state))
                ciphertexts.append(history.payload_sizes[event.cursor])
                if isinstance(event.outcome, MessageReceived):
                    data = max(data, len(event.outcome.opened.data))
            elif isinstance(event, GroupJoined):
                joins.append(_join_of(event))
        return records, ciphertexts, data, joins
    finally:
        store.close()


def _cpu_means(funcs: dict[str, Callable[[], object]], *, samples: int, inner: int) -> dict[str, float]:
    """Mean CPU milliseconds per call of each function, sampled round-robin. The mean, not the median:
    the audit it is set against is one long CPU-time measurement that takes in whatever load the
    machine had, and so do all the samples together."""
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for func in funcs.values():
        func()
    for _ in range(samples):
        for name, func in funcs.items():
            start = time.process_time()
            for _ in range(inner):
                func()
            times[name].append((time.process_time() - start) / inner * 1e3)
    return {name: statistics.mean(values) for name, values in times.items()}


def _verifier(size: int) -> Callable[[], None]:
    """One raw Ed25519 verify of a ``size``-byte message."""
    signer = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    public, message = signer.public_key(), os.urandom(size)
    signature = signer.sign(message)
    return lambda: public.verify(signature, message)


def _opener(size: int) -> Callable[[], bytes]:
    """One raw ChaCha20-Poly1305 open of a ``size``-byte ciphertext, building its AEAD object."""
    key, nonce = os.urandom(32), os.urandom(12)
    sealed = ChaCha20Poly1305(key).encrypt(nonce, os.urandom(max(size - 16, 0)), b"")
    return lambda: ChaCha20Poly1305(key).decrypt(nonce, sealed, b"")


def _hpke_opener(size: int) -> Callable[[], bytes]:
    """One HPKE open (RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256), ChaCha20-Poly1305) as the join's
    replay does it, in raw calls: the sender's ephemeral key loaded, one X25519 exchange with our
    init key, six HMAC-SHA256 (eae_prk, shared_secret, info_hash, secret, key, base_nonce) and the
    AEAD open of a ``size``-byte ciphertext. Our key is loaded once outside, as the KEM caches it;
    each HMAC is priced over 64 bytes, although info_hash covers the whole encrypted GroupInfo the
    first time (the HPKE suite caches it per info, so the audit's later runs in one process skip it)."""
    private = x25519.X25519PrivateKey.generate()
    enc = x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
    kem_context = enc + private.public_key().public_bytes_raw()
    opener = _opener(size)

    def open_() -> bytes:
        secret = private.exchange(x25519.X25519PublicKey.from_public_bytes(enc))
        for _ in range(6):
            secret = hmac.digest(secret, kem_context, "sha256")
        return opener()

    return open_


def _primitive_costs(sizes: dict[str, int], samples: int) -> dict[str, float]:
    """Mean CPU ms of one raw Ed25519 verify, ChaCha20-Poly1305 seal (content, sender data),
    AES-256-GCM open, HMAC-SHA256 and SHA-256, at the sizes given (``tbs``, ``content``, ``record``,
    ``message``), and, when ``sizes`` has the join's (``leaf_tbs``, ``group_info_tbs``,
    ``group_info``, ``group_secrets``), of its Ed25519 verifies, GroupInfo open and HPKE open. Each
    seal and open builds its AEAD object, as a per-message (per-welcome) key requires."""
    chacha_key = os.urandom(32)
    nonce = os.urandom(12)
    sender_data = os.urandom(_SENDER_DATA)
    content = os.urandom(sizes["content"])
    aes = AESGCM(os.urandom(32))
    record = aes.encrypt(nonce, os.urandom(max(sizes["record"] - 29, 1)), b"record identity" * 4)
    mac_key, mac_input = os.urandom(32), os.urandom(48)
    message = os.urandom(sizes["message"])
    funcs: dict[str, Callable[[], object]] = {
        "verify": _verifier(sizes["tbs"]),
        "seal_sender_data": lambda: ChaCha20Poly1305(chacha_key).encrypt(nonce, sender_data, b"aad" * 10),
        "seal_content": lambda: ChaCha20Poly1305(chacha_key).encrypt(nonce, content, b"aad" * 10),
        "open_record": lambda: aes.decrypt(nonce, record, b"record identity" * 4),
        "hmac": lambda: hmac.digest(mac_key, mac_input, "sha256"),
        "sha256": lambda: hashlib.sha256(message).digest(),
    }
    if "leaf_tbs" in sizes:
        funcs["verify_leaf"] = _verifier(sizes["leaf_tbs"])
        funcs["verify_group_info"] = _verifier(sizes["group_info_tbs"])
        funcs["open_group_info"] = _opener(sizes["group_info"])
        funcs["open_group_secrets"] = _hpke_opener(sizes["group_secrets"])
    return _cpu_means(funcs, samples=samples, inner=200)


def _context_size(path: Path, key: bytes, group_id: bytes) -> int:
    """Bytes of the group's encoded GroupContext at the end of the history (signed by every message)."""
    store = GroupStore.open(StoreSettings.sqlite(path, encryption_key=key))
    try:
        return len(store.replay(group_id).mls.encoded_group_context)
    finally:
        store.close()


def _views_rebuild(path: Path, key: bytes) -> tuple[int, float, float]:
    """(events, wall s, CPU s) of rebuilding the client's real ``group_views`` from the receiver's store."""
    store = GroupStore.open(StoreSettings.sqlite(path, encryption_key=key))
    try:
        start, cpu_start = time.perf_counter(), time.thread_time()
        events = store.views.rebuild()
        return events, time.perf_counter() - start, time.thread_time() - cpu_start
    finally:
        store.close()


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
        history = _history(Path(folder), members, messages)
        path, key, group_id = history.path, history.key, history.group_id
        snapshot_ms, full_ms, group_events = _load_figures(path, key, group_id, samples)
        views_events, views_s, views_cpu_s = _views_rebuild(path, key)
        records, ciphertexts, data_size, joins = _sizes(history)
        context_size = _context_size(path, key, group_id)
        sizes = {
            "record": int(statistics.mean(records)),
            # The sealed content: the application data and the signature, each with its length prefix.
            "content": data_size + 2 + 66,
            # FramedContentTBS: version, wire format, group id, epoch, sender, authenticated data, content
            # type, the application data, then the group context; VerifyWithLabel prefixes its label.
            "tbs": 4 + 17 + 8 + 5 + 1 + 1 + 2 + data_size + context_size + 30,
            "message": int(statistics.mean(ciphertexts)),
        }
        if joins:
            leaves = [size for join in joins for size in join.leaf_tbs]
            sizes["leaf_tbs"] = int(statistics.mean(leaves))
            sizes["group_info_tbs"] = int(statistics.mean(j.group_info_tbs for j in joins))
            sizes["group_info"] = int(statistics.mean(j.group_info for j in joins))
            sizes["group_secrets"] = int(statistics.mean(j.group_secrets for j in joins))
        # The audit and its floor alternate, each audit followed by pricing the primitives, so that
        # both see the same load; the ratio is the median of the runs' ratios.
        runs = []
        for _ in range(_AUDIT_RUNS):
            start, cpu_start = time.perf_counter(), time.process_time()
            audit = audit_store(path, key)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            runs.append((wall, cpu, audit, _primitive_costs(sizes, samples)))
    group = next(g for g in audit.groups if g.group_id == group_id)
    rebuilt = group.counts.get("messages rebuilt and verified", 0)
    snapshot_records = sum(g.snapshots for g in audit.groups)
    work = {
        "signature verifications": rebuilt,
        "ChaCha20-Poly1305 seals": 2 * rebuilt,
        "HMAC-SHA256": 5 * rebuilt,
        "SHA-256 of rebuilt messages": rebuilt,
        "AES-256-GCM record opens": audit.events + snapshot_records,
        "join: LeafNode signature verifications": sum(len(j.leaf_tbs) for j in joins),
        "join: GroupInfo signature verifications": len(joins),
        "join: GroupInfo ChaCha20-Poly1305 opens": len(joins),
        "join: HPKE opens of GroupSecrets": len(joins),
    }

    def floor_s(costs: dict[str, float]) -> float:
        per_message = costs["verify"] + costs["seal_sender_data"] + costs["seal_content"] + 5 * costs["hmac"] + costs["sha256"]
        total = rebuilt * per_message + work["AES-256-GCM record opens"] * costs["open_record"]
        if joins:
            total += work["join: LeafNode signature verifications"] * costs["verify_leaf"] + len(joins) * (
                costs["verify_group_info"] + costs["open_group_info"] + costs["open_group_secrets"]
            )
        return total / 1e3

    ratios = [cpu / floor_s(costs) for _, cpu, _, costs in runs]
    middle = sorted(range(len(runs)), key=lambda i: ratios[i])[len(runs) // 2]
    audit_s, audit_cpu_s, _, middle_costs = runs[middle]
    return StoreFigures(
        parameters=parameters,
        rebuild_events_per_s=rebuild.events_per_second,
        rebuild_floor_events_per_s=rebuild.floor_events_per_second,
        rebuild_storage_floor_events_per_s=rebuild.storage_floor_events_per_second,
        group_events=group_events,
        load_snapshot_ms=snapshot_ms,
        load_full_replay_ms=full_ms,
        views_rebuild_events=views_events,
        views_rebuild_events_per_s=views_events / views_s,
        views_rebuild_cpu_events_per_s=views_events / views_cpu_s,
        audit_s=audit_s,
        audit_cpu_s=audit_cpu_s,
        audit_floor_s=floor_s(middle_costs),
        audit_ratio=ratios[middle],
        audit_ok=all(run[2].ok for run in runs),
        audit_work=work,
        stored_bytes_per_message=statistics.mean(records),
        file_bytes_per_message=history.file_bytes / messages,
        ciphertext_bytes_per_message=statistics.mean(ciphertexts),
        sender_bytes_per_message=history.sender_records / messages,
        sender_file_bytes_per_message=history.sender_file_bytes / messages,
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
        f"   (reading + decoding alone: {f.rebuild_floor_events_per_s:,.0f} events/s; SQLite and cryptography"
        f" alone, no decoding or projecting: {f.rebuild_storage_floor_events_per_s:,.0f} events/s)",
        f"rebuild the client's group_views ({f.views_rebuild_events} events of the receiver's store):"
        f"   {f.views_rebuild_events_per_s:,.0f} events/s   ({f.views_rebuild_cpu_events_per_s:,.0f} events/s of CPU time)",
        f"load a group of {f.group_events} events:   {f.load_snapshot_ms:>10.2f} ms from its snapshot + tail"
        f"   (full replay: {f.load_full_replay_ms:,.0f} ms, {f.load_full_replay_ms / f.load_snapshot_ms:,.0f}x)",
        f"audit replay, {p['members']}-member group, {p['messages']} messages:   {f.audit_cpu_s:>8.2f} s CPU"
        f" ({f.audit_s:.2f} s wall)   crypto floor {f.audit_floor_s:.2f} s CPU   ratio {f.audit_ratio:.2f}"
        f"   ({'no violations' if f.audit_ok else 'VIOLATIONS FOUND'}; floor = {work})",
        f"stored bytes per 100-byte message:   {f.stored_bytes_per_message:>8.1f} B event record,"
        f" {f.file_bytes_per_message:.1f} B SQLite file growth   vs MLS ciphertext {f.ciphertext_bytes_per_message:.1f} B"
        f"   (record/ciphertext {f.stored_bytes_per_message / f.ciphertext_bytes_per_message:.2f})",
        f"sender's bytes per message sent:   {f.sender_bytes_per_message:>8.1f} B event records,"
        f" {f.sender_file_bytes_per_message:.1f} B SQLite file growth",
    ])
