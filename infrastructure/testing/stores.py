"""Client stores for GroupMachine runs: encrypted SQLite files, a fresh folder per run."""

from __future__ import annotations

import os
from typing import Any, Mapping

from .harness import StoreFactory

__all__ = ["temporary_store_factory"]


def temporary_store_factory(directory: str | os.PathLike[str]) -> StoreFactory:
    """Per-client SQLite store files in ``directory``, each run in a fresh sub-folder, all encrypted."""
    runs = iter(range(1 << 30))
    current: dict[str, Any] = {}

    def factory(number: int) -> Mapping[str, Any]:
        if number == 0:
            current["run"] = next(runs)
        folder = os.path.join(os.fspath(directory), f"run{current['run']}")
        os.makedirs(folder, exist_ok=True)
        return {"store": os.path.join(folder, f"client{number}.db"), "encryption_key": os.urandom(32)}

    return factory
