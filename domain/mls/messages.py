"""MLSMessage, the envelope every MLS message travels in (RFC 9420 section 6).

Its ``body`` is a ``PublicMessage``, ``PrivateMessage``, ``Welcome``, ``GroupInfo`` or
``KeyPackage``; the wire format follows from that value. Only mls10 can be parsed, so any other
protocol version or an unknown wire format is a DecodeError.
"""

from __future__ import annotations

from typing import Any, Union

from .codec import Enum, Select, uint16, wire, wire_struct
from .enums import ProtocolVersion, WireFormat
from .framing import PrivateMessage, PublicMessage
from .group_context import PROTOCOL_VERSION
from .key_packages import KeyPackage
from .welcome import GroupInfo, Welcome

__all__ = ["MLSMessage", "MLSMessageBody", "WIRE_FORMAT"]

MLSMessageBody = Union[PublicMessage, PrivateMessage, Welcome, GroupInfo, KeyPackage]

_WIRE_FORMAT_OF: dict[type, int] = {
    PublicMessage: WireFormat.PUBLIC_MESSAGE,
    PrivateMessage: WireFormat.PRIVATE_MESSAGE,
    Welcome: WireFormat.WELCOME,
    GroupInfo: WireFormat.GROUP_INFO,
    KeyPackage: WireFormat.KEY_PACKAGE,
}

WIRE_FORMAT = Enum(uint16, WireFormat, name="wire format")


def _wire_format_of(body: Any) -> int:
    try:
        return _WIRE_FORMAT_OF[type(body)]
    except KeyError:
        raise TypeError(f"{type(body).__name__} cannot be sent as an MLSMessage") from None


@wire_struct
class MLSMessage:
    """A protocol version and one message body of the matching wire format."""

    version: int = wire(PROTOCOL_VERSION)
    body: MLSMessageBody = wire(
        Select(WIRE_FORMAT, {tag: cls.CODEC for cls, tag in _WIRE_FORMAT_OF.items()}, tag_of=_wire_format_of, name="message body")
    )

    @property
    def wire_format(self) -> int:
        return _wire_format_of(self.body)

    @classmethod
    def wrap(cls, body: MLSMessageBody) -> "MLSMessage":
        """``body`` as an mls10 MLSMessage."""
        return cls(ProtocolVersion.MLS10, body)
