"""Loads the official MLS interoperability vectors from MLS_TEST_VECTORS.

The folder is never copied into this repository. A missing folder or file fails loudly: tests that
need vectors error out instead of skipping.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["vectors_dir", "load_vectors", "suite_ids"]

_DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "mls-test-vectors"


def vectors_dir() -> Path:
    """The vector folder: $MLS_TEST_VECTORS, else ../shared/mls-test-vectors beside the checkout."""
    configured = os.environ.get("MLS_TEST_VECTORS")
    path = Path(configured) if configured else _DEFAULT
    if not path.is_dir():
        raise FileNotFoundError(
            f"MLS test vectors not found at {path}; set MLS_TEST_VECTORS to the official vector folder"
        )
    return path


@functools.cache
def load_vectors(name: str) -> list[dict[str, Any]]:
    """The parsed entries of one vector file, e.g. load_vectors("tree-math.json")."""
    path = vectors_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"MLS test-vector file missing: {path}")
    with path.open() as handle:
        data = json.load(handle)
    if not isinstance(data, list) or not data:
        raise ValueError(f"{path} holds no vector entries")
    return data


def suite_ids(entries: list[dict[str, Any]], prefix: str = "cs") -> list[str]:
    """pytest ids like cs1-0, cs1-1, cs2-0 for entries that carry a cipher_suite."""
    counters: dict[Any, int] = {}
    ids = []
    for entry in entries:
        suite = entry.get("cipher_suite", "all")
        index = counters.get(suite, 0)
        counters[suite] = index + 1
        ids.append(f"{prefix}{suite}-{index}")
    return ids
