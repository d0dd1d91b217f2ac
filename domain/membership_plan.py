"""Planning a membership commit at publish time (libxmtp get_membership_update_intent, spec sections 1, 6, 7).

An UpdateGroupMembership intent names inboxes to add and remove; what the commit does is decided
only when it is published, against the membership of that epoch and the inboxes' latest identity
states: every kept or added inbox moves to its latest sequence id, the installations those identity
changes imply are added (with their fetched key packages) or removed, and installations whose key
package is missing or invalid are recorded in ``failed_installations``. The planner is pure: the
caller fetches the identity states (``inboxes_to_fetch``) and the key packages
(``installations_to_fetch``) and passes them in.
"""

from __future__ import annotations

from typing import Mapping, Optional, Union

import attrs

from .configuration import CIPHERSUITE
from .conversation import check_group_size
from .extensions import GROUP_MEMBERSHIP_EXTENSION_TYPE, GroupMembership
from .group_errors import CannotRemoveSelf, FailedToVerifyInstallations
from .group_state import XmtpGroupState
from .identity import InboxState
from .installation_diff import InstallationDiff, expected_installation_diff
from .intents import CommitPlan, UpdateGroupMembershipData
from .mls.errors import DecodeError, MlsError
from .mls.group import GroupState, decode_key_package_message, validate_key_package
from .xmtp_mls import extension_pairs, key_package_problem, replace_extensions

__all__ = [
    "NothingToCommit",
    "MembershipChange",
    "inboxes_to_fetch",
    "membership_change",
    "plan_membership_commit",
]


@attrs.frozen
class NothingToCommit:
    """The intent has nothing left to do at this epoch (e.g. another member already added the inbox)."""


@attrs.frozen
class MembershipChange:
    """The new membership and the installation diff it implies (before key packages are fetched)."""

    membership: GroupMembership
    diff: InstallationDiff
    added_inboxes: tuple[str, ...]
    to_add: Mapping[bytes, str]
    to_remove: frozenset[bytes]


def inboxes_to_fetch(xmtp: XmtpGroupState, data: UpdateGroupMembershipData) -> tuple[str, ...]:
    """Every inbox whose latest identity state the plan reads: members and inboxes to add."""
    inboxes = dict.fromkeys(xmtp.membership.members)
    inboxes.update(dict.fromkeys(data.add_inbox_ids))
    return tuple(inboxes)


def _identities(states: Mapping[str, InboxState], pairs) -> dict[tuple[str, int], frozenset[bytes]]:
    return {(inbox, seq): states[inbox].installations_at(seq) for inbox, seq in pairs if seq}


def membership_change(
    xmtp: XmtpGroupState, data: UpdateGroupMembershipData, states: Mapping[str, InboxState]
) -> MembershipChange:
    """The membership after the intent, at each inbox's latest sequence id (UserLimitExceeded if too big)."""
    old = xmtp.membership
    removing = {inbox for inbox in data.remove_inbox_ids if inbox in old.members}
    adding = tuple(dict.fromkeys(i for i in data.add_inbox_ids if i not in old.members and i not in removing))
    check_group_size(old.members, adding)
    members = {inbox: states[inbox].sequence_id for inbox in old.members if inbox not in removing}
    for inbox in adding:
        members[inbox] = states[inbox].sequence_id
    for inbox, seq in old.members.items():
        if inbox in members and members[inbox] < seq:
            members[inbox] = seq
    new = GroupMembership(members, ())
    pairs = {(inbox, seq) for inbox, seq in old.members.items()} | set(members.items())
    diff = expected_installation_diff(old, new, xmtp.leaves, _identities(states, pairs))
    to_add = {
        installation: inbox
        for inbox, installations in diff.added_by_inbox.items()
        for installation in sorted(installations)
        if installation not in xmtp.leaves
    }
    to_remove = frozenset(i for i in diff.removed if i in xmtp.leaves)
    return MembershipChange(new, diff, adding, to_add, to_remove)


def _usable(raw: Optional[bytes], inbox: str, installation: bytes, now_s: Optional[int]) -> Optional[bytes]:
    if raw is None:
        return None
    try:
        key_package = decode_key_package_message(raw)
        validate_key_package(key_package, suite_id=CIPHERSUITE, now=now_s)
    except (DecodeError, MlsError):
        return None
    if key_package_problem(key_package, inbox, installation) is not None:
        return None
    return raw


def plan_membership_commit(
    mls: GroupState,
    xmtp: XmtpGroupState,
    change: MembershipChange,
    key_packages: Mapping[bytes, bytes],
    now_s: Optional[int],
) -> Union[CommitPlan, NothingToCommit]:
    """The commit carrying ``change``, given the fetched key packages (installation id -> MLSMessage).

    FailedToVerifyInstallations if an inbox to add has no usable key package at all."""
    old = xmtp.membership
    adds: list[bytes] = []
    added_installations: list[bytes] = []
    failed: set[bytes] = set()
    for installation, inbox in change.to_add.items():
        usable = _usable(key_packages.get(installation), inbox, installation, now_s)
        if usable is None:
            failed.add(installation)
        else:
            adds.append(usable)
            added_installations.append(installation)
    for inbox in change.added_inboxes:
        wanted = change.diff.added_by_inbox.get(inbox, frozenset())
        if not wanted or wanted <= failed:
            raise FailedToVerifyInstallations(",".join(sorted(i.hex() for i in wanted)))
    # Earlier failures stay listed while their installation still has no leaf and is not being
    # removed, so later commits keep agreeing on which installations are missing on purpose; an
    # installation expected to go that never had a leaf must be listed for this commit to validate.
    leafless_removed = {i for i in change.diff.removed if i not in xmtp.leaves}
    failed |= {i for i in old.failed_installations if i not in xmtp.leaves and i not in change.diff.removed}
    failed |= leafless_removed - set(old.failed_installations)
    membership = attrs.evolve(change.membership, failed_installations=tuple(sorted(failed)))
    if membership == old and not adds and not change.to_remove:
        return NothingToCommit()
    own = mls.own_leaf_index
    removes = sorted(index for index, leaf in mls.tree.leaves() if leaf.signature_key in change.to_remove)
    if own in removes:
        raise CannotRemoveSelf()
    extensions = replace_extensions(mls.extensions, {GROUP_MEMBERSHIP_EXTENSION_TYPE: membership.encode()})
    return CommitPlan(
        adds=tuple(adds),
        added_installations=tuple(added_installations),
        removes=tuple(removes),
        extensions=extension_pairs(extensions),
        update_path=True,
    )
