"""Errors of the MLS core (RFC 9420): one type per failure, local misuse kept apart from remote bad data."""

from __future__ import annotations

__all__ = [
    "MlsError",
    "DecodeError",
    "CryptoError",
    "AeadError",
    "SignatureError",
    "HpkeError",
    "UnsupportedCipherSuite",
    "SecretTreeError",
    "KeyScheduleError",
    "FramingError",
    "MembershipTagError",
    "ConfirmationTagError",
    "ProtocolError",
    "LibraryError",
]


class MlsError(Exception):
    """Base of every error raised by the MLS core."""


class DecodeError(MlsError, ValueError):
    """Bytes are not a valid encoding of the expected wire structure."""


class CryptoError(MlsError):
    """A cryptographic operation failed on the data it was given."""


class AeadError(CryptoError):
    """An AEAD ciphertext failed to authenticate (wrong key, nonce, AAD, or tampered bytes)."""


class SignatureError(CryptoError):
    """A signature did not verify under the given public key and label."""


class HpkeError(CryptoError):
    """An HPKE operation failed (invalid public key, failed decapsulation, or failed open)."""


class UnsupportedCipherSuite(MlsError, ValueError):
    """The cipher suite identifier is not one this implementation supports."""


class SecretTreeError(MlsError):
    """A secret-tree key was requested that is unavailable (consumed, too far ahead, or out of range)."""


class KeyScheduleError(MlsError):
    """The key schedule was given inputs it cannot use (wrong lengths or inconsistent PSKs)."""


class FramingError(MlsError):
    """A framed message is inconsistent with the group state (wrong group, epoch, sender, or content type)."""


class MembershipTagError(FramingError):
    """A PublicMessage membership tag did not verify."""


class ConfirmationTagError(FramingError):
    """A commit's confirmation tag did not match the derived confirmation key and transcript."""


class ProtocolError(MlsError):
    """A remote party sent a message that violates RFC 9420."""


class LibraryError(MlsError):
    """A genuine bug in this library: an internal invariant did not hold."""
