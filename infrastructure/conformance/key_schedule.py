"""Checks key-schedule.json: GroupContext, every epoch secret, external_pub and the exporter per epoch."""

from __future__ import annotations

from typing import Any

from mlsgroup.domain.mls import key_schedule as ks
from mlsgroup.domain.mls.cipher_suite import cipher_suite
from mlsgroup.domain.mls.codec import Writer

from . import expect_equal

__all__ = ["FILE", "check", "group_context_bytes"]

FILE = "key-schedule.json"

_SECRETS = (
    "sender_data_secret",
    "encryption_secret",
    "exporter_secret",
    "epoch_authenticator",
    "external_secret",
    "confirmation_key",
    "membership_key",
    "resumption_psk",
    "init_secret",
    "joiner_secret",
    "welcome_secret",
)


def group_context_bytes(
    suite_id: int, group_id: bytes, epoch: int, tree_hash: bytes, confirmed_transcript_hash: bytes
) -> bytes:
    """The GroupContext encoding (mls10, empty extensions) as the vector's generator built it."""
    w = Writer()
    w.uint16(1)
    w.uint16(suite_id)
    w.opaque(group_id)
    w.uint64(epoch)
    w.opaque(tree_hash)
    w.opaque(confirmed_transcript_hash)
    w.opaque(b"")
    return w.getvalue()


def check(entry: dict[str, Any]) -> None:
    suite_id = entry["cipher_suite"]
    suite = cipher_suite(suite_id)
    group_id = bytes.fromhex(entry["group_id"])
    init_secret = bytes.fromhex(entry["initial_init_secret"])
    for epoch, want in enumerate(entry["epochs"]):
        h = lambda name: bytes.fromhex(want[name])  # noqa: E731
        context = group_context_bytes(suite_id, group_id, epoch, h("tree_hash"), h("confirmed_transcript_hash"))
        expect_equal(f"epoch {epoch} group_context", context, h("group_context"))
        secrets = ks.advance_epoch(suite, init_secret, h("commit_secret"), context, h("psk_secret"))
        for name in _SECRETS:
            expect_equal(f"epoch {epoch} {name}", getattr(secrets, name), h(name))
        _, external_pub = ks.external_key_pair(suite, secrets.external_secret)
        expect_equal(f"epoch {epoch} external_pub", external_pub, h("external_pub"))
        exporter = want["exporter"]
        exported = ks.mls_exporter(
            suite,
            secrets.exporter_secret,
            exporter["label"].encode(),  # a string label (that happens to look like hex)
            bytes.fromhex(exporter["context"]),
            exporter["length"],
        )
        expect_equal(f"epoch {epoch} exporter.secret", exported, bytes.fromhex(exporter["secret"]))
        init_secret = secrets.init_secret
