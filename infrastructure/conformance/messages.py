"""Checks messages.json: every RFC 9420 message struct decodes and re-encodes byte for byte.

Each entry holds one hex encoding per struct (test-vectors.md "Messages"): MLSMessage-wrapped
Welcome, GroupInfo and KeyPackage; the ratchet tree (``optional<Node>`` vector); GroupSecrets; the
seven proposal bodies; a Commit; PublicMessages carrying application data, a proposal and a
commit; and a PrivateMessage. The MLSMessage fields must also carry the wire format (and, for
public messages, the content type) the field name promises.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from mlsgroup.domain.mls.commits import Commit
from mlsgroup.domain.mls.enums import ContentType, WireFormat
from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.mls.messages import MLSMessage
from mlsgroup.domain.mls.proposals import (
    Add,
    ExternalInit,
    GroupContextExtensions,
    PreSharedKey,
    ReInit,
    Remove,
    Update,
)
from mlsgroup.domain.mls.tree_structs import RATCHET_TREE
from mlsgroup.domain.mls.welcome import GroupSecrets

from . import VectorMismatch, expect_equal

__all__ = ["FILE", "FIELDS", "check"]

FILE = "messages.json"

Decode = Callable[[bytes], Any]
Encode = Callable[[Any], bytes]


def _struct(cls: type) -> tuple[Decode, Encode]:
    return cls.decode, lambda value: value.encode()


def _mls_message(wire_format: int, content_type: Optional[int] = None) -> tuple[Decode, Encode]:
    def decode(data: bytes) -> MLSMessage:
        message = MLSMessage.decode(data)
        expect_equal("wire_format", message.wire_format, wire_format)
        if content_type is not None:
            expect_equal("content_type", message.body.content.content_type, content_type)
        return message

    return decode, lambda message: message.encode()


#: field name -> (decode, encode) of the struct the field holds.
FIELDS: dict[str, tuple[Decode, Encode]] = {
    "mls_welcome": _mls_message(WireFormat.WELCOME),
    "mls_group_info": _mls_message(WireFormat.GROUP_INFO),
    "mls_key_package": _mls_message(WireFormat.KEY_PACKAGE),
    "ratchet_tree": (RATCHET_TREE.decode, RATCHET_TREE.encode),
    "group_secrets": _struct(GroupSecrets),
    "add_proposal": _struct(Add),
    "update_proposal": _struct(Update),
    "remove_proposal": _struct(Remove),
    "pre_shared_key_proposal": _struct(PreSharedKey),
    "re_init_proposal": _struct(ReInit),
    "external_init_proposal": _struct(ExternalInit),
    "group_context_extensions_proposal": _struct(GroupContextExtensions),
    "commit": _struct(Commit),
    "public_message_application": _mls_message(WireFormat.PUBLIC_MESSAGE, ContentType.APPLICATION),
    "public_message_proposal": _mls_message(WireFormat.PUBLIC_MESSAGE, ContentType.PROPOSAL),
    "public_message_commit": _mls_message(WireFormat.PUBLIC_MESSAGE, ContentType.COMMIT),
    "private_message": _mls_message(WireFormat.PRIVATE_MESSAGE),
}


def check(entry: dict[str, Any]) -> None:
    """Decode and re-encode every field of one entry; VectorMismatch names the first failure."""
    missing = sorted(set(FIELDS) - set(entry))
    if missing:
        raise VectorMismatch(f"entry lacks fields {missing}")
    for name, (decode, encode) in FIELDS.items():
        data = bytes.fromhex(entry[name])
        try:
            value = decode(data)
        except DecodeError as exc:
            raise VectorMismatch(f"{name}: does not decode: {exc}") from exc
        except VectorMismatch as exc:
            raise VectorMismatch(f"{name}: {exc}") from exc
        expect_equal(f"{name} re-encoded", encode(value), data)
