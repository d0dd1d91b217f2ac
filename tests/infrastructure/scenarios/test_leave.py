"""libxmtp leave scenarios through the public API (spec section 3): the refusals in libxmtp's order
(non-member, sole member, DM, super admin), a member's leave request completed by a super admin's
sync (transcript ``left_inboxes``), the pending state on every installation of the leaver, and
re-adding a member who left.
"""

from __future__ import annotations

import pytest

from mlsgroup.domain import MembershipState, errors

from .helpers import agree, envelope_count, group_of, joined, member_inboxes, texts, transcripts


def test_sole_member_cannot_leave(net, make_client):
    alice = make_client(net)
    group = alice.create_group([])
    with pytest.raises(errors.SingleMemberLeaveRejected) as caught:
        group.leave()
    assert str(caught.value) == "cannot leave a group that has only one member"


def test_super_admin_cannot_leave(net, make_client):
    alice, bob = make_client(net), make_client(net)
    a, b = group_of(alice, bob)
    with pytest.raises(errors.SuperAdminLeaveForbidden) as caught:
        a.leave()
    assert str(caught.value) == "super-admin cannot leave a group; must be demoted first"
    # Any super admin, not only the last one.
    a.add_super_admin(bob.inbox_id)
    b.sync()
    with pytest.raises(errors.SuperAdminLeaveForbidden):
        b.leave()
    # Once demoted, leaving is allowed.
    a.remove_super_admin(bob.inbox_id)
    b.sync()
    b.leave()
    assert b.membership_state is MembershipState.PENDING_REMOVE


def test_non_member_cannot_leave(net, make_client):
    alice, bob, carol = (make_client(net) for _ in range(3))
    a, b, c = group_of(alice, bob, carol)
    a.remove_members([carol.inbox_id])
    c.sync()
    with pytest.raises(errors.NotAGroupMember) as caught:
        c.leave()
    assert str(caught.value) == "only a member of the group can send a leave request or retract a leave request"


def test_member_leaves_and_a_super_admins_sync_removes_it(any_network, make_client):
    alice, bob, carol = (make_client(any_network) for _ in range(3))
    a, b, c = group_of(alice, bob, carol)
    b.leave()
    assert b.membership_state is MembershipState.PENDING_REMOVE
    assert bob.inbox_id in member_inboxes(b)
    # A plain member's sync records the request but removes nobody.
    c.sync()
    assert bob.inbox_id in member_inboxes(c)
    a.sync()
    assert member_inboxes(a) == sorted([alice.inbox_id, carol.inbox_id])
    c.sync()
    b.sync()
    assert not b.is_active
    for group in (a, c):
        last = transcripts(group)[-1]
        assert last.initiated_by_inbox_id == alice.inbox_id
        assert list(last.left_inboxes) == [bob.inbox_id]
        assert list(last.removed_inboxes) == []
    agree([a, c])
    a.send_text("bob is gone")
    c.sync()
    assert texts(c)[-1] == (alice.inbox_id, b"bob is gone")


def test_pending_leave_survives_on_all_installations_of_the_leaver(net, make_client, tmp_path):
    from mlsgroup.infrastructure import Client

    key = bytes(32)
    alice, carol = make_client(net), make_client(net)
    bob = make_client.track(Client.create(net, store=str(tmp_path / "bob1.db"), encryption_key=key))
    bob2 = make_client.track(bob.register_installation())
    a, b, c = group_of(alice, bob, carol)
    b2 = joined(bob2, a.group_id)
    b.leave()
    b2.sync()
    assert b.membership_state is MembershipState.PENDING_REMOVE
    assert b2.membership_state is MembershipState.PENDING_REMOVE
    # Commits by members who cannot remove leavers leave the request pending.
    c.update_name("carol was here")
    b.sync()
    b2.sync()
    assert b.membership_state is b2.membership_state is MembershipState.PENDING_REMOVE
    bob.close()
    bob = make_client.track(Client.open(net, store=str(tmp_path / "bob1.db"), encryption_key=key))
    assert bob.group(a.group_id).membership_state is MembershipState.PENDING_REMOVE
    a.sync()
    assert bob.inbox_id not in member_inboxes(a)


def test_leaving_again_while_pending_sends_nothing(net, make_client):
    """libxmtp leave_group sends the request only when the inbox is not already pending."""
    alice, bob, carol = (make_client(net) for _ in range(3))
    a, b, c = group_of(alice, bob, carol)
    b.leave()
    count = envelope_count(net, a.group_id)
    b.leave()
    assert envelope_count(net, a.group_id) == count
    assert b.membership_state is MembershipState.PENDING_REMOVE


def test_any_removal_clears_the_pending_request(net, make_client):
    alice, bob, carol = (make_client(net) for _ in range(3))
    a, b, c = group_of(alice, bob, carol)
    a.add_admin(carol.inbox_id)
    c.sync()
    b.leave()
    # An admin (not a super admin) removes the leaver with an ordinary removal.
    c.remove_members([bob.inbox_id])
    a.sync()
    assert member_inboxes(a) == sorted([alice.inbox_id, carol.inbox_id])
    epoch = a.epoch
    a.sync()
    assert a.epoch == epoch, "a super admin's sync committed again for a request already served"


def test_member_who_left_can_be_readded(net, make_client):
    alice, bob, carol = (make_client(net) for _ in range(3))
    a, b, c = group_of(alice, bob, carol)
    b.leave()
    a.sync()
    b.sync()
    assert not b.is_active
    a.add_members([bob.inbox_id])
    back = joined(bob, a.group_id)
    assert back.is_active
    assert back.membership_state is MembershipState.ALLOWED
    a.sync()
    assert bob.inbox_id in member_inboxes(a)
    c.sync()
    agree([a, back, c])
