"""Signature schemes of the MLS cipher suites (RFC 9420 5.1.2, 17.1): Ed25519, Ed448, ECDSA P-256/384/521.

Key encodings follow the MLS test-vector conventions: EdDSA keys are raw bytes; an ECDSA private key
is its big-endian scalar and a public key the uncompressed SEC1 point; ECDSA signatures are DER.
ECDSA signing is deterministic (RFC 6979) so that replaying events reproduces signatures byte for byte.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .errors import CryptoError, SignatureError
from .hpke import CURVE_ORDERS

__all__ = ["SignatureScheme", "signature_scheme", "ED25519", "ED448", "ECDSA_P256", "ECDSA_P384", "ECDSA_P521"]

_KEY_CACHE_MAX = 256

ED25519 = 0x0807
ED448 = 0x0808
ECDSA_P256 = 0x0403
ECDSA_P384 = 0x0503
ECDSA_P521 = 0x0603


class SignatureScheme:
    """A TLS SignatureScheme as MLS uses it, with bounded caches of loaded key objects."""

    __slots__ = ("id", "name", "okm_len", "_privates", "_publics")

    def __init__(self, scheme_id: int, name: str, okm_len: int) -> None:
        self.id = scheme_id
        self.name = name
        # Bytes of uniform key material private_from_okm needs for a key pair derived from a seed.
        self.okm_len = okm_len
        self._privates: dict[bytes, object] = {}
        self._publics: dict[bytes, object] = {}

    def __repr__(self) -> str:
        return f"SignatureScheme({self.name})"

    def _load_private(self, private_key: bytes) -> object:
        raise NotImplementedError

    def _load_public(self, public_key: bytes) -> object:
        raise NotImplementedError

    def _sign(self, key: object, message: bytes) -> bytes:
        raise NotImplementedError

    def _verify(self, key: object, message: bytes, signature: bytes) -> None:
        raise NotImplementedError

    def _encode_public(self, key: object) -> bytes:
        raise NotImplementedError

    def private_from_okm(self, okm: bytes) -> bytes:
        """The encoded private key made from ``okm_len`` uniform bytes."""
        raise NotImplementedError

    def _private(self, private_key: bytes) -> object:
        key = self._privates.get(private_key)
        if key is None:
            try:
                key = self._load_private(private_key)
            except ValueError:
                raise CryptoError(f"invalid {self.name} private key") from None
            if len(self._privates) >= _KEY_CACHE_MAX:
                self._privates.clear()
            self._privates[bytes(private_key)] = key
        return key

    def _public(self, public_key: bytes) -> object:
        key = self._publics.get(public_key)
        if key is None:
            try:
                key = self._load_public(public_key)
            except ValueError:
                raise SignatureError(f"invalid {self.name} public key") from None
            if len(self._publics) >= _KEY_CACHE_MAX:
                self._publics.clear()
            self._publics[bytes(public_key)] = key
        return key

    def sign(self, private_key: bytes, message: bytes) -> bytes:
        """Signature over ``message``; CryptoError if the private key is malformed."""
        return self._sign(self._private(private_key), message)

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> None:
        """Returns if ``signature`` is valid for ``message``; SignatureError otherwise (also for a bad key)."""
        key = self._public(public_key)
        try:
            self._verify(key, message, signature)
        except (InvalidSignature, ValueError):
            raise SignatureError(f"{self.name} signature did not verify") from None

    def public_from_private(self, private_key: bytes) -> bytes:
        """The encoded public key for an encoded private key."""
        return self._encode_public(self._private(private_key).public_key())


class _EdDsa(SignatureScheme):
    __slots__ = ("_private_cls", "_public_cls", "_key_len")

    def __init__(self, scheme_id: int, name: str, key_len: int, private_cls, public_cls) -> None:
        super().__init__(scheme_id, name, key_len)
        self._key_len = key_len
        self._private_cls = private_cls
        self._public_cls = public_cls

    def _load_private(self, private_key: bytes) -> object:
        return self._private_cls.from_private_bytes(private_key)

    def _load_public(self, public_key: bytes) -> object:
        return self._public_cls.from_public_bytes(public_key)

    def _sign(self, key, message: bytes) -> bytes:
        return key.sign(message)

    def _verify(self, key, message: bytes, signature: bytes) -> None:
        key.verify(signature, message)

    def _encode_public(self, key) -> bytes:
        return key.public_bytes_raw()

    def private_from_okm(self, okm: bytes) -> bytes:
        return bytes(okm[: self._key_len])


class _Ecdsa(SignatureScheme):
    __slots__ = ("_curve", "_algorithm", "_order", "_scalar_len", "_point_len")

    def __init__(self, scheme_id: int, name: str, curve: ec.EllipticCurve, hash_algorithm) -> None:
        scalar_len = (curve.key_size + 7) // 8
        # 16 extra bytes make the reduction modulo the order statistically uniform.
        super().__init__(scheme_id, name, scalar_len + 16)
        self._curve = curve
        self._algorithm = ec.ECDSA(hash_algorithm, deterministic_signing=True)
        self._order = CURVE_ORDERS[curve.name]
        self._scalar_len = scalar_len
        self._point_len = 1 + 2 * scalar_len

    def _load_private(self, private_key: bytes) -> object:
        if not 0 < len(private_key) <= self._scalar_len:
            raise ValueError("bad scalar length")
        scalar = int.from_bytes(private_key, "big")
        if not 0 < scalar < self._order:
            raise ValueError("scalar out of range")
        return ec.derive_private_key(scalar, self._curve)

    def _load_public(self, public_key: bytes) -> object:
        if len(public_key) != self._point_len or public_key[0] != 0x04:
            raise ValueError("not an uncompressed point")
        return ec.EllipticCurvePublicKey.from_encoded_point(self._curve, public_key)

    def _sign(self, key, message: bytes) -> bytes:
        return key.sign(message, self._algorithm)

    def _verify(self, key, message: bytes, signature: bytes) -> None:
        key.verify(signature, message, self._algorithm)

    def _encode_public(self, key) -> bytes:
        return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)

    def private_from_okm(self, okm: bytes) -> bytes:
        scalar = int.from_bytes(okm, "big") % (self._order - 1) + 1
        return scalar.to_bytes(self._scalar_len, "big")


_SCHEMES = {
    ED25519: _EdDsa(ED25519, "ed25519", 32, ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey),
    ED448: _EdDsa(ED448, "ed448", 57, ed448.Ed448PrivateKey, ed448.Ed448PublicKey),
    ECDSA_P256: _Ecdsa(ECDSA_P256, "ecdsa_secp256r1_sha256", ec.SECP256R1(), hashes.SHA256()),
    ECDSA_P384: _Ecdsa(ECDSA_P384, "ecdsa_secp384r1_sha384", ec.SECP384R1(), hashes.SHA384()),
    ECDSA_P521: _Ecdsa(ECDSA_P521, "ecdsa_secp521r1_sha512", ec.SECP521R1(), hashes.SHA512()),
}


def signature_scheme(scheme_id: int) -> SignatureScheme:
    """The SignatureScheme for a TLS SignatureScheme id used by MLS suites 1-7; CryptoError otherwise."""
    try:
        return _SCHEMES[scheme_id]
    except KeyError:
        raise CryptoError(f"unsupported signature scheme 0x{scheme_id:04x}") from None
