"""Test helpers: groups of inboxes with one installation each (at identity sequence id 1), and the
CommitSummary an honest client would build for a change to such a group."""

from __future__ import annotations

import hashlib
from typing import Iterable

from mlsgroup.domain.commit_summary import AddedInstallation, CommitSummary, LeafIdentity, RemovedInstallation
from mlsgroup.domain.extensions import (
    ConversationType,
    DmMembers,
    GroupMembership,
    GroupMetadata,
    GroupMutableMetadata,
    GroupMutablePermissions,
    GROUP_MEMBERSHIP_EXTENSION_TYPE,
    GROUP_METADATA_EXTENSION_TYPE,
    GROUP_PERMISSIONS_EXTENSION_TYPE,
    MUTABLE_METADATA_EXTENSION_TYPE,
)
from mlsgroup.domain.group_state import XmtpGroupState
from mlsgroup.domain.policies import PolicySet

SEQ = 1


def inst(inbox_id: str) -> bytes:
    """The single installation id of ``inbox_id`` in these tests."""
    return hashlib.sha256(inbox_id.encode()).digest()


def leaf(inbox_id: str) -> LeafIdentity:
    return LeafIdentity(inbox_id, inst(inbox_id))


def identities(inboxes: Iterable[str]) -> dict[tuple[str, int], frozenset[bytes]]:
    return {(inbox, SEQ): frozenset({inst(inbox)}) for inbox in inboxes}


def group(
    creator: str,
    members: Iterable[str] = (),
    *,
    admins: Iterable[str] = (),
    super_admins: Iterable[str] | None = None,
    permissions: PolicySet | None = None,
    attributes: dict[str, str] | None = None,
) -> XmtpGroupState:
    """A GROUP whose members (creator included) are all at sequence id 1."""
    inboxes = [creator, *[m for m in members if m != creator]]
    mutable = GroupMutableMetadata.new_group(creator)
    if attributes:
        for key, value in attributes.items():
            mutable = mutable.with_attribute(key, value)
    mutable = GroupMutableMetadata(
        mutable.attributes, tuple(admins), (creator,) if super_admins is None else tuple(super_admins)
    )
    return XmtpGroupState(
        metadata=GroupMetadata(ConversationType.GROUP, creator),
        mutable_metadata=mutable,
        membership=GroupMembership({inbox: SEQ for inbox in inboxes}),
        permissions=PolicySet.default() if permissions is None else permissions,
        leaves={inst(inbox): inbox for inbox in inboxes},
    )


def dm(creator: str, target: str, *, joined: bool = True) -> XmtpGroupState:
    """A DM between ``creator`` and ``target`` (before the target's add when not ``joined``)."""
    inboxes = [creator, target] if joined else [creator]
    return XmtpGroupState(
        metadata=GroupMetadata(ConversationType.DM, creator, dm_members=DmMembers(creator, target)),
        mutable_metadata=GroupMutableMetadata.new_dm(),
        membership=GroupMembership({inbox: SEQ for inbox in inboxes}),
        permissions=PolicySet.dm(),
        leaves={inst(inbox): inbox for inbox in inboxes},
    )


def commit(
    state: XmtpGroupState,
    committer: str,
    *,
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    mutable: GroupMutableMetadata | None = None,
    permissions: PolicySet | None = None,
    metadata: GroupMetadata | None = None,
    membership: GroupMembership | None = None,
    proposer: str | None = None,
    drop: Iterable[int] = (),
    **flags: bool,
) -> CommitSummary:
    """The honest commit by ``committer`` making these changes (``drop`` omits extension types)."""
    add, remove = list(add), list(remove)
    new_membership = membership
    if new_membership is None:
        new_membership = state.membership.with_members({i: SEQ for i in add}).without_members(remove)
    by = None if proposer is None else leaf(proposer)
    extensions = {
        GROUP_METADATA_EXTENSION_TYPE: (metadata or state.metadata).encode(),
        MUTABLE_METADATA_EXTENSION_TYPE: (mutable or state.mutable_metadata).encode(),
        GROUP_MEMBERSHIP_EXTENSION_TYPE: new_membership.encode(),
        GROUP_PERMISSIONS_EXTENSION_TYPE: GroupMutablePermissions(permissions or state.permissions).encode(),
    }
    for extension_type in drop:
        extensions.pop(extension_type)
    return CommitSummary(
        sender=leaf(committer),
        new_extensions=extensions,
        added_installations=[AddedInstallation(inst(i), i, by) for i in add],
        removed_installations=[
            RemovedInstallation(installation, by)
            for installation, inbox in state.leaves.items()
            if inbox in remove
        ],
        **flags,
    )
