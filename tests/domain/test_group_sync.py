"""GroupSync: a crash between saving IntentPublished and handing the payload to the delivery service.

The crash is a ``BaseException`` that is not an ``Exception`` (like KeyboardInterrupt or a killed
process): GroupSync's delivery-failure handling must not catch it, so the intent is left PUBLISHED with
nothing sent, exactly as after a real crash. The installation then restarts from its store
(``Client.open`` on SQLite and PostgreSQL; an in-memory store does not outlive its process, so there
the same store is used again through fresh handles) and syncs: the payload must go out, be merged or
confirmed once, and a late second copy of it must be skipped by everyone without changing any view.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from mlsgroup.domain import MessageKind, errors
from mlsgroup.domain.audit import audit_group
from mlsgroup.domain.configuration import MAX_INTENT_PUBLISH_ATTEMPTS, MAX_PAST_EPOCHS
from mlsgroup.domain.group_events import EnvelopeProcessed, EnvelopeSkipped, OwnCommitMerged, OwnMessageStale
from mlsgroup.domain.intents import IntentState
from mlsgroup.domain.mls_group import MlsGroup
from mlsgroup.infrastructure import Client, Network
from mlsgroup.infrastructure.persistence import ManualClock

KEY = bytes(range(32))


class Crash(BaseException):
    """The process dies (not an Exception: no delivery-failure handler may swallow it)."""


class CrashingApi:
    """The in-memory delivery service; once armed, the next group send dies before delivering.
    While ``holding``, group sends are accepted but delivered only by :meth:`release` (a slow
    delivery service)."""

    def __init__(self, api: Any) -> None:
        self._api = api
        self.armed = False
        self.lost: list[bytes] = []
        self.holding = False
        self.held: list[tuple[bytes, bytes]] = []
        self.failures = 0
        self.timeouts = 0

    def send_group_messages(self, group_id: bytes, payloads: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the delivery service is unreachable")
        if self.timeouts:  # delivered, but the answer never came
            self.timeouts -= 1
            self._send(group_id, payloads)
            raise TimeoutError("no answer from the delivery service")
        return self._send(group_id, payloads)

    def _send(self, group_id: bytes, payloads: Any) -> Any:
        if self.armed:
            self.armed = False
            self.lost.extend(payloads)
            raise Crash()
        if self.holding:
            self.held.extend((group_id, payload) for payload in payloads)
            return None
        return self._api.send_group_messages(group_id, payloads)

    def release(self) -> None:
        self.holding = False
        for group_id, payload in self.held:
            self._api.send_group_messages(group_id, [payload])
        self.held = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)


class World:
    """Alice (on the backend under test) and Bob (in memory) on a network whose sends can crash."""

    def __init__(self, backend: Any) -> None:
        base = Network.in_memory(clock=ManualClock())
        self.api = CrashingApi(base.api)
        self.net = Network(self.api, base.identity, base.clock)
        self.backend = backend
        self.alice_store = backend.settings(encryption_key=KEY)
        self.alice = Client.create(self.net, store=self.alice_store)
        self.bob = Client.create(self.net)
        self.group = self.alice.create_group([self.bob.inbox_id], name="before")
        self.bob.sync_welcomes()
        self.bobs = self.bob.group(self.group.group_id)

    def restart_alice(self) -> MlsGroup:
        """Alice's process restarts; returns her handle on the group."""
        if self.backend.name != "popo":
            self.alice.close()
            self.alice = Client.open(self.net, store=self.alice_store)
        return self.alice.group(self.group.group_id)

    def close(self) -> None:
        self.alice.close()
        self.bob.close()


@pytest.fixture
def world(backend: Any) -> Iterator[World]:
    made = World(backend)
    yield made
    made.close()


def texts(group: MlsGroup) -> list[str]:
    return [m.text for m in group.messages(kind=MessageKind.APPLICATION)]


def skipped(group: MlsGroup) -> list[str]:
    return [
        e.outcome.reason
        for e in group.context.group_store.events(group.group_id)
        if isinstance(e, EnvelopeProcessed) and isinstance(e.outcome, EnvelopeSkipped)
    ]


def in_flight(group: MlsGroup) -> list[IntentState]:
    return [i.state for i in group.state().open_intents()]


