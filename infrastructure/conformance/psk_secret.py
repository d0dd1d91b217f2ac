"""Checks psk_secret.json: the psk_secret chained from external PSKs (ids, values, nonces)."""

from __future__ import annotations

from typing import Any

from mlsgroup.domain.mls.cipher_suite import cipher_suite
from mlsgroup.domain.mls.psk import external_psk_id, psk_secret

from . import expect_equal

__all__ = ["FILE", "check"]

FILE = "psk_secret.json"


def check(entry: dict[str, Any]) -> None:
    suite = cipher_suite(entry["cipher_suite"])
    psks = [
        (external_psk_id(bytes.fromhex(p["psk_id"]), bytes.fromhex(p["psk_nonce"])), bytes.fromhex(p["psk"]))
        for p in entry["psks"]
    ]
    expect_equal("psk_secret", psk_secret(suite, psks), bytes.fromhex(entry["psk_secret"]))
