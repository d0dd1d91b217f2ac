"""Checks passive-client-handling-commit.json: a client joins by Welcome and follows the group epoch by epoch.

See passive_client for the scenario each entry runs.
"""

from __future__ import annotations

from typing import Any

from .passive_client import check_passive_client

__all__ = ["FILE", "check"]

FILE = "passive-client-handling-commit.json"


def check(entry: dict[str, Any]) -> None:
    check_passive_client(entry)
