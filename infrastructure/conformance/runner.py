"""Runs every official vector file found in a folder through its checker and tallies the outcome."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from . import Unsupported, VectorMismatch, checker

__all__ = ["Tally", "run_folder", "format_table"]

#: {file: {suite: {"passed": n, "failed": n, "unsupported": n}}}
Tally = dict[str, dict[str, dict[str, int]]]


def _suite_of(entry: Any) -> str:
    if isinstance(entry, dict) and "cipher_suite" in entry:
        return str(entry["cipher_suite"])
    return "all"


def run_folder(folder: Path, failures: list[str] | None = None) -> Tally:
    """Check every ``*.json`` vector file in ``folder``; files without a checker count as unsupported.

    ``failures`` (when given) collects one line per failed entry saying what differed.
    """
    tally: Tally = {}
    for path in sorted(folder.glob("*.json")):
        with path.open() as handle:
            entries = json.load(handle)
        per_suite: dict[str, dict[str, int]] = defaultdict(lambda: {"passed": 0, "failed": 0, "unsupported": 0})
        try:
            check = checker(path.name)
        except KeyError:
            check = None
        for index, entry in enumerate(entries):
            counts = per_suite[_suite_of(entry)]
            if check is None:
                counts["unsupported"] += 1
                continue
            try:
                check(entry)
            except Unsupported:
                counts["unsupported"] += 1
            except Exception as exc:  # a crash is a failure of that entry, reported, not fatal to the run
                counts["failed"] += 1
                if failures is not None:
                    kind = "" if isinstance(exc, VectorMismatch) else f"{type(exc).__name__}: "
                    failures.append(f"{path.name}[{index}] suite {_suite_of(entry)}: {kind}{exc}")
            else:
                counts["passed"] += 1
        tally[path.name] = dict(sorted(per_suite.items(), key=lambda kv: (kv[0] == "all", kv[0].zfill(5))))
    return tally


def format_table(tally: Tally) -> str:
    """A readable file x cipher-suite table; each cell is passed/failed/unsupported."""
    suites = sorted({s for per in tally.values() for s in per}, key=lambda s: (s == "all", s.zfill(5)))
    width = max([len(name) for name in tally] + [4])
    header = f"{'file':<{width}}  " + "  ".join(f"{'cs' + s if s != 'all' else 'all':>11}" for s in suites)
    lines = [header, "-" * len(header)]
    for name, per in tally.items():
        cells = []
        for suite in suites:
            counts = per.get(suite)
            cells.append(f"{'':>11}" if counts is None else f"{_cell(counts):>11}")
        lines.append(f"{name:<{width}}  " + "  ".join(cells))
    totals = {k: sum(c[k] for per in tally.values() for c in per.values()) for k in ("passed", "failed", "unsupported")}
    lines.append("")
    lines.append(
        f"{totals['passed']} passed, {totals['failed']} failed, {totals['unsupported']} not supported yet"
        "  (cells: passed/failed/not supported yet)"
    )
    return "\n".join(lines)


def _cell(counts: dict[str, int]) -> str:
    return f"{counts['passed']}/{counts['failed']}/{counts['unsupported']}"
