"""Checks message-protection.json: unprotecting the given PublicMessages and PrivateMessages, and
protecting the same proposal, commit and application data ourselves and reading it back.

Per entry: a GroupContext built from the entry's fields (no extensions), a two-leaf secret tree per
direction from ``encryption_secret``, sender leaf 1. For each of proposal and commit, ``*_pub``
must unprotect (membership tag and signature) to the raw value; for all three, ``*_priv`` must
decrypt and verify to it. Then the value is signed, protected as a PublicMessage (which must fail
for application data) and as a PrivateMessage, sent through the MLSMessage encoding, and read
back to the identical AuthenticatedContent.
"""

from __future__ import annotations

from typing import Any

from mlsgroup.domain.mls.cipher_suite import CipherSuite, cipher_suite
from mlsgroup.domain.mls.commits import Commit
from mlsgroup.domain.mls.enums import WireFormat
from mlsgroup.domain.mls.framing import FramedContent, PrivateMessage, PublicMessage, SenderMember
from mlsgroup.domain.mls.group_context import GroupContext
from mlsgroup.domain.mls.message_protection import (
    WireFormatNotAllowed,
    protect_public,
    sign_content,
    unprotect_public,
)
from mlsgroup.domain.mls.messages import MLSMessage
from mlsgroup.domain.mls.private_message_protection import protect_private, unprotect_private
from mlsgroup.domain.mls.proposals import PROPOSAL
from mlsgroup.domain.mls.secret_tree import SecretTree

from . import VectorMismatch, expect_equal

__all__ = ["FILE", "check"]

FILE = "message-protection.json"

_SENDER_LEAF = 1
_REUSE_GUARD = b"\x5a\x00\xa5\xff"


def _body(entry: dict[str, Any], field: str, kind: type) -> Any:
    body = MLSMessage.decode(bytes.fromhex(entry[field])).body
    if type(body) is not kind:
        raise VectorMismatch(f"{field}: expected a {kind.__name__}, got {type(body).__name__}")
    return body


def _through_wire(body: Any) -> Any:
    return MLSMessage.decode(MLSMessage.wrap(body).encode()).body


def check(entry: dict[str, Any]) -> None:
    suite: CipherSuite = cipher_suite(entry["cipher_suite"])
    group_id = bytes.fromhex(entry["group_id"])
    epoch = entry["epoch"]
    context = GroupContext(
        1,
        suite.id,
        group_id,
        epoch,
        bytes.fromhex(entry["tree_hash"]),
        bytes.fromhex(entry["confirmed_transcript_hash"]),
        (),
    ).encode()
    signature_priv = bytes.fromhex(entry["signature_priv"])
    signature_pub = bytes.fromhex(entry["signature_pub"])
    encryption_secret = bytes.fromhex(entry["encryption_secret"])
    sender_data_secret = bytes.fromhex(entry["sender_data_secret"])
    membership_key = bytes.fromhex(entry["membership_key"])

    def key_of(framed: FramedContent) -> bytes:
        if framed.sender != SenderMember(_SENDER_LEAF):
            raise VectorMismatch(f"unexpected sender {framed.sender!r}")
        return signature_pub

    def fresh_tree() -> SecretTree:
        return SecretTree.create(suite, encryption_secret, 2)

    raw = {
        "proposal": PROPOSAL.decode(bytes.fromhex(entry["proposal"])),
        "commit": Commit.decode(bytes.fromhex(entry["commit"])),
        "application": bytes.fromhex(entry["application"]),
    }
    for name, value in raw.items():
        # Theirs, public: the membership tag and signature verify and carry the raw value.
        confirmation_tag = None
        if name != "application":
            public = _body(entry, f"{name}_pub", PublicMessage)
            received = unprotect_public(suite, public, membership_key, context, key_of)
            expect_equal(f"{name}_pub content", received.content.content, value)
            confirmation_tag = received.auth.confirmation_tag

        # Theirs, private.
        private = _body(entry, f"{name}_priv", PrivateMessage)
        decrypted, _ = unprotect_private(suite, private, fresh_tree(), sender_data_secret, context, key_of)
        expect_equal(f"{name}_priv content", decrypted.authenticated_content.content.content, value)
        expect_equal(f"{name}_priv sender", decrypted.leaf_index, _SENDER_LEAF)
        if name == "commit":
            confirmation_tag = decrypted.authenticated_content.auth.confirmation_tag

        # Ours, public: it verifies with the same keys; application data must be refused.
        framed = FramedContent(group_id, epoch, SenderMember(_SENDER_LEAF), b"", value)
        if name == "application":
            try:
                sign_content(suite, signature_priv, framed, WireFormat.PUBLIC_MESSAGE, context)
            except WireFormatNotAllowed:
                pass
            else:
                raise VectorMismatch("application data was accepted for a PublicMessage")
        else:
            signed = sign_content(
                suite, signature_priv, framed, WireFormat.PUBLIC_MESSAGE, context, confirmation_tag
            )
            ours = _through_wire(protect_public(suite, signed, membership_key, context))
            back = unprotect_public(suite, ours, membership_key, context, key_of)
            expect_equal(f"{name} ours public round trip", back, signed)

        # Ours, private: sender and receiver each hold their own tree.
        signed = sign_content(suite, signature_priv, framed, WireFormat.PRIVATE_MESSAGE, context, confirmation_tag)
        ours_private, _ = protect_private(suite, signed, fresh_tree(), sender_data_secret, _REUSE_GUARD)
        back_private, _ = unprotect_private(
            suite, _through_wire(ours_private), fresh_tree(), sender_data_secret, context, key_of
        )
        expect_equal(f"{name} ours private round trip", back_private.authenticated_content, signed)
