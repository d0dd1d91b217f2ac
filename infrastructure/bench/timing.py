"""Median timing of interleaved candidates, and the table the bench commands print."""

from __future__ import annotations

import statistics
import time
from typing import Callable

import attrs

__all__ = ["Row", "median_ms", "compare", "format_rows"]


@attrs.frozen
class Row:
    """One benchmark line: our median, the comparison's median (a floor or another implementation)."""

    row: str
    ours_ms: float
    other_ms: float
    other_name: str = "floor"

    @property
    def ratio(self) -> float:
        return self.ours_ms / self.other_ms if self.other_ms else float("inf")


def median_ms(func: Callable[[], object], *, samples: int = 15, inner: int = 1) -> float:
    """Median milliseconds of one call of ``func`` (each sample times ``inner`` calls)."""
    return compare({"x": func}, samples=samples, inner=inner)["x"]


def compare(funcs: dict[str, Callable[[], object]], *, samples: int = 15, inner: int = 1) -> dict[str, float]:
    """Medians (ms per call) of several functions, sampled round-robin so drift hits all alike."""
    for func in funcs.values():
        func()  # warm caches and imports outside the measurement
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(samples):
        for name, func in funcs.items():
            start = time.perf_counter_ns()
            for _ in range(inner):
                func()
            times[name].append((time.perf_counter_ns() - start) / inner / 1e6)
    return {name: statistics.median(values) for name, values in times.items()}


def format_rows(rows: list[Row], title: str) -> str:
    """A fixed-width table: row, ours, the comparison, and their ratio."""
    other = rows[0].other_name if rows else "floor"
    width = max([len(r.row) for r in rows] + [10])
    lines = [title, f"{'operation':<{width}}  {'ours ms':>10}  {other + ' ms':>12}  {'ratio':>6}"]
    for r in rows:
        lines.append(f"{r.row:<{width}}  {r.ours_ms:>10.4f}  {r.other_ms:>12.4f}  {r.ratio:>6.2f}")
    return "\n".join(lines)
