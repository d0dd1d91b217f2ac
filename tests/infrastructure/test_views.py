"""The query side of a store's durable views (mlsgroup.infrastructure.views), on every backend: every query
method of Client and MlsGroup sees the client's own writes at once, a reopened store resumes its views
from their tracked position (nothing is projected twice), and the answers equal those of views rebuilt
from scratch and of the pure replay of the stored events."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from mlsgroup.domain import ConsentState, MembershipState, MessageKind, MlsGroup
from mlsgroup.domain.group_events import CommitMerged
from mlsgroup.infrastructure import Client, Network
from mlsgroup.infrastructure.group_store import GroupStore
from mlsgroup.infrastructure.persistence import StoreSettings
from mlsgroup.projections import group_views, replay

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "group"

KEY = bytes(range(32))


def _answers(client: Client) -> dict[str, Any]:
    """Everything the query methods answer for the client's groups."""
    result: dict[str, Any] = {"groups": [g.group_id for g in client.groups()]}
    for group in client.groups():
        result[group.group_id.hex()] = (
            group.epoch, group.is_active, group.membership_state, group.consent_state, group.added_by_inbox_id,
            group.created_at_ns, group.last_message_ns, group.conversation_type, group.dm_id,
            group.messages(), group.messages(kind=MessageKind.APPLICATION), group.messages(limit=2),
            group.messages(sent_after_ns=group.created_at_ns),
            [(i.kind, i.state, i.error) for i in client.views.intents(group.group_id)],
            client.views.extensions(group.group_id),
        )
    return result


def _same_as_aggregate(client: Client) -> None:
    for group in client.groups():
        state = group.state()
        assert (group.epoch, group.is_active, group.membership_state, group.consent_state) == (
            state.epoch, state.is_active, state.membership_state, state.consent_state)
        extensions = client.views.extensions(group.group_id)
        assert extensions is not None
        assert extensions.attributes == dict(state.xmtp.mutable_metadata.attributes)
        assert extensions.members == dict(state.xmtp.membership.members)
        assert (extensions.admins, extensions.super_admins) == (
            tuple(state.xmtp.mutable_metadata.admin_list), tuple(state.xmtp.mutable_metadata.super_admin_list))
        assert (group.name, group.admins(), group.super_admins(), group.permissions()) == (
            state.xmtp.mutable_metadata.get("group_name") or "", list(state.xmtp.mutable_metadata.admin_list),
            list(state.xmtp.mutable_metadata.super_admin_list), state.xmtp.permissions)
        assert extensions.policy_set == state.xmtp.permissions.encode()


def test_every_query_sees_the_clients_own_writes(backend: Any) -> None:
    net = Network.in_memory()
    with Client.create(net, store=backend.settings(encryption_key=KEY)) as alice, \
            Client.create(net) as bob, Client.create(net) as carol:
        group = alice.create_group([bob.inbox_id], name="first")
        assert alice.groups() == [group] and group.epoch == 1 and group.is_active
        message = group.send_text("hello")
        assert [m.id for m in group.messages(kind=MessageKind.APPLICATION)] == [message]
        assert group.last_message_ns == group.messages()[-1].sent_at_ns
        group.update_name("renamed")
        assert (group.epoch, alice.views.extensions(group.group_id).attributes["group_name"]) == (2, "renamed")
        group.add_members([carol.inbox_id])
        assert group.epoch == 3 and carol.inbox_id in alice.views.extensions(group.group_id).members
        group.add_admin(bob.inbox_id)
        assert alice.views.extensions(group.group_id).admins == (bob.inbox_id,)
        group.remove_members([carol.inbox_id])
        assert group.epoch == 5 and carol.inbox_id not in alice.views.extensions(group.group_id).members
        group.update_consent_state(ConsentState.DENIED)
        assert group.consent_state is ConsentState.DENIED
        dm = alice.find_or_create_dm(carol.inbox_id)
        assert alice.groups() == [group, dm] and alice.find_or_create_dm(carol.inbox_id) == dm
        (bobs,) = bob.sync_welcomes()
        assert bobs.membership_state is MembershipState.PENDING and bob.group(group.group_id) == bobs
        bobs.update_membership_state(MembershipState.ALLOWED)
        assert bobs.membership_state is MembershipState.ALLOWED
        bobs.leave()
        assert bobs.membership_state is MembershipState.PENDING_REMOVE
        group.sync()  # alice, a super admin, removes bob
        bobs.sync()  # bob learns he was removed
        assert not bobs.is_active and bobs.epoch == bobs.state().epoch
        for client in (alice, bob):
            _same_as_aggregate(client)
            assert client.views.dump() == replay(group_views, client.group_store.stored_events())


