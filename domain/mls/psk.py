"""Pre-shared keys: PreSharedKeyID and PSKLabel encodings and the psk_secret chain (RFC 9420 8.4).

PSK identifiers travel here as their wire encoding (``PreSharedKeyID``) so that this module does not
depend on the message structs; ``external_psk_id`` and ``resumption_psk_id`` build that encoding.
"""

from __future__ import annotations

import enum
from typing import Iterable

from .cipher_suite import CipherSuite
from .codec import encode_opaque
from .errors import KeyScheduleError

__all__ = [
    "PskType",
    "ResumptionPskUsage",
    "external_psk_id",
    "resumption_psk_id",
    "psk_label",
    "psk_secret",
]


class PskType(enum.IntEnum):
    """PSKType: who provisioned the PSK."""

    EXTERNAL = 1
    RESUMPTION = 2


class ResumptionPskUsage(enum.IntEnum):
    """ResumptionPSKUsage: why a resumption PSK is injected."""

    APPLICATION = 1
    REINIT = 2
    BRANCH = 3


def external_psk_id(psk_id: bytes, psk_nonce: bytes) -> bytes:
    """The encoded PreSharedKeyID of an external PSK."""
    return bytes((PskType.EXTERNAL,)) + encode_opaque(psk_id) + encode_opaque(psk_nonce)


def resumption_psk_id(usage: int, psk_group_id: bytes, psk_epoch: int, psk_nonce: bytes) -> bytes:
    """The encoded PreSharedKeyID of a resumption PSK from ``psk_group_id`` at ``psk_epoch``."""
    if not 0 <= psk_epoch < 1 << 64:
        raise ValueError(f"psk_epoch {psk_epoch} does not fit uint64")
    return (
        bytes((PskType.RESUMPTION, int(ResumptionPskUsage(usage))))
        + encode_opaque(psk_group_id)
        + psk_epoch.to_bytes(8, "big")
        + encode_opaque(psk_nonce)
    )


def psk_label(encoded_psk_id: bytes, index: int, count: int) -> bytes:
    """The encoded PSKLabel: the PreSharedKeyID followed by uint16 index and uint16 count."""
    if not 0 <= index < count <= 0xFFFF:
        raise KeyScheduleError(f"PSK index {index} of {count} does not fit PSKLabel")
    return encoded_psk_id + index.to_bytes(2, "big") + count.to_bytes(2, "big")


def psk_secret(suite: CipherSuite, psks: Iterable[tuple[bytes, bytes]]) -> bytes:
    """The psk_secret for ``psks``, an ordered list of (encoded PreSharedKeyID, PSK value).

    Each PSK's index and the count come from its position in the list, as the RFC defines them;
    no PSKs give the all-zero secret.
    """
    psks = list(psks)
    zero = bytes(suite.hash_len)
    secret = zero
    count = len(psks)
    for index, (encoded_id, value) in enumerate(psks):
        extracted = suite.extract(zero, value)
        psk_input = suite.expand_with_label(
            extracted, b"derived psk", psk_label(encoded_id, index, count), suite.hash_len
        )
        secret = suite.extract(psk_input, secret)
    return secret
