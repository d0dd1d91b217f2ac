"""AfterRemoval: the public part of the epoch a removing commit began, re-derived from the commit.

Checked against the remover's own view of that epoch; a commit that does not remove us, or bytes that
are no commit, are a replay mismatch (the projector only asks for commits recorded as removing us).
"""

from __future__ import annotations

import pytest
from mlsgroup.domain.after_removal import AfterRemoval
from mlsgroup.domain.group_derivations import ReplayMismatch
from mlsgroup.infrastructure import Client, Network
from mlsgroup.infrastructure.persistence import ManualClock


def test_the_public_part_of_a_removing_commit_and_what_is_no_removal() -> None:
    with Network.in_memory(clock=ManualClock()) as net:
        alice, bob, carol = (Client.create(net) for _ in range(3))
        group = alice.create_group([bob.inbox_id, carol.inbox_id])
        bob.sync_welcomes()
        carol.sync_welcomes()
        carols = carol.group(group.group_id)
        before = carols.state().mls
        cursor = group.state().cursor
        group.update_name("renamed")
        carols.sync()
        renamed = carols.state().mls
        group.remove_members([carol.inbox_id])
        carols.sync()
        assert not carols.is_active
        rename, removal = (e.payload for e in net.api.query_group_messages(group.group_id, after_cursor=cursor))

        with pytest.raises(ReplayMismatch):
            AfterRemoval.of_commit(before, rename)  # Carol stays in that epoch
        with pytest.raises(ReplayMismatch):
            AfterRemoval.of_commit(before, b"\x00\x01garbage")
        after = AfterRemoval.of_commit(renamed, removal)
        view = after.xmtp()
        assert view == group.state().xmtp
        assert after == carols.state().after_removal
        for client in (alice, bob, carol):
            client.close()
