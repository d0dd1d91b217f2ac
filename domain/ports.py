"""The ports the group layer is generic over: delivery service, key-package directory, identity registry, clock
(libxmtp sections 6-10; ARCHITECTURE 2 step 3 and 4).

The infrastructure provides the adapters (``mlsgroup.infrastructure.network``: in memory, SQLite,
PostgreSQL). The domain only sees these protocols and the ``Envelope`` value, so the group layer
can be driven by any of them, or by a test double.

Ordering contract of the delivery service: every topic (one per group id, one per installation for
welcomes) numbers its payloads with cursors 1, 2, 3, ... in the order the service accepted them,
independently of every other topic. Once a reader sees cursor n, every cursor below n is visible
too, so reading "after the last cursor I processed" never skips a payload. Server times never
decrease along a topic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ContextManager, Iterable, Mapping, MutableSet, Optional, Protocol, Sequence, runtime_checkable

import attrs

from .eventing import Clock, DomainEvent
from .identity import IdentityUpdate, InboxState

if TYPE_CHECKING:  # pragma: no cover
    from .conversation import ConsentState, MembershipState
    from .extensions import ConversationType
    from .group_aggregate import GroupAggregateState
    from .message_kinds import MessageKind
    from .mls.group import KeyPackageBundle
    from .stored_message import StoredMessage

__all__ = [
    "Envelope",
    "DeliveryService",
    "KeyPackageDirectory",
    "IdentityRegistry",
    "Clock",
    "GroupStore",
    "GroupRow",
    "GroupViews",
    "Context",
]


@attrs.frozen
class Envelope:
    """One payload as the delivery service ordered it on its topic."""

    cursor: int
    payload: bytes
    server_time_ns: int


@runtime_checkable
class KeyPackageDirectory(Protocol):
    """Where installations publish key packages and where adders fetch them (libxmtp sections 7, 10)."""

    def upload_key_package(self, installation_id: bytes, key_package: bytes, is_last_resort: bool = True) -> None:
        """Publish a key package of ``installation_id``.

        A last-resort key package is never consumed by fetching; uploading another one replaces it
        (rotation). A key package that is not last-resort is handed out at most once.
        """
        ...

    def fetch_key_packages(self, installation_ids: Iterable[bytes]) -> dict[bytes, bytes]:
        """One key package per installation that has any: the oldest one-time package (consumed) if
        there is one, else the current last-resort package. Installations without any are absent."""
        ...


@runtime_checkable
class DeliveryService(KeyPackageDirectory, Protocol):
    """Orders payloads on group topics and delivers welcomes to installations; also the key-package directory."""

    def send_group_messages(self, group_id: bytes, payloads: Sequence[bytes]) -> list[int]:
        """Append ``payloads`` in order to the group's topic; returns their cursors (consecutive)."""
        ...

    def query_group_messages(self, group_id: bytes, after_cursor: int = 0, limit: int | None = None) -> list[Envelope]:
        """The group's envelopes with cursor > ``after_cursor``, in cursor order, at most ``limit`` of them."""
        ...

    def send_welcome_messages(self, messages: Sequence[tuple[bytes, bytes]]) -> list[int]:
        """Append each ``(installation_id, payload)`` to that installation's welcome topic; returns the cursors."""
        ...

    def query_welcome_messages(
        self, installation_id: bytes, after_cursor: int = 0, limit: int | None = None
    ) -> list[Envelope]:
        """The installation's welcome envelopes with cursor > ``after_cursor``, in cursor order."""
        ...


@runtime_checkable
class IdentityRegistry(Protocol):
    """Stores each inbox's chain of identity updates, validated before it is accepted (libxmtp section 1)."""

    def publish_identity_update(self, update: IdentityUpdate) -> InboxState:
        """Validate ``update`` against the stored chain and append it; returns the inbox's new state.

        Raises an ``IdentityUpdateRejected`` subclass (``mlsgroup.domain.identity_errors``) if it does
        not extend the chain, e.g. ``UnexpectedSequenceId`` when another update won the race.
        """
        ...

    def get_inbox_state(self, inbox_id: str) -> InboxState:
        """The inbox's latest state (every installation, with the sequence ids that added and revoked it).

        Raises ``InboxNotFound`` for an inbox without updates.
        """
        ...

    def get_inbox_states(self, inbox_ids: Iterable[str]) -> Mapping[str, InboxState]:
        """The latest states of several inboxes, keyed by inbox id; ``InboxNotFound`` names the missing ones."""
        ...

    def get_identity_updates(self, inbox_id: str, after_sequence_id: int = 0) -> list[IdentityUpdate]:
        """The inbox's updates after ``after_sequence_id`` in order, so a client can verify the chain itself."""
        ...


