"""Errors of the MLS group state machine (RFC 9420 sections 10-12, 15): one type per failure.

Remote faults (a message, Welcome or KeyPackage another party made) derive from ``ProtocolError``
or ``FramingError``; the caller's own misuse (committing after being removed, asking to remove a
leaf that is not there) derives from ``GroupUsageError``. Framing errors raised by
``message_protection`` (``WrongGroup``, ``WrongEpoch``, ``UnknownSender``) are re-exported here so
callers catch them from one place.
"""

from __future__ import annotations

from ..errors import DecodeError, FramingError, MlsError, ProtocolError
from ..message_protection import SenderNotAllowed, UnknownSender, WireFormatNotAllowed, WrongEpoch, WrongGroup

__all__ = [
    "GroupUsageError",
    "InvalidSeed",
    "NotAMember",
    "InvalidCommitRequest",
    "StaleStagedCommit",
    "PskNotFound",
    "FramingError",
    "WrongGroup",
    "WrongEpoch",
    "UnknownSender",
    "WireFormatNotAllowed",
    "SenderNotAllowed",
    "UnexpectedMessage",
    "EpochNotAvailable",
    "KeyPackageValidationError",
    "InvalidProposal",
    "DuplicateProposal",
    "ProposalTargetsBlankLeaf",
    "MemberAlreadyInGroup",
    "CommitterUpdate",
    "CommitterRemoval",
    "UnsupportedProposal",
    "InvalidPsk",
    "CapabilityNotSupported",
    "InvalidLeafNode",
    "InvalidCommit",
    "UnknownProposalRef",
    "PathRequired",
    "InvalidUpdatePath",
    "InvalidWelcome",
    "WelcomeNotForUs",
    "MissingRatchetTree",
    "InvalidGroupInfo",
    "InvalidGroupState",
]


# -- local misuse ------------------------------------------------------------------------------


class GroupUsageError(MlsError, ValueError):
    """The caller asked the group for something it cannot do in its current state."""


class InvalidSeed(GroupUsageError):
    """A seed is too short to expand into the randomness an operation needs."""


class NotAMember(GroupUsageError):
    """This client is no longer a member of the group (it was removed), so it cannot send."""


class InvalidCommitRequest(GroupUsageError):
    """The commit asked for is invalid (e.g. removing a blank leaf or ourselves, or an empty commit without a path)."""


class StaleStagedCommit(GroupUsageError):
    """A staged commit does not apply to this state (another group, or the epoch moved on)."""


class PskNotFound(MlsError, LookupError):
    """A PreSharedKey named by a proposal, commit or Welcome is not in the PSK store."""


class EpochNotAvailable(MlsError, LookupError):
    """A message belongs to a past epoch whose keys are no longer kept."""


# -- remote: framing ----------------------------------------------------------------------------


class UnexpectedMessage(ProtocolError):
    """The MLSMessage has a wire format or content this operation does not accept here."""


# -- remote: key packages and leaf nodes --------------------------------------------------------


class KeyPackageValidationError(ProtocolError):
    """A KeyPackage fails the checks of RFC 9420 10.1 (version, suite, signatures, lifetime, keys)."""


# -- remote: proposals (RFC 9420 12.1, 12.2) ----------------------------------------------------


class InvalidProposal(ProtocolError):
    """A proposal, or the list of proposals a commit covers, violates RFC 9420 12.1 / 12.2."""


class DuplicateProposal(InvalidProposal):
    """Two proposals conflict: same leaf updated/removed twice, same PSK twice, or several GroupContextExtensions."""


class ProposalTargetsBlankLeaf(InvalidProposal):
    """A Remove names a blank leaf or a leaf outside the tree."""


class MemberAlreadyInGroup(InvalidProposal):
    """An Add carries a signature or encryption key already used by a member or by another Add."""


class CommitterUpdate(InvalidProposal):
    """A commit covers an Update proposal sent by the committer itself."""


class CommitterRemoval(InvalidProposal):
    """A commit covers a Remove of the committer itself."""


class UnsupportedProposal(InvalidProposal):
    """A ReInit or ExternalInit proposal (or an unknown type): decoded, but not supported by this group."""


class InvalidPsk(InvalidProposal):
    """A PreSharedKey proposal has a wrong nonce length or a usage other than application."""


class InvalidLeafNode(InvalidProposal):
    """A LeafNode in an Update fails RFC 9420 7.3: unchanged or duplicate keys, wrong source."""


class CapabilityNotSupported(InvalidProposal):
    """A member or joiner lacks a capability the group requires (extensions, proposals, credential types)."""


# -- remote: commits (RFC 9420 12.4) ------------------------------------------------------------


class InvalidCommit(ProtocolError):
    """A commit is inconsistent with the group state (RFC 9420 12.4.2)."""


class UnknownProposalRef(InvalidCommit):
    """A commit references a proposal that was not received in this epoch."""


class PathRequired(InvalidCommit):
    """The commit has no UpdatePath although it is empty or covers a path-required proposal."""


class InvalidUpdatePath(InvalidCommit):
    """The commit's UpdatePath is malformed or does not fit the tree."""


# -- remote: joining (RFC 9420 12.4.3.1) --------------------------------------------------------


class InvalidWelcome(ProtocolError):
    """A Welcome fails the checks of RFC 9420 12.4.3.1."""


class WelcomeNotForUs(InvalidWelcome):
    """No entry of the Welcome is encrypted to our KeyPackage, or the cipher suites differ."""


class MissingRatchetTree(InvalidWelcome):
    """The GroupInfo has no ratchet_tree extension and no tree was supplied."""


class InvalidGroupInfo(InvalidWelcome):
    """The GroupInfo's signature, signer, confirmation tag or contents are invalid."""


# -- stored state ------------------------------------------------------------------------------


class InvalidGroupState(DecodeError):
    """Bytes given to GroupState.decode are not a group state this library wrote."""
