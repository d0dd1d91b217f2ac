"""Deterministic randomness for the group state machine: every random value is HKDF-expanded from a seed.

RFC 9420 needs fresh randomness for leaf and path secrets, HPKE ephemerals, PSK nonces and reuse
guards. The pure core draws none: each operation takes a ``seed`` and expands it with
``ExpandWithLabel(seed, "mlsgroup " + label, context, length)``, a distinct label per use, so
replaying the same inputs reproduces every output byte for byte.
"""

from __future__ import annotations

from ..cipher_suite import CipherSuite
from .errors import InvalidSeed

__all__ = ["MIN_SEED_LEN", "check_seed", "expand_seed"]

MIN_SEED_LEN = 32


def check_seed(seed: bytes) -> bytes:
    """``seed`` as bytes; InvalidSeed unless it holds at least MIN_SEED_LEN bytes."""
    if not isinstance(seed, (bytes, bytearray)) or len(seed) < MIN_SEED_LEN:
        raise InvalidSeed(f"a seed needs at least {MIN_SEED_LEN} bytes")
    return bytes(seed)


def expand_seed(suite: CipherSuite, seed: bytes, label: bytes, length: int, context: bytes = b"") -> bytes:
    """``length`` pseudo-random bytes for the use named by ``label`` (and ``context``)."""
    return suite.expand_with_label(seed, b"mlsgroup " + label, context, length)