def test_queries_equal_those_of_views_rebuilt_from_scratch(backend: Any) -> None:
    net = Network.in_memory()
    with Client.create(net, store=backend.settings(encryption_key=KEY)) as alice, Client.create(net) as bob:
        group = alice.create_group([bob.inbox_id])
        (bobs,) = bob.sync_welcomes()
        bobs.send_text("from bob")
        group.send_text("from alice")
        group.sync()
        alice.find_or_create_dm(bob.inbox_id).send_text("dm")
        before = _answers(alice)
        assert alice.views.rebuild() > 0
        assert _answers(alice) == before


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
def test_a_reopened_store_resumes_its_views_without_projecting_old_events(backend: Any) -> None:
    net = Network.in_memory()
    store = backend.settings(encryption_key=KEY)
    bob = Client.create(net)
    alice = Client.create(net, store=store)
    group = alice.create_group([bob.inbox_id], name="kept")
    (bobs,) = bob.sync_welcomes()
    for number in range(5):
        bobs.send_text(f"bob {number}")
    group.sync()
    before = _answers(alice)  # caught up: every stored event is projected
    position = alice.views.runner.position
    alice.close()
    with Client.open(net, store=store) as reopened:
        runner = reopened.views.runner
        assert (runner.position, runner.was_reset) == (position, False)
        assert reopened.views.catch_up() == 0  # nothing old is projected again
        assert _answers(reopened) == before
        bobs.send_text("while alice was away")
        reopened.group(group.group_id).sync()
        assert reopened.group(group.group_id).messages()[-1].text == "while alice was away"
        assert reopened.views.dump() == replay(group_views, reopened.group_store.stored_events())
    bob.close()


def test_a_history_recorded_before_commits_carried_extensions_reads_them_from_the_aggregate() -> None:
    # Alice's pinned v1 history: bob's rename reached her as a v1 CommitMerged, which does not say
    # what the extensions became; the view says it cannot know, and MlsGroup asks the aggregate.
    # (Her own later membership commit records its extensions again: the history stops before it.)
    records = json.loads((FIXTURES / "group_stream_v1.json").read_text())["alice"]["records"]
    stored = [StoredEvent(uuid.UUID(r["originator_id"]), r["originator_version"], r["topic"], bytes.fromhex(r["state"]))
              for r in records]
    store = GroupStore.open(StoreSettings.memory(compress=False))
    try:
        events = [store.app.mapper.to_domain_event(s) for s in stored]
        renamed = next(i for i, e in enumerate(events) if isinstance(getattr(e, "outcome", None), CommitMerged))
        store.app.recorder.insert_events(stored[: renamed + 1])
        store.views.written()
        (group_id,) = store.group_ids()
        context = SimpleNamespace(views=store.views, group_store=store, identity=None)
        group = MlsGroup(context, group_id)  # type: ignore[arg-type]
        assert store.views.attributes(group_id) is None and store.views.admin_lists(group_id) is None
        state = store.load(group_id)
        assert (group.name, group.admins(), group.super_admins(), group.permissions()) == (
            "pinned", [], list(state.xmtp.mutable_metadata.super_admin_list), state.xmtp.permissions)
        assert (group.epoch, group.is_active) == (state.epoch, state.is_active)
    finally:
        store.close()
