"""Transcript hashes (RFC 9420 8.2) against transcript-hashes.json, plus the group-creation case.

transcript-hashes.json: each entry has a cipher suite, a ``confirmation_key``, an encoded commit
``authenticated_content``, the ``interim_transcript_hash_before`` and the expected
``confirmed_transcript_hash_after`` and ``interim_transcript_hash_after``. The checker decodes the
AuthenticatedContent, hashes its ConfirmedTranscriptHashInput (wire format, content, signature)
after the previous interim hash, then the confirmation tag after the new confirmed hash, and
verifies the confirmation tag is the MAC of the new confirmed hash under the confirmation key.
"""

from __future__ import annotations

import hashlib

import pytest

from mlsgroup.domain.mls.cipher_suite import cipher_suite
from mlsgroup.domain.mls.errors import ConfirmationTagError
from mlsgroup.domain.mls.key_schedule import confirmation_tag, verify_confirmation_tag
from mlsgroup.domain.mls.transcript import (
    confirmed_transcript_hash,
    interim_transcript_hash,
    next_transcript_hashes,
)
from mlsgroup.infrastructure.conformance import transcript_hashes as conformance
from tests.vectors import load_vectors, suite_ids

VECTORS = load_vectors(conformance.FILE)


@pytest.mark.parametrize("entry", VECTORS, ids=suite_ids(VECTORS))
def test_vector(entry):
    conformance.check(entry)


@pytest.mark.parametrize("entry", VECTORS[:1], ids=["cs1"])
def test_tampered_tag_is_rejected(entry):
    suite = cipher_suite(entry["cipher_suite"])
    key = bytes.fromhex(entry["confirmation_key"])
    confirmed = bytes.fromhex(entry["confirmed_transcript_hash_after"])
    tag = bytearray(confirmation_tag(suite, key, confirmed))
    tag[-1] ^= 1
    with pytest.raises(ConfirmationTagError):
        verify_confirmation_tag(suite, key, confirmed, bytes(tag))


def test_group_creation_interim_hash_covers_the_tag_as_mac_vector():
    suite = cipher_suite(1)
    key = b"\x11" * 32
    tag = confirmation_tag(suite, key, b"")
    interim = interim_transcript_hash(suite, b"", tag)
    assert interim == hashlib.sha256(b"\x20" + tag).digest()


@pytest.mark.parametrize("suite_id", [1, 5, 7])
def test_hashes_chain_with_the_suite_hash(suite_id):
    suite = cipher_suite(suite_id)
    before, confirmed_input, tag = b"\x01" * suite.hash_len, b"commit bytes", b"\x02" * suite.hash_len
    confirmed, interim = next_transcript_hashes(suite, before, confirmed_input, tag)
    assert confirmed == confirmed_transcript_hash(suite, before, confirmed_input) == suite.hash(before + confirmed_input)
    assert interim == interim_transcript_hash(suite, confirmed, tag)
    assert len(confirmed) == len(interim) == suite.hash_len
