"""The harness under GroupMachine (ARCHITECTURE section 5): the clients, the naive models of their
groups, the bookkeeping that keeps the models in step with what each call did, and the invariants
checked after every step.

A rule acts through a client and then tells the model what the call did; the helpers here encode
the client behaviours the model relies on: a call syncs its actor to the end of the topic, only an
explicit sync lets a super admin remove members that asked to leave, and every non-message intent
resets the key-rotation clock (libxmtp queue_intent).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from hypothesis import event, strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, multiple

from mlsgroup.domain import MAX_GROUP_SIZE, MembershipState, Preset, errors

from . import checks, strategies
from .model import GroupModel, Kind

__all__ = ["MachineHarness", "NetworkFactory", "StoreFactory", "CLIENTS", "GROUPS", "PICKS", "MIN_CLIENTS", "MAX_CLIENTS", "MAX_GROUPS"]

NetworkFactory = Callable[[], Any]
"""Returns a fresh ``mlsgroup.infrastructure.Network`` (or any object with the same ``api``,
``identity`` and ``clock`` attributes) for one run of the machine; the machine closes it at teardown."""

StoreFactory = Callable[[int], Mapping[str, Any]]
"""Returns the ``Client.create`` / ``Client.open`` keyword arguments (``store=``, ``encryption_key=``)
of client number ``n`` in one run; without it clients use in-memory stores."""

MIN_CLIENTS, MAX_CLIENTS, MAX_GROUPS = 3, 6, 3
CLIENTS = Bundle("clients")
GROUPS = Bundle("groups")
PICKS = st.integers(0, MAX_CLIENTS - 1)
"""Which of a group's participants acts: the n-th (cyclically) client holding a copy or a welcome."""


