"""GroupSync against an unreliable delivery service: a hypothesis state machine (all three backends).

Alice's sends may fail one to three times, crash the process before delivering (a ``BaseException``:
she restarts from her store), time out after delivering, or be held (delivered later, all at once);
Bob's side always works. Between Alice's sends, syncs and publishes, Bob sends, renames the group
and syncs, held payloads are released, lost ones show up late, and Alice restarts.

At the end every held payload is released and both sync until Alice has nothing in flight. Then:
no intent of Alice's is left open; both hold the same epoch and epoch authenticator, and the same
name; Bob holds no message twice; the application messages Alice shows as PUBLISHED are exactly
those Bob holds, and none is left UNPUBLISHED; Alice's full replay and snapshot + tail equal her
live state, and the audit of her history finds nothing.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test

from mlsgroup.domain import MessageKind, errors
from mlsgroup.domain.audit import audit_group
from mlsgroup.infrastructure import Client, Network
from mlsgroup.infrastructure.persistence import ManualClock
from tests.infrastructure.replay_checks import check_group_replays

KEY = bytes(range(32, 64))
MODES = st.sampled_from(["ok", "fail1", "fail2", "fail3", "crash", "timeout", "hold"])
_RUNS = {"popo": 12, "sqlite": 8, "postgres": 3}  # under the ci profile (25 examples); dev runs 4x


class Crash(BaseException):
    """The process dies during the send (not an Exception: no delivery-failure handler may catch it)."""


class FaultyApi:
    """The in-memory delivery service with the faults of one armed ``mode`` (see the module docstring)."""

    def __init__(self, api: Any) -> None:
        self._api = api
        self.mode = "ok"
        self.failures = 0
        self.lost: list[tuple[bytes, bytes]] = []
        self.held: list[tuple[bytes, bytes]] = []

    def arm(self, mode: str) -> None:
        self.failures = int(mode[4:]) if mode.startswith("fail") else 0
        self.mode = "ok" if mode.startswith("fail") else mode

    def disarm(self) -> None:
        if self.mode != "hold":
            self.mode = "ok"
        self.failures = 0

    def send_group_messages(self, group_id: bytes, payloads: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the delivery service is unreachable")
        if self.mode == "crash":
            self.mode = "ok"
            self.lost.extend((group_id, payload) for payload in payloads)
            raise Crash()
        if self.mode == "timeout":
            self.mode = "ok"
            self._api.send_group_messages(group_id, payloads)
            raise TimeoutError("delivered, but no answer came")
        if self.mode == "hold":
            self.held.extend((group_id, payload) for payload in payloads)
            return None
        return self._api.send_group_messages(group_id, payloads)

    def release(self) -> None:
        self.mode = "ok"
        held, self.held = self.held, []
        for group_id, payload in held:
            self._api.send_group_messages(group_id, [payload])

    def deliver_lost(self) -> None:
        lost, self.lost = self.lost, []
        for group_id, payload in lost:
            self._api.send_group_messages(group_id, [payload])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)


class SyncFaults(RuleBasedStateMachine):
    harness: Any = None  # the backend's StoreHarness, set by the test

    def __init__(self) -> None:
        super().__init__()
        base = Network.in_memory(clock=ManualClock())
        self.api = FaultyApi(base.api)
        self.net = Network(self.api, base.identity, base.clock)
        self.store = self.harness.settings(encryption_key=KEY)
        self.alice = Client.create(self.net, store=self.store, snapshot_interval=3)
        self.bob = Client.create(self.net)
        self.group_id = self.alice.create_group([self.bob.inbox_id], name="n0").group_id
        self.bob.sync_welcomes()
        self.counter = 0

    def alices(self) -> Any:
        return self.alice.group(self.group_id)

    def bobs(self) -> Any:
        return self.bob.group(self.group_id)

    def _alice_does(self, mode: str, action: Any) -> None:
        self.api.arm(mode)
        try:
            action()
        except Crash:
            self.restart()
        except errors.SyncError:
            pass  # gave up, or still waiting: the end of the run settles it
        finally:
            self.api.disarm()

    def _next(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    @rule(mode=MODES)
    def alice_sends(self, mode: str) -> None:
        text = self._next("a")
        self._alice_does(mode, lambda: self.alices().send_text(text))

    @rule(mode=MODES)
    def alice_renames(self, mode: str) -> None:
        name = self._next("n")
        self._alice_does(mode, lambda: self.alices().update_name(name))

    @rule(mode=MODES)
    def alice_syncs(self, mode: str) -> None:
        self._alice_does(mode, lambda: self.alices().sync())

    @rule(mode=MODES)
    def alice_publishes(self, mode: str) -> None:
        self._alice_does(mode, lambda: self.alices().publish_intents())

    @rule()
    def bob_sends(self) -> None:
        self.bobs().sync()
        self.bobs().send_text(self._next("b"))

    @rule()
    def bob_renames(self) -> None:
        self.bobs().sync()
        self.bobs().update_name(self._next("bn"))

    @rule()
    def bob_syncs(self) -> None:
        self.bobs().sync()

    @rule()
    def release(self) -> None:
        self.api.release()

    @rule()
    def deliver_lost(self) -> None:
        self.api.deliver_lost()

    @rule()
    def restart(self) -> None:
        if self.harness.name != "popo":  # an in-memory store does not outlive its client
            self.alice.close()
            self.alice = Client.open(self.net, store=self.store, snapshot_interval=3)

    def teardown(self) -> None:
        try:
            self.api.release()
            for _ in range(12):
                self.alices().sync()
                self.bobs().sync()
                if not self.alices().state().open_intents():
                    break
            self.bobs().sync()
            alices, bobs = self.alices(), self.bobs()
            assert [(i.kind, i.state) for i in alices.state().open_intents()] == []
            assert (alices.epoch, alices.epoch_authenticator) == (bobs.epoch, bobs.epoch_authenticator)
            assert alices.name == bobs.name
            theirs = [(m.id, m.text) for m in bobs.messages(kind=MessageKind.APPLICATION)]
            assert len(theirs) == len(set(theirs)), "Bob holds a message twice"
            ours = alices.messages(kind=MessageKind.APPLICATION)
            assert sorted((m.id, m.text) for m in ours if m.delivery_status.name == "PUBLISHED") == sorted(theirs)
            assert "UNPUBLISHED" not in {m.delivery_status.name for m in ours}
            check_group_replays("alice", self.alice, self.group_id)
            audit = audit_group(self.group_id, self.alice.group_store.events(self.group_id))
            assert audit.ok, [finding.message for finding in audit.violations]
        finally:
            self.alice.close()
            self.bob.close()


def test_sync_survives_an_unreliable_delivery_service(backend: Any) -> None:
    machine = type("SyncFaultsOn" + backend.name.capitalize(), (SyncFaults,), {"harness": backend})
    runs = max(1, _RUNS[backend.name] * settings.default.max_examples // 25)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=runs, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    ))
