"""Benchmarks printed by ``mlsgroup bench``: ours beside a floor measured in the same run.

Timings are medians over interleaved samples, reported as figures, never asserted: the machines
are shared and noisy, so only ratios measured in one run mean anything.
"""

from .timing import Row, format_rows, median_ms

__all__ = ["Row", "format_rows", "median_ms"]
