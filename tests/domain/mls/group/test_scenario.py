"""A whole group's life: create, add three, remove one, self-update, messages both ways and a late
message; after each step every member agrees on the epoch authenticator and the exporter."""

from mlsgroup.domain.mls.group import (
    commit,
    encrypt_application,
    export_secret,
    join_group,
    merge_commit,
    process_message,
)

from .builders import GROUP_ID, key_package, seed


def agree(states):
    assert len({s.epoch for s in states}) == 1
    assert len({s.epoch_authenticator for s in states}) == 1
    assert len({export_secret(s, b"scenario", b"ctx", 32) for s in states}) == 1
    assert len({tuple(s.members()) for s in states}) == 1


def test_group_life_cycle():
    from mlsgroup.domain.mls.group import create_group

    alice = create_group(1, GROUP_ID, key_package(b"alice", 1), seed=seed(2))
    bundles = [key_package(name, 10 + i) for i, name in enumerate((b"bob", b"carol", b"dave"))]

    staged = commit(alice, adds=[b.key_package for b in bundles], seed=seed(3))
    alice = merge_commit(alice, staged)
    bob, carol, dave = (join_group(staged.welcome, b) for b in bundles)
    agree([alice, bob, carol, dave])
    assert alice.epoch == 1

    # bob removes carol (public handshake)
    staged = commit(bob, removes=[carol.own_leaf_index], seed=seed(4), handshake_wire_format="public")
    bob = merge_commit(bob, staged)
    alice, dave, carol = (merge_commit(s, process_message(s, staged.message).output) for s in (alice, dave, carol))
    assert not carol.is_active
    agree([alice, bob, dave])
    assert sorted(m.credential.identity for m in alice.members().values()) == [b"alice", b"bob", b"dave"]

    # dave sends a message that will arrive late, then updates his keys
    dave, late = encrypt_application(dave, b"sent before the update", seed(5))
    staged = commit(dave, seed=seed(6))
    assert staged.effect.path_included and staged.effect.updated[0].leaf_index == dave.own_leaf_index
    dave = merge_commit(dave, staged)
    alice, bob = (merge_commit(s, process_message(s, staged.message).output) for s in (alice, bob))
    agree([alice, bob, dave])

    # messages both ways in the new epoch
    alice, hello = encrypt_application(alice, b"hello", seed(7))
    for reader in (bob, dave):
        output = process_message(reader, hello).output
        assert (output.data, output.sender_leaf, output.epoch) == (b"hello", 0, alice.epoch)
    bob, reply = encrypt_application(bob, b"hi alice", seed(8), b"ad")
    processed = process_message(alice, reply)
    alice = processed.new_state
    assert (processed.output.data, processed.output.authenticated_data) == (b"hi alice", b"ad")

    # the late message of the previous epoch is still readable
    output = process_message(alice, late).output
    assert output.data == b"sent before the update" and output.epoch == alice.epoch - 1
    assert output.credential.identity == b"dave"
