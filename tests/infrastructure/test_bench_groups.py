"""``mlsgroup bench groups`` at toy sizes: the rows run and report the sizes used (no timing assertions)."""

from __future__ import annotations

import json

from mlsgroup.infrastructure.bench.groups import format_group_rows, groups_rows
from mlsgroup.infrastructure.cli import main


def test_group_rows_run_at_small_sizes() -> None:
    parameters, rows = groups_rows(group_size=4, message_group_size=3, pending=3, samples=2)
    assert parameters["group_size"] == 4 and parameters["pending"] == 3
    names = [r.row for r in rows]
    assert names == [
        "add 1 member -> 4 (group just created)",
        "add 1 member -> 4 (after add/remove rounds)",
        "create a 4-member group",
        "send 100 B (3-member group)",
        "receive it: sync (3-member group)",
        "send + receive",
        "sync 3 pending messages",
    ]
    assert all(r.median_ms > 0 and r.min_ms <= r.median_ms <= r.max_ms for r in rows)
    assert rows[0].samples == 2 and rows[-1].per_item_ms is not None
    table = format_group_rows(parameters, rows, "title")
    assert "parameters: group_size=4" in table and "libxmtp ~750 ms" in table


def test_bench_groups_json_from_the_cli(capsys) -> None:
    args = ["bench", "groups", "--group-size", "3", "--message-group-size", "3", "--pending", "2", "--samples", "1", "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["parameters"]["group_size"] == 3
    assert {"row", "median_ms", "min_ms", "max_ms", "samples", "reference", "per_item_ms"} == set(report["rows"][0])
