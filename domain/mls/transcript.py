"""Confirmed and interim transcript hashes (RFC 9420 8.2).

The inputs come as encodings: ``ConfirmedTranscriptHashInput`` (wire_format, the commit's
FramedContent and its signature, exactly as they appear at the start of the AuthenticatedContent)
and the confirmation tag, so this module does not depend on the framing structs.
"""

from __future__ import annotations

from .cipher_suite import CipherSuite
from .codec import encode_opaque

__all__ = [
    "confirmed_transcript_hash",
    "interim_transcript_hash",
    "next_transcript_hashes",
]


def confirmed_transcript_hash(
    suite: CipherSuite, interim_transcript_hash_before: bytes, confirmed_input: bytes
) -> bytes:
    """Hash(interim_transcript_hash_[n-1] || ConfirmedTranscriptHashInput_[n])."""
    return suite.hash(interim_transcript_hash_before + confirmed_input)


def interim_transcript_hash(
    suite: CipherSuite, confirmed_transcript_hash_: bytes, confirmation_tag: bytes
) -> bytes:
    """Hash(confirmed_transcript_hash_[n] || InterimTranscriptHashInput_[n]); the input is the tag as MAC<V>."""
    return suite.hash(confirmed_transcript_hash_ + encode_opaque(confirmation_tag))


def next_transcript_hashes(
    suite: CipherSuite,
    interim_transcript_hash_before: bytes,
    confirmed_input: bytes,
    confirmation_tag: bytes,
) -> tuple[bytes, bytes]:
    """(confirmed, interim) transcript hashes after a commit, from the previous interim hash."""
    confirmed = confirmed_transcript_hash(suite, interim_transcript_hash_before, confirmed_input)
    return confirmed, interim_transcript_hash(suite, confirmed, confirmation_tag)