def test_a_commit_published_before_a_crash_is_sent_after_the_restart(world: World) -> None:
    world.api.armed = True
    with pytest.raises(Crash):
        world.group.update_name("after")
    assert world.api.lost and in_flight(world.group) == [IntentState.PUBLISHED]
    epoch = world.group.epoch
    alices = world.restart_alice()
    alices.sync()
    assert in_flight(alices) == [] and alices.name == "after" and alices.epoch == epoch + 1
    alices.send_text("still works")
    world.bobs.sync()
    assert world.bobs.name == "after" and texts(world.bobs) == ["still works"]
    assert world.bobs.epoch_authenticator == alices.epoch_authenticator


def test_a_message_published_before_a_crash_is_sent_after_the_restart(world: World) -> None:
    world.group.send_text("first")
    world.api.armed = True
    with pytest.raises(Crash):
        world.group.send_text("second")
    alices = world.restart_alice()
    alices.sync()
    assert in_flight(alices) == []
    world.bobs.sync()
    assert texts(alices) == texts(world.bobs) == ["first", "second"]
    assert {m.delivery_status.name for m in alices.messages(kind=MessageKind.APPLICATION)} == {"PUBLISHED"}


def test_late_copies_of_resent_payloads_are_skipped_and_change_no_view(world: World) -> None:
    world.api.armed = True
    with pytest.raises(Crash):
        world.group.add_admin(world.bob.inbox_id)
    lost_commit = world.api.lost[-1]
    alices = world.restart_alice()
    alices.sync()
    world.api.armed = True
    with pytest.raises(Crash):
        alices.send_text("only once")
    lost_message = world.api.lost[-1]
    alices = world.restart_alice()
    alices.sync()
    world.bobs.sync()
    before = [(g.epoch, g.epoch_authenticator, g.messages(), g.members(), g.admins()) for g in (alices, world.bobs)]
    skipped_before = [len(skipped(g)) for g in (alices, world.bobs)]
    # The first sends reach the delivery service after all (a send that timed out, say).
    world.net.api.send_group_messages(world.group.group_id, [lost_commit, lost_message])
    alices.sync()
    world.bobs.sync()
    after = [(g.epoch, g.epoch_authenticator, g.messages(), g.members(), g.admins()) for g in (alices, world.bobs)]
    assert after == before
    assert texts(alices) == texts(world.bobs) == ["only once"]
    assert world.bobs.is_admin(world.bob.inbox_id)
    for group, count in zip((alices, world.bobs), skipped_before):
        reasons = skipped(group)
        # The commit copy is for a past epoch; the message copy replays a used generation
        # (for Alice, her own message coming back).
        assert len(reasons) == count + 2 and reasons[-2] == "WrongEpoch"


def test_without_a_full_receive_a_published_payload_is_not_sent_again(world: World) -> None:
    world.api.armed = True
    with pytest.raises(Crash):
        world.group.send_text("pending")
    alices = world.restart_alice()
    alices.publish_intents()  # libxmtp publish_intents: no receive first, so no resend
    assert in_flight(alices) == [IntentState.PUBLISHED]
    assert world.net.api.query_group_messages(world.group.group_id, after_cursor=alices.state().cursor) == []
    alices.sync()
    world.bobs.sync()
    assert in_flight(alices) == [] and texts(world.bobs) == ["pending"]


def test_a_payload_slow_to_come_back_is_sent_once(world: World) -> None:
    world.api.holding = True
    with pytest.raises(errors.SyncError):
        world.group.send_text("slow")  # every round of the wait reads the topic to its end
    world.group.sync()
    world.group.sync()
    assert [payload for _, payload in world.api.held] == [world.group.state().open_intents()[0].payload]
    world.api.release()
    world.group.sync()
    world.bobs.sync()
    assert in_flight(world.group) == [] and texts(world.bobs) == texts(world.group) == ["slow"]
    assert skipped(world.bobs) == []


def test_after_a_restart_a_payload_slow_to_come_back_is_sent_once_more(world: World) -> None:
    world.api.holding = True
    with pytest.raises(errors.SyncError):
        world.group.send_text("slow")
    alices = world.restart_alice()
    alices.sync()
    alices.sync()
    # On the in-memory backend the client is the same one, and it remembers its send.
    assert len(world.api.held) == (1 if world.backend.name == "popo" else 2)
    world.api.release()
    alices.sync()
    world.bobs.sync()
    assert in_flight(alices) == [] and texts(world.bobs) == texts(alices) == ["slow"]


