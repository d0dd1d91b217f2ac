"""Message protection of RFC 9420 (section 6): framing rules, content signing (6.1) and the PublicMessage
membership tag (6.2).

Every function is pure. The GroupContext of the current epoch comes in encoded (``group_context``,
the exact bytes signatures cover); the group id and epoch a received message must carry are read
from it, so the two can never disagree. Signature keys live in the ratchet tree, which this module
does not see: receivers pass ``signature_key_of``, a function from the received FramedContent to the
sender's signature public key. It must raise (for example ``UnknownSender``) for a sender that is
not in the group; whatever it raises propagates unchanged.

PrivateMessage encryption is in ``private_message_protection``.
"""

from __future__ import annotations

import functools
import hmac
from typing import Callable

from .cipher_suite import CipherSuite
from .codec import Reader, encode_opaque
from .enums import ContentType, ProposalType, SenderType, WireFormat
from .errors import FramingError, MembershipTagError
from .framing import (
    AuthenticatedContent,
    FramedContent,
    FramedContentAuthData,
    PublicMessage,
    SenderMember,
    content_type_of,
    framed_content_tbs,
)
from .proposals import EXTERNAL_PROPOSAL_TYPES

__all__ = [
    "WrongGroup",
    "WrongEpoch",
    "WireFormatNotAllowed",
    "SenderNotAllowed",
    "UnknownSender",
    "SignatureKeyOf",
    "FRAMED_CONTENT_TBS",
    "group_and_epoch",
    "check_group_and_epoch",
    "check_content_rules",
    "content_tbs",
    "sign_content",
    "verify_content",
    "protect_public",
    "unprotect_public",
]

FRAMED_CONTENT_TBS = b"FramedContentTBS"

_VERSION = b"\x00\x01"  # ProtocolVersion mls10
_MEMBER = bytes((SenderType.MEMBER,))
_APPLICATION = bytes((ContentType.APPLICATION,))

SignatureKeyOf = Callable[[FramedContent], bytes]
"""The signature public key of a received message's sender; raises for a sender not in the group."""


class WrongGroup(FramingError):
    """The message names another group than the one it was given to."""


class WrongEpoch(FramingError):
    """The message belongs to another epoch than the group's current one."""


class WireFormatNotAllowed(FramingError, ValueError):
    """This content may not travel in this wire format (application data only as PrivateMessage,
    non-member senders only as PublicMessage)."""


class SenderNotAllowed(FramingError, ValueError):
    """This sender type may not send this content (RFC 9420 6.1: external and new-member senders)."""


class UnknownSender(FramingError):
    """The sender's leaf index is outside the group's tree, or names no member."""


@functools.lru_cache(maxsize=64)
def group_and_epoch(group_context: bytes) -> tuple[bytes, int]:
    """The group id and epoch of an encoded GroupContext (read from its prefix; DecodeError if short)."""
    r = Reader(group_context, 4)  # after version and cipher_suite
    return r.opaque(), r.uint64()


def check_group_and_epoch(group_id: bytes, epoch: int, group_context: bytes) -> None:
    """WrongGroup / WrongEpoch unless a message's group id and epoch are those of ``group_context``."""
    want_group, want_epoch = group_and_epoch(group_context)
    if group_id != want_group:
        raise WrongGroup(f"message for group {group_id.hex()}, this is group {want_group.hex()}")
    if epoch != want_epoch:
        raise WrongEpoch(f"message for epoch {epoch}, the group is at epoch {want_epoch}")


def check_content_rules(content: FramedContent, wire_format: int) -> None:
    """The sender-type, content-type and wire-format rules of RFC 9420 6 and 6.1."""
    content_type = content_type_of(content.content)
    sender_type = content.sender.TAG
    if wire_format == WireFormat.PRIVATE_MESSAGE:
        if sender_type != SenderType.MEMBER:
            raise WireFormatNotAllowed("only members can send a PrivateMessage")
    elif wire_format == WireFormat.PUBLIC_MESSAGE:
        if content_type == ContentType.APPLICATION:
            raise WireFormatNotAllowed("application data must be sent as a PrivateMessage")
    else:
        raise WireFormatNotAllowed(f"wire format {wire_format} does not carry framed content")
    if sender_type == SenderType.MEMBER:
        return
    if sender_type == SenderType.NEW_MEMBER_COMMIT:
        if content_type != ContentType.COMMIT:
            raise SenderNotAllowed("a new_member_commit sender can only send a commit")
        return
    if content_type != ContentType.PROPOSAL:
        raise SenderNotAllowed("external and new_member_proposal senders can only send proposals")
    proposal_type = content.content.TAG
    if sender_type == SenderType.EXTERNAL:
        if proposal_type not in EXTERNAL_PROPOSAL_TYPES:
            raise SenderNotAllowed(f"proposal type {proposal_type} is not allowed from an external sender")
    elif proposal_type != ProposalType.ADD:
        raise SenderNotAllowed("a new_member_proposal sender can only propose to add itself")


