"""MLS cipher suites 1-7 and the labeled crypto helpers built on them (RFC 9420 sections 5 and 17.1).

``cipher_suite(n)`` returns one cached ``CipherSuite`` per id. Labels are given WITHOUT the
"MLS 1.0 " prefix, as in the RFC's pseudo-code; the helpers add it. ``ref_hash`` is the exception:
RFC 9420 5.2 hashes its label verbatim, so ``make_key_package_ref`` / ``make_proposal_ref`` pass the
full "MLS 1.0 ... Reference" labels.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.exceptions import InvalidTag

from . import hpke as _hpke
from .codec import encode_varint
from .errors import AeadError, UnsupportedCipherSuite
from .signatures import SignatureScheme, signature_scheme

__all__ = ["CipherSuite", "cipher_suite", "SUPPORTED_SUITES", "MLS_PREFIX"]

MLS_PREFIX = b"MLS 1.0 "

_LABEL_CACHE_MAX = 512
_AEAD_CACHE_MAX = 1024

_KEY_PACKAGE_REF = b"MLS 1.0 KeyPackage Reference"
_PROPOSAL_REF = b"MLS 1.0 Proposal Reference"


def _as_bytes(label: bytes | str) -> bytes:
    return label.encode() if isinstance(label, str) else label


class CipherSuite:
    """One MLS cipher suite: hash, KDF, AEAD, HPKE suite and signature scheme, with the RFC 9420 helpers."""

    __slots__ = (
        "id",
        "name",
        "hash_len",
        "aead_key_len",
        "aead_nonce_len",
        "hpke",
        "signature_scheme",
        "_hash_name",
        "_hash_ctor",
        "_aead_factory",
        "_aeads",
        "_labels",
        "_encrypt_labels",
    )

    def __init__(self, suite_id: int, name: str, hpke_suite: _hpke.HpkeSuite, scheme: SignatureScheme) -> None:
        self.id = suite_id
        self.name = name
        self.hpke = hpke_suite
        self.signature_scheme = scheme
        kdf, aead = hpke_suite.kdf, hpke_suite.aead
        self.hash_len = kdf.hash_len
        self.aead_key_len = aead.key_len
        self.aead_nonce_len = aead.nonce_len
        self._hash_name = kdf.hash_name
        self._hash_ctor = getattr(hashlib, kdf.hash_name)
        self._aead_factory = aead.factory
        self._aeads: dict[bytes, object] = {}
        # ExpandWithLabel info prefixes, keyed by (label, length): uint16 length || opaque label<V>.
        self._labels: dict[tuple[bytes | str, int], bytes] = {}
        self._encrypt_labels: dict[bytes | str, bytes] = {}

    def __repr__(self) -> str:
        return f"cipher_suite({self.id})"

    # -- hash and KDF (RFC 9420 5.1, 5.2) ------------------------------------------------------

    def hash(self, data: bytes) -> bytes:
        """Hash(data) with the suite's hash function."""
        return self._hash_ctor(data).digest()

    def mac(self, key: bytes, data: bytes) -> bytes:
        """MAC(key, data) = HMAC with the suite's hash (RFC 9420 5.2)."""
        return hmac.digest(key, data, self._hash_name)

    def extract(self, salt: bytes, ikm: bytes) -> bytes:
        """HKDF-Extract(salt, ikm)."""
        # HMAC zero-pads its key, so an empty salt already equals the RFC 5869 default of Nh zeros.
        return hmac.digest(salt, ikm, self._hash_name)

    def expand(self, prk: bytes, info: bytes, length: int) -> bytes:
        """HKDF-Expand(prk, info, length)."""
        if length <= self.hash_len:
            return hmac.digest(prk, info + b"\x01", self._hash_name)[:length]
        return _hpke.hkdf_expand(self._hash_name, self.hash_len, prk, info, length)

    def _label_prefix(self, label: bytes | str, length: int) -> bytes:
        key = (label, length)
        prefix = self._labels.get(key)
        if prefix is None:
            if len(self._labels) >= _LABEL_CACHE_MAX:
                self._labels.clear()
            full = MLS_PREFIX + _as_bytes(label)
            prefix = length.to_bytes(2, "big") + encode_varint(len(full)) + full
            self._labels[key] = prefix
        return prefix

    def expand_with_label(self, secret: bytes, label: bytes | str, context: bytes, length: int) -> bytes:
        """ExpandWithLabel(Secret, Label, Context, Length) over KDFLabel (RFC 9420 5.1)."""
        info = self._label_prefix(label, length) + encode_varint(len(context)) + context
        if length <= self.hash_len:
            return hmac.digest(secret, info + b"\x01", self._hash_name)[:length]
        return _hpke.hkdf_expand(self._hash_name, self.hash_len, secret, info, length)

    def derive_secret(self, secret: bytes, label: bytes | str) -> bytes:
        """DeriveSecret(Secret, Label) = ExpandWithLabel(Secret, Label, "", Nh)."""
        info = self._label_prefix(label, self.hash_len) + b"\x00\x01"
        return hmac.digest(secret, info, self._hash_name)

    def derive_tree_secret(self, secret: bytes, label: bytes | str, generation: int, length: int) -> bytes:
        """DeriveTreeSecret(Secret, Label, Generation, Length): context is uint32 generation (RFC 9420 9)."""
        info = self._label_prefix(label, length) + b"\x04" + generation.to_bytes(4, "big")
        if length <= self.hash_len:
            return hmac.digest(secret, info + b"\x01", self._hash_name)[:length]
        return _hpke.hkdf_expand(self._hash_name, self.hash_len, secret, info, length)

    # -- AEAD (RFC 9420 5.1) -------------------------------------------------------------------

    def _new_aead(self, key: bytes):
        if len(self._aeads) >= _AEAD_CACHE_MAX:
            self._aeads.clear()
        cipher = self._aeads[bytes(key)] = self._aead_factory(key)
        return cipher

    def aead_seal(self, key: bytes, nonce: bytes, aad: bytes, plaintext: bytes) -> bytes:
        """AEAD.Seal(key, nonce, aad, plaintext): ciphertext || tag."""
        cipher = self._aeads.get(key) or self._new_aead(key)
        return cipher.encrypt(nonce, plaintext, aad)

    def aead_open(self, key: bytes, nonce: bytes, aad: bytes, ciphertext: bytes) -> bytes:
        """AEAD.Open(key, nonce, aad, ciphertext); AeadError when it does not authenticate."""
        cipher = self._aeads.get(key) or self._new_aead(key)
        try:
            return cipher.decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            raise AeadError("AEAD ciphertext failed to authenticate") from None

    # -- references (RFC 9420 5.2) -------------------------------------------------------------

    def ref_hash(self, label: bytes | str, value: bytes) -> bytes:
        """RefHash(label, value) = Hash(RefHashInput{label<V>, value<V>}); the label is used verbatim."""
        label = _as_bytes(label)
        return self._hash_ctor(
            encode_varint(len(label)) + label + encode_varint(len(value)) + value
        ).digest()

    def make_key_package_ref(self, key_package: bytes) -> bytes:
        """KeyPackageRef of an encoded KeyPackage."""
        return self.ref_hash(_KEY_PACKAGE_REF, key_package)

    def make_proposal_ref(self, authenticated_content: bytes) -> bytes:
        """ProposalRef of an encoded AuthenticatedContent carrying a proposal."""
        return self.ref_hash(_PROPOSAL_REF, authenticated_content)

    # -- signatures (RFC 9420 5.1.2) -----------------------------------------------------------

    def _sign_content(self, label: bytes | str, content: bytes) -> bytes:
        full = MLS_PREFIX + _as_bytes(label)
        return encode_varint(len(full)) + full + encode_varint(len(content)) + content

    def sign_with_label(self, private_key: bytes, label: bytes | str, content: bytes) -> bytes:
        """SignWithLabel(SignatureKey, Label, Content) over SignContent."""
        return self.signature_scheme.sign(private_key, self._sign_content(label, content))

    def verify_with_label(self, public_key: bytes, label: bytes | str, content: bytes, signature: bytes) -> None:
        """VerifyWithLabel; raises SignatureError when the signature does not verify."""
        self.signature_scheme.verify(public_key, self._sign_content(label, content), signature)

    def signature_key_pair(self, seed: bytes) -> tuple[bytes, bytes]:
        """A signature key pair (private, public) derived deterministically from a seed of >= 32 bytes."""
        if len(seed) < 32:
            raise ValueError("signature key seed must have at least 32 bytes")
        scheme = self.signature_scheme
        okm = self.expand_with_label(self.extract(b"", seed), b"signature key", b"", scheme.okm_len)
        private_key = scheme.private_from_okm(okm)
        return private_key, scheme.public_from_private(private_key)

    def signature_public_from_private(self, private_key: bytes) -> bytes:
        """The encoded public key of an encoded signature private key."""
        return self.signature_scheme.public_from_private(private_key)

    # -- HPKE (RFC 9420 5.1.3) -----------------------------------------------------------------

    def hpke_key_pair(self, ikm: bytes) -> tuple[bytes, bytes]:
        """HPKE DeriveKeyPair(ikm) -> (private, public), both serialized."""
        return self.hpke.kem.derive_key_pair(ikm)

    def hpke_public_from_private(self, private_key: bytes) -> bytes:
        """The serialized HPKE public key of a serialized HPKE private key."""
        return self.hpke.kem.public_from_private(private_key)

    def _encrypt_context(self, label: bytes | str, context: bytes) -> bytes:
        prefix = self._encrypt_labels.get(label)
        if prefix is None:
            if len(self._encrypt_labels) >= _LABEL_CACHE_MAX:
                self._encrypt_labels.clear()
            full = MLS_PREFIX + _as_bytes(label)
            prefix = self._encrypt_labels[label] = encode_varint(len(full)) + full
        return prefix + encode_varint(len(context)) + context

    def encrypt_with_label(
        self, public_key: bytes, label: bytes | str, context: bytes, plaintext: bytes, seed: bytes
    ) -> tuple[bytes, bytes]:
        """EncryptWithLabel -> (kem_output, ciphertext); the HPKE ephemeral key is DeriveKeyPair(seed)."""
        return self.hpke.seal_base(public_key, self._encrypt_context(label, context), b"", plaintext, seed)

    def decrypt_with_label(
        self, private_key: bytes, label: bytes | str, context: bytes, kem_output: bytes, ciphertext: bytes
    ) -> bytes:
        """DecryptWithLabel; HpkeError when decapsulation or decryption fails."""
        return self.hpke.open_base(private_key, kem_output, self._encrypt_context(label, context), b"", ciphertext)


