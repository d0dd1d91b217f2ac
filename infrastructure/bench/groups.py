"""``mlsgroup bench groups``: XMTP group operations end to end through the public API (Client and
MlsGroup on the in-memory network, the measured clients on encrypted SQLite stores).

Rows (each a median of timed calls, from the call to its return, i.e. until the change is merged
or the message confirmed by the delivery service):

* add 1 member to a group, taking it to ``group_size`` inboxes (MAX_GROUP_SIZE = 250 caps a group,
  so the largest add is the one that makes 250), twice: to a group just created in one commit (its
  tree's parent nodes are blank, so the update path encrypts to every other leaf: the worst case),
  and to a group whose tree earlier commits filled (each sample's member is removed again, untimed).
  libxmtp publishes ~750 ms for this row (its benches "add_1_member_to_group");
* create a ``group_size``-member group (the creation commit adds ``group_size`` - 1 inboxes);
* send a 100-byte message in a ``message_group_size``-member group, and one receiving member's
  ``sync()`` that decrypts it; both have SQLite stores;
* a member's ``sync()`` of ``pending`` messages waiting on the group's topic.

Members that are only there to fill the group use in-memory stores: their cost is not measured.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

import attrs

from ..client import Client
from ..network import Network

__all__ = ["GroupRow", "groups_rows", "format_group_rows", "ADD_TARGET_MS", "LIBXMTP_ADD_MS"]

ADD_TARGET_MS = 50.0
LIBXMTP_ADD_MS = 750.0
_MESSAGE = b"m" * 100


@attrs.frozen
class GroupRow:
    """One row: median and spread of ``samples`` timings (ms), and what to compare it with."""

    row: str
    median_ms: float
    min_ms: float
    max_ms: float
    samples: int
    reference: str = ""
    per_item_ms: Optional[float] = None

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _row(row: str, times: list[float], reference: str = "", items: int = 0) -> GroupRow:
    median = statistics.median(times)
    return GroupRow(row, median, min(times), max(times), len(times), reference, median / items if items else None)


def _timed(func: Callable[[], object]) -> float:
    start = time.perf_counter_ns()
    func()
    return (time.perf_counter_ns() - start) / 1e6


class _Setup:
    """The network, the clients with SQLite stores (in ``folder``), and filler members."""

    def __init__(self, folder: Path) -> None:
        self.net = Network.in_memory()
        self.folder = folder
        self.clients: list[Client] = []

    def stored(self, name: str) -> Client:
        client = Client.create(self.net, store=self.folder / f"{name}.db", encryption_key=os.urandom(32))
        self.clients.append(client)
        return client

    def fillers(self, count: int) -> list[Client]:
        made = [Client.create(self.net) for _ in range(count)]
        self.clients.extend(made)
        return made

    def close(self) -> None:
        for client in self.clients:
            client.close()


def _add_rows(setup: _Setup, group_size: int, samples: int) -> list[GroupRow]:
    adder = setup.stored("adder")
    members = setup.fillers(group_size - 2)
    candidates = setup.fillers(samples + 1)
    fillers = [m.inbox_id for m in members]

    def add_one(group: Any, candidate: Client) -> float:
        elapsed = _timed(lambda: group.add_members([candidate.inbox_id]))
        if len(group.members()) != group_size:
            raise RuntimeError(f"the group has {len(group.members())} members after the add, not {group_size}")
        return elapsed

    fresh_times = []
    for n in range(samples + 1):
        elapsed = add_one(adder.create_group(fillers), candidates[0])
        if n:  # the first round warms caches
            fresh_times.append(elapsed)
    group = adder.create_group(fillers)
    steady_times = []
    for n, candidate in enumerate(candidates):
        elapsed = add_one(group, candidate)
        group.remove_members([candidate.inbox_id])
        if n:
            steady_times.append(elapsed)
    inboxes = fillers + [candidates[0].inbox_id]
    create_times = []
    for _ in range(max(3, samples // 3)):
        created: list[Any] = []
        create_times.append(_timed(lambda: created.append(adder.create_group(inboxes))))
        if len(created[0].members()) != group_size:
            raise RuntimeError("the created group does not have every member")
    reference = f"target <= {ADD_TARGET_MS:.0f} ms; libxmtp ~{LIBXMTP_ADD_MS:.0f} ms (published, 250 members)"
    return [
        _row(f"add 1 member -> {group_size} (group just created)", fresh_times, reference),
        _row(f"add 1 member -> {group_size} (after add/remove rounds)", steady_times, reference),
        _row(f"create a {group_size}-member group", create_times),
    ]


def _message_rows(setup: _Setup, group_size: int, pending: int, samples: int) -> list[GroupRow]:
    sender = setup.stored("sender")
    receiver = setup.stored("receiver")
    bulk = setup.fillers(1)[0]
    fillers = setup.fillers(group_size - 3)
    group = sender.create_group([receiver.inbox_id, bulk.inbox_id] + [f.inbox_id for f in fillers])
    receiver.sync_welcomes()
    bulk.sync_welcomes()
    theirs = receiver.group(group.group_id)
    bulk_group = bulk.group(group.group_id)
    theirs.sync()
    send_times, receive_times = [], []
    for n in range(samples + 1):
        sent = _timed(lambda: group.send(_MESSAGE))
        before = len(theirs.messages())
        received = _timed(theirs.sync)
        if len(theirs.messages()) != before + 1:
            raise RuntimeError("the receiver did not store the message")
        if n:
            send_times.append(sent)
            receive_times.append(received)
    rows = [
        _row(f"send 100 B ({group_size}-member group)", send_times),
        _row(f"receive it: sync ({group_size}-member group)", receive_times),
        _row("send + receive", [s + r for s, r in zip(send_times, receive_times)]),
    ]
    sync_times = []
    for _ in range(3 if pending <= 1000 else 1):
        for _ in range(pending):
            bulk_group.send(_MESSAGE)
        before = len(theirs.messages())
        sync_times.append(_timed(theirs.sync))
        if len(theirs.messages()) != before + pending:
            raise RuntimeError(f"sync stored {len(theirs.messages()) - before} of {pending} messages")
    rows.append(_row(f"sync {pending} pending messages", sync_times, items=pending))
    return rows


def groups_rows(
    *,
    group_size: int = 250,
    message_group_size: int = 100,
    pending: int = 1000,
    samples: int = 15,
    directory: Optional[str] = None,
) -> tuple[dict[str, Any], list[GroupRow]]:
    """Run the group benchmarks; returns (parameters, rows)."""
    if group_size < 3 or message_group_size < 3 or pending < 1 or samples < 1:
        raise ValueError("bench groups needs group sizes >= 3, pending >= 1 and samples >= 1")
    parameters = {
        "group_size": group_size,
        "message_group_size": message_group_size,
        "pending": pending,
        "samples": samples,
        "network": "in_memory",
        "store": "SQLite, AES-GCM encrypted, zstd (measured clients); in memory (filler members)",
    }
    with tempfile.TemporaryDirectory(dir=directory) as folder:
        setup = _Setup(Path(folder))
        try:
            rows = _add_rows(setup, group_size, samples)
            rows += _message_rows(setup, message_group_size, pending, samples)
        finally:
            setup.close()
    return parameters, rows


def format_group_rows(parameters: dict[str, Any], rows: list[GroupRow], title: str) -> str:
    """The rows as a fixed-width table under the parameters used."""
    width = max(len(r.row) for r in rows)
    lines = [title, "parameters: " + ", ".join(f"{k}={v}" for k, v in parameters.items())]
    lines.append(f"{'operation':<{width}}  {'median ms':>10}  {'min ms':>9}  {'max ms':>9}  {'n':>3}  notes")
    for r in rows:
        notes = r.reference
        if r.per_item_ms is not None:
            notes = f"{r.per_item_ms:.3f} ms per message" + (f"; {notes}" if notes else "")
        lines.append(f"{r.row:<{width}}  {r.median_ms:>10.2f}  {r.min_ms:>9.2f}  {r.max_ms:>9.2f}  {r.samples:>3}  {notes}")
    return "\n".join(lines)
