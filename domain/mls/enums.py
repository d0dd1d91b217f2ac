"""The code points of RFC 9420: the enums of sections 5-12 and the IANA registries of section 17.

They live in one module because nearly every wire struct needs some of them; the section modules
re-export the ones they own (``ExtensionType`` from ``extensions``, ``ProposalType`` from
``proposals``, ...). Values decoded from the wire stay plain ``int`` where the RFC lets unknown
values through (extension, credential and proposal types in capabilities, cipher suites); these
IntEnums compare equal to those ints.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "ProtocolVersion",
    "WireFormat",
    "ContentType",
    "SenderType",
    "ProposalType",
    "ProposalOrRefType",
    "CredentialType",
    "ExtensionType",
    "LeafNodeSource",
    "NodeType",
    "PSKType",
    "ResumptionPSKUsage",
    "DEFAULT_PROPOSAL_TYPES",
    "DEFAULT_EXTENSION_TYPES",
    "EXTERNAL_PROPOSAL_TYPES",
]


class ProtocolVersion(IntEnum):
    """ProtocolVersion (section 6)."""

    MLS10 = 1


class WireFormat(IntEnum):
    """WireFormat, the "MLS Wire Formats" registry (section 17.2)."""

    PUBLIC_MESSAGE = 1
    PRIVATE_MESSAGE = 2
    WELCOME = 3
    GROUP_INFO = 4
    KEY_PACKAGE = 5


class ContentType(IntEnum):
    """ContentType of a FramedContent (section 6)."""

    APPLICATION = 1
    PROPOSAL = 2
    COMMIT = 3


class SenderType(IntEnum):
    """SenderType of a Sender (section 6)."""

    MEMBER = 1
    EXTERNAL = 2
    NEW_MEMBER_PROPOSAL = 3
    NEW_MEMBER_COMMIT = 4


class ProposalType(IntEnum):
    """ProposalType, the "MLS Proposal Types" registry (section 17.4)."""

    ADD = 1
    UPDATE = 2
    REMOVE = 3
    PSK = 4
    REINIT = 5
    EXTERNAL_INIT = 6
    GROUP_CONTEXT_EXTENSIONS = 7


class ProposalOrRefType(IntEnum):
    """ProposalOrRefType of a Commit's proposal list (section 12.4)."""

    PROPOSAL = 1
    REFERENCE = 2


class CredentialType(IntEnum):
    """CredentialType, the "MLS Credential Types" registry (section 17.5)."""

    BASIC = 1
    X509 = 2


class ExtensionType(IntEnum):
    """ExtensionType, the "MLS Extension Types" registry (section 17.3)."""

    APPLICATION_ID = 1
    RATCHET_TREE = 2
    REQUIRED_CAPABILITIES = 3
    EXTERNAL_PUB = 4
    EXTERNAL_SENDERS = 5


class LeafNodeSource(IntEnum):
    """LeafNodeSource: how a LeafNode came into the tree (section 7.2)."""

    KEY_PACKAGE = 1
    UPDATE = 2
    COMMIT = 3


class NodeType(IntEnum):
    """NodeType of a ratchet tree Node (section 7.8)."""

    LEAF = 1
    PARENT = 2


class PSKType(IntEnum):
    """PSKType of a PreSharedKeyID (section 8.4)."""

    EXTERNAL = 1
    RESUMPTION = 2


class ResumptionPSKUsage(IntEnum):
    """ResumptionPSKUsage of a resumption PreSharedKeyID (section 8.4)."""

    APPLICATION = 1
    REINIT = 2
    BRANCH = 3


#: Proposal types every client implements; capabilities must not list them (section 7.2).
DEFAULT_PROPOSAL_TYPES = frozenset(ProposalType)

#: Extension types every client implements; capabilities must not list them (section 7.2).
DEFAULT_EXTENSION_TYPES = frozenset(ExtensionType)

#: Proposal types an ``external`` sender may send (section 12.1.8, the registry's "Ext" column).
EXTERNAL_PROPOSAL_TYPES = frozenset(
    {
        ProposalType.ADD,
        ProposalType.REMOVE,
        ProposalType.PSK,
        ProposalType.REINIT,
        ProposalType.GROUP_CONTEXT_EXTENSIONS,
    }
)
