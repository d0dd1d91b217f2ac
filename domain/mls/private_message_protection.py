"""PrivateMessage protection of RFC 9420 (section 6.3): content encryption under the secret tree's
ratchet keys with the reuse guard, and sender-data encryption keyed by the ciphertext sample.

Both directions are pure: they take a ``SecretTree`` and return the tree without the key they
used. On any failure nothing is returned, so the caller's tree is still the one to use: bad input
never changes state. The reuse guard is an argument (the caller expands it from an event's seed),
so protecting is deterministic.

``reseal_private`` rebuilds a received PrivateMessage from what opening it revealed (sender leaf,
generation, reuse guard, content, signature, padding): a store may keep those instead of the
ciphertext, and an audit re-encrypts them to compare with a recorded hash of the message bytes
(``Resealer`` encodes an epoch's constant parts once for a run of them).

Per-message keys are used once, so their AEAD objects are built per call and never cached.
"""

from __future__ import annotations

import functools
import hmac
from typing import Any

import attrs
from cryptography.exceptions import InvalidTag

from .cipher_suite import MLS_PREFIX, CipherSuite
from .codec import Reader, encode_opaque, encode_varint
from .enums import ContentType, SenderType, WireFormat
from .errors import AeadError, DecodeError
from .framing import (
    AuthenticatedContent,
    FramedContent,
    FramedContentAuthData,
    PrivateMessage,
    PrivateMessageContent,
    SenderMember,
)
from .message_protection import (
    FRAMED_CONTENT_TBS,
    SignatureKeyOf,
    UnknownSender,
    WireFormatNotAllowed,
    check_content_rules,
    check_group_and_epoch,
)
from .proposals import PROPOSAL
from .secret_tree import RatchetType, SecretTree, apply_reuse_guard

__all__ = ["DecryptedMessage", "protect_private", "unprotect_private", "Resealer", "reseal_private", "padding_for"]

_RATCHET_OF = {
    ContentType.APPLICATION: RatchetType.APPLICATION,
    ContentType.PROPOSAL: RatchetType.HANDSHAKE,
    ContentType.COMMIT: RatchetType.HANDSHAKE,
}

# FramedContentTBS starts with ProtocolVersion mls10 and WireFormat mls_private_message.
_TBS_HEAD = b"\x00\x01\x00\x02"
_SENDER_DATA_LEN = 12
_MEMBER = bytes((SenderType.MEMBER,))
_APPLICATION = bytes((ContentType.APPLICATION,))


@attrs.frozen
class DecryptedMessage:
    """A received PrivateMessage after decryption and signature verification.

    ``authenticated_content`` is the signed content as the sender framed it (wire format
    PrivateMessage); ``generation`` is the ratchet generation its key came from, ``reuse_guard``
    the sender data's guard and ``padding`` the number of zero bytes after the auth data: with
    them (and the epoch's secrets) ``reseal_private`` rebuilds the message byte for byte.
    """

    authenticated_content: AuthenticatedContent
    generation: int
    reuse_guard: bytes = b""
    padding: int = 0

    @property
    def leaf_index(self) -> int:
        return self.authenticated_content.content.sender.leaf_index


def padding_for(plaintext_len: int, padding_block: int) -> int:
    """Zero bytes to append so the PrivateMessageContent fills whole ``padding_block``-byte blocks (0: none)."""
    if padding_block < 0:
        raise ValueError("padding_block must not be negative")
    if padding_block == 0:
        return 0
    return -plaintext_len % padding_block


def _aad_head(group_id: bytes, epoch: int, content_type: int) -> bytes:
    """SenderDataAAD, which is also the start of PrivateContentAAD."""
    return encode_opaque(group_id) + epoch.to_bytes(8, "big") + bytes((content_type,))


