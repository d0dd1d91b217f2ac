"""Checks transcript-hashes.json: the commit's confirmation tag and both transcript hashes after it."""

from __future__ import annotations

from typing import Any

from mlsgroup.domain.mls.cipher_suite import cipher_suite
from mlsgroup.domain.mls.errors import ConfirmationTagError
from mlsgroup.domain.mls.framing import AuthenticatedContent
from mlsgroup.domain.mls.key_schedule import verify_confirmation_tag
from mlsgroup.domain.mls.transcript import next_transcript_hashes

from . import VectorMismatch, expect_equal

__all__ = ["FILE", "check"]

FILE = "transcript-hashes.json"

_COMMIT = 3


def check(entry: dict[str, Any]) -> None:
    suite = cipher_suite(entry["cipher_suite"])
    content = AuthenticatedContent.decode(bytes.fromhex(entry["authenticated_content"]))
    if content.content.content_type != _COMMIT:
        raise VectorMismatch(f"authenticated_content holds content type {content.content.content_type}, not a commit")
    tag = content.auth.confirmation_tag
    confirmed, interim = next_transcript_hashes(
        suite,
        bytes.fromhex(entry["interim_transcript_hash_before"]),
        content.confirmed_transcript_hash_input(),
        tag,
    )
    expect_equal("confirmed_transcript_hash_after", confirmed, bytes.fromhex(entry["confirmed_transcript_hash_after"]))
    expect_equal("interim_transcript_hash_after", interim, bytes.fromhex(entry["interim_transcript_hash_after"]))
    try:
        verify_confirmation_tag(suite, bytes.fromhex(entry["confirmation_key"]), confirmed, tag)
    except ConfirmationTagError as exc:
        raise VectorMismatch(f"confirmation_tag: {exc}") from exc
