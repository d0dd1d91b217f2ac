"""One real history per test module (built once), copied before each test edits it."""

from __future__ import annotations

from pathlib import Path

import pytest

from .stores import History, build_history


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    return build_history(tmp_path_factory.mktemp("history"))


@pytest.fixture
def key_file(tmp_path: Path):
    def write(key: bytes, *, hex_form: bool = True) -> str:
        path = tmp_path / ("store.key" if hex_form else "store.raw")
        if hex_form:
            path.write_text(key.hex() + "\n")
        else:
            path.write_bytes(key)
        return str(path)

    return write
