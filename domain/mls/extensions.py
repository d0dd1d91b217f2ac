"""Extensions of RFC 9420 (section 13.4) and the bodies of the well-known ones.

An ``Extension`` keeps its data opaque, so unknown (e.g. GREASE) extension types decode and
re-encode unchanged. The bodies of the RFC's own extensions have codecs here:
``application_id`` (``APPLICATION_ID``, section 5.3.3), ``required_capabilities``
(``RequiredCapabilities``, 11.1), ``external_pub`` (``ExternalPub``, 12.4.3.2) and
``external_senders`` (``EXTERNAL_SENDERS`` of ``ExternalSender``, 12.1.8.1). The
``ratchet_tree`` body (12.4.3.3) needs the tree nodes and lives in ``tree_structs``.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional as Opt

from .codec import Codec, Vector, opaque, uint16, wire, wire_struct
from .credentials import CREDENTIAL, Credential
from .enums import DEFAULT_EXTENSION_TYPES, ExtensionType

__all__ = [
    "ExtensionType",
    "DEFAULT_EXTENSION_TYPES",
    "Extension",
    "EXTENSIONS",
    "find_extension",
    "APPLICATION_ID",
    "RequiredCapabilities",
    "ExternalPub",
    "ExternalSender",
    "EXTERNAL_SENDERS",
]


@wire_struct
class Extension:
    """One extension: its type and its still-encoded body."""

    extension_type: int = wire(uint16)
    extension_data: bytes = wire(opaque)

    def parse(self, codec: Codec | type) -> Any:
        """The body decoded with ``codec`` or wire struct class (strict: DecodeError unless it fits)."""
        return codec.decode(self.extension_data)


#: ``Extension extensions<V>``, as every struct carrying extensions declares it.
EXTENSIONS = Vector(Extension.CODEC)


def find_extension(extensions: Iterable[Extension], extension_type: int) -> Opt[Extension]:
    """The first extension of ``extension_type`` in ``extensions``, or None."""
    for extension in extensions:
        if extension.extension_type == extension_type:
            return extension
    return None


#: The ``application_id`` body: ``opaque application_id<V>``.
APPLICATION_ID = opaque


@wire_struct
class RequiredCapabilities:
    """The ``required_capabilities`` body: what every member must support."""

    extension_types: tuple[int, ...] = wire(Vector(uint16))
    proposal_types: tuple[int, ...] = wire(Vector(uint16))
    credential_types: tuple[int, ...] = wire(Vector(uint16))


@wire_struct
class ExternalPub:
    """The ``external_pub`` body: the HPKE key external joiners encrypt to."""

    external_pub: bytes = wire(opaque)


@wire_struct
class ExternalSender:
    """One entry of the ``external_senders`` body: a signer allowed to send external proposals."""

    signature_key: bytes = wire(opaque)
    credential: Credential = wire(CREDENTIAL)


#: The ``external_senders`` body: ``ExternalSender external_senders<V>``.
EXTERNAL_SENDERS = Vector(ExternalSender.CODEC)
