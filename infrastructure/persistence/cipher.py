"""AES-256-GCM encryption of stored records at rest, from ``cryptography`` (ARCHITECTURE 3).

A record is ``0x01 || nonce (12 bytes) || ciphertext || tag (16 bytes)``. The leading format byte
and the caller's associated data (the mapper binds each record to its aggregate id, version and
topic, so records cannot be swapped between positions) are authenticated with the ciphertext.
Any failure to authenticate raises :class:`StoreDecryptionError`, never garbage and never a raw
``InvalidTag``.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Cipher

from .errors import StoreConfigurationError, StoreDecryptionError

if TYPE_CHECKING:
    from eventsourcing.utils import Environment

__all__ = ["AesGcmCipher", "KEY_SIZE", "encode_key", "decode_key"]

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
_FORMAT = b"\x01"
_FORMAT_BYTE = _FORMAT[0]
_BODY = len(_FORMAT) + NONCE_SIZE
_OVERHEAD = len(_FORMAT) + NONCE_SIZE + TAG_SIZE


def _check_key(key: object) -> bytes:
    if type(key) is not bytes or len(key) != KEY_SIZE:
        size = len(key) if isinstance(key, (bytes, bytearray)) else type(key).__name__
        raise StoreConfigurationError(f"the store encryption key must be {KEY_SIZE} bytes, got {size}")
    return key


def encode_key(key: bytes) -> str:
    """The text form of a 32-byte key for the ``CIPHER_KEY`` setting (base64)."""
    return base64.b64encode(_check_key(key)).decode("ascii")


def decode_key(text: str) -> bytes:
    """The 32-byte key held in a ``CIPHER_KEY`` setting."""
    try:
        key = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise StoreConfigurationError("CIPHER_KEY is not valid base64") from None
    return _check_key(key)


class AesGcmCipher(Cipher):
    """eventsourcing Cipher: AES-256-GCM with a random 96-bit nonce per record."""

    CIPHER_KEY = "CIPHER_KEY"

    def __init__(self, environment: Environment) -> None:
        text = environment.get(self.CIPHER_KEY)
        if not text:
            raise StoreConfigurationError(f"{self.CIPHER_KEY} is not set")
        self._aead = AESGCM(decode_key(text))

    @classmethod
    def from_key(cls, key: bytes) -> AesGcmCipher:
        """A cipher for a raw 32-byte key."""
        cipher = cls.__new__(cls)
        cipher._aead = AESGCM(_check_key(key))
        return cipher

    def __repr__(self) -> str:
        return "AesGcmCipher(key=***)"

    def encrypt(self, plaintext: bytes, associated_data: bytes = b"") -> bytes:
        nonce = os.urandom(NONCE_SIZE)
        return _FORMAT + nonce + self._aead.encrypt(nonce, plaintext, _FORMAT + associated_data)

    def decrypt(self, ciphertext: bytes, associated_data: bytes = b"") -> bytes:
        if len(ciphertext) < _OVERHEAD:
            raise StoreDecryptionError("stored record is too short to be an encrypted record")
        if ciphertext[0] != _FORMAT_BYTE:
            raise StoreDecryptionError(f"unknown encrypted record format 0x{ciphertext[0]:02x}")
        try:
            return self._aead.decrypt(ciphertext[1:_BODY], ciphertext[_BODY:], _FORMAT + associated_data)
        except InvalidTag:
            raise StoreDecryptionError(
                "stored record failed authentication: wrong encryption key or tampered record"
            ) from None
