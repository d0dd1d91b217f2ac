"""``mlsgroup bench mls`` on tiny sizes: every row is produced and both implementations did the same
work (same member count, a second member agreeing on the exporter). Timings are never asserted.

Skipped without ``mls_rs_uniffi`` unless MLSGROUP_REQUIRE_INTEROP=1, which makes its absence fail.
"""

from __future__ import annotations

import json
import math
import os

import pytest

try:
    import mls_rs_uniffi  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the platform
    if os.environ.get("MLSGROUP_REQUIRE_INTEROP") == "1":
        raise RuntimeError("MLSGROUP_REQUIRE_INTEROP=1 but mls_rs_uniffi is not importable") from exc
    pytest.skip("mls_rs_uniffi is not installed", allow_module_level=True)

from mlsgroup.infrastructure.bench.mls import format_mls_rows, mls_rows

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return mls_rows(samples=1, sizes=(2, 3), large=4, messages=5, message_size=100)


def test_every_row_is_produced_with_positive_timings(rows: list[dict]) -> None:
    assert [r["row"] for r in rows] == [
        "create + add 2 in one commit",
        "join from that Welcome (3 members)",
        "member processes an add-2 commit",
        "create + add 3 in one commit",
        "join from that Welcome (4 members)",
        "member processes an add-3 commit",
        "add 1 to a 4-member group",
        "encrypt + decrypt 5 messages of 100 B",
    ]
    for r in rows:
        for key in ("ours_ms", "mls_rs_ms", "floor_ms"):
            assert math.isfinite(r[key]) and r[key] > 0, (r["row"], key)


def test_both_implementations_did_the_same_work(rows: list[dict]) -> None:
    expected_members = [3, 3, 4, 4, 4, 5, 5, 2]
    assert [r["members"] for r in rows] == [{"ours": n, "mls_rs": n} for n in expected_members]
    assert all(r["exporter_agreed"] == {"ours": True, "mls_rs": True} for r in rows)


def test_the_table_has_the_ratio_columns(rows: list[dict]) -> None:
    table = format_mls_rows(rows, "title")
    assert "ours/mls-rs" in table and "ours/floor" in table
    assert len(table.splitlines()) == len(rows) + 2


def test_cli_json_prints_the_four_documented_keys(
    rows: list[dict], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlsgroup.infrastructure import cli
    from mlsgroup.infrastructure.bench import mls

    monkeypatch.setattr(mls, "mls_rows", lambda samples: rows)  # the full-size run takes minutes
    assert cli.main(["bench", "mls", "--json", "--samples", "1"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == [{k: r[k] for k in ("row", "ours_ms", "mls_rs_ms", "floor_ms")} for r in rows]
