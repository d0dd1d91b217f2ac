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


def test_conformance_table_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    main(["conformance", str(vectors_dir())])
    out = capsys.readouterr().out
    assert "tree-math.json" in out and "passed" in out


def test_conformance_missing_folder_is_an_error(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", str(tmp_path / "absent")]) == 2
