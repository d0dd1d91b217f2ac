"""XMTP's MLS credential identity: a Basic credential whose identity bytes are the protobuf
``xmtp.identity.MlsCredential {1: inbox_id}`` (libxmtp section "MLS configuration")."""

from __future__ import annotations

import attrs

from .protobuf import ProtoMessage, ProtoWriter

__all__ = ["MlsCredential", "encode_credential_identity", "inbox_id_from_identity"]


@attrs.frozen
class MlsCredential:
    """The identity carried in a leaf's Basic credential."""

    inbox_id: str

    def encode(self) -> bytes:
        return ProtoWriter().string(1, self.inbox_id).finish()

    @classmethod
    def decode(cls, data: bytes) -> MlsCredential:
        return cls(ProtoMessage(data).string(1) or "")


def encode_credential_identity(inbox_id: str) -> bytes:
    """The Basic credential identity bytes for ``inbox_id``."""
    return MlsCredential(inbox_id).encode()


def inbox_id_from_identity(identity: bytes) -> str:
    """The inbox id in a Basic credential's identity bytes (DecodeError if malformed)."""
    return MlsCredential.decode(identity).inbox_id
