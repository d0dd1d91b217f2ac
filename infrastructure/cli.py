"""The ``mlsgroup`` command line: a scripted demo, store audits, conformance runs and benchmarks."""

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
    if args.suite == "groups":
        from .bench.groups import format_group_rows, groups_rows

        parameters, group_table = groups_rows(
            group_size=args.group_size,
            message_group_size=args.message_group_size,
            pending=args.pending,
            samples=args.samples,
        )
        if args.json:
            print(json.dumps({"parameters": parameters, "rows": [r.as_dict() for r in group_table]}, indent=2))
        else:
            print(format_group_rows(parameters, group_table, "mlsgroup bench groups: end to end through Client / MlsGroup"))
        return 0
    if args.suite == "store":
        from .bench.store import format_store_figures, store_figures

        figures = store_figures(
            rebuild_events=args.rebuild_events, members=args.members, messages=args.messages, samples=args.samples
        )
        if args.json:
            print(json.dumps(figures.as_dict(), indent=2))
        else:
            print(format_store_figures(figures, "mlsgroup bench store: the event store on SQLite"))
        return 0 if figures.audit_ok else 1
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


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(keep=args.keep)


def _audit(args: argparse.Namespace) -> int:
    from .audit import AuditError, ProgressBar, audit_store, format_text, load_key, to_json

    try:
        key = load_key(args.key_file)
    except AuditError as exc:
        print(f"mlsgroup audit: {exc}", file=sys.stderr)
        return 2
    # On a terminal the bar appears for long histories only; --progress shows it always.
    bar = ProgressBar() if args.progress else ProgressBar(min_total=2000) if sys.stderr.isatty() else None
    try:
        audit = audit_store(args.store, key, progress=bar)
    except AuditError as exc:
        print(f"mlsgroup audit: {exc}", file=sys.stderr)
        return 2
    finally:
        if bar is not None:
            bar.close()
    print(to_json(audit) if args.json else format_text(audit))
    return 0 if audit.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlsgroup", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    conformance = commands.add_parser("conformance", help="run the official RFC 9420 test vectors")
    conformance.add_argument("dir", nargs="?", help="vector folder (default: $MLS_TEST_VECTORS or ../shared/mls-test-vectors)")
    conformance.add_argument("--json", action="store_true", help="print the tally as JSON")
    conformance.set_defaults(run=_conformance)

    demo = commands.add_parser("demo", help="a scripted conversation among four clients, checked as it runs")
    demo.add_argument("--keep", metavar="DIR", help="keep the clients' stores and keys in DIR (default: a temporary folder)")
    demo.set_defaults(run=_demo)

    audit = commands.add_parser(
        "audit", help="replay every group of a store, re-derive every outcome, check the invariants (docs/audit.md)"
    )
    audit.add_argument("store", help="the SQLite store file (as Client.create(net, store=PATH, ...) writes it)")
    audit.add_argument("--key-file", help="the store key: 32 raw bytes or 64 hex characters (default: $MLSGROUP_KEY, hex)")
    audit.add_argument("--json", action="store_true", help="print the report as JSON")
    audit.add_argument("--progress", action="store_true", help="show a progress bar on stderr even when it is not a terminal")
    audit.set_defaults(run=_audit)

    bench = commands.add_parser("bench", help="benchmarks: ours beside a floor or a reference measured in the same run")
    bench.add_argument("suite", choices=["crypto", "mls", "groups", "store"], help="which benchmark")
    bench.add_argument("--samples", type=int, default=15, help="samples per operation (median is reported)")
    bench.add_argument("--json", action="store_true", help="print the rows as JSON")
    sizes = bench.add_argument_group("sizes for 'groups' and 'store'")
    sizes.add_argument("--group-size", type=int, default=250, help="groups: inboxes after the add, and of the created group")
    sizes.add_argument("--message-group-size", type=int, default=100, help="groups: members of the messaging group")
    sizes.add_argument("--pending", type=int, default=1000, help="groups: messages waiting for one sync")
    sizes.add_argument("--rebuild-events", type=int, default=50_000, help="store: events in the projection rebuild")
    sizes.add_argument("--members", type=int, default=100, help="store: members of the audited group")
    sizes.add_argument("--messages", type=int, default=10_000, help="store: messages in the audited group's history")
    bench.set_defaults(run=_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:
        # The reader went away (``mlsgroup demo | head``): stop quietly, as other tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
