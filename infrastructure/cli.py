"""The ``mlsgroup`` command line: conformance runs and benchmarks (more sub-commands arrive with the group layer)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

__all__ = ["main"]


def _default_vectors() -> str:
    return os.environ.get("MLS_TEST_VECTORS", "../shared/mls-test-vectors")


def _conformance(args: argparse.Namespace) -> int:
    from .conformance.runner import format_table, run_folder

    folder = Path(args.dir or _default_vectors())
    if not folder.is_dir():
        print(f"mlsgroup: no vector folder at {folder}", file=sys.stderr)
        return 2
    failures: list[str] = []
    tally = run_folder(folder, failures)
    if args.json:
        print(json.dumps(tally, indent=2))
    else:
        print(format_table(tally))
        for line in failures[:50]:
            print("FAILED", line)
    return 1 if any(c["failed"] for per in tally.values() for c in per.values()) else 0


def _bench(args: argparse.Namespace) -> int:
    from .bench import format_rows

    if args.suite == "mls":
        from .bench.mls import format_mls_rows, mls_rows

        try:
            mls_table = mls_rows(samples=args.samples)
        except ModuleNotFoundError as exc:
            if exc.name != "mls_rs_uniffi":
                raise
            print("mlsgroup: bench mls needs mls-rs: pip install -e '.[interop]'", file=sys.stderr)
            return 2
        if args.json:
            keys = ("row", "ours_ms", "mls_rs_ms", "floor_ms")
            print(json.dumps([{k: r[k] for k in keys} for r in mls_table], indent=2))
        else:
            print(format_mls_rows(mls_table, "mlsgroup bench mls: medians, ours beside mls-rs and the crypto floor"))
        return 0
    if args.suite == "crypto":
        from .bench.crypto import crypto_rows

        rows = crypto_rows(samples=args.samples)
        title = "mlsgroup bench crypto: medians of interleaved samples, ours vs the raw primitive calls"
    else:  # argparse restricts the choices
        raise AssertionError(args.suite)
    if args.json:
        print(json.dumps([{"row": r.row, "ours_ms": r.ours_ms, f"{r.other_name}_ms": r.other_ms, "ratio": r.ratio} for r in rows], indent=2))
    else:
        print(format_rows(rows, title))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlsgroup", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    conformance = commands.add_parser("conformance", help="run the official RFC 9420 test vectors")
    conformance.add_argument("dir", nargs="?", help="vector folder (default: $MLS_TEST_VECTORS or ../shared/mls-test-vectors)")
    conformance.add_argument("--json", action="store_true", help="print the tally as JSON")
    conformance.set_defaults(run=_conformance)

    bench = commands.add_parser("bench", help="benchmarks: ours beside a floor measured in the same run")
    bench.add_argument("suite", choices=["crypto", "mls"], help="which benchmark")
    bench.add_argument("--samples", type=int, default=15, help="samples per operation (median is reported)")
    bench.add_argument("--json", action="store_true", help="print the rows as JSON")
    bench.set_defaults(run=_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
