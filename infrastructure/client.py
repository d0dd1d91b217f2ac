"""Client: one installation of an inbox, with its own store; the Context its groups run in (ARCHITECTURE 4).

::

    alice = Client.create(net)                                   # new inbox, in-memory store
    alice = Client.create(net, store="alice.db", encryption_key=key32)
    alice = Client.open(net, store="alice.db", encryption_key=key32)
    alice2 = alice.register_installation()                       # same inbox, its own store
    g = alice.create_group([bob.inbox_id]); dm = alice.find_or_create_dm(bob.inbox_id)

Creating a client publishes the inbox's CreateInbox identity update and a last-resort key package;
the installation's secrets (key seed, key-package seeds) are events of the installation aggregate
in the client's store, so ``Client.open`` restores them and rotates the key package once it is 30
days old. The query methods (``groups``, ``group``, ``find_or_create_dm``, and MlsGroup's
``messages`` and standing) read the store's durable views, which resume from their tracked position
on open and catch up before each query (read-your-writes). Randomness comes from ``os.urandom`` here and
reaches the domain only as recorded seeds. A client is safe to use from several threads: each group
has a re-entrant mutex held for a whole sync and a commit lock around each load-decide-save.
"""

from __future__ import annotations

import os
import threading
from os import PathLike
from typing import Any, Optional, Sequence, Union

from mlsgroup.domain import errors
from mlsgroup.domain.conversation import check_group_size, check_metadata_length, dm_id
from mlsgroup.domain.eventing import Clock
from mlsgroup.domain.extensions import ConversationType
from mlsgroup.domain.group_decisions import create_group as decide_create_group
from mlsgroup.domain.group_decisions import join_group as decide_join_group
from mlsgroup.domain.group_state import XmtpGroupState
from mlsgroup.domain.group_sync import identity_fetcher
from mlsgroup.domain.identity import (
    add_installation,
    create_inbox,
    inbox_id_for,
    installation_key_pair,
    revoke_installations,
)
from mlsgroup.domain.installation_aggregate import (
    InstallationState,
    create_installation,
    generate_key_package,
    project_installation,
    welcome_processed,
)
from mlsgroup.domain.intents import UpdateGroupMembershipData
from mlsgroup.domain.metadata_fields import MetadataField
from mlsgroup.domain.mls.group import KeyPackageBundle
from mlsgroup.domain.mls_group import MlsGroup
from mlsgroup.domain.ports import DeliveryService, IdentityRegistry
from mlsgroup.domain.policies import PolicySet, Preset
from mlsgroup.domain.welcomes import WelcomeRejected, open_welcome_for
from mlsgroup.projections import GroupRecord

from .group_store import DEFAULT_SNAPSHOT_INTERVAL, GroupStore
from .network import Network
from .persistence import StoreSettings
from .views import StoreViews

__all__ = ["Client", "ClientError", "StoreArgument"]

StoreArgument = Union[None, str, "PathLike[str]", StoreSettings]


def _more_recent(row: GroupRecord, other: GroupRecord) -> bool:
    """Whether ``row`` comes before ``other`` among the groups of one DM (last active, then newest, then id)."""
    mine, theirs = (row.last_message_ns, row.created_at_ns), (other.last_message_ns, other.created_at_ns)
    return mine > theirs or (mine == theirs and row.group_id < other.group_id)


class ClientError(errors.GroupError):
    """The client cannot be created or opened with this store (local misuse)."""


def _settings(store: StoreArgument, encryption_key: Optional[bytes]) -> StoreSettings:
    if store is None:
        return StoreSettings.memory(encryption_key=encryption_key)
    if isinstance(store, StoreSettings):
        if encryption_key is not None and store.encryption_key is None:
            import attrs

            return attrs.evolve(store, encryption_key=encryption_key)
        return store
    return StoreSettings.sqlite(store, encryption_key=encryption_key)