@runtime_checkable
class GroupStore(Protocol):
    """The installation's group aggregates (libxmtp's groups + MLS storage): load, and save atomically."""

    def load(self, group_id: bytes) -> Optional["GroupAggregateState"]:
        """The group's current state, or None if this installation has no such group."""
        ...

    def save(self, group_id: bytes, events: Sequence[DomainEvent]) -> "GroupAggregateState":
        """Append ``events`` (one transaction) and return the state they lead to."""
        ...

    def group_ids(self) -> list[bytes]:
        """Every group this installation has, oldest first."""
        ...


class GroupRow(Protocol):
    """One group's row of the ``groups`` read model (libxmtp's groups table)."""

    group_id: bytes
    conversation_type: "ConversationType"
    dm_id: Optional[str]
    created_at_ns: int
    added_by_inbox_id: str
    membership_state: "MembershipState"
    consent_state: "ConsentState"
    last_message_ns: int
    epoch: int
    is_active: bool


@runtime_checkable
class GroupViews(Protocol):
    """The read models the query methods use (groups, group_messages); a query sees every saved event."""

    def row(self, group_id: bytes) -> Optional[GroupRow]:
        """The group's row, or None if this installation has no such group."""
        ...

    def attributes(self, group_id: bytes) -> Optional[Mapping[str, str]]:
        """The group's mutable-metadata attributes; None when the read model cannot know them."""
        ...

    def admin_lists(self, group_id: bytes) -> Optional[tuple[tuple[str, ...], tuple[str, ...]]]:
        """The group's admin and super-admin lists, in order; None when the read model cannot know them."""
        ...

    def policy_set(self, group_id: bytes) -> Optional[bytes]:
        """The group's encoded PolicySet; None when the read model cannot know it."""
        ...

    def messages(
        self,
        group_ids: Sequence[bytes],
        *,
        sent_after_ns: Optional[int] = None,
        limit: Optional[int] = None,
        kind: Optional["MessageKind"] = None,
    ) -> list["StoredMessage"]:
        """The messages of these groups (one conversation), oldest first."""
        ...

    def groups_with_dm_id(self, dm_id: str) -> list[bytes]:
        """Every group of one DM conversation (several may share a dm_id), most recently active first."""
        ...


class Context(Protocol):
    """What a group needs from its client (libxmtp XmtpSharedContext): network ports, identity,
    storage, entropy, time and locks. ``Client`` implements it."""

    @property
    def inbox_id(self) -> str: ...

    @property
    def installation_id(self) -> bytes: ...

    @property
    def api(self) -> DeliveryService: ...

    @property
    def identity(self) -> IdentityRegistry: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def group_store(self) -> GroupStore: ...

    @property
    def views(self) -> GroupViews: ...

    def installation_signature_key(self) -> bytes:
        """The installation's Ed25519 private key (its leaf signature key in every group)."""
        ...

    def key_package_bundle(self, key_package_ref: bytes) -> Optional["KeyPackageBundle"]:
        """Our key package with this KeyPackageRef, with its private keys, if we still keep it."""
        ...

    def entropy(self) -> bytes:
        """A fresh 32-byte seed (the only source of randomness of the group layer)."""
        ...

    def group_mutex(self, group_id: bytes) -> ContextManager[object]:
        """Held for a whole sync of the group (re-entrant)."""
        ...

    def commit_lock(self, group_id: bytes) -> ContextManager[object]:
        """Held around every load-decide-save of the group's state (re-entrant)."""
        ...

    def handed_over(self, group_id: bytes) -> MutableSet[bytes]:
        """Payload hashes of the group's published intents that this Context has handed to the
        delivery service since it was opened. Memory only: after a restart it starts empty, so a
        payload whose send a crash cut short goes out again (held under the group's mutex)."""
        ...
