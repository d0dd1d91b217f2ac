"""The application's rules for proposals and commits (RFC 9420 12.2: "An application may extend the
above procedure by additional rules"): one protocol through which a policy, such as XMTP's
permissions, accepts or rejects what a message would change. The MLS code never decides roles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ..framing import Sender
from ..proposals import Proposal

if TYPE_CHECKING:  # pragma: no cover
    from .outputs import CommitEffect
    from .state import GroupState

__all__ = ["MlsRules", "AcceptAll", "validate_proposal", "validate_commit"]


class MlsRules(Protocol):
    """Decides whether a proposal or a commit is acceptable; raise (any MlsError subclass) to reject.

    ``state`` is the group state before the message. A rejected message leaves the state unchanged.
    """

    def validate_proposal(self, state: "GroupState", proposal: Proposal, sender: Sender) -> None: ...

    def validate_commit(self, state: "GroupState", effect: "CommitEffect") -> None: ...


class AcceptAll:
    """Rules that accept every proposal and commit that RFC 9420 accepts."""

    def validate_proposal(self, state: "GroupState", proposal: Proposal, sender: Sender) -> None:
        return None

    def validate_commit(self, state: "GroupState", effect: "CommitEffect") -> None:
        return None


def validate_proposal(rules: object, state: "GroupState", proposal: Proposal, sender: Sender) -> None:
    """Ask ``rules`` (None: accept) about a proposal; rules without the method accept proposals."""
    check = getattr(rules, "validate_proposal", None)
    if check is not None:
        check(state, proposal, sender)


def validate_commit(rules: object, state: "GroupState", effect: "CommitEffect") -> None:
    """Ask ``rules`` (None: accept) about a commit's effect."""
    check = getattr(rules, "validate_commit", None)
    if check is not None:
        check(state, effect)
