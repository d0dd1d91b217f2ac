"""An attacker outside the client API: a registered inbox whose key the test holds, building XMTP
groups with the domain's MLS machine and posting their commits and welcomes straight to the network.

It sends what an honest client refuses to build (a welcome whose GroupMembership extension was
doctored, a commit with an over-long group name); the same path with honest values must be
accepted, which shows that a rejection is about the doctored value and nothing else.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import attrs

from mlsgroup.domain.extensions import (
    GROUP_MEMBERSHIP_EXTENSION_TYPE,
    MUTABLE_METADATA_EXTENSION_TYPE,
    GroupMembership,
)
from mlsgroup.domain.group_state import XmtpGroupState
from mlsgroup.domain.identity import create_inbox, installation_key_pair
from mlsgroup.domain.mls.group import GroupState, commit, create_group
from mlsgroup.domain.welcomes import WelcomeEnvelope
from mlsgroup.domain.xmtp_mls import (
    CIPHERSUITE,
    generate_xmtp_key_package,
    group_context_extensions,
    replace_extensions,
    xmtp_state_of,
)

__all__ = ["Attacker", "MembershipDoctor"]

MembershipDoctor = Callable[[GroupMembership], GroupMembership]


class Attacker:
    """An inbox registered on ``net`` whose installation key is in the test's hands."""

    def __init__(self, net: Any) -> None:
        self.net = net
        self.key, self.installation_id = installation_key_pair(os.urandom(32))
        self.inbox_id = net.identity.publish_identity_update(create_inbox(self.key, net.clock.now_ns())).inbox_id

    def group_with(self, victim: Any, doctor: MembershipDoctor = lambda m: m) -> GroupState:
        """Create a group, add ``victim``'s installation with a commit whose membership extension went
        through ``doctor``, post the commit and the welcome; returns the attacker's group state."""
        now_s = self.net.clock.now_ns() // 1_000_000_000
        bundle = generate_xmtp_key_package(self.inbox_id, self.key, os.urandom(32), now_s)
        xmtp = XmtpGroupState.new_group(self.inbox_id, self.installation_id)
        state = create_group(CIPHERSUITE, os.urandom(16), bundle, extensions=group_context_extensions(xmtp), seed=os.urandom(32))
        sequence_ids = {
            self.inbox_id: self.net.identity.get_inbox_state(self.inbox_id).sequence_id,
            victim.inbox_id: self.net.identity.get_inbox_state(victim.inbox_id).sequence_id,
        }
        membership = doctor(xmtp.membership.with_members(sequence_ids))
        key_package = self.net.api.fetch_key_packages([victim.installation_id])[victim.installation_id]
        staged = commit(
            state,
            adds=[key_package],
            group_context_extensions=replace_extensions(state.extensions, {GROUP_MEMBERSHIP_EXTENSION_TYPE: membership.encode()}),
            update_path=True,
            seed=os.urandom(32),
        )
        (cursor,) = self.net.api.send_group_messages(state.group_id, [staged.message])
        envelope = WelcomeEnvelope(staged.welcome, cursor).encode()
        self.net.api.send_welcome_messages([(victim.installation_id, envelope)])
        return staged.new_state

    def welcome(self, victim: Any, doctor: MembershipDoctor = lambda m: m) -> bytes:
        """``group_with`` returning only the group id."""
        return self.group_with(victim, doctor).group_id

    def set_attribute(self, state: GroupState, field_name: str, value: str) -> GroupState:
        """Commit a mutable-metadata attribute change (no length check) from ``state``; returns the
        attacker's state after it (receivers may reject it)."""
        mutable = xmtp_state_of(state).mutable_metadata
        attributes = dict(mutable.attributes)
        attributes[field_name] = value
        changed = attrs.evolve(mutable, attributes=attributes)
        staged = commit(
            state,
            group_context_extensions=replace_extensions(state.extensions, {MUTABLE_METADATA_EXTENSION_TYPE: changed.encode()}),
            update_path=True,
            seed=os.urandom(32),
        )
        self.net.api.send_group_messages(state.group_id, [staged.message])
        return staged.new_state

