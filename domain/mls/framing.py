"""Message framing of RFC 9420 (section 6): senders, FramedContent, its authentication data, and
the PublicMessage / PrivateMessage encodings with their AADs and to-be-signed inputs.

``Sender`` is the RFC's ``select`` on ``sender_type`` (``SenderMember``, ``SenderExternal``,
``SenderNewMemberProposal``, ``SenderNewMemberCommit``; codec ``SENDER``). A FramedContent's
``content`` is ``bytes`` (application data), a ``Proposal`` or a ``Commit``; its content type
follows from that value. FramedContentAuthData, AuthenticatedContent, PublicMessage and
PrivateMessageContent are laid out according to earlier fields (content type, sender type), so
their ``_read``/``_write`` are written by hand; they are as strict as the declarative ones.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Optional as Opt, Union

import attrs

from .codec import (
    Codec,
    Enum,
    Fixed,
    Reader,
    Select,
    StructCodec,
    Writer,
    decode_all,
    encode_opaque,
    opaque,
    uint8,
    uint16,
    uint32,
    uint64,
    wire,
    wire_struct,
)
from .commits import Commit
from .enums import ContentType, ProtocolVersion, SenderType, WireFormat
from .errors import DecodeError
from .group_context import GroupContext
from .proposals import PROPOSAL, Proposal

__all__ = [
    "ProtocolVersion",
    "WireFormat",
    "ContentType",
    "SenderType",
    "SenderMember",
    "SenderExternal",
    "SenderNewMemberProposal",
    "SenderNewMemberCommit",
    "Sender",
    "SENDER",
    "CONTENT_TYPE",
    "Content",
    "content_type_of",
    "FramedContent",
    "FramedContentAuthData",
    "AuthenticatedContent",
    "framed_content_tbs",
    "PublicMessage",
    "PrivateMessage",
    "PrivateMessageContent",
    "SenderData",
    "SenderDataAAD",
    "PrivateContentAAD",
]


@wire_struct
class SenderMember:
    """A group member, by leaf index."""

    TAG: ClassVar[int] = SenderType.MEMBER
    sender_type: ClassVar[int] = SenderType.MEMBER

    leaf_index: int = wire(uint32)


@wire_struct
class SenderExternal:
    """A pre-provisioned external sender, by index into the ``external_senders`` extension."""

    TAG: ClassVar[int] = SenderType.EXTERNAL
    sender_type: ClassVar[int] = SenderType.EXTERNAL

    sender_index: int = wire(uint32)


@wire_struct
class SenderNewMemberProposal:
    """A non-member proposing to add itself."""

    TAG: ClassVar[int] = SenderType.NEW_MEMBER_PROPOSAL
    sender_type: ClassVar[int] = SenderType.NEW_MEMBER_PROPOSAL


@wire_struct
class SenderNewMemberCommit:
    """A non-member joining by external commit."""

    TAG: ClassVar[int] = SenderType.NEW_MEMBER_COMMIT
    sender_type: ClassVar[int] = SenderType.NEW_MEMBER_COMMIT


Sender = Union[SenderMember, SenderExternal, SenderNewMemberProposal, SenderNewMemberCommit]

SENDER = Select(
    Enum(uint8, SenderType, name="sender type"),
    {
        cls.TAG: cls.CODEC
        for cls in (SenderMember, SenderExternal, SenderNewMemberProposal, SenderNewMemberCommit)
    },
    name="sender",
)

CONTENT_TYPE = Enum(uint8, ContentType, name="content type")

Content = Union[bytes, Proposal, Commit]

#: The bodies of ``select (content_type)``, shared by FramedContent and PrivateMessageContent.
_CONTENT_CASES: dict[int, Codec[Any]] = {
    ContentType.APPLICATION: opaque,
    ContentType.PROPOSAL: PROPOSAL,
    ContentType.COMMIT: Commit.CODEC,
}


def content_type_of(content: Any) -> int:
    """The ContentType of a FramedContent's ``content``: bytes, a Proposal or a Commit."""
    if isinstance(content, bytes):
        return ContentType.APPLICATION
    if type(content) is Commit:
        return ContentType.COMMIT
    return ContentType.PROPOSAL


@wire_struct
class FramedContent:
    """Who sent what to which group and epoch; ``content`` is bytes, a Proposal or a Commit."""

    group_id: bytes = wire(opaque)
    epoch: int = wire(uint64)
    sender: Sender = wire(SENDER)
    authenticated_data: bytes = wire(opaque)
    content: Content = wire(
        Select(CONTENT_TYPE, _CONTENT_CASES, tag_of=content_type_of, name="content")
    )

    @property
    def content_type(self) -> int:
        return content_type_of(self.content)


