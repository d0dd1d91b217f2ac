"""``mlsgroup bench mls``: group operations of RFC 9420 (sections 11-12, 6.3), ours beside mls-rs and
beside the crypto floor, all measured in one process and one run.

Rows (cipher suite 1): create a group and add N members in one commit (N = 10, 50, 100, 250 by
default), join from that Welcome, another member processing that commit, add 1 member to a
250-member group, encrypt + decrypt 1000 application messages of 100 bytes. Each figure is the
median of ``samples`` samples after one warm-up round; in every round both implementations run
(in alternating order) and every primitive is timed once, so all three columns of a row see the
same machine load. Untimed per-sample set-up restores the starting state (ours: immutable states
are reused; mls-rs: reloaded from its storage); KeyPackages of the members to add are generated
beforehand (ours are decoded afresh per sample, as a committer receives them).

The floor (see ``mls_floor``) prices the primitive operations the RFC makes the row perform with
the medians of raw ``cryptography`` calls timed in those rounds. Rows carry, besides the timings, what each side's
work produced (member count; whether a second member derived the same exporter secret) so a test
can check both sides did the same work; timings are never asserted.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable, Iterable

from mlsgroup.domain.mls.messages import MLSMessage

from . import mls_floor as floor
from .mls_sides import MlsRsSide, Trial

__all__ = ["mls_rows", "format_mls_rows", "DEFAULT_SIZES"]

DEFAULT_SIZES = (10, 50, 100, 250)


def _measure(
    makers: dict[str, Callable[[], Trial]], samples: int, work: floor.Work
) -> tuple[dict[str, tuple[float, object]], float]:
    """Median ms and last Facts per side, and the floor of ``work``; sides and primitive timings
    alternate within each sample round, so all three see the same machine load."""
    times: dict[str, list[float]] = {name: [] for name in makers}
    last: dict[str, tuple[Trial, object]] = {}
    sampler = floor.CostSampler()
    order = list(makers.items())
    for round_ in range(samples + 1):
        for name, make in order if round_ % 2 else order[::-1]:
            trial = make()
            start = time.perf_counter_ns()
            result = trial.run()
            elapsed = (time.perf_counter_ns() - start) / 1e6
            if round_:  # round 0 warms caches and lazy imports
                times[name].append(elapsed)
            last[name] = (trial, result)
        if round_:
            sampler.sample()
    measured = {name: (statistics.median(times[name]), trial.check(result)) for name, (trial, result) in last.items()}
    return measured, work.cost_ms(sampler.costs())


def _sizes(side: MlsRsSide, n: int) -> dict[str, int]:
    """Byte sizes of the structures a create + add ``n`` row signs, hashes and encrypts."""
    kp_bytes, commit, welcome = side.sample_messages(n)
    kp = MLSMessage.decode(kp_bytes).body
    group_info = len(MLSMessage.decode(welcome).body.encrypted_group_info) - 16
    return {
        "kp_size": len(kp_bytes),
        "leaf_size": len(kp.leaf_node.encode()),
        "commit_size": len(commit),
        "group_info_size": group_info,
    }


def _row(name: str, measured: tuple[dict[str, tuple[float, object]], float]) -> dict:
    sides, floor_ms = measured
    (ours_ms, ours), (rs_ms, rs) = sides["ours"], sides["mls-rs"]
    return {
        "row": name,
        "ours_ms": ours_ms,
        "mls_rs_ms": rs_ms,
        "floor_ms": floor_ms,
        "members": {"ours": ours.members, "mls_rs": rs.members},
        "exporter_agreed": {"ours": ours.agreed, "mls_rs": rs.agreed},
    }


def mls_rows(
    samples: int = 7,
    *,
    sizes: Iterable[int] = DEFAULT_SIZES,
    large: int = 250,
    messages: int = 1000,
    message_size: int = 100,
) -> list[dict]:
    """Every row of ``mlsgroup bench mls`` (``sizes``, ``large`` and ``messages`` shrink it for tests)."""
    from .mls_ours import OursSide

    sizes = tuple(sizes)
    pool = max(sizes + (large,)) + 1
    sides = {"ours": OursSide(pool), "mls-rs": MlsRsSide(pool)}
    rs = sides["mls-rs"]
    rows = []

    def measure(make: Callable[[object], Trial], work: floor.Work):
        return _measure({name: (lambda side=side: make(side)) for name, side in sides.items()}, samples, work)

    for n in sizes:
        s = _sizes(rs, n)
        rows.append(_row(
            f"create + add {n} in one commit",
            measure(lambda side: side.create_add(n), floor.create_add_work(n, **s)),
        ))
        rows.append(_row(
            f"join from that Welcome ({n + 1} members)",
            measure(lambda side: side.join(n), floor.join_work(n + 1, s["kp_size"], s["leaf_size"], s["group_info_size"])),
        ))
        rows.append(_row(
            f"member processes an add-{n} commit",
            measure(
                lambda side: side.process_add(n),
                floor.process_add_work(n, n + 2, s["kp_size"], s["leaf_size"], s["commit_size"]),
            ),
        ))
    s_large, s_one = _sizes(rs, large), _sizes(rs, 1)
    rows.append(_row(
        f"add 1 to a {large}-member group",
        measure(
            lambda side: side.add_one(large),
            floor.add_one_work(
                large + 1, s_one["kp_size"], s_one["leaf_size"], s_one["commit_size"], s_large["group_info_size"]
            ),
        ),
    ))
    rows.append(_row(
        f"encrypt + decrypt {messages} messages of {message_size} B",
        measure(lambda side: side.messages(messages, message_size), floor.messages_work(messages, message_size)),
    ))
    return rows


def format_mls_rows(rows: list[dict], title: str) -> str:
    """The table: row, ours ms, mls-rs ms, floor ms, ours/mls-rs, ours/floor."""
    width = max([len(r["row"]) for r in rows] + [10])
    head = f"{'row':<{width}}  {'ours ms':>10}  {'mls-rs ms':>10}  {'floor ms':>10}  {'ours/mls-rs':>11}  {'ours/floor':>10}"
    lines = [title, head]
    for r in rows:
        ours, rs, fl = r["ours_ms"], r["mls_rs_ms"], r["floor_ms"]
        lines.append(
            f"{r['row']:<{width}}  {ours:>10.2f}  {rs:>10.2f}  {fl:>10.2f}  {ours / rs:>11.1f}  {ours / fl:>10.1f}"
        )
    return "\n".join(lines)
