"""The GroupContext of RFC 9420 (section 8.1): the summary of a group's state every member agrees on."""

from __future__ import annotations

from .codec import Enum, opaque, uint16, uint64, wire, wire_struct
from .enums import ProtocolVersion
from .extensions import EXTENSIONS, Extension

__all__ = ["GroupContext", "PROTOCOL_VERSION"]

#: ``ProtocolVersion``, closed to the versions this implementation can parse (mls10).
PROTOCOL_VERSION = Enum(uint16, ProtocolVersion, name="protocol version")


@wire_struct
class GroupContext:
    """Group id, epoch, tree hash, confirmed transcript hash and extensions of one epoch."""

    version: int = wire(PROTOCOL_VERSION)
    cipher_suite: int = wire(uint16)
    group_id: bytes = wire(opaque)
    epoch: int = wire(uint64)
    tree_hash: bytes = wire(opaque)
    confirmed_transcript_hash: bytes = wire(opaque)
    extensions: tuple[Extension, ...] = wire(EXTENSIONS)