# (id, name, KEM, KDF, AEAD, signature scheme) from RFC 9420 17.1.
_SUITES = {
    1: ("MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519", 0x0020, 0x0001, 0x0001, 0x0807),
    2: ("MLS_128_DHKEMP256_AES128GCM_SHA256_P256", 0x0010, 0x0001, 0x0001, 0x0403),
    3: ("MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519", 0x0020, 0x0001, 0x0003, 0x0807),
    4: ("MLS_256_DHKEMX448_AES256GCM_SHA512_Ed448", 0x0021, 0x0003, 0x0002, 0x0808),
    5: ("MLS_256_DHKEMP521_AES256GCM_SHA512_P521", 0x0012, 0x0003, 0x0002, 0x0603),
    6: ("MLS_256_DHKEMX448_CHACHA20POLY1305_SHA512_Ed448", 0x0021, 0x0003, 0x0003, 0x0808),
    7: ("MLS_256_DHKEMP384_AES256GCM_SHA384_P384", 0x0011, 0x0002, 0x0002, 0x0503),
}

SUPPORTED_SUITES: tuple[int, ...] = tuple(_SUITES)

_instances: dict[int, CipherSuite] = {}


def cipher_suite(suite_id: int) -> CipherSuite:
    """The CipherSuite for an RFC 9420 cipher suite id; UnsupportedCipherSuite for any other id."""
    suite = _instances.get(suite_id)
    if suite is None:
        spec = _SUITES.get(suite_id)
        if spec is None:
            raise UnsupportedCipherSuite(f"unsupported MLS cipher suite {suite_id!r}")
        name, kem_id, kdf_id, aead_id, scheme_id = spec
        suite = CipherSuite(suite_id, name, _hpke.hpke_suite(kem_id, kdf_id, aead_id), signature_scheme(scheme_id))
        suite = _instances.setdefault(suite_id, suite)
    return suite