class _Bound(Codec[Any]):
    """Adapts a ``read(r, content_type)`` to the Codec interface so decode_all can drive it."""

    def __init__(self, read: Callable[[Reader, int], Any], content_type: int) -> None:
        self._read = read
        self._content_type = content_type

    def read(self, r: Reader) -> Any:
        return self._read(r, self._content_type)


def _check_content_type(content_type: int) -> int:
    if content_type not in _CONTENT_CASES:
        raise DecodeError(f"unknown content type {content_type}")
    return content_type


@attrs.frozen
class FramedContentAuthData:
    """The signature over FramedContentTBS, and for commits the confirmation tag.

    Whether ``confirmation_tag`` is on the wire depends on the content type of the enclosing
    content, so decoding takes it as an argument.
    """

    signature: bytes
    confirmation_tag: Opt[bytes] = None

    def _write_for(self, w: Writer, content_type: int) -> None:
        if (content_type == ContentType.COMMIT) != (self.confirmation_tag is not None):
            raise ValueError("a confirmation tag is required for commits and only for commits")
        w.opaque(self.signature)
        if self.confirmation_tag is not None:
            w.opaque(self.confirmation_tag)

    @classmethod
    def _read_for(cls, r: Reader, content_type: int) -> "FramedContentAuthData":
        signature = r.opaque()
        if content_type == ContentType.COMMIT:
            return cls(signature, r.opaque())
        return cls(signature, None)

    def encode(self) -> bytes:
        w = Writer()
        w.opaque(self.signature)
        if self.confirmation_tag is not None:
            w.opaque(self.confirmation_tag)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes, content_type: int) -> "FramedContentAuthData":
        return decode_all(_Bound(cls._read_for, _check_content_type(content_type)), data)


_WIRE_FORMAT_FRAMED = Enum(uint16, (WireFormat.PUBLIC_MESSAGE, WireFormat.PRIVATE_MESSAGE), name="wire format")
_SIGNS_OVER_CONTEXT = (SenderType.MEMBER, SenderType.NEW_MEMBER_COMMIT)


def framed_content_tbs(
    wire_format: int, content: FramedContent, context: Union[GroupContext, bytes, None]
) -> bytes:
    """The encoded FramedContentTBS, the input of the "FramedContentTBS" signature.

    Member and new-member-commit senders sign over the current GroupContext, given as a value
    or already encoded; for the other senders ``context`` is ignored.
    """
    head = b"\x00\x01" + wire_format.to_bytes(2, "big")
    if content.sender.TAG not in _SIGNS_OVER_CONTEXT:
        return head + content.encode()
    if context is None:
        raise ValueError("member and new_member_commit senders sign over the GroupContext")
    encoded_context = context if isinstance(context, bytes) else context.encode()
    return head + content.encode() + encoded_context


class _HandWritten:
    """encode/decode/CODEC for the structs whose ``_read``/``_write`` are written by hand."""

    __slots__ = ()
    CODEC: ClassVar[StructCodec]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.CODEC = StructCodec(cls)

    def _write(self, w: Writer) -> None:
        raise NotImplementedError

    def encode(self) -> bytes:
        w = Writer()
        self._write(w)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> Any:
        return decode_all(cls.CODEC, data)


@attrs.frozen
class AuthenticatedContent(_HandWritten):
    """A FramedContent with its authentication data and the wire format it travels in."""

    wire_format: int
    content: FramedContent
    auth: FramedContentAuthData

    def _write(self, w: Writer) -> None:
        _WIRE_FORMAT_FRAMED.write(w, self.wire_format)
        self.content._write(w)
        self.auth._write_for(w, self.content.content_type)

    @classmethod
    def _read(cls, r: Reader) -> "AuthenticatedContent":
        wire_format = _WIRE_FORMAT_FRAMED.read(r)
        content = FramedContent._read(r)
        return cls(wire_format, content, FramedContentAuthData._read_for(r, content.content_type))

    def tbs(self, context: Union[GroupContext, bytes, None]) -> bytes:
        """The encoded FramedContentTBS of this content (see ``framed_content_tbs``)."""
        return framed_content_tbs(self.wire_format, self.content, context)

    def confirmed_transcript_hash_input(self) -> bytes:
        """The encoded ConfirmedTranscriptHashInput of a commit (section 8.2)."""
        return (
            self.wire_format.to_bytes(2, "big")
            + self.content.encode()
            + encode_opaque(self.auth.signature)
        )


