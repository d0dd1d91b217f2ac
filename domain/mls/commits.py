"""Commits of RFC 9420 (section 12.4): the proposals they cover, by value or by reference, and
an optional UpdatePath.

``ProposalOrRef`` is the RFC's ``select``: a value is either a ``Proposal`` (see ``proposals``)
or a ``ProposalRef``; ``PROPOSAL_OR_REF`` is its codec.
"""

from __future__ import annotations

from typing import Any, ClassVar, Optional as Opt, Union

from .codec import Enum, Optional, Select, Vector, opaque, uint8, wire, wire_struct
from .enums import ProposalOrRefType
from .proposals import PROPOSAL, Proposal
from .tree_structs import UpdatePath

__all__ = ["ProposalOrRefType", "ProposalRef", "ProposalOrRef", "PROPOSAL_OR_REF", "Commit"]


@wire_struct
class ProposalRef:
    """A proposal sent earlier in the epoch, named by its hash (section 5.2)."""

    TAG: ClassVar[int] = ProposalOrRefType.REFERENCE

    value: bytes = wire(opaque)


def _proposal_or_ref_type(value: Any) -> int:
    return ProposalOrRefType.REFERENCE if type(value) is ProposalRef else ProposalOrRefType.PROPOSAL


ProposalOrRef = Union[Proposal, ProposalRef]

PROPOSAL_OR_REF = Select(
    Enum(uint8, name="proposal-or-ref type"),
    {ProposalOrRefType.PROPOSAL: PROPOSAL, ProposalOrRefType.REFERENCE: ProposalRef.CODEC},
    tag_of=_proposal_or_ref_type,
    name="proposal-or-ref",
)


@wire_struct
class Commit:
    """The proposals to apply (in order) and the committer's optional UpdatePath."""

    proposals: tuple[ProposalOrRef, ...] = wire(Vector(PROPOSAL_OR_REF))
    path: Opt[UpdatePath] = wire(Optional(UpdatePath.CODEC))