@functools.cache
def _sender_data_infos(suite: CipherSuite) -> tuple[bytes, bytes]:
    """KDFLabel prefixes of the sender-data "key" and "nonce" ExpandWithLabel, up to the context."""

    def prefix(label: bytes, length: int) -> bytes:
        full = MLS_PREFIX + label
        return length.to_bytes(2, "big") + encode_varint(len(full)) + full

    return prefix(b"key", suite.aead_key_len), prefix(b"nonce", suite.aead_nonce_len)


def _sender_data_key_nonce(suite: CipherSuite, sender_data_secret: bytes, ciphertext: bytes) -> tuple[bytes, bytes]:
    """ExpandWithLabel(sender_data_secret, "key" / "nonce", ciphertext_sample, Nk / Nn) (RFC 9420 6.3.2)."""
    sample = ciphertext[: suite.hash_len]
    context = encode_varint(len(sample)) + sample + b"\x01"
    key_info, nonce_info = _sender_data_infos(suite)
    # Nk and Nn never exceed Nh, so each HKDF-Expand is the single block HMAC(secret, info || 0x01).
    mac = suite.mac
    return (
        mac(sender_data_secret, key_info + context)[: suite.aead_key_len],
        mac(sender_data_secret, nonce_info + context)[: suite.aead_nonce_len],
    )


def _auth_bytes(signature: bytes, confirmation_tag: bytes | None) -> bytes:
    if confirmation_tag is None:
        return encode_opaque(signature)
    return encode_opaque(signature) + encode_opaque(confirmation_tag)


def _content_body(content: Any, content_type: int) -> bytes:
    """The ``select (content_type)`` part of FramedContent and PrivateMessageContent."""
    if content_type == ContentType.APPLICATION:
        return encode_opaque(content)
    if content_type == ContentType.COMMIT:
        return content.encode()
    return PROPOSAL.encode(content)


def _parse_plaintext(plaintext: bytes, content_type: int) -> tuple[Any, FramedContentAuthData, int, int]:
    """(content, auth, length of the content body, padding) of a PrivateMessageContent; DecodeError if malformed."""
    if content_type != ContentType.APPLICATION:
        decoded = PrivateMessageContent.decode(plaintext, content_type)
        auth = decoded.auth
        body_len = len(plaintext) - decoded.padding - len(_auth_bytes(auth.signature, auth.confirmation_tag))
        return decoded.content, auth, body_len, decoded.padding
    # Application data, the hot path, parsed in place.
    r = Reader(plaintext)
    content = r.opaque()
    body_len = r.pos
    signature = r.opaque()
    padding = plaintext[r.pos :]
    if padding.count(0) != len(padding):
        raise DecodeError("non-zero byte in PrivateMessageContent padding")
    return content, FramedContentAuthData(signature, None), body_len, len(padding)


def protect_private(
    suite: CipherSuite,
    authenticated_content: AuthenticatedContent,
    secret_tree: SecretTree,
    sender_data_secret: bytes,
    reuse_guard: bytes,
    *,
    padding_block: int = 0,
) -> tuple[PrivateMessage, SecretTree]:
    """Encrypt signed content as a PrivateMessage with the next key of the sender's ratchet.

    The sender is ``authenticated_content``'s member sender; its handshake ratchet serves proposals
    and commits, its application ratchet application data. ``reuse_guard`` (4 bytes) is XORed into
    the nonce and travels in the sender data. ``padding_block`` > 0 pads the plaintext with zeros to
    a multiple of that many bytes. Returns the message and the tree without the used key.
    """
    if authenticated_content.wire_format != WireFormat.PRIVATE_MESSAGE:
        raise WireFormatNotAllowed("the content was signed for another wire format than PrivateMessage")
    if len(reuse_guard) != 4:
        raise ValueError("reuse_guard must be 4 bytes")
    framed = authenticated_content.content
    check_content_rules(framed, WireFormat.PRIVATE_MESSAGE)
    content = framed.content
    content_type = framed.content_type
    auth = authenticated_content.auth
    if (content_type == ContentType.COMMIT) != (auth.confirmation_tag is not None):
        raise ValueError("a confirmation tag is required for commits and only for commits")
    leaf = framed.sender.leaf_index
    generation, key, nonce, tree = secret_tree.next_key_nonce(leaf, _RATCHET_OF[content_type])

    plaintext = _content_body(content, content_type) + _auth_bytes(auth.signature, auth.confirmation_tag)
    padding = padding_for(len(plaintext), padding_block)
    if padding:
        plaintext += bytes(padding)
    group_id, epoch, authenticated_data = framed.group_id, framed.epoch, framed.authenticated_data
    aad_head = _aad_head(group_id, epoch, content_type)
    factory = suite.hpke.aead.factory
    ciphertext = factory(key).encrypt(
        apply_reuse_guard(nonce, reuse_guard), plaintext, aad_head + encode_opaque(authenticated_data)
    )
    sender_key, sender_nonce = _sender_data_key_nonce(suite, sender_data_secret, ciphertext)
    sender_data = leaf.to_bytes(4, "big") + generation.to_bytes(4, "big") + bytes(reuse_guard)
    encrypted_sender_data = factory(sender_key).encrypt(sender_nonce, sender_data, aad_head)
    message = PrivateMessage(group_id, epoch, content_type, authenticated_data, encrypted_sender_data, ciphertext)
    return message, tree


