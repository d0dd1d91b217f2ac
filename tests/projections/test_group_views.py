"""The group read models against live clients: after any sequence of group operations, the durable views of
an installation's store (catch-up on memory, SQLite or PostgreSQL) answer what the client's queries answer,
agree with the group aggregates' standing, intents and extensions, and equal a rebuild from scratch and the
pure replay of its events."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlsgroup.domain import ConsentState, MembershipState, errors
from mlsgroup.domain.intents import IntentKind, IntentState
from mlsgroup.infrastructure import Client, Network
from mlsgroup.infrastructure.persistence import StoreSettings
from mlsgroup.infrastructure.projecting import OneOf, ViewRunner
from mlsgroup.projections import (
    ADMIN_LIST,
    MESSAGE_ORDER,
    SUPER_ADMIN_LIST,
    group_record,
    group_views,
    replay,
    stored_message,
)

OPERATIONS = ["send_a", "send_b", "rename_a", "rename_b", "add_carol", "remove_carol", "admin_bob",
              "key_update_b", "bob_removes_carol", "sync_a", "dm"]


def _dump(runner: ViewRunner) -> dict[str, Any]:
    return {t.name: {tuple(r[c] for c in t.key): r for r in runner.select(t.name)} for t in runner.view.schema.tables}


def assert_matches_live(runner: ViewRunner, client: Client) -> None:
    runner.catch_up()
    live_rows = client.views.rows()
    assert len(runner.select("groups")) == len(live_rows)
    for live in live_rows:
        group_id = live.group_id
        assert attrs.asdict(group_record(runner.get("groups", (group_id,))), recurse=False) == attrs.asdict(
            live, recurse=False)
        aggregate = client.group_store.load(group_id)
        assert (live.epoch, live.is_active, live.membership_state, live.consent_state, live.added_by_inbox_id,
                live.created_at_ns, live.conversation_type, live.dm_id) == (
            aggregate.epoch, aggregate.is_active, aggregate.membership_state, aggregate.consent_state,
            aggregate.added_by_inbox_id, aggregate.created_at_ns, aggregate.conversation_type, aggregate.dm_id)
        mine = [stored_message(r) for r in runner.select("group_messages", {"group_id": group_id},
                                                         order_by=MESSAGE_ORDER)]
        theirs = client.views.messages([group_id])
        assert mine == theirs
        state = client.group_store.load(group_id)
        for intent in state.intents:
            row = runner.get("group_intents", (intent.intent_id,))
            assert (row["kind"], row["state"], row["payload_hash"], row["published_in_epoch"],
                    row["publish_attempts"], row["error"]) == (
                intent.kind.value, intent.state.value, intent.payload_hash, intent.published_in_epoch,
                intent.publish_attempts, intent.error)
        assert runner.get("group_extension_state", (group_id,))["known"]  # every event carries its extensions
        xmtp = state.xmtp
        where = {"group_id": group_id}
        assert {r["name"]: r["value"] for r in runner.select("group_attributes", where)} == dict(
            xmtp.mutable_metadata.attributes)
        for number, expected in ((ADMIN_LIST, xmtp.mutable_metadata.admin_list),
                                 (SUPER_ADMIN_LIST, xmtp.mutable_metadata.super_admin_list)):
            assert [r["inbox_id"] for r in runner.select("group_admins", {**where, "list": number},
                                                         order_by=["position"])] == list(expected)
        assert {r["inbox_id"]: int(r["sequence_id"]) for r in runner.select("group_members", where)} == dict(
            xmtp.membership.members)
        assert runner.get("group_policies", (group_id,))["policy_set"] == xmtp.permissions.encode()
    assert _dump(runner) == replay(group_views, client.group_store.stored_events())


def _run(operation: str, alice: Client, bob: Client, carol: Client, groups: dict[str, Any]) -> None:
    a, b = groups["a"], groups["b"]
    try:
        if operation == "send_a":
            a.send_text("from alice")
        elif operation == "send_b":
            b.sync()
            b.send(b"from bob", content_type="test/bytes")
        elif operation == "rename_a":
            a.update_name(f"alice's {a.epoch}")
        elif operation == "rename_b":
            b.sync()
            b.update_name(f"bob's {b.epoch}")
        elif operation == "add_carol":
            a.add_members([carol.inbox_id])
        elif operation == "remove_carol":
            a.remove_members([carol.inbox_id])
        elif operation == "admin_bob":
            a.add_admin(bob.inbox_id)
        elif operation == "key_update_b":
            b.sync()
            b.key_update()
        elif operation == "bob_removes_carol":
            b.sync()
            b.remove_members([carol.inbox_id])
        elif operation == "sync_a":
            a.sync()
        elif operation == "dm":
            alice.find_or_create_dm(carol.inbox_id).send_text("psst")
    except errors.GroupError:
        pass  # refused operations leave their intents in ERROR: part of what the views must show


@pytest.fixture
def clients(backend: Any) -> Any:
    net = Network.in_memory()
    store = backend.settings(encryption_key=bytes(range(32)))
    made = [Client.create(net, store=store), Client.create(net), Client.create(net)]
    yield store, made
    for client in made:
        client.close()


def _group_of(alice: Client, bob: Client) -> dict[str, Any]:
    a = alice.create_group([bob.inbox_id], name="first")
    (b,) = [g for g in bob.sync_welcomes() if g.group_id == a.group_id]
    return {"a": a, "b": b}


def test_a_scripted_conversation(clients: Any) -> None:
    store, (alice, bob, carol) = clients
    groups = _group_of(alice, bob)
    with ViewRunner.open(alice.group_store.app, store, group_views) as runner:
        for operation in ["send_a", "send_b", "sync_a", "rename_a", "add_carol", "bob_removes_carol", "sync_a",
                          "rename_b", "sync_a", "admin_bob", "key_update_b", "sync_a", "dm", "remove_carol"]:
            _run(operation, alice, bob, carol, groups)
        assert_matches_live(runner, alice)
        group_id = groups["a"].group_id
        dm_ids = [r["id"] for r in runner.select("groups") if r["dm_id"] is not None]
        both = runner.select("group_messages", {"group_id": OneOf([group_id, *dm_ids])}, order_by=MESSAGE_ORDER)
        assert [m.id for m in map(stored_message, both)] == [m.id for m in alice.views.messages([group_id, *dm_ids])]
        runner.rebuild()
        assert_matches_live(runner, alice)
    with ViewRunner.open(bob.group_store.app, StoreSettings.memory(), group_views) as runner:
        assert_matches_live(runner, bob)
        refused = runner.select("group_intents", {"state": IntentState.ERROR.value})
        assert [(r["kind"], r["error"]) for r in refused] == [
            (IntentKind.UPDATE_GROUP_MEMBERSHIP.value, "InsufficientPermissions")]


@pytest.mark.parametrize("backend", ["popo", "sqlite"], indirect=True)
def test_any_operation_sequence_keeps_the_views_equal_to_the_live_state(backend: Any) -> None:
    @settings(max_examples=6, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(operations=st.lists(st.sampled_from(OPERATIONS), min_size=1, max_size=10))
    def check(operations: list[str]) -> None:
        net = Network.in_memory()
        store = backend.settings(encryption_key=bytes(range(32)))
        with Client.create(net, store=store) as alice, Client.create(net) as bob, Client.create(net) as carol:
            groups = _group_of(alice, bob)
            with ViewRunner.open(alice.group_store.app, store, group_views, batch_size=3) as runner:
                for operation in operations:
                    _run(operation, alice, bob, carol, groups)
                    runner.catch_up()
                assert_matches_live(runner, alice)

    check()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_reopened_client_store_resumes_its_views(backend: Any) -> None:
    net = Network.in_memory()
    store = backend.settings(encryption_key=bytes(range(32)))
    alice, bob = Client.create(net, store=store), Client.create(net)
    groups = _group_of(alice, bob)
    with ViewRunner.open(alice.group_store.app, store, group_views) as runner:
        _run("send_a", alice, bob, bob, groups)
        runner.catch_up()
        position = runner.position
    _run("send_b", alice, bob, bob, groups)
    _run("sync_a", alice, bob, bob, groups)
    alice.close()
    with Client.open(net, store=store) as reopened:
        with ViewRunner.open(reopened.group_store.app, store, group_views) as runner:
            assert runner.position == position and not runner.was_reset
            assert runner.catch_up() > 0
            assert_matches_live(runner, reopened)
    bob.close()


def test_a_group_our_own_inbox_added_us_to_is_allowed_in_every_view() -> None:
    net = Network.in_memory()
    alice = Client.create(net)
    bob = Client.create(net)
    alice_phone = alice.register_installation()
    try:
        alice.create_group([bob.inbox_id], name="ours")
        (joined,) = alice_phone.sync_welcomes()
        assert joined.membership_state is MembershipState.ALLOWED
        with ViewRunner.open(alice_phone.group_store.app, StoreSettings.memory(), group_views) as runner:
            assert_matches_live(runner, alice_phone)
            row = runner.get("groups", (joined.group_id,))
            assert (row["membership_state"], row["consent_state"]) == (
                MembershipState.ALLOWED.value, ConsentState.ALLOWED.value)
    finally:
        for client in (alice_phone, bob, alice):
            client.close()