@attrs.frozen
class PublicMessage(_HandWritten):
    """A signed, unencrypted message; members' messages also carry a membership tag."""

    content: FramedContent
    auth: FramedContentAuthData
    membership_tag: Opt[bytes] = None

    def _write(self, w: Writer) -> None:
        content = self.content
        if (content.sender.TAG == SenderType.MEMBER) != (self.membership_tag is not None):
            raise ValueError("a membership tag is required for member senders and only for them")
        content._write(w)
        self.auth._write_for(w, content.content_type)
        if self.membership_tag is not None:
            w.opaque(self.membership_tag)

    @classmethod
    def _read(cls, r: Reader) -> "PublicMessage":
        content = FramedContent._read(r)
        auth = FramedContentAuthData._read_for(r, content.content_type)
        tag = r.opaque() if content.sender.TAG == SenderType.MEMBER else None
        return cls(content, auth, tag)

    def authenticated_content(self) -> AuthenticatedContent:
        return AuthenticatedContent(WireFormat.PUBLIC_MESSAGE, self.content, self.auth)

    def tbm(self, context: Union[GroupContext, bytes]) -> bytes:
        """The encoded AuthenticatedContentTBM the membership tag is the MAC of."""
        return framed_content_tbs(WireFormat.PUBLIC_MESSAGE, self.content, context) + self.auth.encode()


@wire_struct
class PrivateMessage:
    """An encrypted message: cleartext group, epoch and content type, encrypted sender and content."""

    group_id: bytes = wire(opaque)
    epoch: int = wire(uint64)
    content_type: int = wire(CONTENT_TYPE)
    authenticated_data: bytes = wire(opaque)
    encrypted_sender_data: bytes = wire(opaque)
    ciphertext: bytes = wire(opaque)

    def sender_data_aad(self) -> bytes:
        """The encoded SenderDataAAD for ``encrypted_sender_data``."""
        return SenderDataAAD(self.group_id, self.epoch, self.content_type).encode()

    def content_aad(self) -> bytes:
        """The encoded PrivateContentAAD for ``ciphertext``."""
        return PrivateContentAAD(
            self.group_id, self.epoch, self.content_type, self.authenticated_data
        ).encode()

    def authenticated_content(
        self, leaf_index: int, plaintext: "PrivateMessageContent"
    ) -> AuthenticatedContent:
        """The AuthenticatedContent this message carries, once decrypted: the sender's leaf index
        from the SenderData and the decrypted ``plaintext``."""
        if plaintext.content_type != self.content_type:
            raise DecodeError("decrypted content does not match the PrivateMessage content type")
        content = FramedContent(
            self.group_id, self.epoch, SenderMember(leaf_index), self.authenticated_data, plaintext.content
        )
        return AuthenticatedContent(WireFormat.PRIVATE_MESSAGE, content, plaintext.auth)


@attrs.frozen
class PrivateMessageContent:
    """The plaintext of a PrivateMessage: content, auth data and ``padding`` zero bytes.

    The content type is that of the enclosing PrivateMessage, so decoding takes it as an
    argument. Padding must be all zeros (a DecodeError otherwise); its length is kept so the
    plaintext re-encodes byte for byte.
    """

    content: Content
    auth: FramedContentAuthData
    padding: int = 0

    @property
    def content_type(self) -> int:
        return content_type_of(self.content)

    def encode(self) -> bytes:
        if self.padding < 0:
            raise ValueError("padding length must be non-negative")
        content_type = content_type_of(self.content)
        w = Writer()
        _CONTENT_CASES[content_type].write(w, self.content)
        self.auth._write_for(w, content_type)
        w.raw(bytes(self.padding))
        return w.getvalue()

    @classmethod
    def _read_for(cls, r: Reader, content_type: int) -> "PrivateMessageContent":
        content = _CONTENT_CASES[content_type].read(r)
        auth = FramedContentAuthData._read_for(r, content_type)
        padding = r.take(r.remaining())
        if padding.count(0) != len(padding):
            raise DecodeError("non-zero byte in PrivateMessageContent padding")
        return cls(content, auth, len(padding))

    @classmethod
    def decode(cls, data: bytes, content_type: int) -> "PrivateMessageContent":
        return decode_all(_Bound(cls._read_for, _check_content_type(content_type)), data)


@wire_struct
class SenderData:
    """The encrypted sender data: leaf index, ratchet generation and the nonce reuse guard."""

    leaf_index: int = wire(uint32)
    generation: int = wire(uint32)
    reuse_guard: bytes = wire(Fixed(4))


@wire_struct
class SenderDataAAD:
    """The AAD of the sender data encryption: the first three fields of a PrivateMessage."""

    group_id: bytes = wire(opaque)
    epoch: int = wire(uint64)
    content_type: int = wire(CONTENT_TYPE)


@wire_struct
class PrivateContentAAD:
    """The AAD of the content encryption."""

    group_id: bytes = wire(opaque)
    epoch: int = wire(uint64)
    content_type: int = wire(CONTENT_TYPE)
    authenticated_data: bytes = wire(opaque)