class MachineHarness(RuleBasedStateMachine):
    """Clients, models and invariants; ``GroupMachine`` adds the rules."""

    network_factory: NetworkFactory | None = None
    store_factory: StoreFactory | None = None

    clients = CLIENTS
    groups = GROUPS

    def __init__(self) -> None:
        super().__init__()
        if self.network_factory is None:
            raise TypeError("GroupMachine needs a network_factory: use make_machine(network_factory)")
        from mlsgroup.infrastructure import Client

        self._client_class = Client
        self.net = type(self).network_factory()
        self.clients_: list[Any] = []
        self.inboxes: list[str] = []
        self.stores: list[Mapping[str, Any] | None] = []
        self.models: list[GroupModel] = []
        self.authenticators: dict[tuple[bytes, int], bytes] = {}

    # -- set-up ----------------------------------------------------------------------------------
    @initialize(target=CLIENTS, count=st.integers(MIN_CLIENTS, MAX_CLIENTS))
    def start_clients(self, count: int) -> Any:
        for number in range(count):
            store = type(self).store_factory(number) if type(self).store_factory is not None else None
            client = checks.expect_success(f"Client.create #{number}", lambda: self._client_class.create(self.net, **(store or {})))
            self.clients_.append(client)
            self.inboxes.append(client.inbox_id)
            self.stores.append(store)
        if len(set(self.inboxes)) != count:
            raise AssertionError(f"two clients got the same inbox id: {self.inboxes}")
        return multiple(*range(count))

    @initialize(
        target=GROUPS,
        creator=CLIENTS,
        invitees=st.lists(CLIENTS, max_size=3, unique=True),
        preset=strategies.policy_presets(),
    )
    def first_group(self, creator: int, invitees: list[int], preset: Preset) -> int:
        """Every run starts with one group, so most steps act on a group."""
        return self._create_group(creator, invitees, preset, "")

    def teardown(self) -> None:
        for client in self.clients_:
            client.close()
        close = getattr(self.net, "close", None)
        if close is not None:
            close()

    # -- helpers ---------------------------------------------------------------------------------
    def _create_group(self, creator: int, invitees: list[int], preset: Preset, name: str) -> int:
        others = [self.inboxes[i] for i in invitees if i != creator]
        group = checks.expect_success(
            f"client {creator} create_group",
            lambda: self.clients_[creator].create_group(others, permissions=preset, name=name),
        )
        model = GroupModel(group.group_id, Kind.GROUP, self.inboxes[creator], preset, name)
        self.models.append(model)
        # Creation always commits once: the invitees, and the creator's sequence id off its placeholder.
        model.add(others, by=self.inboxes[creator])
        model.catch_up(self.inboxes[creator])
        return len(self.models) - 1

    def _who(self, actor: int, model: GroupModel | None = None) -> str:
        group = f" in group {self.models.index(model)} ({model.kind.value})" if model is not None else ""
        return f"client {actor} ({self.inboxes[actor][:8]}){group}"

    def _pick(self, group: int, pick: int) -> int:
        """The acting client: a participant of ``group`` (a copy, even an inactive one, or a waiting
        welcome, which it processes first as a client would). Outsiders act in ``outsider_is_refused``."""
        model = self.models[group]
        holders = [a for a, i in enumerate(self.inboxes) if model.local(i) is not None or model.pending_welcomes.get(i)]
        actor = holders[pick % len(holders)]
        if model.local(self.inboxes[actor]) is None:
            self._sync_welcomes(actor)
        return actor

    def _handle(self, actor: int, model: GroupModel) -> Any:
        return self.clients_[actor].group(model.group_id)

    def _sync(self, actor: int, model: GroupModel) -> None:
        """Sync ``actor``'s active copy and update the model (the copy may find itself removed)."""
        inbox = self.inboxes[actor]
        checks.expect_success(f"{self._who(actor, model)} sync", lambda: self._handle(actor, model).sync())
        model.catch_up(inbox)
        self._settle_leavers(actor, model)

    def _settle_leavers(self, actor: int, model: GroupModel) -> None:
        """A super admin's explicit sync removes the members that asked to leave (libxmtp section 3;
        libxmtp does it from a background task, this kit expects it at the end of ``sync()``), when
        the remove policy lets it. It is an ordinary removal intent, so it resets the rotation clock,
        and it fails (quietly) while one of the leavers has meanwhile become a super admin."""
        inbox = self.inboxes[actor]
        snapshot = model.latest
        leavers = model.pending_leavers - {inbox}
        if not (leavers & snapshot.members) or not model.is_current(inbox) or inbox not in snapshot.super_admins:
            return
        if not snapshot.allows("remove_member", inbox):
            return
        model.rotated.add(inbox)
        if leavers & snapshot.super_admins:
            event("a super admin's sync failed to remove a leaver promoted to super admin")
            return
        event("a super admin's sync removed members that asked to leave")
        model.remove(leavers & snapshot.members, by=inbox)
        model.catch_up(inbox)

    def _ensure_current(self, actor: int, model: GroupModel) -> bool:
        """Bring an active copy up to date; False when the actor has no usable copy (nothing synced)."""
        inbox = self.inboxes[actor]
        copy = model.local(inbox)
        if copy is None or copy.inactive:
            return False
        if not model.is_current(inbox):
            self._sync(actor, model)
        return model.is_current(inbox)

    def _unusable(self, actor: int, model: GroupModel, what: str, call: Callable[[Any], Any]) -> None:
        """What an actor without an active copy gets: GroupNotFound without one, GroupInactive after removal."""
        inbox = self.inboxes[actor]
        copy = model.local(inbox)
        if copy is None:
            checks.expect_error(errors.GroupNotFound, f"{self._who(actor, model)} {what} without a copy", lambda: self._handle(actor, model))
            return
        group = self._handle(actor, model)
        checks.expect_error(errors.GroupInactive, f"{self._who(actor, model)} {what} after removal", lambda: call(group))

    def _after_own_commit(self, actor: int, model: GroupModel) -> None:
        """A mutation syncs the actor to the end of the topic (only an explicit sync makes a super
        admin remove leavers) and resets its key-rotation clock: libxmtp's queue_intent does so for
        every non-message intent, whatever becomes of it."""
        model.catch_up(self.inboxes[actor])
        model.rotated.add(self.inboxes[actor])

    def _sync_welcomes(self, actor: int) -> None:
        inbox = self.inboxes[actor]
        joined = checks.expect_success(f"client {actor} sync_welcomes", self.clients_[actor].sync_welcomes)
        expected = {m.group_id for m in self.models if m.pending_welcomes.get(inbox)}
        got = {g.group_id for g in joined}
        if got != expected:
            raise AssertionError(f"client {actor}: sync_welcomes joined {sorted(g.hex() for g in got)}, the model expects {sorted(g.hex() for g in expected)}")
        for model in self.models:
            while model.pending_welcomes.get(inbox):
                model.join(inbox)

    def _fingerprints(self, actor: int) -> dict[bytes, tuple[object, ...]]:
        inbox = self.inboxes[actor]
        return {m.group_id: checks.view_fingerprint(self._handle(actor, m)) for m in self.models if m.local(inbox) is not None}

    # -- invariants ------------------------------------------------------------------------------
    @invariant()
    def local_copies_match_the_model(self) -> None:
        for model in self.models:
            for actor, inbox in enumerate(self.inboxes):
                copy = model.local(inbox)
                who = self._who(actor, model)
                if copy is None:
                    continue
                group = self._handle(actor, model)
                if copy.inactive:
                    if group.is_active:
                        raise AssertionError(f"{who}: still active after processing its removal")
                else:
                    snapshot = model.view(inbox)
                    checks.check_view(who, group, snapshot, model)
                    if inbox in model.pending_leavers and group.membership_state is not MembershipState.PENDING_REMOVE:
                        raise AssertionError(f"{who}: asked to leave but its membership_state is {group.membership_state}")
                    key = (model.group_id, snapshot.epoch)
                    authenticator = bytes(group.epoch_authenticator)
                    if self.authenticators.setdefault(key, authenticator) != authenticator:
                        raise AssertionError(f"{who}: epoch authenticator at epoch {snapshot.epoch} differs from another member's")
                checks.check_messages(who, group, model, inbox)
                checks.check_transcripts(who, group, model, inbox)

    @invariant()
    def groups_stay_within_limits(self) -> None:
        for model in self.models:
            if len(model.latest.members) > MAX_GROUP_SIZE:
                raise AssertionError("the model itself grew past MAX_GROUP_SIZE")
            if model.kind is Kind.GROUP and not model.latest.super_admins:
                raise AssertionError("a group lost its last super admin")
            if model.kind is Kind.DM and (model.latest.admins or model.latest.super_admins or len(model.latest.members) != 2):
                raise AssertionError("a DM gained admins or lost its shape")
