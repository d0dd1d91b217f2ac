"""KeyPackages of RFC 9420 (section 10): what a client pre-publishes so others can add it.

``KeyPackage.tbs()`` is the encoded KeyPackageTBS its signature covers. To build a new one,
sign ``KeyPackageTBS(...).encode()`` and attach the signature with ``KeyPackageTBS.signed``.
"""

from __future__ import annotations

from .codec import encode_opaque, opaque, uint16, wire, wire_struct
from .extensions import EXTENSIONS, Extension
from .tree_structs import LeafNode

__all__ = ["KeyPackage", "KeyPackageTBS"]


@wire_struct
class KeyPackage:
    """A signed KeyPackage. ``version`` and ``cipher_suite`` are kept as sent; validation checks them."""

    version: int = wire(uint16)
    cipher_suite: int = wire(uint16)
    init_key: bytes = wire(opaque)
    leaf_node: LeafNode = wire(LeafNode)
    extensions: tuple[Extension, ...] = wire(EXTENSIONS)
    signature: bytes = wire(opaque)

    def tbs(self) -> bytes:
        """The encoded KeyPackageTBS: every field but the signature."""
        encoded = self.encode()
        return encoded[: len(encoded) - len(encode_opaque(self.signature))]


@wire_struct
class KeyPackageTBS:
    """The part of a KeyPackage its signature covers (label "KeyPackageTBS")."""

    version: int = wire(uint16)
    cipher_suite: int = wire(uint16)
    init_key: bytes = wire(opaque)
    leaf_node: LeafNode = wire(LeafNode)
    extensions: tuple[Extension, ...] = wire(EXTENSIONS)

    def signed(self, signature: bytes) -> KeyPackage:
        """The KeyPackage carrying these fields and ``signature``."""
        return KeyPackage(
            self.version, self.cipher_suite, self.init_key, self.leaf_node, self.extensions, signature
        )
