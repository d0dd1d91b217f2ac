"""The passive-client scenario shared by the passive-client-*.json checkers (RFC 9420 12.4.3.1, 12.4.2).

A client joins with the given KeyPackage and private keys (and external PSKs), checks the epoch
authenticator, then for each epoch processes the proposals and the commit and merges it, checking
the epoch authenticator after every epoch.
"""

from __future__ import annotations

from typing import Any

from mlsgroup.domain.mls.cipher_suite import cipher_suite
from mlsgroup.domain.mls.errors import DecodeError, MlsError
from mlsgroup.domain.mls.group.epoch_transition import merge_commit
from mlsgroup.domain.mls.group.join import join_group
from mlsgroup.domain.mls.group.key_package_bundles import KeyPackageBundle, decode_key_package_message
from mlsgroup.domain.mls.group.outputs import ProposalReceived, StagedCommit
from mlsgroup.domain.mls.group.process import process_message
from mlsgroup.domain.mls.key_packages import KeyPackage

from . import VectorMismatch, expect_equal

__all__ = ["check_passive_client"]


def _key_package(data: bytes) -> KeyPackage:
    try:
        return decode_key_package_message(data)
    except DecodeError:
        return KeyPackage.decode(data)


def _hpke_private(suite: Any, hex_key: str) -> bytes:
    # The generator writes NIST-curve private keys as minimal big-endian integers (some P-521 keys
    # have 65 bytes); SerializePrivateKey (RFC 9180 7.1.2) is fixed-length, so pad to Nsk.
    key = bytes.fromhex(hex_key)
    return key.rjust(suite.hpke.kem.private_key_len, b"\x00")


def check_passive_client(entry: dict[str, Any]) -> None:
    """Run one passive-client entry; VectorMismatch naming the step that failed."""
    suite = cipher_suite(entry["cipher_suite"])
    key_package = _key_package(bytes.fromhex(entry["key_package"]))
    bundle = KeyPackageBundle(
        key_package,
        _hpke_private(suite, entry["init_priv"]),
        _hpke_private(suite, entry["encryption_priv"]),
        bytes.fromhex(entry["signature_priv"]),
    )
    leaf = key_package.leaf_node
    expect_equal("init_priv -> init_key", suite.hpke_public_from_private(bundle.init_private), key_package.init_key)
    expect_equal(
        "encryption_priv -> encryption_key", suite.hpke_public_from_private(bundle.encryption_private), leaf.encryption_key
    )
    expect_equal(
        "signature_priv -> signature_key",
        suite.signature_public_from_private(bundle.signature_private),
        leaf.signature_key,
    )
    psk_store = {bytes.fromhex(p["psk_id"]): bytes.fromhex(p["psk"]) for p in entry["external_psks"]}
    tree = entry.get("ratchet_tree")
    try:
        state = join_group(
            bytes.fromhex(entry["welcome"]),
            bundle,
            ratchet_tree=None if tree is None else bytes.fromhex(tree),
            psk_store=psk_store,
        )
    except MlsError as exc:
        raise VectorMismatch(f"join: {type(exc).__name__}: {exc}") from exc
    expect_equal("initial_epoch_authenticator", state.epoch_authenticator, bytes.fromhex(entry["initial_epoch_authenticator"]))
    for number, epoch in enumerate(entry["epochs"]):
        try:
            for proposal in epoch["proposals"]:
                processed = process_message(state, bytes.fromhex(proposal), psk_store=psk_store)
                if not isinstance(processed.output, ProposalReceived):
                    raise VectorMismatch(f"epoch {number}: a proposal gave {type(processed.output).__name__}")
                state = processed.new_state
            processed = process_message(state, bytes.fromhex(epoch["commit"]), psk_store=psk_store)
        except MlsError as exc:
            raise VectorMismatch(f"epoch {number}: {type(exc).__name__}: {exc}") from exc
        if not isinstance(processed.output, StagedCommit):
            raise VectorMismatch(f"epoch {number}: the commit gave {type(processed.output).__name__}")
        state = merge_commit(processed.new_state, processed.output)
        expect_equal(f"epoch {number} epoch_authenticator", state.epoch_authenticator, bytes.fromhex(epoch["epoch_authenticator"]))
