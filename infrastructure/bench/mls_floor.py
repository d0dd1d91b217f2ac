"""``mlsgroup bench mls``, the crypto floor: what a benchmark row costs in primitive operations alone
(RFC 9420 sections 7-12 on cipher suite 1, MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519).

A row's floor is the number of primitive operations the RFC makes that row do, each priced at the
median of raw ``cryptography`` / ``hmac`` / ``hashlib`` calls timed in the same run, sampled in the
same rounds as the row itself (``CostSampler``), so the floor sees the same machine load. Signatures,
hashes and AEADs are priced by size (a fixed cost plus a per-byte slope, both measured), since an
add-250 commit signs ~70 KB and a Welcome encrypts a GroupInfo that carries the whole tree.

Units: S sign / V verify (Ed25519 over SignContent), E / O HPKE seal / open of a short plaintext
(X25519 DeriveKeyPair for the ephemeral, DH, HPKE key schedule, AES-GCM), K an X25519 key pair
from a secret, H one HMAC-SHA256 (an HKDF-Extract, or an ExpandWithLabel of <= 32 bytes), D one
SHA-256 (tree hashes, transcript hashes, KeyPackageRefs), A one AES-128-GCM seal or open with a
fresh key. Counting, with n members added, L leaves after the commit, d = tree depth:

* key schedule of a new epoch (8): Extract(init, commit_secret), joiner ExpandWithLabel, Extract
  with the (zero) psk_secret, epoch ExpandWithLabel, nine DeriveSecrets = 13 H; a Welcome adds
  welcome_secret and its key and nonce = 3 H; confirmation tag 1 H; a PublicMessage's membership
  tag 1 H; confirmed + interim transcript hashes 2 D.
* create a group (11): the creator's LeafNode K + S, the epoch-0 secrets 9 H, its tree hash 1 D.
* validate an Add (12.2): KeyPackage signature V + its LeafNode signature V.
* create + add n in one commit, no path (12.4, as mls-rs commits adds): create, n Adds validated,
  n KeyPackageRefs D, tree hash of the new tree 2L-1 D, commit S, key schedule + Welcome 16 H,
  tags 2 H, transcripts 2 D, GroupInfo S, its AEAD A(|GroupInfo|), one HPKE seal E per new member.
* join from that Welcome (12.4.3.1): own KeyPackageRef D, HPKE open O, member/welcome secrets
  4 H, GroupInfo AEAD A, GroupInfo V, every leaf's LeafNode V (L), tree hash 2L-1 D, epoch
  secrets 10 H, confirmation tag 1 H, interim transcript hash D.
* process an add-n commit as another member (12.4.2): membership tag H, signature V, n Adds
  validated, tree hash 2L-1 D, key schedule 13 H, confirmation tag H, transcripts 2 D.
* add 1 to a group of m (L = m+1): 1 Add validated, its KeyPackageRef D, tree hashes on the new
  leaf's direct path d+1 D (the other subtrees are cached), commit S, key schedule + Welcome
  16 H, tags 2 H, transcripts 2 D, GroupInfo S and A(|GroupInfo|), one HPKE seal E.
* k application messages (6.3), each: sender S, ratchet key/nonce/next secret 3 H, content A,
  sender-data key/nonce 2 H, sender-data A; receiver the same with V for S.

Sizes (signed contents, hashed nodes, GroupInfo) are those of mls-rs's messages for the same
operation; ours differ by a few bytes of capabilities. The sign / verify / HMAC counts were checked
against the calls our implementation makes per row (HPKE's own HMACs are inside E and O).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import statistics
import time
from typing import Callable

import attrs
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .crypto import _x25519_floor

__all__ = [
    "PrimitiveCosts",
    "Work",
    "CostSampler",
    "create_add_work",
    "join_work",
    "process_add_work",
    "add_one_work",
    "messages_work",
]

_SMALL, _LARGE = 256, 65536
_PARENT_HASH_INPUT = 70  # blank parent: optional flag + two 32-byte child hashes + lengths


@attrs.frozen
class _Sized:
    """Cost in ms of one operation on ``n`` bytes: measured at a small and a large size."""

    small_ms: float
    large_ms: float

    def at(self, n: int) -> float:
        slope = max(self.large_ms - self.small_ms, 0.0) / (_LARGE - _SMALL)
        return self.small_ms + max(n - _SMALL, 0) * slope


@attrs.frozen
class PrimitiveCosts:
    """Median cost (ms) of each primitive, measured with raw calls in this run."""

    sign: _Sized
    verify: _Sized
    digest: _Sized
    aead: _Sized
    hmac_ms: float
    hpke_seal_ms: float
    hpke_open_ms: float
    keygen_ms: float


@attrs.frozen
class Work:
    """The primitive operations one row must perform; sizes in bytes where cost depends on size."""

    signs: tuple[int, ...] = ()
    verifies: tuple[int, ...] = ()
    digests: tuple[int, ...] = ()
    aeads: tuple[int, ...] = ()
    hmacs: int = 0
    hpke_seals: int = 0
    hpke_opens: int = 0
    keygens: int = 0

    def __add__(self, other: "Work") -> "Work":
        return Work(
            self.signs + other.signs,
            self.verifies + other.verifies,
            self.digests + other.digests,
            self.aeads + other.aeads,
            self.hmacs + other.hmacs,
            self.hpke_seals + other.hpke_seals,
            self.hpke_opens + other.hpke_opens,
            self.keygens + other.keygens,
        )

    def times(self, k: int) -> "Work":
        return Work(
            self.signs * k, self.verifies * k, self.digests * k, self.aeads * k,
            self.hmacs * k, self.hpke_seals * k, self.hpke_opens * k, self.keygens * k,
        )

    def cost_ms(self, c: PrimitiveCosts) -> float:
        return (
            sum(c.sign.at(n) for n in self.signs)
            + sum(c.verify.at(n) for n in self.verifies)
            + sum(c.digest.at(n) for n in self.digests)
            + sum(c.aead.at(n) for n in self.aeads)
            + self.hmacs * c.hmac_ms
            + self.hpke_seals * c.hpke_seal_ms
            + self.hpke_opens * c.hpke_open_ms
            + self.keygens * c.keygen_ms
        )


class CostSampler:
    """Times every primitive with raw library calls, one sample per ``sample()`` call.

    The benchmark takes one sample per round of a row, between the two implementations' samples,
    so the floor of a row is priced under the same machine load as the row itself.
    """

    def __init__(self, inner: int = 20) -> None:
        self._inner = inner
        self._calls = _primitive_calls()
        self._times: dict[str, list[float]] = {name: [] for name in self._calls}
        for call in self._calls.values():
            call()  # load keys and warm caches outside the measurement

    def sample(self) -> None:
        for name, call in self._calls.items():
            start = time.perf_counter_ns()
            for _ in range(self._inner):
                call()
            self._times[name].append((time.perf_counter_ns() - start) / self._inner / 1e6)

    def costs(self) -> PrimitiveCosts:
        """Medians of the samples taken so far (at least one)."""
        t = {name: statistics.median(values) for name, values in self._times.items()}
        return PrimitiveCosts(
            sign=_Sized(t["sign_s"], t["sign_l"]),
            verify=_Sized(t["verify_s"], t["verify_l"]),
            digest=_Sized(t["digest_s"], t["digest_l"]),
            aead=_Sized(t["aead_s"] / 2, t["aead_l"]),
            hmac_ms=t["hmac"],
            hpke_seal_ms=t["seal"],
            hpke_open_ms=t["open"],
            keygen_ms=t["keygen"] + 2 * t["hmac"],  # DeriveKeyPair: Extract + Expand, then the scalar mult
        )


def _primitive_calls() -> dict[str, Callable[[], object]]:
    signer = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    verifier = signer.public_key()
    small, large = os.urandom(_SMALL), os.urandom(_LARGE)
    sig_small, sig_large = signer.sign(small), signer.sign(large)
    key, nonce = bytes(16), bytes(12)
    ct_large = AESGCM(key).encrypt(nonce, large, b"")
    prk, info = hashlib.sha256(b"prk").digest(), bytes(64)
    sk_r = hashlib.sha256(b"recipient").digest()
    pk_r = x25519.X25519PrivateKey.from_private_bytes(sk_r).public_key().public_bytes_raw()
    hpke_seal, hpke_open, _, _ = _x25519_floor(pk_r, sk_r)

    def aead_small() -> None:  # one seal and one open with a fresh key object each, halved in costs()
        AESGCM(key).decrypt(nonce, AESGCM(key).encrypt(nonce, small, b""), b"")

    return {
        "sign_s": lambda: signer.sign(small),
        "sign_l": lambda: signer.sign(large),
        "verify_s": lambda: verifier.verify(sig_small, small),
        "verify_l": lambda: verifier.verify(sig_large, large),
        "digest_s": lambda: hashlib.sha256(small).digest(),
        "digest_l": lambda: hashlib.sha256(large).digest(),
        "aead_s": aead_small,
        "aead_l": lambda: AESGCM(key).decrypt(nonce, ct_large, b""),
        "hmac": lambda: hmac.digest(prk, info, "sha256"),
        "seal": hpke_seal,
        "open": hpke_open,
        "keygen": lambda: x25519.X25519PrivateKey.from_private_bytes(sk_r).public_key().public_bytes_raw(),
    }


# -- per-row counts (see the module docstring) ------------------------------------------------------


def _tree_hash(leaves: int, leaf_size: int) -> Work:
    return Work(digests=(leaf_size + 6,) * leaves + (_PARENT_HASH_INPUT,) * (leaves - 1))


def _validate_adds(n: int, kp_size: int, leaf_size: int) -> Work:
    return Work(verifies=(kp_size, leaf_size) * n)


def _epoch(welcome: bool, public_message: bool) -> Work:
    return Work(hmacs=13 + 3 * welcome + 1 + public_message, digests=(300, 64))


def create_add_work(n: int, kp_size: int, leaf_size: int, commit_size: int, group_info_size: int) -> Work:
    create = Work(keygens=1, signs=(leaf_size,), hmacs=9, digests=(leaf_size + 6,))
    return (
        create
        + _validate_adds(n, kp_size, leaf_size)
        + Work(digests=(kp_size,) * n)
        + _tree_hash(n + 1, leaf_size)
        + _epoch(welcome=True, public_message=True)
        + Work(signs=(commit_size, group_info_size), aeads=(group_info_size,), hpke_seals=n)
    )


def join_work(leaves: int, kp_size: int, leaf_size: int, group_info_size: int) -> Work:
    return (
        Work(digests=(kp_size,), hpke_opens=1, hmacs=4, aeads=(group_info_size,), verifies=(group_info_size,))
        + Work(verifies=(leaf_size,) * leaves)
        + _tree_hash(leaves, leaf_size)
        + Work(hmacs=11, digests=(64,))
    )


def process_add_work(n: int, leaves: int, kp_size: int, leaf_size: int, commit_size: int) -> Work:
    return (
        Work(verifies=(commit_size,))
        + _validate_adds(n, kp_size, leaf_size)
        + _tree_hash(leaves, leaf_size)
        + _epoch(welcome=False, public_message=True)
    )


def add_one_work(leaves: int, kp_size: int, leaf_size: int, commit_size: int, group_info_size: int) -> Work:
    depth = max(leaves - 1, 1).bit_length()
    return (
        _validate_adds(1, kp_size, leaf_size)
        + Work(digests=(kp_size, leaf_size + 6) + (_PARENT_HASH_INPUT,) * depth)
        + _epoch(welcome=True, public_message=True)
        + Work(signs=(commit_size, group_info_size), aeads=(group_info_size,), hpke_seals=1)
    )


def messages_work(k: int, size: int) -> Work:
    signed = size + 150  # FramedContentTBS: version, wire format, group id, epoch, sender, GroupContext
    one = Work(signs=(signed,), verifies=(signed,), hmacs=10, aeads=(size + 70, 24, size + 70, 24))
    return one.times(k)
