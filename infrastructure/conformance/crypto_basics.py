"""Checks crypto-basics.json: RefHash, ExpandWithLabel, DeriveSecret, DeriveTreeSecret, SignWithLabel and
EncryptWithLabel of each cipher suite (RFC 9420 5.1, 5.2; test-vectors.md "Crypto Basics")."""

from __future__ import annotations

import hashlib
from typing import Any

from mlsgroup.domain.mls.cipher_suite import cipher_suite
from mlsgroup.domain.mls.errors import HpkeError, SignatureError, UnsupportedCipherSuite

from . import Unsupported, VectorMismatch, expect_equal

__all__ = ["FILE", "check"]

FILE = "crypto-basics.json"

_EDDSA_SCHEMES = {0x0807, 0x0808}


def _hex(value: str) -> bytes:
    return bytes.fromhex(value)


def check(entry: dict[str, Any]) -> None:
    """Verify one suite's entry; VectorMismatch names the first field that differs."""
    try:
        suite = cipher_suite(entry["cipher_suite"])
    except UnsupportedCipherSuite as exc:
        raise Unsupported(str(exc)) from None

    ref = entry["ref_hash"]
    expect_equal("ref_hash.out", suite.ref_hash(ref["label"].encode(), _hex(ref["value"])), _hex(ref["out"]))

    ewl = entry["expand_with_label"]
    got = suite.expand_with_label(_hex(ewl["secret"]), ewl["label"].encode(), _hex(ewl["context"]), ewl["length"])
    expect_equal("expand_with_label.out", got, _hex(ewl["out"]))

    ds = entry["derive_secret"]
    expect_equal("derive_secret.out", suite.derive_secret(_hex(ds["secret"]), ds["label"].encode()), _hex(ds["out"]))

    dts = entry["derive_tree_secret"]
    got = suite.derive_tree_secret(_hex(dts["secret"]), dts["label"].encode(), dts["generation"], dts["length"])
    expect_equal("derive_tree_secret.out", got, _hex(dts["out"]))

    _check_signature(suite, entry["sign_with_label"])
    _check_encryption(suite, entry["encrypt_with_label"])


def _check_signature(suite, vector: dict[str, Any]) -> None:
    priv, pub = _hex(vector["priv"]), _hex(vector["pub"])
    label, content, signature = vector["label"].encode(), _hex(vector["content"]), _hex(vector["signature"])
    expect_equal("sign_with_label.pub", suite.signature_public_from_private(priv), pub)
    try:
        suite.verify_with_label(pub, label, content, signature)
    except SignatureError:
        raise VectorMismatch("sign_with_label: the vector's signature did not verify") from None
    ours = suite.sign_with_label(priv, label, content)
    try:
        suite.verify_with_label(pub, label, content, ours)
    except SignatureError:
        raise VectorMismatch("sign_with_label: our own signature did not verify") from None
    if suite.signature_scheme.id in _EDDSA_SCHEMES:
        # EdDSA is deterministic, so our signature must be the vector's byte for byte.
        expect_equal("sign_with_label.signature", ours, signature)


def _check_encryption(suite, vector: dict[str, Any]) -> None:
    priv, pub = _hex(vector["priv"]), _hex(vector["pub"])
    label, context, plaintext = vector["label"].encode(), _hex(vector["context"]), _hex(vector["plaintext"])
    expect_equal("encrypt_with_label.pub", suite.hpke_public_from_private(priv), pub)
    try:
        got = suite.decrypt_with_label(priv, label, context, _hex(vector["kem_output"]), _hex(vector["ciphertext"]))
    except HpkeError as exc:
        raise VectorMismatch(f"encrypt_with_label: the vector's ciphertext did not decrypt ({exc})") from None
    expect_equal("encrypt_with_label.plaintext", got, plaintext)
    # The ephemeral seed is fixed (the domain has no randomness) but distinct from the vector's.
    seed = hashlib.sha512(b"crypto-basics encrypt_with_label" + priv).digest()
    kem_output, ciphertext = suite.encrypt_with_label(pub, label, context, plaintext, seed)
    try:
        got = suite.decrypt_with_label(priv, label, context, kem_output, ciphertext)
    except HpkeError as exc:
        raise VectorMismatch(f"encrypt_with_label: our ciphertext did not decrypt ({exc})") from None
    expect_equal("encrypt_with_label round trip", got, plaintext)
