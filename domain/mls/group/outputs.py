"""The values the group state machine returns (RFC 9420 12.4): staged commits, their effects, and
what processing a message produced. All are frozen values named for what happened.

A ``StagedCommit`` carries the next epoch's state but changes nothing by itself: the caller merges
it with ``merge_commit`` once the delivery service has ordered the commit (stage, then merge).
"""

from __future__ import annotations

from typing import Optional, Union

import attrs

from ..credentials import Credential
from ..extensions import Extension
from ..framing import Sender
from ..proposals import PreSharedKeyID, Proposal
from .state import GroupState, Member

__all__ = [
    "AddedMember",
    "UpdatedMember",
    "CommitEffect",
    "StagedCommit",
    "ApplicationMessage",
    "ProposalReceived",
    "OwnMessageReceived",
    "Output",
    "Processed",
]


@attrs.frozen
class AddedMember:
    """A member a commit adds: its new leaf, credential, signature key and KeyPackageRef."""

    leaf_index: int
    credential: Credential
    signature_key: bytes
    key_package_ref: bytes


@attrs.frozen
class UpdatedMember:
    """A member whose leaf a commit replaces (an Update proposal, or the committer's UpdatePath)."""

    leaf_index: int
    before: Member
    after: Member

    @property
    def credential_changed(self) -> bool:
        return self.before.credential != self.after.credential


@attrs.frozen
class CommitEffect:
    """What a commit changes, for the application's rules and for display (like mls-rs CommitEffect)."""

    epoch: int
    """The epoch the commit starts."""
    committer: int
    committer_credential: Credential
    added: tuple[AddedMember, ...]
    removed: tuple[Member, ...]
    updated: tuple[UpdatedMember, ...]
    extensions_before: tuple[Extension, ...]
    extensions_after: tuple[Extension, ...]
    psks: tuple[PreSharedKeyID, ...]
    proposals: tuple[Proposal, ...]
    proposal_senders: tuple[Sender, ...]
    path_included: bool
    own_leaf_removed: bool

    @property
    def extensions_changed(self) -> bool:
        return self.extensions_before != self.extensions_after


@attrs.frozen
class StagedCommit:
    """A commit ready to merge: the encoded MLSMessage, the Welcome for added members (if any),
    the next epoch's state and the commit's effect. ``from_epoch`` is the epoch it applies to."""

    message: bytes
    welcome: Optional[bytes]
    new_state: GroupState
    effect: CommitEffect
    from_epoch: int

    @property
    def epoch(self) -> int:
        return self.effect.epoch

    @property
    def ratchet_tree(self) -> bytes:
        """The new epoch's ratchet tree (extension encoding), for joiners whose Welcome lacks it."""
        return self.new_state.tree.encode()


@attrs.frozen
class ApplicationMessage:
    """Application data a member sent, decrypted and authenticated (with what else opening it
    revealed: its signature, reuse guard and padding, which rebuild the message with the epoch's keys)."""

    sender_leaf: int
    credential: Credential
    data: bytes
    authenticated_data: bytes
    epoch: int
    generation: int
    # How it was sealed, not what it says: kept out of equality.
    signature: bytes = attrs.field(default=b"", eq=False, repr=False)
    reuse_guard: bytes = attrs.field(default=b"", eq=False, repr=False)
    padding: int = attrs.field(default=0, eq=False)


@attrs.frozen
class ProposalReceived:
    """A valid proposal, now pending by reference until a commit covers it."""

    ref: bytes
    proposal: Proposal
    sender: Sender
    epoch: int


@attrs.frozen
class OwnMessageReceived:
    """A handshake or application message we sent ourselves came back from the delivery service.

    Nothing is processed: for a commit, the caller merges its own StagedCommit.
    """

    content_type: int
    epoch: int


Output = Union[ApplicationMessage, ProposalReceived, StagedCommit, OwnMessageReceived]


@attrs.frozen
class Processed:
    """The result of processing one message: the state to keep and what the message carried.

    For a commit, ``new_state`` is the unchanged pre-commit state: merge ``output`` to advance.
    """

    new_state: GroupState
    output: Output
