"""The installation aggregate: one installation's own secrets and progress, as events in its store
(libxmtp keeps them in the installation's database; spec sections 7, 10).

``InstallationCreated`` records the seed of the installation's Ed25519 key (its installation id is
the public key); ``KeyPackageGenerated`` the seed of each key package (re-derived on replay, kept
until its 84-day lifetime is over, so welcomes to an older package still open);
``WelcomeProcessed`` the welcome-topic cursor and what became of each welcome.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional
from uuid import UUID

import attrs

from .configuration import KEY_PACKAGE_LIFETIME_S, KEY_PACKAGE_ROTATION_INTERVAL_NS
from .eventing import DomainEvent, register_event, register_value
from .identity import installation_key_pair
from .mls.group import KeyPackageBundle
from .xmtp_mls import generate_xmtp_key_package

__all__ = [
    "INSTALLATION_AGGREGATE_ID",
    "KEY_PACKAGE_CLOCK_MARGIN_S",
    "InstallationCreated",
    "KeyPackageGenerated",
    "WelcomeProcessed",
    "KeyPackageRecord",
    "InstallationState",
    "project_installation",
    "create_installation",
    "generate_key_package",
    "welcome_processed",
]

INSTALLATION_AGGREGATE_ID = UUID("6d6c7367-726f-7570-2d69-6e7374616c6c")
"""The installation aggregate's id: one per store, so a fixed id finds it on reopening."""

_PREFIX = "mlsgroup.InstallationAggregate."

KEY_PACKAGE_CLOCK_MARGIN_S = 3600
"""A key package is valid from an hour before its creation, so adders whose clocks lag accept it."""


@register_event(_PREFIX + "InstallationCreated")
@attrs.frozen(kw_only=True)
class InstallationCreated(DomainEvent):
    """This store belongs to the installation whose key derives from ``key_seed``."""

    inbox_id: str
    installation_id: bytes
    key_seed: bytes = attrs.field(repr=False)


@register_event(_PREFIX + "KeyPackageGenerated")
@attrs.frozen(kw_only=True)
class KeyPackageGenerated(DomainEvent):
    """A new last-resort key package (from ``seed``, valid from ``not_before_s``) was published."""

    seed: bytes = attrs.field(repr=False)
    not_before_s: int


@register_event(_PREFIX + "WelcomeProcessed")
@attrs.frozen(kw_only=True)
class WelcomeProcessed(DomainEvent):
    """The welcome at ``cursor`` joined ``group_id``, or was rejected (``outcome`` names why)."""

    cursor: int
    group_id: Optional[bytes]
    outcome: str
    detail: str = ""


@register_value(_PREFIX + "KeyPackageRecord")
@attrs.frozen
class KeyPackageRecord:
    """A key package this installation published: its seed and start of validity."""

    seed: bytes = attrs.field(repr=False)
    not_before_s: int
    generated_at_ns: int


@register_value(_PREFIX + "State")
@attrs.frozen(kw_only=True)
class InstallationState:
    """The installation's identity, key packages and welcome cursor."""

    id: UUID
    version: int
    modified_ns: int
    inbox_id: str
    installation_id: bytes
    key_seed: bytes = attrs.field(repr=False)
    key_packages: tuple[KeyPackageRecord, ...] = ()
    welcome_cursor: int = 0
    _bundles: Any = attrs.field(default=None, init=False, eq=False, repr=False)

    @property
    def signature_key(self) -> bytes:
        return bytes(installation_key_pair(self.key_seed)[0])

    def bundles(self) -> dict[bytes, KeyPackageBundle]:
        """KeyPackageRef -> bundle of every key package we keep."""
        cached = self._bundles
        if cached is None or cached[0] is not self.key_packages:
            key = self.signature_key
            bundles = {}
            for record in self.key_packages:
                bundle = generate_xmtp_key_package(self.inbox_id, key, record.seed, record.not_before_s)
                bundles[bundle.ref] = bundle
            cached = (self.key_packages, bundles)
            object.__setattr__(self, "_bundles", cached)
        return cached[1]

    def current_bundle(self) -> Optional[KeyPackageBundle]:
        if not self.key_packages:
            return None
        record = self.key_packages[-1]
        return generate_xmtp_key_package(self.inbox_id, self.signature_key, record.seed, record.not_before_s)

    def key_package_due(self, now_ns: int) -> bool:
        """Whether the latest key package is older than the 30-day rotation interval."""
        if not self.key_packages:
            return True
        return now_ns - self.key_packages[-1].generated_at_ns >= KEY_PACKAGE_ROTATION_INTERVAL_NS


def _apply(state: Optional[InstallationState], event: DomainEvent) -> InstallationState:
    if isinstance(event, InstallationCreated):
        return InstallationState(
            id=event.originator_id,
            version=event.originator_version,
            modified_ns=event.timestamp_ns,
            inbox_id=event.inbox_id,
            installation_id=event.installation_id,
            key_seed=event.key_seed,
        )
    if state is None or event.originator_version != state.version + 1:
        raise ValueError(f"{type(event).__name__} v{event.originator_version} does not follow the installation")
    changes: dict[str, Any] = {"version": event.originator_version, "modified_ns": event.timestamp_ns}
    if isinstance(event, KeyPackageGenerated):
        now_s = event.timestamp_ns // 1_000_000_000
        kept = tuple(k for k in state.key_packages if k.not_before_s + KEY_PACKAGE_LIFETIME_S > now_s)
        changes["key_packages"] = kept + (KeyPackageRecord(event.seed, event.not_before_s, event.timestamp_ns),)
    elif isinstance(event, WelcomeProcessed):
        changes["welcome_cursor"] = max(state.welcome_cursor, event.cursor)
    else:
        raise ValueError(f"the installation aggregate has no rule for {type(event).__name__}")
    return attrs.evolve(state, **changes)


def project_installation(
    state: Optional[InstallationState], events: Iterable[DomainEvent]
) -> Optional[InstallationState]:
    """The installation aggregate's projector function."""
    for event in events:
        state = _apply(state, event)
    return state


def create_installation(key_seed: bytes, inbox_id: str, timestamp_ns: int) -> list[DomainEvent]:
    """The first event of an installation's store."""
    _, installation_id = installation_key_pair(key_seed)
    return [
        InstallationCreated(
            originator_id=INSTALLATION_AGGREGATE_ID,
            originator_version=1,
            timestamp_ns=timestamp_ns,
            inbox_id=inbox_id,
            installation_id=installation_id,
            key_seed=bytes(key_seed),
        )
    ]


def generate_key_package(state: InstallationState, seed: bytes, timestamp_ns: int) -> list[DomainEvent]:
    """A new key package valid from now (its bundle is ``state.current_bundle()`` after applying)."""
    return [
        KeyPackageGenerated(
            originator_id=state.id,
            originator_version=state.version + 1,
            timestamp_ns=max(timestamp_ns, state.modified_ns),
            seed=bytes(seed),
            not_before_s=max(0, timestamp_ns // 1_000_000_000 - KEY_PACKAGE_CLOCK_MARGIN_S),
        )
    ]


def welcome_processed(
    state: InstallationState, cursor: int, group_id: Optional[bytes], outcome: str, detail: str, timestamp_ns: int
) -> list[DomainEvent]:
    return [
        WelcomeProcessed(
            originator_id=state.id,
            originator_version=state.version + 1,
            timestamp_ns=max(timestamp_ns, state.modified_ns),
            cursor=cursor,
            group_id=None if group_id is None else bytes(group_id),
            outcome=outcome,
            detail=detail,
        )
    ]