def _open(suite: CipherSuite, key: bytes, nonce: bytes, aad: bytes, ciphertext: bytes, what: str) -> bytes:
    try:
        return suite.hpke.aead.factory(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise AeadError(f"PrivateMessage {what} failed to authenticate") from None


def unprotect_private(
    suite: CipherSuite,
    message: PrivateMessage,
    secret_tree: SecretTree,
    sender_data_secret: bytes,
    group_context: bytes,
    signature_key_of: SignatureKeyOf,
) -> tuple[DecryptedMessage, SecretTree]:
    """Decrypt and verify a received PrivateMessage; returns it and the tree without the used key.

    Checks, in order: group and epoch (WrongGroup, WrongEpoch), the sender data (AeadError,
    DecodeError), the sender's leaf index against the tree (UnknownSender), the ratchet key
    (SecretTreeError, e.g. for a replayed generation), the content (AeadError; DecodeError also for
    non-zero padding) and the signature under ``signature_key_of(content)`` (SignatureError). The
    confirmation tag of a commit is left to the caller, who holds the confirmation key.
    """
    group_id, epoch, content_type = message.group_id, message.epoch, message.content_type
    check_group_and_epoch(group_id, epoch, group_context)
    ratchet = _RATCHET_OF.get(content_type)
    if ratchet is None:
        raise DecodeError(f"unknown content type {content_type}")
    group_and_epoch = encode_opaque(group_id) + epoch.to_bytes(8, "big")
    content_type_byte = bytes((content_type,))
    aad_head = group_and_epoch + content_type_byte
    ciphertext = message.ciphertext
    sender_key, sender_nonce = _sender_data_key_nonce(suite, sender_data_secret, ciphertext)
    sender_data = _open(suite, sender_key, sender_nonce, aad_head, message.encrypted_sender_data, "sender data")
    if len(sender_data) != _SENDER_DATA_LEN:
        raise DecodeError(f"SenderData of {len(sender_data)} bytes, expected {_SENDER_DATA_LEN}")
    leaf_bytes = sender_data[:4]
    leaf = int.from_bytes(leaf_bytes, "big")
    generation = int.from_bytes(sender_data[4:8], "big")
    if leaf >= secret_tree.n_leaves:
        raise UnknownSender(f"sender leaf {leaf} is outside a tree of {secret_tree.n_leaves} leaves")
    key, nonce, tree = secret_tree.key_nonce(leaf, ratchet, generation)

    authenticated_data = message.authenticated_data
    opaque_ad = encode_opaque(authenticated_data)
    nonce = apply_reuse_guard(nonce, sender_data[8:])
    plaintext = _open(suite, key, nonce, aad_head + opaque_ad, ciphertext, "content")
    content, auth, body_len, padding = _parse_plaintext(plaintext, content_type)
    framed = FramedContent(group_id, epoch, SenderMember(leaf), authenticated_data, content)
    # FramedContentTBS from the bytes at hand: the content body is the plaintext before auth and padding.
    body = plaintext[:body_len]
    tbs = b"".join((_TBS_HEAD, group_and_epoch, _MEMBER, leaf_bytes, opaque_ad, content_type_byte, body, group_context))
    suite.verify_with_label(signature_key_of(framed), FRAMED_CONTENT_TBS, tbs, auth.signature)
    authenticated = AuthenticatedContent(WireFormat.PRIVATE_MESSAGE, framed, auth)
    return DecryptedMessage(authenticated, generation, sender_data[8:], padding), tree


class Resealer:
    """Rebuilds application PrivateMessages of one epoch from their opening fields: ``reseal_private``
    rebuilds one message with it, an audit thousands in a row. What is the same for every message of
    the epoch is encoded once (the AAD head, the head of FramedContentTBS, the VerifyWithLabel label,
    the sender-data KDF labels), and the per-message work is spelled out: it runs once per stored
    message, next to the signature verification and the two seals it cannot avoid."""

    __slots__ = (
        "_aad_head",
        "_content_aad_no_ad",
        "_factory",
        "_group_context",
        "_hash_len",
        "_hash_name",
        "_nk",
        "_nn",
        "_sender_data_infos",
        "_sender_data_sample_infos",
        "_sender_data_secret",
        "_sign_label",
        "_tbs_fixed_len",
        "_tbs_head",
        "_verify",
    )

    def __init__(
        self, suite: CipherSuite, sender_data_secret: bytes, group_context: bytes, group_id: bytes, epoch: int
    ) -> None:
        group_and_epoch = encode_opaque(group_id) + epoch.to_bytes(8, "big")
        self._sender_data_secret = sender_data_secret
        self._group_context = group_context
        self._aad_head = group_and_epoch + _APPLICATION
        self._content_aad_no_ad = self._aad_head + b"\x00"  # PrivateContentAAD with empty authenticated data
        self._tbs_head = _TBS_HEAD + group_and_epoch + _MEMBER
        # FramedContentTBS bytes besides the authenticated data and the content body: the head, the
        # 4-byte leaf index, the content type and the group context.
        self._tbs_fixed_len = len(self._tbs_head) + 5 + len(group_context)
        self._sign_label = encode_opaque(MLS_PREFIX + FRAMED_CONTENT_TBS)
        self._verify = suite.signature_scheme.verify
        self._factory = suite.hpke.aead.factory
        self._hash_name = suite.hpke.kdf.hash_name
        self._nk, self._nn = suite.aead_key_len, suite.aead_nonce_len
        self._sender_data_infos = _sender_data_infos(suite)
        self._hash_len = suite.hash_len
        # The KDF labels followed by the sample's length prefix: a sample is Nh bytes long.
        sample_prefix = encode_varint(suite.hash_len)
        self._sender_data_sample_infos = tuple(info + sample_prefix for info in self._sender_data_infos)

    def seal(
        self,
        signature_key: bytes,
        key: bytes,
        nonce: bytes,
        leaf: int,
        generation: int,
        reuse_guard: bytes,
        authenticated_data: bytes,
        application_data: bytes,
        signature: bytes,
        padding: int,
    ) -> tuple[bytes, bytes]:
        """(encrypted_sender_data, ciphertext) of the message with these fields, sealed with the
        content ``key`` and ``nonce`` of its generation, once the signature verified under the
        sender's ``signature_key`` (SignatureError; ValueError for a malformed guard or padding)."""
        if len(reuse_guard) != 4:
            raise ValueError("reuse_guard must be 4 bytes")
        if padding < 0:
            raise ValueError("padding must not be negative")
        if authenticated_data:
            opaque_ad = encode_opaque(authenticated_data)
            content_aad = self._aad_head + opaque_ad
        else:
            opaque_ad, content_aad = b"\x00", self._content_aad_no_ad
        body = encode_opaque(application_data)
        leaf_bytes = leaf.to_bytes(4, "big")
        # VerifyWithLabel over SignContent {"MLS 1.0 FramedContentTBS"<V>, FramedContentTBS<V>} (RFC
        # 9420 5.1.2), built in one piece: the TBS ends with the group context, kilobytes long.
        tbs_len = self._tbs_fixed_len + len(opaque_ad) + len(body)
        sign_content = b"".join((
            self._sign_label, encode_varint(tbs_len), self._tbs_head, leaf_bytes, opaque_ad, _APPLICATION, body, self._group_context
        ))
        self._verify(signature_key, sign_content, signature)
        plaintext = b"".join((body, encode_varint(len(signature)), signature, bytes(padding)))
        # apply_reuse_guard, the guard's length checked above
        guarded = (int.from_bytes(nonce[:4], "big") ^ int.from_bytes(reuse_guard, "big")).to_bytes(4, "big") + nonce[4:]
        factory = self._factory
        ciphertext = factory(key).encrypt(guarded, plaintext, content_aad)
        # _sender_data_key_nonce: each ExpandWithLabel is one HMAC block (Nk, Nn <= Nh)
        hash_len = self._hash_len
        if len(ciphertext) >= hash_len:  # always, but for ciphertexts shorter than Nh
            key_info, nonce_info = self._sender_data_sample_infos
            context = ciphertext[:hash_len] + b"\x01"
        else:
            key_info, nonce_info = self._sender_data_infos
            context = encode_opaque(ciphertext) + b"\x01"
        secret, hash_name, digest = self._sender_data_secret, self._hash_name, hmac.digest
        sender_key = digest(secret, key_info + context, hash_name)[: self._nk]
        sender_nonce = digest(secret, nonce_info + context, hash_name)[: self._nn]
        sender_data = b"".join((leaf_bytes, generation.to_bytes(4, "big"), reuse_guard))
        return factory(sender_key).encrypt(sender_nonce, sender_data, self._aad_head), ciphertext


def reseal_private(
    suite: CipherSuite,
    secret_tree: SecretTree,
    sender_data_secret: bytes,
    group_context: bytes,
    signature_key: bytes,
    *,
    group_id: bytes,
    epoch: int,
    leaf: int,
    generation: int,
    reuse_guard: bytes,
    authenticated_data: bytes,
    application_data: bytes,
    signature: bytes,
    padding: int,
) -> tuple[PrivateMessage, SecretTree]:
    """Rebuild the application PrivateMessage that opened to these fields; returns it and the tree
    without the key of ``generation``.

    The inverse of ``unprotect_private`` for application data, with its checks in the same order
    where they still apply: the sender's leaf (UnknownSender), the ratchet key (SecretTreeError,
    e.g. when the generation was used already), the signature under the sender's
    ``signature_key`` (SignatureError). Both encryptions are the ones the sender made (AEAD is
    deterministic), so the result equals the received message iff the fields are the ones it held.
    """
    if len(reuse_guard) != 4:
        raise ValueError("reuse_guard must be 4 bytes")
    if padding < 0:
        raise ValueError("padding must not be negative")
    if not 0 <= leaf < secret_tree.n_leaves:
        raise UnknownSender(f"sender leaf {leaf} is outside a tree of {secret_tree.n_leaves} leaves")
    key, nonce, tree = secret_tree.key_nonce(leaf, RatchetType.APPLICATION, generation)
    resealer = Resealer(suite, sender_data_secret, group_context, group_id, epoch)
    encrypted_sender_data, ciphertext = resealer.seal(
        signature_key, key, nonce, leaf, generation, reuse_guard, authenticated_data, application_data, signature, padding
    )
    message = PrivateMessage(
        group_id, epoch, ContentType.APPLICATION, authenticated_data, encrypted_sender_data, ciphertext
    )
    return message, tree
