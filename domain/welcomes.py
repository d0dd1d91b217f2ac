"""Welcomes (libxmtp spec section 7): the welcome-topic payload, and joining a group from one.

A welcome-topic payload is a ``WelcomeEnvelope``: the MLS Welcome (an encoded MLSMessage) and the
cursor of the commit that added the recipient on the group's topic, where the joiner starts reading
(libxmtp's welcome metadata ``message_cursor``)::

    struct { opaque welcome<V>; uint64 cursor; } WelcomeEnvelope;

``open_welcome_for`` joins the MLS group with the matching key-package bundle and runs XMTP's checks:
a GROUP or DM conversation, DM validation, and the initial membership (every leaf is an installation
of its credential's inbox at the recorded sequence id; every expected installation is in the tree or
listed as failed, else InvalidGroupMembership). Any failure raises ``WelcomeRejected`` naming why.
"""

from __future__ import annotations

from typing import Callable, Collection, Mapping, Optional

import attrs

from . import errors
from .identity_errors import IdentityError
from .conversation import dm_id, validate_dm_welcome
from .extensions import ConversationType
from .group_state import XmtpGroupState
from .mls.codec import opaque, uint64, wire, wire_struct
from .mls.errors import DecodeError, MlsError
from .mls.group import GroupState, KeyPackageBundle, join_group
from .mls.group.join import decode_welcome, open_welcome
from .xmtp_mls import leaf_inbox_id, xmtp_state_of

__all__ = [
    "WelcomeEnvelope",
    "WelcomeRejected",
    "JoinedGroup",
    "open_welcome_for",
    "check_initial_membership",
]

IdentityStates = Mapping[tuple[str, int], Collection[bytes]]


@wire_struct
class WelcomeEnvelope:
    """What a welcome topic carries: the Welcome and the cursor of the commit that added us."""

    welcome: bytes = wire(opaque)
    cursor: int = wire(uint64)


class WelcomeRejected(Exception):
    """A welcome we cannot or must not act on; ``reason`` names the failed check."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


@attrs.frozen
class JoinedGroup:
    """A validated welcome: the joined MLS state, its XMTP view, who added us and where to read from."""

    envelope: WelcomeEnvelope
    bundle: KeyPackageBundle
    mls: GroupState
    xmtp: XmtpGroupState
    added_by_inbox_id: str
    conversation_type: ConversationType
    dm_id: Optional[str]
    server_time_ns: Optional[int] = None
    """When the delivery service received the welcome (None if the caller did not say)."""

    @property
    def group_id(self) -> bytes:
        return self.mls.group_id


def check_initial_membership(xmtp: XmtpGroupState, identities: IdentityStates) -> None:
    """InvalidGroupMembership unless the tree matches the membership extension (see module docstring)."""
    membership = xmtp.membership
    failed = set(membership.failed_installations)
    for installation, inbox in xmtp.leaves.items():
        sequence_id = membership.sequence_id(inbox)
        if sequence_id is None:
            raise errors.InvalidGroupMembership()
        if sequence_id and installation not in identities.get((inbox, sequence_id), ()):
            raise errors.InvalidGroupMembership()
    for inbox, sequence_id in membership.members.items():
        if not sequence_id:
            continue
        for installation in identities.get((inbox, sequence_id), ()):
            if installation not in xmtp.leaves and installation not in failed:
                raise errors.InvalidGroupMembership()


def _reject(exc: Exception) -> WelcomeRejected:
    return WelcomeRejected(type(exc).__name__, str(exc))


def open_welcome_for(
    payload: bytes,
    our_inbox_id: str,
    find_bundle: Callable[[bytes], Optional[KeyPackageBundle]],
    fetch_identities: Callable[[frozenset[tuple[str, int]]], IdentityStates],
    server_time_ns: Optional[int] = None,
) -> JoinedGroup:
    """Join the group of a welcome-topic payload, or raise WelcomeRejected.

    ``find_bundle`` maps a KeyPackageRef to our bundle; ``fetch_identities`` returns the
    installations of each (inbox id, sequence id) asked for (the caller's I/O); ``server_time_ns``
    is the welcome envelope's server time, which stamps the "you were added" transcript (libxmtp)."""
    try:
        envelope = WelcomeEnvelope.decode(payload)
        welcome = decode_welcome(envelope.welcome)
    except (DecodeError, MlsError) as exc:
        raise _reject(exc) from None
    bundle = None
    for entry in welcome.secrets:
        bundle = find_bundle(entry.new_member)
        if bundle is not None:
            break
    if bundle is None:
        raise WelcomeRejected("WelcomeNotForUs", "no entry is for one of our key packages")
    try:
        opened = open_welcome(welcome, bundle.ref, bundle.init_private, bundle.suite_id)
        mls = join_group(envelope.welcome, bundle)
        xmtp = xmtp_state_of(mls)
    except (DecodeError, MlsError) as exc:
        raise _reject(exc) from None
    signer = mls.tree.leaf(opened.group_info.signer)
    added_by = "" if signer is None else leaf_inbox_id(signer)
    kind = xmtp.conversation_type
    if kind not in (ConversationType.GROUP, ConversationType.DM):
        raise WelcomeRejected("UnsupportedConversationType", kind.name)
    conversation_id = None
    try:
        if kind is ConversationType.DM:
            validate_dm_welcome(xmtp, our_inbox_id, added_by)
            members = xmtp.metadata.dm_members
            conversation_id = dm_id(members.member_one_inbox_id, members.member_two_inbox_id)  # type: ignore[union-attr]
        needed = frozenset((inbox, seq) for inbox, seq in xmtp.membership.members.items() if seq)
        check_initial_membership(xmtp, fetch_identities(needed) if needed else {})
    except (errors.GroupError, IdentityError) as exc:
        raise _reject(exc) from None
    return JoinedGroup(envelope, bundle, mls, xmtp, added_by, kind, conversation_id, server_time_ns)