def content_tbs(wire_format: int, content: FramedContent, group_context: bytes) -> bytes:
    """The encoded FramedContentTBS (as ``framing.framed_content_tbs``), member application data fast."""
    sender = content.sender
    body = content.content
    if type(sender) is SenderMember and type(body) is bytes:
        return b"".join(
            (
                _VERSION,
                wire_format.to_bytes(2, "big"),
                encode_opaque(content.group_id),
                content.epoch.to_bytes(8, "big"),
                _MEMBER,
                sender.leaf_index.to_bytes(4, "big"),
                encode_opaque(content.authenticated_data),
                _APPLICATION,
                encode_opaque(body),
                group_context,
            )
        )
    return framed_content_tbs(wire_format, content, group_context)


def sign_content(
    suite: CipherSuite,
    signer_private_key: bytes,
    framed_content: FramedContent,
    wire_format: int,
    group_context: bytes,
    confirmation_tag: bytes | None = None,
) -> AuthenticatedContent:
    """Sign ``framed_content`` for sending in ``wire_format``: SignWithLabel over FramedContentTBS.

    ``confirmation_tag`` is required for a commit and refused otherwise; the content must obey the
    framing rules for ``wire_format`` (WireFormatNotAllowed / SenderNotAllowed).
    """
    check_content_rules(framed_content, wire_format)
    if (framed_content.content_type == ContentType.COMMIT) != (confirmation_tag is not None):
        raise ValueError("a confirmation tag is required for commits and only for commits")
    tbs = content_tbs(wire_format, framed_content, group_context)
    signature = suite.sign_with_label(signer_private_key, FRAMED_CONTENT_TBS, tbs)
    return AuthenticatedContent(wire_format, framed_content, FramedContentAuthData(signature, confirmation_tag))


def verify_content(
    suite: CipherSuite, signer_public_key: bytes, authenticated_content: AuthenticatedContent, group_context: bytes
) -> None:
    """VerifyWithLabel of the content's signature over its FramedContentTBS; SignatureError if invalid."""
    tbs = content_tbs(authenticated_content.wire_format, authenticated_content.content, group_context)
    suite.verify_with_label(signer_public_key, FRAMED_CONTENT_TBS, tbs, authenticated_content.auth.signature)


def _membership_tag(suite: CipherSuite, membership_key: bytes, tbs: bytes, auth: FramedContentAuthData) -> bytes:
    # AuthenticatedContentTBM is FramedContentTBS followed by the auth data.
    return suite.mac(membership_key, tbs + auth.encode())


def protect_public(
    suite: CipherSuite, authenticated_content: AuthenticatedContent, membership_key: bytes, group_context: bytes
) -> PublicMessage:
    """The PublicMessage of signed content; members' messages get MAC(membership_key, TBM) as tag."""
    if authenticated_content.wire_format != WireFormat.PUBLIC_MESSAGE:
        raise WireFormatNotAllowed("the content was signed for another wire format than PublicMessage")
    content = authenticated_content.content
    check_content_rules(content, WireFormat.PUBLIC_MESSAGE)
    auth = authenticated_content.auth
    tag = None
    if content.sender.TAG == SenderType.MEMBER:
        tbs = content_tbs(WireFormat.PUBLIC_MESSAGE, content, group_context)
        tag = _membership_tag(suite, membership_key, tbs, auth)
    return PublicMessage(content, auth, tag)


def unprotect_public(
    suite: CipherSuite,
    message: PublicMessage,
    membership_key: bytes,
    group_context: bytes,
    signature_key_of: SignatureKeyOf,
) -> AuthenticatedContent:
    """The AuthenticatedContent of a received PublicMessage, after every check RFC 9420 6.2 asks for.

    Checks, in order: group and epoch (WrongGroup, WrongEpoch), the framing rules
    (WireFormatNotAllowed, SenderNotAllowed), the membership tag of member senders
    (MembershipTagError) and the signature under ``signature_key_of(content)`` (SignatureError).
    The confirmation tag of a commit is left to the caller, who holds the confirmation key.
    """
    content = message.content
    check_group_and_epoch(content.group_id, content.epoch, group_context)
    check_content_rules(content, WireFormat.PUBLIC_MESSAGE)
    auth = message.auth
    tbs = content_tbs(WireFormat.PUBLIC_MESSAGE, content, group_context)
    if content.sender.TAG == SenderType.MEMBER:
        want = _membership_tag(suite, membership_key, tbs, auth)
        if message.membership_tag is None or not hmac.compare_digest(want, message.membership_tag):
            raise MembershipTagError("PublicMessage membership tag did not verify")
    suite.verify_with_label(signature_key_of(content), FRAMED_CONTENT_TBS, tbs, auth.signature)
    return AuthenticatedContent(WireFormat.PUBLIC_MESSAGE, content, auth)
