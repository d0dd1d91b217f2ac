"""The ratchet tree's wire structs of RFC 9420: nodes (sections 7.1, 7.2), update paths (7.6) and
the ``ratchet_tree`` extension body (12.4.3.3).

HPKE and signature public keys are plain ``bytes`` (``opaque HPKEPublicKey<V>``). A ``Node`` is a
``LeafNode`` or a ``ParentNode``; a ratchet tree is a tuple of ``Node | None`` (None = blank) and
``RATCHET_TREE`` is its codec. The LeafNode's ``select`` on ``leaf_node_source`` is its ``source``
field: a ``Lifetime`` (key_package), an ``UpdateSource`` (update) or a ``CommitSource`` (commit).
"""

from __future__ import annotations

from typing import ClassVar, Optional as Opt, Union

from .codec import (
    Enum,
    Optional,
    Select,
    Vector,
    encode_opaque,
    opaque,
    uint8,
    uint16,
    uint32,
    uint64,
    wire,
    wire_struct,
)
from .credentials import CREDENTIAL, Credential
from .enums import LeafNodeSource, NodeType
from .extensions import EXTENSIONS, Extension

__all__ = [
    "LeafNodeSource",
    "NodeType",
    "Capabilities",
    "Lifetime",
    "UpdateSource",
    "CommitSource",
    "LEAF_NODE_SOURCE",
    "LeafNode",
    "ParentNode",
    "Node",
    "NODE",
    "RATCHET_TREE",
    "HPKECiphertext",
    "UpdatePathNode",
    "UpdatePath",
]


@wire_struct
class Capabilities:
    """What a client supports; unknown (GREASE) values are kept and must be ignored."""

    versions: tuple[int, ...] = wire(Vector(uint16))
    cipher_suites: tuple[int, ...] = wire(Vector(uint16))
    extensions: tuple[int, ...] = wire(Vector(uint16))
    proposals: tuple[int, ...] = wire(Vector(uint16))
    credentials: tuple[int, ...] = wire(Vector(uint16))


@wire_struct
class Lifetime:
    """Validity period of a KeyPackage's LeafNode, in seconds since the Unix epoch."""

    TAG: ClassVar[int] = LeafNodeSource.KEY_PACKAGE

    not_before: int = wire(uint64)
    not_after: int = wire(uint64)


@wire_struct
class UpdateSource:
    """The ``update`` case of a LeafNode's source: no extra field."""

    TAG: ClassVar[int] = LeafNodeSource.UPDATE


@wire_struct
class CommitSource:
    """The ``commit`` case of a LeafNode's source: the leaf's parent hash."""

    TAG: ClassVar[int] = LeafNodeSource.COMMIT

    parent_hash: bytes = wire(opaque)


LEAF_NODE_SOURCE = Select(
    Enum(uint8, name="leaf node source"),
    {
        LeafNodeSource.KEY_PACKAGE: Lifetime.CODEC,
        LeafNodeSource.UPDATE: UpdateSource.CODEC,
        LeafNodeSource.COMMIT: CommitSource.CODEC,
    },
    name="leaf node source",
)

_UPDATE_OR_COMMIT = (LeafNodeSource.UPDATE, LeafNodeSource.COMMIT)


@wire_struct
class LeafNode:
    """A member's leaf: its keys, credential, capabilities, source and signature (section 7.2)."""

    TAG: ClassVar[int] = NodeType.LEAF

    encryption_key: bytes = wire(opaque)
    signature_key: bytes = wire(opaque)
    credential: Credential = wire(CREDENTIAL)
    capabilities: Capabilities = wire(Capabilities)
    source: Union[Lifetime, UpdateSource, CommitSource] = wire(LEAF_NODE_SOURCE)
    extensions: tuple[Extension, ...] = wire(EXTENSIONS)
    signature: bytes = wire(opaque)

    @property
    def leaf_node_source(self) -> int:
        return self.source.TAG

    @property
    def lifetime(self) -> Opt[Lifetime]:
        """The lifetime of a key_package leaf, else None."""
        source = self.source
        return source if source.TAG == LeafNodeSource.KEY_PACKAGE else None

    @property
    def parent_hash(self) -> Opt[bytes]:
        """The parent hash of a commit leaf, else None."""
        source = self.source
        return source.parent_hash if source.TAG == LeafNodeSource.COMMIT else None

    def tbs(self, group_id: Opt[bytes] = None, leaf_index: Opt[int] = None) -> bytes:
        """The encoded LeafNodeTBS this leaf's signature covers.

        update and commit leaves are bound to their group and position, so they need
        ``group_id`` and ``leaf_index``; key_package leaves ignore both (callers validating a
        whole tree may pass them for every leaf). The signature field is not covered, so a leaf
        can be built with ``signature=b""``, signed over ``tbs()``, then evolved.
        """
        encoded = self.encode()
        unsigned = encoded[: len(encoded) - len(encode_opaque(self.signature))]
        if self.source.TAG not in _UPDATE_OR_COMMIT:
            return unsigned
        if group_id is None or leaf_index is None:
            raise ValueError("update and commit leaves sign over group_id and leaf_index")
        return unsigned + encode_opaque(group_id) + leaf_index.to_bytes(4, "big")


@wire_struct
class ParentNode:
    """An intermediate node: the subtree's HPKE key, its parent hash and unmerged leaves (7.1)."""

    TAG: ClassVar[int] = NodeType.PARENT

    encryption_key: bytes = wire(opaque)
    parent_hash: bytes = wire(opaque)
    unmerged_leaves: tuple[int, ...] = wire(Vector(uint32))


Node = Union[LeafNode, ParentNode]

NODE = Select(
    Enum(uint8, name="node type"),
    {NodeType.LEAF: LeafNode.CODEC, NodeType.PARENT: ParentNode.CODEC},
    name="node",
)

#: ``optional<Node> ratchet_tree<V>``: nodes in array order, None for blank nodes. Whether the
#: last node is non-blank is a tree-validation question, not a syntax one.
RATCHET_TREE = Vector(Optional(NODE))


@wire_struct
class HPKECiphertext:
    """An HPKE ciphertext: the KEM output and the AEAD ciphertext (section 7.6)."""

    kem_output: bytes = wire(opaque)
    ciphertext: bytes = wire(opaque)


@wire_struct
class UpdatePathNode:
    """A new parent key and the path secret encrypted to each node of the copath resolution."""

    encryption_key: bytes = wire(opaque)
    encrypted_path_secret: tuple[HPKECiphertext, ...] = wire(Vector(HPKECiphertext.CODEC))


@wire_struct
class UpdatePath:
    """The committer's new leaf and the new nodes of its filtered direct path (section 7.6)."""

    leaf_node: LeafNode = wire(LeafNode)
    nodes: tuple[UpdatePathNode, ...] = wire(Vector(UpdatePathNode.CODEC))
