"""The ``mlsgroup`` command line."""

from __future__ import annotations

import json

import pytest

from mlsgroup.infrastructure.cli import main
from tests.vectors import vectors_dir


def test_conformance_json_reports_every_file_in_the_folder(capsys: pytest.CaptureFixture[str]) -> None:
    folder = vectors_dir()
    code = main(["conformance", str(folder), "--json"])
    tally = json.loads(capsys.readouterr().out)
    assert set(tally) == {p.name for p in folder.glob("*.json")}
    failed = {f: s for f, per in tally.items() for s, c in per.items() if c["failed"]}
    assert failed == {}
    assert code == 0


def test_conformance_table_is_printed(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "tree-math.json").write_bytes((vectors_dir() / "tree-math.json").read_bytes())
    assert main(["conformance", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "tree-math.json" in out and "10 passed, 0 failed" in out


def test_conformance_failure_exits_non_zero(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    entries = json.loads((vectors_dir() / "tree-math.json").read_text())
    entries[0]["root"] += 1
    (tmp_path / "tree-math.json").write_text(json.dumps(entries))
    assert main(["conformance", str(tmp_path)]) == 1
    assert "FAILED tree-math.json[0]" in capsys.readouterr().out


def test_conformance_missing_folder_is_an_error(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", str(tmp_path / "absent")]) == 2
