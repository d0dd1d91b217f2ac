"""Runs the official MLS interoperability vectors (mlswg/mls-implementations) against mlsgroup.

Each vector file has one checker module here named after it (``tree_math`` for tree-math.json) that
exposes ``FILE = "tree-math.json"`` and ``check(entry: dict) -> None``. ``check`` returns when the
entry passes, raises ``VectorMismatch`` saying which field differs when it fails, and raises
``Unsupported`` when the entry needs something not implemented yet. The test suite and the
``mlsgroup conformance`` command run the same checkers.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Callable

__all__ = ["VectorMismatch", "Unsupported", "checker", "known_files", "expect_equal"]


class VectorMismatch(AssertionError):
    """A value computed by mlsgroup differs from the one the vector records."""


class Unsupported(Exception):
    """The entry needs a feature mlsgroup does not implement yet."""


def _module_name(file_name: str) -> str:
    return file_name.removesuffix(".json").replace("-", "_")


def known_files() -> list[str]:
    """The vector files that have a checker module, by file name (e.g. "tree-math.json")."""
    files = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "FILE"):
            files.append(module.FILE)
    return sorted(files)


def checker(file_name: str) -> Callable[[dict[str, Any]], None]:
    """The ``check`` function for one vector file; KeyError when no checker module exists."""
    try:
        module = importlib.import_module(f"{__name__}.{_module_name(file_name)}")
    except ModuleNotFoundError as exc:
        raise KeyError(file_name) from exc
    return module.check


def expect_equal(what: str, got: Any, want: Any) -> None:
    """Raise VectorMismatch naming ``what`` unless ``got == want`` (bytes shown in hex)."""
    if got != want:
        show = lambda v: v.hex() if isinstance(v, (bytes, bytearray)) else repr(v)  # noqa: E731
        raise VectorMismatch(f"{what}: got {show(got)}, want {show(want)}")
