"""Hybrid Public Key Encryption, base mode (RFC 9180 sections 4, 5, 7.1) on ``cryptography``'s primitives.

KEMs: DHKEM(P-256/P-384/P-521, HKDF-SHA2) and DHKEM(X25519/X448, HKDF-SHA2); KDFs: HKDF-SHA256/384/512;
AEADs: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305 and export-only. Encapsulation is deterministic:
the caller supplies the ephemeral ``ikmE`` (the ephemeral key is DeriveKeyPair(ikmE)), so the domain
never draws randomness. Keys cross this API serialized (RFC 9180 7.1.1, 7.1.2); X25519/X448 private
keys are kept as DeriveKeyPair produced them, unclamped, as the RFC's test vectors and other MLS
implementations store them (the DH function clamps).
"""

from __future__ import annotations

import hmac

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .errors import HpkeError

__all__ = [
    "MODE_BASE",
    "Kdf",
    "Aead",
    "Kem",
    "HpkeSuite",
    "Context",
    "hkdf_expand",
    "kdf",
    "aead",
    "kem",
    "hpke_suite",
    "CURVE_ORDERS",
]

MODE_BASE = 0x00
_VERSION = b"HPKE-v1"
_KEY_CACHE_MAX = 256
_INFO_CACHE_MAX = 256