def test_a_payload_resent_after_a_failed_send_is_not_sent_again_while_it_is_slow(world: World) -> None:
    world.api.failures, world.api.holding = 1, True
    with pytest.raises(errors.SyncError):
        world.group.send_text("retried")  # the first send fails, the next round's resend is held
    world.group.sync()
    assert len(world.api.held) == 1 and world.group.state().open_intents()[0].publish_attempts == 1
    world.api.release()
    world.group.sync()
    world.bobs.sync()
    assert in_flight(world.group) == [] and texts(world.bobs) == ["retried"]


def outcomes(group: MlsGroup, kind: type) -> list[Any]:
    return [e.outcome for e in group.context.group_store.events(group.group_id)
            if isinstance(e, EnvelopeProcessed) and isinstance(e.outcome, kind)]


def assert_audited(group: MlsGroup) -> None:
    audit = audit_group(group.group_id, group.context.group_store.events(group.group_id))
    assert audit.ok, [f.message for f in audit.violations]


def test_a_message_that_comes_back_too_late_to_be_read_is_encrypted_and_sent_anew(world: World) -> None:
    world.api.armed = True
    with pytest.raises(Crash):
        world.group.send_text("late")  # published at epoch 1, never handed over
    for n in range(MAX_PAST_EPOCHS + 1):
        world.bobs.update_name(f"bob {n}")
    alices = world.restart_alice()
    alices.sync()  # the resent copy comes back from too far behind: the intent goes back to TO_PUBLISH
    assert [o.epoch for o in outcomes(alices, OwnMessageStale)] == [1]
    alices.sync()  # encrypted again at the current epoch, sent, confirmed
    world.bobs.sync()
    assert in_flight(alices) == [] and texts(world.bobs) == texts(alices) == ["late"]
    assert [m.delivery_status.name for m in alices.messages(kind=MessageKind.APPLICATION)] == ["PUBLISHED"]
    assert "EpochNotAvailable" in skipped(world.bobs)  # the stale copy
    assert_audited(alices)


def test_a_commit_delivered_although_its_last_send_failed_is_merged_by_its_sender(world: World) -> None:
    world.api.failures, world.api.timeouts = MAX_INTENT_PUBLISH_ATTEMPTS - 1, 1
    world.api.holding = True  # the third send delivers it (slowly), then times out: ERROR
    with pytest.raises(errors.GroupError):
        world.group.update_name("renamed")
    world.api.release()
    world.bobs.sync()  # bob merges it: so must its sender
    world.group.sync()
    assert world.group.name == world.bobs.name == "renamed"
    assert world.group.epoch == world.bobs.epoch and world.group.epoch_authenticator == world.bobs.epoch_authenticator
    [merged] = outcomes(world.group, OwnCommitMerged)[-1:]
    intent = world.group.state().intent(merged.intent_id)
    assert intent is not None and intent.state is IntentState.PROCESSED and intent.error is None
    assert intent.publish_attempts == MAX_INTENT_PUBLISH_ATTEMPTS
    world.bobs.send_text("still one group")
    world.group.sync()
    assert texts(world.group) == ["still one group"]
    assert_audited(world.group)


def test_a_message_delivered_although_its_last_send_failed_shows_as_published(world: World) -> None:
    world.api.failures, world.api.timeouts = MAX_INTENT_PUBLISH_ATTEMPTS - 1, 1
    world.api.holding = True  # the delivered copy shows up only after the sender gave up
    with pytest.raises(errors.GroupError):
        world.group.send_text("made it")
    assert [m.delivery_status.name for m in world.group.messages(kind=MessageKind.APPLICATION)] == ["FAILED"]
    world.api.release()
    world.group.sync()
    world.bobs.sync()
    assert texts(world.bobs) == ["made it"]
    assert [m.delivery_status.name for m in world.group.messages(kind=MessageKind.APPLICATION)] == ["PUBLISHED"]
    assert world.group.state().open_intents() == ()
    assert_audited(world.group)
