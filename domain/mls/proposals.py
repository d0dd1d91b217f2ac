"""Proposals of RFC 9420 (section 12.1) and the PreSharedKeyID they and GroupSecrets carry (8.4).

``Proposal`` is the RFC's ``select`` on ``proposal_type``: a value is one of ``Add``, ``Update``,
``Remove``, ``PreSharedKey``, ``ReInit``, ``ExternalInit``, ``GroupContextExtensions``, and
``PROPOSAL`` is its codec (type tag, then body). Each variant's own ``encode()`` is its body
alone, the RFC struct of the same name. Unknown proposal types are a DecodeError: their bodies
cannot be skipped.
"""

from __future__ import annotations

from typing import ClassVar, Union

from .codec import Enum, Select, opaque, uint8, uint16, uint32, uint64, wire, wire_struct
from .enums import (
    DEFAULT_PROPOSAL_TYPES,
    EXTERNAL_PROPOSAL_TYPES,
    ProposalType,
    PSKType,
    ResumptionPSKUsage,
)
from .extensions import EXTENSIONS, Extension
from .key_packages import KeyPackage
from .tree_structs import LeafNode

__all__ = [
    "ProposalType",
    "PSKType",
    "ResumptionPSKUsage",
    "DEFAULT_PROPOSAL_TYPES",
    "EXTERNAL_PROPOSAL_TYPES",
    "ExternalPsk",
    "ResumptionPsk",
    "PreSharedKeyID",
    "Add",
    "Update",
    "Remove",
    "PreSharedKey",
    "ReInit",
    "ExternalInit",
    "GroupContextExtensions",
    "Proposal",
    "PROPOSAL",
]


@wire_struct
class ExternalPsk:
    """The ``external`` case of a PreSharedKeyID: an application-provided PSK's id."""

    TAG: ClassVar[int] = PSKType.EXTERNAL

    psk_id: bytes = wire(opaque)


@wire_struct
class ResumptionPsk:
    """The ``resumption`` case of a PreSharedKeyID: the resumption PSK of a group's epoch."""

    TAG: ClassVar[int] = PSKType.RESUMPTION

    usage: int = wire(Enum(uint8, ResumptionPSKUsage, name="resumption PSK usage"))
    psk_group_id: bytes = wire(opaque)
    psk_epoch: int = wire(uint64)


@wire_struct
class PreSharedKeyID:
    """Which PSK to inject, and the fresh nonce that makes each injection distinct."""

    psk: Union[ExternalPsk, ResumptionPsk] = wire(
        Select(
            Enum(uint8, name="PSK type"),
            {PSKType.EXTERNAL: ExternalPsk.CODEC, PSKType.RESUMPTION: ResumptionPsk.CODEC},
            name="PSK",
        )
    )
    psk_nonce: bytes = wire(opaque)

    @property
    def psktype(self) -> int:
        return self.psk.TAG


@wire_struct
class Add:
    """Add the client of ``key_package`` to the group."""

    TAG: ClassVar[int] = ProposalType.ADD
    proposal_type: ClassVar[int] = ProposalType.ADD

    key_package: KeyPackage = wire(KeyPackage)


@wire_struct
class Update:
    """Replace the sender's leaf with ``leaf_node``."""

    TAG: ClassVar[int] = ProposalType.UPDATE
    proposal_type: ClassVar[int] = ProposalType.UPDATE

    leaf_node: LeafNode = wire(LeafNode)


@wire_struct
class Remove:
    """Remove the member at leaf index ``removed``."""

    TAG: ClassVar[int] = ProposalType.REMOVE
    proposal_type: ClassVar[int] = ProposalType.REMOVE

    removed: int = wire(uint32)


@wire_struct
class PreSharedKey:
    """Inject the PSK ``psk`` into the next epoch's key schedule."""

    TAG: ClassVar[int] = ProposalType.PSK
    proposal_type: ClassVar[int] = ProposalType.PSK

    psk: PreSharedKeyID = wire(PreSharedKeyID)


@wire_struct
class ReInit:
    """Reinitialize the group with new parameters; ``version`` may be a future version."""

    TAG: ClassVar[int] = ProposalType.REINIT
    proposal_type: ClassVar[int] = ProposalType.REINIT

    group_id: bytes = wire(opaque)
    version: int = wire(uint16)
    cipher_suite: int = wire(uint16)
    extensions: tuple[Extension, ...] = wire(EXTENSIONS)


@wire_struct
class ExternalInit:
    """The KEM output an external joiner derives the next init secret from."""

    TAG: ClassVar[int] = ProposalType.EXTERNAL_INIT
    proposal_type: ClassVar[int] = ProposalType.EXTERNAL_INIT

    kem_output: bytes = wire(opaque)


@wire_struct
class GroupContextExtensions:
    """Replace the GroupContext's extensions wholesale with ``extensions``."""

    TAG: ClassVar[int] = ProposalType.GROUP_CONTEXT_EXTENSIONS
    proposal_type: ClassVar[int] = ProposalType.GROUP_CONTEXT_EXTENSIONS

    extensions: tuple[Extension, ...] = wire(EXTENSIONS)


Proposal = Union[Add, Update, Remove, PreSharedKey, ReInit, ExternalInit, GroupContextExtensions]

#: ``Proposal``: ``ProposalType proposal_type`` then the matching body.
PROPOSAL = Select(
    Enum(uint16, name="proposal type"),
    {
        cls.TAG: cls.CODEC
        for cls in (Add, Update, Remove, PreSharedKey, ReInit, ExternalInit, GroupContextExtensions)
    },
    name="proposal",
)