def hkdf_expand(hash_name: str, hash_len: int, prk: bytes, info: bytes, length: int) -> bytes:
    """HKDF-Expand (RFC 5869) with HMAC over ``hash_name``."""
    if length > 255 * hash_len:
        raise HpkeError(f"HKDF-Expand length {length} exceeds 255 * {hash_len}")
    if length <= hash_len:
        return hmac.digest(prk, info + b"\x01", hash_name)[:length]
    blocks = []
    block = b""
    for counter in range(1, -(-length // hash_len) + 1):
        block = hmac.digest(prk, block + info + bytes((counter,)), hash_name)
        blocks.append(block)
    return b"".join(blocks)[:length]


class Kdf:
    """An HKDF instance (RFC 9180 7.2). An empty salt equals Nh zero bytes under HMAC's key padding."""

    __slots__ = ("id", "hash_name", "hash_len")

    def __init__(self, kdf_id: int, hash_name: str, hash_len: int) -> None:
        self.id = kdf_id
        self.hash_name = hash_name
        self.hash_len = hash_len

    def __repr__(self) -> str:
        return f"Kdf(0x{self.id:04x}, {self.hash_name})"

    def extract(self, salt: bytes, ikm: bytes) -> bytes:
        return hmac.digest(salt, ikm, self.hash_name)

    def expand(self, prk: bytes, info: bytes, length: int) -> bytes:
        return hkdf_expand(self.hash_name, self.hash_len, prk, info, length)

    def labeled_extract(self, suite_id: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
        """LabeledExtract(salt, label, ikm) for the given suite_id (RFC 9180 4)."""
        return hmac.digest(salt, _VERSION + suite_id + label + ikm, self.hash_name)

    def labeled_expand(self, suite_id: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
        """LabeledExpand(prk, label, info, L) for the given suite_id (RFC 9180 4)."""
        labeled_info = length.to_bytes(2, "big") + _VERSION + suite_id + label + info
        return hkdf_expand(self.hash_name, self.hash_len, prk, labeled_info, length)


class Aead:
    """An AEAD (RFC 9180 7.3); ``factory`` builds the ``cryptography`` cipher for a key (None: export-only)."""

    __slots__ = ("id", "key_len", "nonce_len", "tag_len", "factory")

    def __init__(self, aead_id: int, key_len: int, nonce_len: int, tag_len: int, factory) -> None:
        self.id = aead_id
        self.key_len = key_len
        self.nonce_len = nonce_len
        self.tag_len = tag_len
        self.factory = factory

    def __repr__(self) -> str:
        return f"Aead(0x{self.id:04x})"


class Kem:
    """A DHKEM (RFC 9180 4.1) with its DeriveKeyPair (7.1.3) and key (de)serialization (7.1.1, 7.1.2)."""

    __slots__ = (
        "id",
        "secret_len",
        "enc_len",
        "public_key_len",
        "private_key_len",
        "kdf",
        "suite_id",
        "_hash_name",
        "_dkp_prefix",
        "_sk_info",
        "_eae_prefix",
        "_ss_info",
        "_privates",
        "_publics",
    )

    def __init__(self, kem_id: int, secret_len: int, enc_len: int, private_key_len: int, kem_kdf: Kdf) -> None:
        self.id = kem_id
        self.secret_len = secret_len
        self.enc_len = enc_len
        self.public_key_len = enc_len
        self.private_key_len = private_key_len
        self.kdf = kem_kdf
        self.suite_id = b"KEM" + kem_id.to_bytes(2, "big")
        self._hash_name = kem_kdf.hash_name
        # Constant parts of the labeled KDF inputs, so the hot path only concatenates the variable tail.
        self._dkp_prefix = _VERSION + self.suite_id + b"dkp_prk"
        self._sk_info = private_key_len.to_bytes(2, "big") + _VERSION + self.suite_id + b"sk"
        self._eae_prefix = _VERSION + self.suite_id + b"eae_prk"
        self._ss_info = secret_len.to_bytes(2, "big") + _VERSION + self.suite_id + b"shared_secret"
        self._privates: dict[bytes, tuple[object, bytes]] = {}
        self._publics: dict[bytes, object] = {}

    def __repr__(self) -> str:
        return f"Kem(0x{self.id:04x})"

    # Curve-specific parts, defined by the subclasses.
    def _private_from_ikm(self, ikm: bytes) -> tuple[object, bytes]:
        raise NotImplementedError

    def _load_private(self, sk: bytes) -> object:
        raise NotImplementedError

    def _load_public(self, pk: bytes) -> object:
        raise NotImplementedError

    def _public_bytes(self, private: object) -> bytes:
        raise NotImplementedError

    def _dh(self, private: object, public: object) -> bytes:
        raise NotImplementedError

    def _dkp_prk(self, ikm: bytes) -> bytes:
        return hmac.digest(b"", self._dkp_prefix + ikm, self._hash_name)

    def derive_key_pair(self, ikm: bytes) -> tuple[bytes, bytes]:
        """DeriveKeyPair(ikm) -> (serialized private key, serialized public key)."""
        private, sk = self._private_from_ikm(ikm)
        return sk, self._public_bytes(private)

    def _private(self, sk: bytes) -> tuple[object, bytes]:
        entry = self._privates.get(sk)
        if entry is None:
            private = self._load_private(sk)
            entry = (private, self._public_bytes(private))
            if len(self._privates) >= _KEY_CACHE_MAX:
                self._privates.clear()
            self._privates[bytes(sk)] = entry
        return entry

    def _public(self, pk: bytes) -> object:
        public = self._publics.get(pk)
        if public is None:
            public = self._load_public(pk)
            if len(self._publics) >= _KEY_CACHE_MAX:
                self._publics.clear()
            self._publics[bytes(pk)] = public
        return public

    def public_from_private(self, sk: bytes) -> bytes:
        """SerializePublicKey(pk(sk)) for a serialized private key; HpkeError if sk is invalid."""
        return self._private(sk)[1]

    def check_public_key(self, pk: bytes) -> None:
        """DeserializePublicKey validation alone: HpkeError unless ``pk`` is a valid public key."""
        self._public(pk)

    def _extract_and_expand(self, dh: bytes, kem_context: bytes) -> bytes:
        eae_prk = hmac.digest(b"", self._eae_prefix + dh, self._hash_name)
        return hkdf_expand(self._hash_name, self.kdf.hash_len, eae_prk, self._ss_info + kem_context, self.secret_len)

    def encap(self, pk_r: bytes, ikm_e: bytes) -> tuple[bytes, bytes]:
        """Encap(pkR) with the ephemeral key DeriveKeyPair(ikm_e) -> (shared_secret, enc)."""
        public_r = self._public(pk_r)
        private_e, _ = self._private_from_ikm(ikm_e)
        enc = self._public_bytes(private_e)
        dh = self._dh(private_e, public_r)
        return self._extract_and_expand(dh, enc + pk_r), enc

    def decap(self, enc: bytes, sk_r: bytes) -> bytes:
        """Decap(enc, skR) -> shared_secret; HpkeError for an invalid enc or private key."""
        private_r, pk_r = self._private(sk_r)
        dh = self._dh(private_r, self._load_public(enc))
        return self._extract_and_expand(dh, enc + pk_r)


class _MontgomeryKem(Kem):
    """DHKEM over X25519 or X448 (RFC 7748)."""

    __slots__ = ("_private_cls", "_public_cls")

    def __init__(self, kem_id, secret_len, key_len, kem_kdf, private_cls, public_cls) -> None:
        super().__init__(kem_id, secret_len, key_len, key_len, kem_kdf)
        self._private_cls = private_cls
        self._public_cls = public_cls

    def _private_from_ikm(self, ikm: bytes) -> tuple[object, bytes]:
        sk = hkdf_expand(self._hash_name, self.kdf.hash_len, self._dkp_prk(ikm), self._sk_info, self.private_key_len)
        return self._private_cls.from_private_bytes(sk), sk

    def _load_private(self, sk: bytes) -> object:
        if len(sk) != self.private_key_len:
            raise HpkeError(f"HPKE private key must be {self.private_key_len} bytes")
        return self._private_cls.from_private_bytes(sk)

    def _load_public(self, pk: bytes) -> object:
        if len(pk) != self.public_key_len:
            raise HpkeError(f"HPKE public key must be {self.public_key_len} bytes")
        return self._public_cls.from_public_bytes(pk)

    def _public_bytes(self, private) -> bytes:
        return private.public_key().public_bytes_raw()

    def _dh(self, private, public) -> bytes:
        try:
            return private.exchange(public)
        except ValueError:
            # An all-zero shared secret: the peer sent a small-order point (RFC 9180 7.1.4).
            raise HpkeError("DH produced the all-zero value") from None


class _NistKem(Kem):
    """DHKEM over a NIST curve with uncompressed SEC1 public keys."""

    __slots__ = ("_curve", "_order", "_bitmask", "_candidate_info", "_ecdh")

    def __init__(self, kem_id, secret_len, coordinate_len, kem_kdf, curve, order: int, bitmask: int) -> None:
        super().__init__(kem_id, secret_len, 1 + 2 * coordinate_len, coordinate_len, kem_kdf)
        self._curve = curve
        self._order = order
        self._bitmask = bitmask
        self._candidate_info = coordinate_len.to_bytes(2, "big") + _VERSION + self.suite_id + b"candidate"
        self._ecdh = ec.ECDH()

    def _private_from_ikm(self, ikm: bytes) -> tuple[object, bytes]:
        dkp_prk = self._dkp_prk(ikm)
        for counter in range(256):
            candidate = bytearray(
                hkdf_expand(
                    self._hash_name,
                    self.kdf.hash_len,
                    dkp_prk,
                    self._candidate_info + bytes((counter,)),
                    self.private_key_len,
                )
            )
            candidate[0] &= self._bitmask
            scalar = int.from_bytes(candidate, "big")
            if 0 < scalar < self._order:
                return ec.derive_private_key(scalar, self._curve), bytes(candidate)
        raise HpkeError("DeriveKeyPair found no valid scalar")

    def _load_private(self, sk: bytes) -> object:
        if len(sk) != self.private_key_len:
            raise HpkeError(f"HPKE private key must be {self.private_key_len} bytes")
        scalar = int.from_bytes(sk, "big")
        if not 0 < scalar < self._order:
            raise HpkeError("HPKE private key is not a valid scalar")
        return ec.derive_private_key(scalar, self._curve)

    def _load_public(self, pk: bytes) -> object:
        if len(pk) != self.public_key_len or pk[0] != 0x04:
            raise HpkeError("HPKE public key is not an uncompressed point")
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(self._curve, pk)
        except ValueError:
            raise HpkeError("HPKE public key is not a point on the curve") from None

    def _public_bytes(self, private) -> bytes:
        return private.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    def _dh(self, private, public) -> bytes:
        try:
            return private.exchange(self._ecdh, public)
        except ValueError:
            raise HpkeError("ECDH failed") from None


class Context:
    """An HPKE encryption context (RFC 9180 5.2, 5.3): Seal/Open with sequence numbers, and Export."""

    __slots__ = ("suite", "key", "base_nonce", "exporter_secret", "seq", "_cipher", "_nonce_int", "_nonce_len")

    def __init__(self, suite: "HpkeSuite", key: bytes, base_nonce: bytes, exporter_secret: bytes) -> None:
        self.suite = suite
        self.key = key
        self.base_nonce = base_nonce
        self.exporter_secret = exporter_secret
        self.seq = 0
        factory = suite.aead.factory
        self._cipher = factory(key) if factory is not None else None
        self._nonce_int = int.from_bytes(base_nonce, "big")
        self._nonce_len = len(base_nonce)

    def __repr__(self) -> str:
        return f"Context({self.suite!r}, seq={self.seq}, keys=***)"

    def _nonce(self) -> bytes:
        if self._cipher is None:
            raise HpkeError("export-only HPKE suite cannot seal or open")
        if self.seq >= (1 << (8 * self._nonce_len)) - 1:
            raise HpkeError("HPKE message limit reached")
        return (self._nonce_int ^ self.seq).to_bytes(self._nonce_len, "big")

    def seal(self, aad: bytes, plaintext: bytes) -> bytes:
        """ContextS.Seal(aad, pt): encrypts with the next sequence number."""
        nonce = self._nonce()
        ciphertext = self._cipher.encrypt(nonce, plaintext, aad)
        self.seq += 1
        return ciphertext

    def open(self, aad: bytes, ciphertext: bytes) -> bytes:
        """ContextR.Open(aad, ct): HpkeError when it does not authenticate (the sequence number stays)."""
        nonce = self._nonce()
        try:
            plaintext = self._cipher.decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            raise HpkeError("HPKE ciphertext failed to authenticate") from None
        self.seq += 1
        return plaintext

    def export(self, exporter_context: bytes, length: int) -> bytes:
        """Context.Export(exporter_context, L) = LabeledExpand(exporter_secret, "sec", exporter_context, L)."""
        return self.suite.kdf.labeled_expand(self.suite.suite_id, self.exporter_secret, b"sec", exporter_context, length)


class HpkeSuite:
    """A (KEM, KDF, AEAD) triple with the base-mode key schedule and single-shot APIs (RFC 9180 5, 6)."""

    __slots__ = (
        "kem",
        "kdf",
        "aead",
        "suite_id",
        "_hash_name",
        "_info_hash_prefix",
        "_ksc_prefix",
        "_secret_ikm",
        "_key_info",
        "_nonce_info",
        "_exp_info",
        "_contexts",
    )

    def __init__(self, kem_: Kem, kdf_: Kdf, aead_: Aead) -> None:
        self.kem = kem_
        self.kdf = kdf_
        self.aead = aead_
        self.suite_id = b"HPKE" + kem_.id.to_bytes(2, "big") + kdf_.id.to_bytes(2, "big") + aead_.id.to_bytes(2, "big")
        labeled = _VERSION + self.suite_id
        self._hash_name = kdf_.hash_name
        self._info_hash_prefix = labeled + b"info_hash"
        psk_id_hash = kdf_.labeled_extract(self.suite_id, b"", b"psk_id_hash", b"")
        self._ksc_prefix = bytes((MODE_BASE,)) + psk_id_hash
        # Base mode has an empty psk, so LabeledExtract(shared_secret, "secret", psk) has a constant ikm.
        self._secret_ikm = labeled + b"secret"
        self._key_info = aead_.key_len.to_bytes(2, "big") + labeled + b"key"
        self._nonce_info = aead_.nonce_len.to_bytes(2, "big") + labeled + b"base_nonce"
        self._exp_info = kdf_.hash_len.to_bytes(2, "big") + labeled + b"exp"
        self._contexts: dict[bytes, bytes] = {}

    def __repr__(self) -> str:
        return f"HpkeSuite(kem=0x{self.kem.id:04x}, kdf=0x{self.kdf.id:04x}, aead=0x{self.aead.id:04x})"

    def key_schedule_context(self, info: bytes) -> bytes:
        """mode || psk_id_hash || info_hash for base mode (cached per info: MLS reuses one info per commit)."""
        context = self._contexts.get(info)
        if context is None:
            info_hash = hmac.digest(b"", self._info_hash_prefix + info, self._hash_name)
            context = self._ksc_prefix + info_hash
            if len(self._contexts) >= _INFO_CACHE_MAX:
                self._contexts.clear()
            self._contexts[bytes(info)] = context
        return context

    def _secret(self, shared_secret: bytes, info: bytes) -> tuple[bytes, bytes]:
        return hmac.digest(shared_secret, self._secret_ikm, self._hash_name), self.key_schedule_context(info)

    def _key_and_nonce(self, secret: bytes, context: bytes) -> tuple[bytes, bytes]:
        # Nk and Nn never exceed Nh, so each LabeledExpand is a single HMAC block.
        name = self._hash_name
        key = hmac.digest(secret, self._key_info + context + b"\x01", name)[: self.aead.key_len]
        base_nonce = hmac.digest(secret, self._nonce_info + context + b"\x01", name)[: self.aead.nonce_len]
        return key, base_nonce

    def key_schedule(self, shared_secret: bytes, info: bytes) -> Context:
        """KeyScheduleS/R in base mode (RFC 9180 5.1)."""
        secret, context = self._secret(shared_secret, info)
        if self.aead.factory is None:
            key = base_nonce = b""
        else:
            key, base_nonce = self._key_and_nonce(secret, context)
        hash_len = self.kdf.hash_len
        exporter_secret = hkdf_expand(self._hash_name, hash_len, secret, self._exp_info + context, hash_len)
        return Context(self, key, base_nonce, exporter_secret)

    def setup_base_s(self, pk_r: bytes, info: bytes, ikm_e: bytes) -> tuple[bytes, Context]:
        """SetupBaseS(pkR, info) with ephemeral DeriveKeyPair(ikm_e) -> (enc, context)."""
        shared_secret, enc = self.kem.encap(pk_r, ikm_e)
        return enc, self.key_schedule(shared_secret, info)

    def setup_base_r(self, enc: bytes, sk_r: bytes, info: bytes) -> Context:
        """SetupBaseR(enc, skR, info) -> context."""
        return self.key_schedule(self.kem.decap(enc, sk_r), info)

    def seal_base(self, pk_r: bytes, info: bytes, aad: bytes, plaintext: bytes, seed: bytes) -> tuple[bytes, bytes]:
        """Single-shot SealBase with ephemeral DeriveKeyPair(seed) -> (enc, ciphertext)."""
        if self.aead.factory is None:
            raise HpkeError("export-only HPKE suite cannot seal")
        shared_secret, enc = self.kem.encap(pk_r, seed)
        key, nonce = self._key_and_nonce(*self._secret(shared_secret, info))
        return enc, self.aead.factory(key).encrypt(nonce, plaintext, aad)

    def open_base(self, sk_r: bytes, enc: bytes, info: bytes, aad: bytes, ciphertext: bytes) -> bytes:
        """Single-shot OpenBase; HpkeError for a bad enc, key or ciphertext."""
        if self.aead.factory is None:
            raise HpkeError("export-only HPKE suite cannot open")
        key, nonce = self._key_and_nonce(*self._secret(self.kem.decap(enc, sk_r), info))
        try:
            return self.aead.factory(key).decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            raise HpkeError("HPKE ciphertext failed to authenticate") from None


_KDFS = {
    0x0001: Kdf(0x0001, "sha256", 32),
    0x0002: Kdf(0x0002, "sha384", 48),
    0x0003: Kdf(0x0003, "sha512", 64),
}

_AEADS = {
    0x0001: Aead(0x0001, 16, 12, 16, AESGCM),
    0x0002: Aead(0x0002, 32, 12, 16, AESGCM),
    0x0003: Aead(0x0003, 32, 12, 16, ChaCha20Poly1305),
    0xFFFF: Aead(0xFFFF, 0, 0, 0, None),
}

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P384_ORDER = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16
)
_P521_ORDER = int(
    "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D0"
    "3BB5C9B8899C47AEBB6FB71E91386409",
    16,
)

# Group orders of the NIST curves, by ``cryptography`` curve name (SEC 2).
CURVE_ORDERS = {"secp256r1": _P256_ORDER, "secp384r1": _P384_ORDER, "secp521r1": _P521_ORDER}

_KEMS = {
    0x0010: _NistKem(0x0010, 32, 32, _KDFS[1], ec.SECP256R1(), _P256_ORDER, 0xFF),
    0x0011: _NistKem(0x0011, 48, 48, _KDFS[2], ec.SECP384R1(), _P384_ORDER, 0xFF),
    0x0012: _NistKem(0x0012, 64, 66, _KDFS[3], ec.SECP521R1(), _P521_ORDER, 0x01),
    0x0020: _MontgomeryKem(0x0020, 32, 32, _KDFS[1], x25519.X25519PrivateKey, x25519.X25519PublicKey),
    0x0021: _MontgomeryKem(0x0021, 64, 56, _KDFS[3], x448.X448PrivateKey, x448.X448PublicKey),
}

_suites: dict[tuple[int, int, int], HpkeSuite] = {}


def kdf(kdf_id: int) -> Kdf:
    """The KDF for an RFC 9180 KDF id; HpkeError if unsupported."""
    try:
        return _KDFS[kdf_id]
    except KeyError:
        raise HpkeError(f"unsupported HPKE KDF 0x{kdf_id:04x}") from None


def aead(aead_id: int) -> Aead:
    """The AEAD for an RFC 9180 AEAD id; HpkeError if unsupported."""
    try:
        return _AEADS[aead_id]
    except KeyError:
        raise HpkeError(f"unsupported HPKE AEAD 0x{aead_id:04x}") from None


def kem(kem_id: int) -> Kem:
    """The KEM for an RFC 9180 KEM id; HpkeError if unsupported."""
    try:
        return _KEMS[kem_id]
    except KeyError:
        raise HpkeError(f"unsupported HPKE KEM 0x{kem_id:04x}") from None


def hpke_suite(kem_id: int, kdf_id: int, aead_id: int) -> HpkeSuite:
    """The cached HpkeSuite for (KEM, KDF, AEAD) ids; HpkeError if any is unsupported."""
    key = (kem_id, kdf_id, aead_id)
    suite = _suites.get(key)
    if suite is None:
        suite = _suites.setdefault(key, HpkeSuite(kem(kem_id), kdf(kdf_id), aead(aead_id)))
    return suite