class _Locks:
    """Re-entrant locks by group id, created on first use."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[bytes, threading.RLock] = {}

    def __call__(self, group_id: bytes) -> threading.RLock:
        with self._guard:
            lock = self._locks.get(group_id)
            if lock is None:
                lock = self._locks[group_id] = threading.RLock()
            return lock


class Client:
    """One installation of an inbox (see the module docstring); implements the domain's Context."""

    def __init__(
        self,
        net: Network,
        store: GroupStore,
        installation: InstallationState,
        *,
        clock: Optional[Clock] = None,
    ) -> None:
        self._net = net
        self._store = store
        self._installation = installation
        self._clock = clock or net.clock
        self._group_mutexes = _Locks()
        self._commit_locks = _Locks()
        self._handed_over: dict[bytes, set[bytes]] = {}
        # Guards the installation aggregate: key-package rotation and welcome processing both extend it.
        self._installation_lock = threading.RLock()
        self._signature_key = installation.signature_key
        self._closed = False

    # -- construction ----------------------------------------------------------------------------

    @classmethod
    def _new(
        cls,
        net: Network,
        store: StoreArgument,
        encryption_key: Optional[bytes],
        key_seed: bytes,
        inbox_id: str,
        clock: Optional[Clock],
        snapshot_interval: int,
    ) -> Client:
        group_store = GroupStore.open(_settings(store, encryption_key), snapshot_interval=snapshot_interval)
        if group_store.installation() is not None:
            group_store.close()
            raise ClientError("the store already holds an installation: use Client.open")
        now = (clock or net.clock).now_ns()
        events = create_installation(key_seed, inbox_id, now)
        group_store.save_installation(events)
        client = cls(net, group_store, project_installation(None, events), clock=clock)  # type: ignore[arg-type]
        client._ensure_key_package(force=True)
        return client

    @classmethod
    def create(
        cls,
        net: Network,
        store: StoreArgument = None,
        encryption_key: Optional[bytes] = None,
        *,
        clock: Optional[Clock] = None,
        snapshot_interval: int = DEFAULT_SNAPSHOT_INTERVAL,
    ) -> Client:
        """A new inbox with this installation as its first (CreateInbox published to ``net.identity``)."""
        key_seed = os.urandom(32)
        key, installation_id = installation_key_pair(key_seed)
        net.identity.publish_identity_update(create_inbox(key, (clock or net.clock).now_ns()))
        return cls._new(net, store, encryption_key, key_seed, inbox_id_for(installation_id), clock, snapshot_interval)

    @classmethod
    def open(
        cls,
        net: Network,
        store: StoreArgument,
        encryption_key: Optional[bytes] = None,
        *,
        clock: Optional[Clock] = None,
        snapshot_interval: int = DEFAULT_SNAPSHOT_INTERVAL,
    ) -> Client:
        """Reopen the installation whose store ``store`` is (its views resume where they stopped)."""
        if store is None:
            raise ClientError("Client.open needs the store of an existing installation")
        group_store = GroupStore.open(_settings(store, encryption_key), snapshot_interval=snapshot_interval)
        installation = group_store.installation()
        if installation is None:
            group_store.close()
            raise ClientError("the store holds no installation: use Client.create")
        client = cls(net, group_store, installation, clock=clock)
        client._ensure_key_package(force=False)
        return client

    def register_installation(
        self, store: StoreArgument = None, encryption_key: Optional[bytes] = None
    ) -> Client:
        """A second installation of this inbox (AddInstallation signed by both), with its own store."""
        key_seed = os.urandom(32)
        new_key, _ = installation_key_pair(key_seed)
        state = self._net.identity.get_inbox_state(self.inbox_id)
        update = add_installation(state, self._signature_key, new_key, self._clock.now_ns())
        self._net.identity.publish_identity_update(update)
        return type(self)._new(
            self._net, store, encryption_key, key_seed, self.inbox_id, self._clock, self._store.snapshot_interval
        )

    def revoke_installations(self, installation_ids: Sequence[bytes]) -> None:
        """Revoke installations of this inbox (groups drop them on their next update_installations)."""
        state = self._net.identity.get_inbox_state(self.inbox_id)
        update = revoke_installations(state, self._signature_key, installation_ids, self._clock.now_ns())
        self._net.identity.publish_identity_update(update)

    def close(self) -> None:
        """Close the store (idempotent)."""
        if not self._closed:
            self._closed = True
            self._store.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Client inbox={self.inbox_id[:12]}… installation={self.installation_id.hex()[:12]}…>"

    # -- key packages ----------------------------------------------------------------------------

    def _ensure_key_package(self, *, force: bool) -> None:
        with self._installation_lock:
            now = self._clock.now_ns()
            installation = self._installation
            if force or installation.key_package_due(now):
                events = generate_key_package(installation, os.urandom(32), now)
                self._store.save_installation(events)
                installation = self._installation = project_installation(installation, events)  # type: ignore[assignment]
            bundle = installation.current_bundle()
            if bundle is not None:
                self._net.api.upload_key_package(self.installation_id, bundle.message(), True)

    def rotate_key_package(self) -> None:
        """Publish a fresh key package now (done automatically every 30 days)."""
        self._ensure_key_package(force=True)

    # -- Context -----------------------------------------------------------------------------------

    @property
    def inbox_id(self) -> str:
        return self._installation.inbox_id

    @property
    def installation_id(self) -> bytes:
        return self._installation.installation_id

    @property
    def api(self) -> DeliveryService:
        return self._net.api

    @property
    def identity(self) -> IdentityRegistry:
        return self._net.identity

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def network(self) -> Network:
        return self._net

    @property
    def group_store(self) -> GroupStore:
        return self._store

    @property
    def views(self) -> StoreViews:
        return self._store.views

    def installation_signature_key(self) -> bytes:
        return self._signature_key

    def key_package_bundle(self, key_package_ref: bytes) -> Optional[KeyPackageBundle]:
        return self._installation.bundles().get(bytes(key_package_ref))

    def entropy(self) -> bytes:
        return os.urandom(32)

    def group_mutex(self, group_id: bytes) -> threading.RLock:
        return self._group_mutexes(bytes(group_id))

    def commit_lock(self, group_id: bytes) -> threading.RLock:
        return self._commit_locks(bytes(group_id))

    def handed_over(self, group_id: bytes) -> set[bytes]:
        return self._handed_over.setdefault(bytes(group_id), set())

    # -- groups ----------------------------------------------------------------------------------

    def _create(self, xmtp: XmtpGroupState, dm: Optional[str]) -> MlsGroup:
        group_id = self.entropy()[:16]
        events = decide_create_group(
            group_id=group_id,
            inbox_id=self.inbox_id,
            installation_id=self.installation_id,
            signature_private=self._signature_key,
            xmtp=xmtp,
            dm_id=dm,
            seed=self.entropy(),
            timestamp_ns=self._clock.now_ns(),
        )
        with self.commit_lock(group_id):
            self._store.save(group_id, events)
        return MlsGroup(self, group_id)

    def _add_initial_members(self, group: MlsGroup, inbox_ids: Sequence[str]) -> None:
        # Always committed, even with nobody to add: it moves the creator's sequence id off the
        # placeholder and adds the creator's other installations.
        group._run(UpdateGroupMembershipData(add_inbox_ids=tuple(inbox_ids)))

    def create_group(
        self,
        inbox_ids: Sequence[str] = (),
        permissions: Union[Preset, PolicySet, None] = Preset.DEFAULT,
        name: str = "",
        description: str = "",
        image_url_square: str = "",
        app_data: str = "",
    ) -> MlsGroup:
        """A new group with these inboxes (all their installations); we are its only super admin."""
        inbox_ids = tuple(dict.fromkeys(i for i in inbox_ids if i != self.inbox_id))
        if permissions is None:
            permissions = Preset.DEFAULT
        policies = permissions.policy_set() if isinstance(permissions, Preset) else permissions
        for field, value in (
            (MetadataField.GROUP_NAME, name),
            (MetadataField.DESCRIPTION, description),
            (MetadataField.GROUP_IMAGE_URL_SQUARE, image_url_square),
            (MetadataField.APP_DATA, app_data),
        ):
            check_metadata_length(field, value)
        check_group_size({self.inbox_id}, inbox_ids)
        if inbox_ids:
            self.identity.get_inbox_states(inbox_ids)  # InboxNotFound before anything is created
        xmtp = XmtpGroupState.new_group(
            self.inbox_id,
            self.installation_id,
            policies,
            name=name,
            description=description,
            image_url_square=image_url_square,
            app_data=app_data,
        )
        group = self._create(xmtp, None)
        self._add_initial_members(group, inbox_ids)
        return group

    def find_or_create_dm(self, inbox_id: str) -> MlsGroup:
        """The DM with ``inbox_id``: the most recently active of its groups, or a new one."""
        if inbox_id == self.inbox_id:
            raise errors.ExpectedInboxesDoNotMatch()
        conversation = dm_id(self.inbox_id, inbox_id)
        for group_id in self.views.groups_with_dm_id(conversation):
            row = self.views.row(group_id)
            if row is not None and row.is_active:
                return MlsGroup(self, group_id)
        self.identity.get_inbox_state(inbox_id)
        group = self._create(XmtpGroupState.new_dm(self.inbox_id, self.installation_id, inbox_id), conversation)
        self._add_initial_members(group, (inbox_id,))
        return group

    def group(self, group_id: bytes) -> MlsGroup:
        """The group with this id (errors.GroupNotFound if this installation has none)."""
        if self.views.row(bytes(group_id)) is None:
            raise errors.GroupNotFound(bytes(group_id))
        return MlsGroup(self, group_id)

    def groups(self, conversation_type: Optional[ConversationType] = None) -> list[MlsGroup]:
        """Every conversation, oldest first; a DM appears once (its most recently active group)."""
        rows = self.views.rows()
        latest: dict[str, GroupRecord] = {}  # the most recently active group of each DM (as groups_with_dm_id)
        for row in rows:
            if row.dm_id is not None:
                best = latest.get(row.dm_id)
                if best is None or _more_recent(row, best):
                    latest[row.dm_id] = row
        result = []
        for row in rows:
            if conversation_type is not None and row.conversation_type is not conversation_type:
                continue
            group_id = row.group_id
            if row.dm_id is not None:
                best = latest.pop(row.dm_id, None)
                if best is None:
                    continue  # the DM is listed once, where its first group was
                group_id = best.group_id
            result.append(MlsGroup(self, group_id))
        return result

    # -- welcomes and syncing ----------------------------------------------------------------------

    def sync_welcomes(self) -> list[MlsGroup]:
        """Join the groups whose welcomes arrived (validated; membership PENDING); returns them."""
        self._ensure_key_package(force=False)
        joined: list[MlsGroup] = []
        fetch = identity_fetcher(self)
        with self._installation_lock:
            envelopes = self.api.query_welcome_messages(
                self.installation_id, after_cursor=self._installation.welcome_cursor
            )
            for envelope in envelopes:
                group = self._process_welcome(envelope.cursor, envelope.payload, fetch, envelope.server_time_ns)
                if group is not None:
                    joined.append(group)
        return joined

    def _process_welcome(
        self, cursor: int, payload: bytes, fetch, server_time_ns: Optional[int] = None
    ) -> Optional[MlsGroup]:
        """Join (or record the rejection of) one welcome; ``server_time_ns`` stamps the joiner's transcript."""
        installation = self._installation
        now = self._clock.now_ns()
        try:
            joined = open_welcome_for(payload, self.inbox_id, self.key_package_bundle, fetch, server_time_ns)
        except WelcomeRejected as rejected:
            events = welcome_processed(installation, cursor, None, rejected.reason, rejected.detail, now)
            self._store.save_installation(events)
            self._installation = project_installation(installation, events)  # type: ignore[assignment]
            return None
        group_id = joined.group_id
        with self.group_mutex(group_id), self.commit_lock(group_id):
            state = self._store.load(group_id)
            group_events = decide_join_group(
                state, joined, inbox_id=self.inbox_id, installation_id=self.installation_id, timestamp_ns=now
            )
            outcome = "Joined" if group_events else "AlreadyMember"
            events = welcome_processed(installation, cursor, group_id, outcome, "", now)
            if group_events:
                self._store.save_with(group_id, group_events, events)
            else:
                self._store.save_installation(events)
            self._installation = project_installation(installation, events)  # type: ignore[assignment]
        return MlsGroup(self, group_id) if group_events else None

    def sync_all(self) -> int:
        """Process welcomes, then sync every active group; returns how many groups were synced."""
        self.sync_welcomes()
        synced = 0
        for group_id in self._store.group_ids():
            state = self._store.load(group_id)
            if state is None or not state.is_active:
                continue
            MlsGroup(self, group_id)._sync_one(required=False)
            synced += 1
        return synced
