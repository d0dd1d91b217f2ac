"""The plaintext of XMTP application messages (libxmtp PlaintextEnvelope, spec section 8) and message ids.

Every application message a member encrypts is a protobuf ``ApplicationContent``::

    message ApplicationContent {
        string content_type = 1;      // "text", or a reserved type such as a leave request
        bytes content = 2;
        bytes idempotency_key = 3;    // the sender's choice; part of the message id
    }

The message id every member computes for it is
``sha256(group_id || "\\t" || idempotency_key || "\\t" || content)`` (libxmtp calculate_message_id).
Transcript messages get their id the same way, keyed by the cursor of the commit that wrote them.
"""

from __future__ import annotations

import hashlib

import attrs

from .protobuf import DecodeError, ProtoMessage, ProtoWriter

__all__ = [
    "TEXT_CONTENT_TYPE",
    "LEAVE_REQUEST_CONTENT_TYPE",
    "ApplicationContent",
    "canonical_fields",
    "message_id",
    "transcript_message_id",
]

TEXT_CONTENT_TYPE = "text"
LEAVE_REQUEST_CONTENT_TYPE = "xmtp.org/leave_request:1.0"


@attrs.frozen
class ApplicationContent:
    """The decrypted body of an application message."""

    content_type: str
    content: bytes
    idempotency_key: bytes

    def encode(self) -> bytes:
        writer = ProtoWriter().string(1, self.content_type)
        return writer.bytes(2, self.content).bytes(3, self.idempotency_key).finish()

    @classmethod
    def decode(cls, data: bytes) -> ApplicationContent:
        """DecodeError unless ``data`` is an ApplicationContent with a content type."""
        data = bytes(data)
        fields = canonical_fields(data)
        if fields is not None:
            # Every view and audit decodes each stored message: the usual encoding is read directly.
            content_type, content, idempotency_key = fields
            try:
                text = content_type.decode("utf-8")
            except UnicodeDecodeError:
                raise DecodeError("field 1: invalid UTF-8") from None
            if not text:
                raise DecodeError("application content without a content type")
            return cls(text, content, idempotency_key)
        return cls._decode_general(data)

    @classmethod
    def _decode_general(cls, data: bytes) -> ApplicationContent:
        message = ProtoMessage(data)
        content_type = message.string(1)
        if not content_type:
            raise DecodeError("application content without a content type")
        return cls(content_type, message.bytes(2) or b"", message.bytes(3) or b"")

    @property
    def is_leave_request(self) -> bool:
        return self.content_type == LEAVE_REQUEST_CONTENT_TYPE


_TAGS = (0x0A, 0x12, 0x1A)  # fields 1, 2 and 3, length-delimited


def canonical_fields(data: bytes) -> tuple[bytes, bytes, bytes] | None:
    """Fields 1-3 of ``data`` when it holds only those, each at most once, in order, with one-byte or
    two-byte minimal lengths (what every sender writes); None means: use the general decoder."""
    found = [b"", b"", b""]
    pos, end, index = 0, len(data), 0
    while pos < end:
        tag = data[pos]
        while index < 3 and _TAGS[index] != tag:
            index += 1
        if index == 3 or pos + 1 >= end:
            return None
        length = data[pos + 1]
        pos += 2
        if length >= 0x80:
            if pos >= end or not 0 < data[pos] < 0x80:
                return None
            length = (length & 0x7F) | (data[pos] << 7)
            pos += 1
        if length > end - pos:
            return None
        found[index] = data[pos : pos + length]
        pos += length
        index += 1
    return found[0], found[1], found[2]


def message_id(group_id: bytes, idempotency_key: bytes, content: bytes) -> bytes:
    """The id of a message with this content and idempotency key in ``group_id``."""
    return hashlib.sha256(bytes(group_id) + b"\t" + bytes(idempotency_key) + b"\t" + bytes(content)).digest()


def transcript_message_id(group_id: bytes, cursor: int, transcript: bytes) -> bytes:
    """The id of the GroupUpdated message a commit at ``cursor`` wrote (0: the welcome's)."""
    return message_id(group_id, b"transcript:%d" % cursor, transcript)
