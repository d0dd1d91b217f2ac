"""The installations a membership change must add and remove, derived from identity states
(libxmtp get_installation_diff), and the identity states that derivation needs.

An identity state is the set of installation ids an inbox has at one identity sequence id; the
caller fetches them (the domain does no I/O) and passes them as a mapping keyed (inbox_id,
sequence_id). Sequence id 0 is the creator's placeholder: it stands for "no identity state read yet",
so nothing is looked up for it.
"""

from __future__ import annotations

from typing import AbstractSet, Collection, Iterable, Mapping

import attrs

from . import errors
from .extensions import GroupMembership

__all__ = [
    "IdentityStates",
    "InstallationDiff",
    "installations_at",
    "expected_installation_diff",
    "identity_requirements",
    "removal_mismatch",
]

IdentityStates = Mapping[tuple[str, int], Collection[bytes]]


@attrs.frozen
class InstallationDiff:
    """Installations expected to be added (by inbox) and removed."""

    added_by_inbox: Mapping[str, frozenset[bytes]]
    removed: frozenset[bytes]

    @property
    def added(self) -> frozenset[bytes]:
        return frozenset().union(*self.added_by_inbox.values())


def installations_at(identities: IdentityStates, inbox_id: str, sequence_id: int) -> frozenset[bytes]:
    """The installations of ``inbox_id`` at ``sequence_id`` (MissingIdentityState if not supplied)."""
    if sequence_id == 0:
        return frozenset()
    try:
        return frozenset(identities[(inbox_id, sequence_id)])
    except KeyError:
        raise errors.MissingIdentityState(inbox_id, sequence_id) from None


def _tree_installations(leaves: Mapping[bytes, str], inbox_id: str) -> frozenset[bytes]:
    return frozenset(inst for inst, inbox in leaves.items() if inbox == inbox_id)


def expected_installation_diff(
    old: GroupMembership,
    new: GroupMembership,
    leaves: Mapping[bytes, str],
    identities: IdentityStates,
) -> InstallationDiff:
    """What the tree must gain and lose for ``old`` -> ``new``: added and updated inboxes gain their
    new installations and lose revoked ones; removed inboxes lose every installation."""
    diff = old.diff(new)
    added: dict[str, frozenset[bytes]] = {}
    removed: set[bytes] = set()
    for inbox_id in (*diff.added_inboxes, *diff.updated_inboxes):
        old_seq = old.sequence_id(inbox_id) or 0
        before = installations_at(identities, inbox_id, old_seq)
        after = installations_at(identities, inbox_id, new.members[inbox_id])
        added[inbox_id] = after - before
        removed |= before - after
    for inbox_id in diff.removed_inboxes:
        old_seq = old.members[inbox_id]
        # A placeholder member was never read from its identity; its leaves are what it has.
        if old_seq == 0:
            removed |= _tree_installations(leaves, inbox_id)
        else:
            removed |= installations_at(identities, inbox_id, old_seq)
    return InstallationDiff(added, frozenset(removed))


def identity_requirements(
    old: GroupMembership,
    new: GroupMembership,
    credential_inboxes: Iterable[str] = (),
) -> frozenset[tuple[str, int]]:
    """Every (inbox_id, sequence_id) whose identity state validating a commit from ``old`` to ``new``
    reads: the diff's, plus the new state of each inbox whose credential is verified."""
    diff = old.diff(new)
    needed: set[tuple[str, int]] = set()

    def need(inbox_id: str, sequence_id: int | None) -> None:
        if sequence_id:
            needed.add((inbox_id, sequence_id))

    for inbox_id in (*diff.added_inboxes, *diff.updated_inboxes):
        need(inbox_id, old.sequence_id(inbox_id))
        need(inbox_id, new.sequence_id(inbox_id))
    for inbox_id in diff.removed_inboxes:
        need(inbox_id, old.sequence_id(inbox_id))
    for inbox_id in credential_inboxes:
        need(inbox_id, new.sequence_id(inbox_id))
    return frozenset(needed)


def removal_mismatch(actual: AbstractSet[bytes], expected: AbstractSet[bytes]) -> str:
    """libxmtp's detail for UnexpectedInstallationsRemoved: the unexpected ids as Rust prints them."""
    return str([list(inst) for inst in sorted(actual - expected)])
