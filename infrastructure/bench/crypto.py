"""``mlsgroup bench crypto``: the MLS crypto operations beside the raw primitive calls they need.

Each floor is the operation written straight on ``cryptography`` and ``hmac``, doing only the
primitive calls that must happen per operation: long-lived keys are loaded once outside the loop
(as ours caches them), everything that depends on the message or the ephemeral key is computed
every call. The ratio is ours / floor.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mlsgroup.domain.mls import tree_math
from mlsgroup.domain.mls.cipher_suite import cipher_suite
from mlsgroup.domain.mls.codec import encode_opaque
from mlsgroup.domain.mls.secret_tree import RatchetType, SecretTree

from .timing import Row, compare

__all__ = ["crypto_rows"]

_SEED = bytes(range(32))
_INFO = b"MLS 1.0 benchmark context"


# -- HPKE floors (RFC 9180 base mode, single shot) ---------------------------------------------


def _labeled_extract(suite_id: bytes, salt: bytes, label: bytes, ikm: bytes, h: str) -> bytes:
    return hmac.digest(salt, b"HPKE-v1" + suite_id + label + ikm, h)


def _labeled_expand(suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int, h: str) -> bytes:
    labeled = length.to_bytes(2, "big") + b"HPKE-v1" + suite_id + label + info
    return hmac.digest(prk, labeled + b"\x01", h)[:length]


def _hpke_key_schedule(shared: bytes, info: bytes, kdf_suite: bytes, nk: int) -> tuple[bytes, bytes]:
    psk_id_hash = _labeled_extract(kdf_suite, b"", b"psk_id_hash", b"", "sha256")
    info_hash = _labeled_extract(kdf_suite, b"", b"info_hash", info, "sha256")
    context = b"\x00" + psk_id_hash + info_hash
    secret = _labeled_extract(kdf_suite, shared, b"secret", b"", "sha256")
    key = _labeled_expand(kdf_suite, secret, b"key", context, nk, "sha256")
    nonce = _labeled_expand(kdf_suite, secret, b"base_nonce", context, 12, "sha256")
    return key, nonce


def _x25519_floor(pk_r: bytes, sk_r: bytes):
    kem_suite = b"KEM" + (0x20).to_bytes(2, "big")
    kdf_suite = b"HPKE" + (0x20).to_bytes(2, "big") + (1).to_bytes(2, "big") + (1).to_bytes(2, "big")

    def extract_and_expand(dh: bytes, kem_context: bytes) -> bytes:
        eae_prk = _labeled_extract(kem_suite, b"", b"eae_prk", dh, "sha256")
        return _labeled_expand(kem_suite, eae_prk, b"shared_secret", kem_context, 32, "sha256")

    recipient = x25519.X25519PublicKey.from_public_bytes(pk_r)
    private = x25519.X25519PrivateKey.from_private_bytes(sk_r)
    pk_rm = private.public_key().public_bytes_raw()

    def seal() -> tuple[bytes, bytes]:
        dkp_prk = _labeled_extract(kem_suite, b"", b"dkp_prk", _SEED, "sha256")
        sk_e = x25519.X25519PrivateKey.from_private_bytes(_labeled_expand(kem_suite, dkp_prk, b"sk", b"", 32, "sha256"))
        enc = sk_e.public_key().public_bytes_raw()
        dh = sk_e.exchange(recipient)
        key, nonce = _hpke_key_schedule(extract_and_expand(dh, enc + pk_r), _INFO, kdf_suite, 16)
        return enc, AESGCM(key).encrypt(nonce, b"x" * 100, b"")

    enc, ct = seal()

    def open_() -> bytes:
        dh = private.exchange(x25519.X25519PublicKey.from_public_bytes(enc))
        key, nonce = _hpke_key_schedule(extract_and_expand(dh, enc + pk_rm), _INFO, kdf_suite, 16)
        return AESGCM(key).decrypt(nonce, ct, b"")

    return seal, open_, enc, ct


def _p256_floor(pk_r: bytes, sk_r: bytes):
    kem_suite = b"KEM" + (0x10).to_bytes(2, "big")
    kdf_suite = b"HPKE" + (0x10).to_bytes(2, "big") + (1).to_bytes(2, "big") + (1).to_bytes(2, "big")
    curve = ec.SECP256R1()
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

    def extract_and_expand(dh: bytes, kem_context: bytes) -> bytes:
        eae_prk = _labeled_extract(kem_suite, b"", b"eae_prk", dh, "sha256")
        return _labeled_expand(kem_suite, eae_prk, b"shared_secret", kem_context, 32, "sha256")

    def point(key) -> bytes:
        return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    recipient = ec.EllipticCurvePublicKey.from_encoded_point(curve, pk_r)
    private = ec.derive_private_key(int.from_bytes(sk_r, "big"), curve)
    pk_rm = point(private.public_key())

    def seal() -> tuple[bytes, bytes]:
        dkp_prk = _labeled_extract(kem_suite, b"", b"dkp_prk", _SEED, "sha256")
        counter = 0
        while True:  # DeriveKeyPair's rejection sampling; the first candidate almost always fits
            candidate = int.from_bytes(_labeled_expand(kem_suite, dkp_prk, b"candidate", bytes((counter,)), 32, "sha256"), "big")
            if 0 < candidate < order:
                break
            counter += 1
        sk_e = ec.derive_private_key(candidate, curve)
        enc = point(sk_e.public_key())
        dh = sk_e.exchange(ec.ECDH(), recipient)
        key, nonce = _hpke_key_schedule(extract_and_expand(dh, enc + pk_r), _INFO, kdf_suite, 16)
        return enc, AESGCM(key).encrypt(nonce, b"x" * 100, b"")

    enc, ct = seal()

    def open_() -> bytes:
        dh = private.exchange(ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(curve, enc))
        key, nonce = _hpke_key_schedule(extract_and_expand(dh, enc + pk_rm), _INFO, kdf_suite, 16)
        return AESGCM(key).decrypt(nonce, ct, b"")

    return seal, open_, enc, ct


def _hpke_rows(samples: int) -> list[Row]:
    rows = []
    for suite_id, name, floor in ((1, "X25519", _x25519_floor), (2, "P-256", _p256_floor)):
        hpke = cipher_suite(suite_id).hpke
        sk_r, pk_r = hpke.kem.derive_key_pair(bytes(32))
        floor_seal, floor_open, enc, ct = floor(pk_r, sk_r)
        ours_enc, ours_ct = hpke.seal_base(pk_r, _INFO, b"", b"x" * 100, _SEED)
        if (ours_enc, ours_ct) != (enc, ct):
            raise RuntimeError(f"HPKE {name}: ours and the floor disagree; the benchmark would compare unlike work")
        t = compare(
            {
                "seal": lambda: hpke.seal_base(pk_r, _INFO, b"", b"x" * 100, _SEED),
                "seal_floor": floor_seal,
                "open": lambda: hpke.open_base(sk_r, enc, _INFO, b"", ct),
                "open_floor": floor_open,
            },
            samples=samples,
            inner=20,
        )
        rows.append(Row(f"HPKE seal {name} (100 B)", t["seal"], t["seal_floor"]))
        rows.append(Row(f"HPKE open {name} (100 B)", t["open"], t["open_floor"]))
    return rows


# -- signatures ---------------------------------------------------------------------------------


def _signature_rows(samples: int) -> list[Row]:
    suite = cipher_suite(1)
    private, public = suite.signature_key_pair(_SEED)
    content = bytes(200)
    label = b"MLS 1.0 FramedContentTBS"
    raw_private = ed25519.Ed25519PrivateKey.from_private_bytes(private)
    raw_public = ed25519.Ed25519PublicKey.from_public_bytes(public)
    signature = suite.sign_with_label(private, "FramedContentTBS", content)

    def floor_sign() -> bytes:
        return raw_private.sign(encode_opaque(label) + encode_opaque(content))

    def floor_verify() -> None:
        raw_public.verify(signature, encode_opaque(label) + encode_opaque(content))

    t = compare(
        {
            "sign": lambda: suite.sign_with_label(private, "FramedContentTBS", content),
            "sign_floor": floor_sign,
            "verify": lambda: suite.verify_with_label(public, "FramedContentTBS", content, signature),
            "verify_floor": floor_verify,
        },
        samples=samples,
        inner=50,
    )
    return [
        Row("SignWithLabel Ed25519 (200 B)", t["sign"], t["sign_floor"]),
        Row("VerifyWithLabel Ed25519 (200 B)", t["verify"], t["verify_floor"]),
    ]


# -- secret tree ---------------------------------------------------------------------------------


def _expand_label(secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    full = b"MLS 1.0 " + label
    info = length.to_bytes(2, "big") + encode_opaque(full) + encode_opaque(context)
    return hmac.digest(secret, info + b"\x01", "sha256")[:length]


def _secret_tree_rows(samples: int) -> list[Row]:
    suite = cipher_suite(1)
    encryption_secret = hashlib.sha256(b"encryption").digest()
    n_leaves, leaf, generations = 64, 37, 10

    def ours() -> None:
        tree = SecretTree.create(suite, encryption_secret, n_leaves)
        for _ in range(generations):
            _, _, _, tree = tree.next_key_nonce(leaf, RatchetType.APPLICATION)

    path = [tree_math.root(n_leaves)]
    target = 2 * leaf
    while path[-1] != target:
        node = path[-1]
        path.append(tree_math.left(node) if target < node else tree_math.right(node))

    def floor() -> None:
        secret = encryption_secret
        for parent, child in zip(path, path[1:]):
            secret = _expand_label(secret, b"tree", b"left" if child < parent else b"right", 32)
        ratchet = _expand_label(secret, b"application", b"", 32)
        for generation in range(generations):
            context = b"\x04" + generation.to_bytes(4, "big")
            _expand_label(ratchet, b"key", context, 16)
            _expand_label(ratchet, b"nonce", context, 12)
            ratchet = _expand_label(ratchet, b"secret", context, 32)

    t = compare({"ours": ours, "floor": floor}, samples=samples, inner=20)
    return [Row(f"secret tree: leaf {leaf}/{n_leaves}, {generations} app keys", t["ours"], t["floor"])]


def crypto_rows(samples: int = 15) -> list[Row]:
    """Every row of ``mlsgroup bench crypto``."""
    rows = _hpke_rows(samples) + _signature_rows(samples) + _secret_tree_rows(samples)
    try:
        from .private_message import private_message_rows
    except ImportError:  # PrivateMessage protection has not landed in this build
        return rows
    return rows + private_message_rows(samples)
