"""Checks tree-math.json: node count, root, and each node's left, right, parent and sibling."""

from __future__ import annotations

from typing import Any, Callable

from mlsgroup.domain.mls import tree_math

from . import expect_equal

__all__ = ["FILE", "check"]

FILE = "tree-math.json"


def _relative(fn: Callable[[int], int], x: int) -> int | None:
    try:
        return fn(x)
    except tree_math.TreeMathError:
        return None


def check(entry: dict[str, Any]) -> None:
    n = entry["n_leaves"]
    width = tree_math.node_width(n)
    expect_equal("n_nodes", width, entry["n_nodes"])
    expect_equal("root", tree_math.root(n), entry["root"])
    relatives = {
        "left": tree_math.left,
        "right": tree_math.right,
        "parent": lambda x: tree_math.parent(x, n),
        "sibling": lambda x: tree_math.sibling(x, n),
    }
    for name, fn in relatives.items():
        want = entry[name]
        expect_equal(f"len({name})", len(want), width)
        for x in range(width):
            expect_equal(f"{name}[{x}]", _relative(fn, x), want[x])
