"""Checks secret-tree.json: sender-data key/nonce and each leaf's handshake/application keys per generation."""

from __future__ import annotations

from typing import Any

from mlsgroup.domain.mls.cipher_suite import cipher_suite
from mlsgroup.domain.mls.secret_tree import RatchetType, SecretTree, sender_data_key_nonce

from . import expect_equal

__all__ = ["FILE", "check"]

FILE = "secret-tree.json"


def check(entry: dict[str, Any]) -> None:
    suite = cipher_suite(entry["cipher_suite"])
    sender_data = entry["sender_data"]
    key, nonce = sender_data_key_nonce(
        suite, bytes.fromhex(sender_data["sender_data_secret"]), bytes.fromhex(sender_data["ciphertext"])
    )
    expect_equal("sender_data.key", key, bytes.fromhex(sender_data["key"]))
    expect_equal("sender_data.nonce", nonce, bytes.fromhex(sender_data["nonce"]))

    leaves = entry["leaves"]
    tree = SecretTree.create(suite, bytes.fromhex(entry["encryption_secret"]), len(leaves))
    for leaf, generations in enumerate(leaves):
        for want in generations:
            g = want["generation"]
            for kind, name in ((RatchetType.HANDSHAKE, "handshake"), (RatchetType.APPLICATION, "application")):
                key, nonce, tree = tree.key_nonce(leaf, kind, g)
                expect_equal(f"leaf {leaf} gen {g} {name}_key", key, bytes.fromhex(want[f"{name}_key"]))
                expect_equal(f"leaf {leaf} gen {g} {name}_nonce", nonce, bytes.fromhex(want[f"{name}_nonce"]))
