"""XmtpGroupState: new groups and DMs as libxmtp creates them, extension round trips."""

import pytest

from mlsgroup.domain.extensions import (
    GROUP_MEMBERSHIP_EXTENSION_TYPE,
    ConversationType,
)
from mlsgroup.domain.group_state import XmtpGroupState
from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.policies import PolicySet, Preset


def test_new_group():
    state = XmtpGroupState.new_group("alice", b"i" * 32, name="n")
    assert state.conversation_type is ConversationType.GROUP
    assert state.membership.members == {"alice": 0}
    assert state.mutable_metadata.super_admin_list == ("alice",) and state.mutable_metadata.admin_list == ()
    assert state.permissions.preset() is Preset.DEFAULT
    assert state.actor("alice").is_super_admin and state.actor("alice").is_creator
    assert state.installations_of("alice") == {b"i" * 32}


def test_new_dm():
    state = XmtpGroupState.new_dm("alice", b"i" * 32, "bob")
    assert state.conversation_type is ConversationType.DM
    assert state.metadata.dm_members.inboxes() == {"alice", "bob"}
    assert state.mutable_metadata.super_admin_list == () and state.permissions == PolicySet.dm()
    assert not state.actor("alice").is_super_admin


def test_extensions_round_trip():
    state = XmtpGroupState.new_group("alice", b"i" * 32, PolicySet.admins_only(), description="d")
    assert XmtpGroupState.from_extensions(state.extensions(), state.leaves) == state


def test_missing_extension_is_a_decode_error():
    state = XmtpGroupState.new_group("alice", b"i" * 32)
    extensions = dict(state.extensions())
    del extensions[GROUP_MEMBERSHIP_EXTENSION_TYPE]
    with pytest.raises(DecodeError):
        XmtpGroupState.from_extensions(extensions, state.leaves)
