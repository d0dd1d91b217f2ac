"""``mlsgroup bench mls``: group operations of RFC 9420 (sections 11-12, 6.3), ours beside mls-rs and
beside the crypto floor, all measured in one process and one run.

Rows (cipher suite 1): create a group and add N members in one commit (N = 10, 50, 100, 250 by
default), join from that Welcome, another member processing that commit, add 1 member to a
250-member group, encrypt + decrypt 1000 application messages of 100 bytes. Each figure is the
median of ``samples`` samples, the two implementations sampled alternately after one warm-up run
each. Untimed per-sample set-up restores the starting state (ours: immutable states are reused;
mls-rs: reloaded from its storage); KeyPackages of the members to add are generated beforehand.

The floor (see ``mls_floor``) prices the primitive operations the RFC makes the row perform with
raw ``cryptography`` calls timed in the same run. Rows carry, besides the timings, what each side's
work produced (member count; whether a second member derived the same exporter secret) so a test
can check both sides did the same work; timings are never asserted.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable

from mlsgroup.domain.mls.messages import MLSMessage

from . import mls_floor as floor
from .mls_sides import MlsRsSide, Trial

__all__ = ["mls_rows", "format_mls_rows", "DEFAULT_SIZES"]

DEFAULT_SIZES = (10, 50, 100, 250)


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _measure(makers: dict[str, Callable[[], Trial]], samples: int) -> dict[str, tuple[float, object]]:
    """Median ms per side, and the Facts of the last sample; sides alternate within each sample."""
    times: dict[str, list[float]] = {name: [] for name in makers}
    last: dict[str, tuple[Trial, object]] = {}
    for round_ in range(samples + 1):
        for name, make in makers.items():
            trial = make()
            start = time.perf_counter_ns()
            result = trial.run()
            elapsed = (time.perf_counter_ns() - start) / 1e6
            if round_:  # round 0 warms caches and lazy imports
                times[name].append(elapsed)
            last[name] = (trial, result)
    return {name: (_median(times[name]), trial.check(result)) for name, (trial, result) in last.items()}


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


def _row(name: str, measured: dict[str, tuple[float, object]], floor_ms: float) -> dict:
    ours_ms, ours_facts = measured.get("ours", (float("nan"), None))
    rs_ms, rs_facts = measured["mls-rs"]
    return {
        "row": name,
        "ours_ms": ours_ms,
        "mls_rs_ms": rs_ms,
        "floor_ms": floor_ms,
        "members": {"ours": getattr(ours_facts, "members", None), "mls_rs": rs_facts.members},
        "exporter_agreed": {"ours": getattr(ours_facts, "agreed", None), "mls_rs": rs_facts.agreed},
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
    costs = floor.measure_costs(max(samples, 5))
    rows = []

    def measure(make: Callable[[object], Callable[[], Trial]]) -> dict[str, tuple[float, object]]:
        return _measure({name: make(side) for name, side in sides.items()}, samples)

    for n in sizes:
        s = _sizes(rs, n)
        rows.append(_row(
            f"create + add {n} in one commit",
            measure(lambda side: lambda: side.create_add(n)),
            floor.create_add_work(n, **s).cost_ms(costs),
        ))
        rows.append(_row(
            f"join from that Welcome ({n + 1} members)",
            measure(lambda side: lambda: side.join(n)),
            floor.join_work(n + 1, s["kp_size"], s["leaf_size"], s["group_info_size"]).cost_ms(costs),
        ))
        rows.append(_row(
            f"member processes an add-{n} commit",
            measure(lambda side: lambda: side.process_add(n)),
            floor.process_add_work(n, n + 2, s["kp_size"], s["leaf_size"], s["commit_size"]).cost_ms(costs),
        ))
    s_large, s_one = _sizes(rs, large), _sizes(rs, 1)
    rows.append(_row(
        f"add 1 to a {large}-member group",
        measure(lambda side: lambda: side.add_one(large)),
        floor.add_one_work(
            large + 1, s_one["kp_size"], s_one["leaf_size"], s_one["commit_size"], s_large["group_info_size"]
        ).cost_ms(costs),
    ))
    rows.append(_row(
        f"encrypt + decrypt {messages} messages of {message_size} B",
        measure(lambda side: lambda: side.messages(messages, message_size)),
        floor.messages_work(messages, message_size).cost_ms(costs),
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
