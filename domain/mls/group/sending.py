"""Framing, signing and protecting the messages a member sends (RFC 9420 6, 6.1-6.3).

``frame`` builds our FramedContent for the current epoch and signs it (6.1);
``protect`` turns signed content into an encoded MLSMessage: a PublicMessage with its membership
tag, or a PrivateMessage encrypted with the next key of our ratchet, whose reuse guard is expanded
from the caller's seed. Both only read the state; ``protect`` returns the secret tree without the
used key.
"""

from __future__ import annotations

from typing import Union

from ..codec import encode_opaque
from ..enums import WireFormat
from ..framing import (
    AuthenticatedContent,
    Content,
    FramedContent,
    FramedContentAuthData,
    SenderMember,
    framed_content_tbs,
)
from ..message_protection import FRAMED_CONTENT_TBS, check_content_rules, protect_public
from ..messages import MLSMessage
from ..private_message_protection import protect_private
from ..secret_tree import SecretTree
from .errors import GroupUsageError
from .seeds import expand_seed
from .state import GroupState

__all__ = [
    "WireFormatName",
    "wire_format_of",
    "frame",
    "sign_framed",
    "sign_encoded",
    "public_commit_message",
    "authenticated",
    "protect",
]

WireFormatName = Union[str, int]

# MLSMessage header: ProtocolVersion mls10, WireFormat mls_public_message.
_PUBLIC_MESSAGE_HEAD = b"\x00\x01\x00\x01"

_NAMES = {
    "public": WireFormat.PUBLIC_MESSAGE,
    "private": WireFormat.PRIVATE_MESSAGE,
    WireFormat.PUBLIC_MESSAGE: WireFormat.PUBLIC_MESSAGE,
    WireFormat.PRIVATE_MESSAGE: WireFormat.PRIVATE_MESSAGE,
}


def wire_format_of(name: WireFormatName) -> int:
    """WireFormat of "public" / "private" (or the WireFormat values); GroupUsageError otherwise."""
    try:
        return _NAMES[name]
    except (KeyError, TypeError):
        raise GroupUsageError(f"handshake wire format must be 'public' or 'private', not {name!r}") from None


def frame(state: GroupState, content: Content, authenticated_data: bytes = b"") -> FramedContent:
    """Our FramedContent carrying ``content`` in the current epoch."""
    state.own_leaf()
    return FramedContent(
        state.group_id, state.epoch, SenderMember(state.own_leaf_index), bytes(authenticated_data), content
    )


def sign_framed(state: GroupState, framed: FramedContent, wire_format: int) -> bytes:
    """Our signature over the FramedContentTBS of ``framed`` for ``wire_format``."""
    check_content_rules(framed, wire_format)
    tbs = framed_content_tbs(wire_format, framed, state.encoded_group_context)
    return state.suite.sign_with_label(state.signature_private, FRAMED_CONTENT_TBS, tbs)


def sign_encoded(
    state: GroupState, framed: FramedContent, framed_bytes: bytes, wire_format: int
) -> tuple[bytes, bytes]:
    """(FramedContentTBS, our signature) for ``framed`` whose encoding ``framed_bytes`` is at hand."""
    check_content_rules(framed, wire_format)
    tbs = b"\x00\x01" + wire_format.to_bytes(2, "big") + framed_bytes + state.encoded_group_context
    return tbs, state.suite.sign_with_label(state.signature_private, FRAMED_CONTENT_TBS, tbs)


def public_commit_message(
    state: GroupState, framed_bytes: bytes, tbs: bytes, signature: bytes, confirmation_tag: bytes
) -> bytes:
    """The encoded MLSMessage(PublicMessage) of our signed commit, from encodings already made:
    the membership tag is MAC(membership_key, AuthenticatedContentTBM) (6.2)."""
    auth = encode_opaque(signature) + encode_opaque(confirmation_tag)
    membership_tag = state.suite.mac(state.epoch_secrets.membership_key, tbs + auth)
    return _PUBLIC_MESSAGE_HEAD + framed_bytes + auth + encode_opaque(membership_tag)


def authenticated(
    state: GroupState, framed: FramedContent, wire_format: int, confirmation_tag: Union[bytes, None] = None
) -> AuthenticatedContent:
    """``framed`` signed for ``wire_format`` (commits also carry their confirmation tag)."""
    signature = sign_framed(state, framed, wire_format)
    return AuthenticatedContent(wire_format, framed, FramedContentAuthData(signature, confirmation_tag))


def protect(
    state: GroupState, content: AuthenticatedContent, seed: bytes, *, padding_block: int = 0
) -> tuple[bytes, SecretTree]:
    """The encoded MLSMessage of signed ``content`` and the secret tree after protecting it."""
    suite = state.suite
    if content.wire_format == WireFormat.PUBLIC_MESSAGE:
        message = protect_public(
            suite, content, state.epoch_secrets.membership_key, state.encoded_group_context
        )
        return MLSMessage.wrap(message).encode(), state.secret_tree
    reuse_guard = expand_seed(suite, seed, b"reuse guard", 4)
    message, tree = protect_private(
        suite,
        content,
        state.secret_tree,
        state.epoch_secrets.sender_data_secret,
        reuse_guard,
        padding_block=padding_block,
    )
    return MLSMessage.wrap(message).encode(), tree
