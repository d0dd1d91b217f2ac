"""XMTP's commit validation plugged into the MLS machine (libxmtp spec section 5, RFC 9420 12.2 MlsRules).

``summarize`` reduces an MLS ``CommitEffect`` to the ``CommitSummary`` XMTP's rules read (leaves as
(inbox id, installation id), proposers, the new extensions). ``XmtpRules`` is the ``MlsRules`` the
group passes to ``process_message``: it validates every commit against the PRE-commit state with the
identity states it asks ``fetch_identities`` for, remembers what it fetched and what it concluded
(so the outcome can be recorded and replayed without I/O), and rejects a violating commit with
``CommitRejectedByPolicy``. Standalone proposals are refused: XMTP commits everything by value.
"""

from __future__ import annotations

from typing import Callable, Collection, Mapping, Optional

from .commit_summary import (
    AddedInstallation,
    CommitSummary,
    CommitViolation,
    LeafIdentity,
    RemovedInstallation,
    ValidatedCommit,
)
from .mls.enums import ProposalType, SenderType
from .mls.errors import ProtocolError
from .mls.framing import Sender
from .mls.group import CommitEffect, GroupState
from .mls.proposals import Proposal
from .mls.tree_structs import LeafNode
from .group_state import XmtpGroupState
from .validation import required_identity_states, validate_commit
from .xmtp_mls import credential_inbox_id, extension_map, leaf_inbox_id, xmtp_state_of

__all__ = [
    "IdentityFetcher",
    "CommitRejectedByPolicy",
    "ProposalsNotSupported",
    "summarize",
    "XmtpRules",
    "check_own_commit",
]

IdentityStates = Mapping[tuple[str, int], Collection[bytes]]
IdentityFetcher = Callable[[frozenset[tuple[str, int]]], IdentityStates]


class CommitRejectedByPolicy(ProtocolError):
    """A commit breaks one of XMTP's commit-validation rules (remote party's fault)."""

    def __init__(self, violation: CommitViolation) -> None:
        self.violation = violation
        super().__init__(f"{violation.violation.value}: {violation.detail}")


class ProposalsNotSupported(ProtocolError):
    """A standalone proposal: XMTP groups commit every change by value."""


def _identity(leaf: LeafNode) -> LeafIdentity:
    return LeafIdentity(leaf_inbox_id(leaf), leaf.signature_key)


def _proposer(state: GroupState, sender: Sender, committer: int) -> Optional[LeafIdentity]:
    if sender.TAG != SenderType.MEMBER:
        return LeafIdentity("", b"")
    if sender.leaf_index == committer:
        return None
    leaf = state.tree.leaf(sender.leaf_index)
    return None if leaf is None else _identity(leaf)


def summarize(state: GroupState, effect: CommitEffect) -> CommitSummary:
    """The CommitSummary of ``effect`` (a commit on ``state``, the pre-commit state)."""
    committer_leaf = state.tree.leaf(effect.committer)
    sender = None if committer_leaf is None else _identity(committer_leaf)
    proposers = list(zip(effect.proposals, effect.proposal_senders))
    add_proposers = [_proposer(state, s, effect.committer) for p, s in proposers if p.TAG == ProposalType.ADD]
    added = []
    for position, member in enumerate(effect.added):
        proposer = add_proposers[position] if position < len(add_proposers) else None
        added.append(
            AddedInstallation(member.signature_key, credential_inbox_id(member.credential), proposer)
        )
    remove_proposers = {
        p.removed: _proposer(state, s, effect.committer) for p, s in proposers if p.TAG == ProposalType.REMOVE
    }
    removed = [
        RemovedInstallation(member.signature_key, remove_proposers.get(member.leaf_index))
        for member in effect.removed
    ]
    path_leaf = None
    updated = []
    for change in effect.updated:
        after = LeafIdentity(credential_inbox_id(change.after.credential), change.after.signature_key)
        if change.leaf_index == effect.committer and effect.path_included:
            path_leaf = after
        else:
            updated.append(after)
    return CommitSummary(
        sender=sender,
        new_extensions=extension_map(effect.extensions_after),
        path_leaf=path_leaf,
        added_installations=added,
        removed_installations=removed,
        updated_leaves=updated,
        has_psk_proposals=bool(effect.psks),
        has_external_proposals=any(s.TAG != SenderType.MEMBER for s in effect.proposal_senders),
    )


def _check(
    state: GroupState, effect: CommitEffect, fetch: IdentityFetcher, xmtp: Optional[XmtpGroupState]
) -> tuple[ValidatedCommit | CommitViolation, dict[tuple[str, int], frozenset[bytes]]]:
    if xmtp is None:
        xmtp = xmtp_state_of(state)
    summary = summarize(state, effect)
    needed = required_identity_states(xmtp, summary)
    identities = {key: frozenset(value) for key, value in fetch(needed).items()} if needed else {}
    return validate_commit(xmtp, summary, identities), identities


class XmtpRules:
    """MlsRules applying XMTP's commit validation; keeps the last verdict and the identities it read."""

    def __init__(self, fetch_identities: IdentityFetcher, known: Optional[tuple[GroupState, XmtpGroupState]] = None) -> None:
        self._fetch = fetch_identities
        self._known = known
        self.validated: Optional[ValidatedCommit] = None
        self.identities: dict[tuple[str, int], frozenset[bytes]] = {}

    def validate_proposal(self, state: GroupState, proposal: Proposal, sender: Sender) -> None:
        raise ProposalsNotSupported("XMTP groups do not accept standalone proposals")

    def validate_commit(self, state: GroupState, effect: CommitEffect) -> None:
        known = self._known
        xmtp = known[1] if known is not None and known[0] is state else None
        result, self.identities = _check(state, effect, self._fetch, xmtp)
        if isinstance(result, CommitViolation):
            raise CommitRejectedByPolicy(result)
        self.validated = result


def check_own_commit(
    state: GroupState,
    effect: CommitEffect,
    fetch_identities: IdentityFetcher,
    xmtp: Optional[XmtpGroupState] = None,
) -> tuple[ValidatedCommit | CommitViolation, dict[tuple[str, int], frozenset[bytes]]]:
    """Validate a commit we staged ourselves, as every receiver will: (verdict, identities read).
    ``xmtp`` is ``state``'s XMTP view when the caller has it already."""
    return _check(state, effect, fetch_identities, xmtp)
