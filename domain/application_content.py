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
        message = ProtoMessage(bytes(data))
        content_type = message.string(1)
        if not content_type:
            raise DecodeError("application content without a content type")
        return cls(content_type, message.bytes(2) or b"", message.bytes(3) or b"")

    @property
    def is_leave_request(self) -> bool:
        return self.content_type == LEAVE_REQUEST_CONTENT_TYPE


def message_id(group_id: bytes, idempotency_key: bytes, content: bytes) -> bytes:
    """The id of a message with this content and idempotency key in ``group_id``."""
    return hashlib.sha256(bytes(group_id) + b"\t" + bytes(idempotency_key) + b"\t" + bytes(content)).digest()


def transcript_message_id(group_id: bytes, cursor: int, transcript: bytes) -> bytes:
    """The id of the GroupUpdated message a commit at ``cursor`` wrote (0: the welcome's)."""
    return message_id(group_id, b"transcript:%d" % cursor, transcript)
