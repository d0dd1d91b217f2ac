"""The group aggregate's commands (libxmtp sections 6, 7): pure functions that decide and return events.

``create_group`` and ``join_group`` start a group's history; ``queue_intent`` records a mutation;
``publish_message`` and ``publish_commit`` build an intent's payload WITHOUT advancing the epoch
(an application message advances only our sending ratchet; a commit is staged, then checked with
XMTP's validation exactly as every receiver will check it, so a commit that would be rejected is
never sent); the rest record delivery failures, welcomes sent and changes of standing. Time and
seeds come in as arguments; the only I/O a command sees is the identity look-up it is handed.
"""

from __future__ import annotations

from typing import Any, Optional, Union
from uuid import UUID

from . import errors
from .commit_rules import IdentityFetcher, check_own_commit
from .commit_summary import CommitViolation
from .conversation import ConsentState, MembershipState, check_admin_list_update, check_metadata_update, check_permission_update
from .eventing import DomainEvent
from .extensions import GROUP_PERMISSIONS_EXTENSION_TYPE, MUTABLE_METADATA_EXTENSION_TYPE, GroupMutablePermissions
from .group_aggregate import GroupAggregateState, encrypt_message, group_uuid, payload_hash
from .group_derivations import CheckedCommit
from .group_events import (
    ConsentStateChanged,
    GroupCreated,
    GroupJoined,
    IntentFailed,
    IntentProcessed,
    IntentPublished,
    IntentQueued,
    IntentSendFailed,
    MembershipStateChanged,
    extension_items,
    identity_record,
)
from .group_state import XmtpGroupState
from .intents import (
    AdminListAction,
    CommitPlan,
    Intent,
    IntentData,
    KeyUpdateData,
    MetadataUpdateData,
    UpdateAdminListData,
    UpdatePermissionData,
)
from .membership_plan import NothingToCommit
from .mls.errors import DecodeError, MlsError
from .mls.group import commit
from .mls.extensions import Extension
from .policies import PermissionPolicyOption, PermissionUpdateType
from .transcript import GroupUpdated
from .welcomes import JoinedGroup
from .xmtp_mls import extension_pairs, group_context_extensions, replace_extensions

__all__ = [
    "Emitter",
    "error_record",
    "create_group",
    "join_group",
    "queue_intent",
    "plan_commit",
    "publish_message",
    "publish_commit",
    "send_failed",
    "intent_failed",
    "welcomes_sent",
    "change_membership_state",
    "change_consent_state",
]


class Emitter:
    """Builds a decision's events: consecutive versions after ``version``, one timestamp."""

    def __init__(self, originator_id: UUID, version: int, timestamp_ns: int) -> None:
        self._id = originator_id
        self._version = version
        self._timestamp_ns = timestamp_ns
        self.events: list[DomainEvent] = []

    @classmethod
    def after(cls, state: GroupAggregateState, timestamp_ns: int) -> Emitter:
        return cls(state.id, state.version, max(timestamp_ns, state.modified_ns))

    def emit(self, event_class: type, derived: Any = None, **fields: Any) -> DomainEvent:
        self._version += 1
        event = event_class(
            originator_id=self._id, originator_version=self._version, timestamp_ns=self._timestamp_ns, **fields
        )
        if derived is not None:
            object.__setattr__(event, "derived", derived)
        self.events.append(event)
        return event


def error_record(exc: BaseException) -> tuple[str, str]:
    """(class name, detail) of an error, as an IntentFailed event stores it."""
    if isinstance(exc, errors.CommitValidationError):
        return type(exc).__name__, exc.detail
    if isinstance(exc, errors.TooManyCharacters):
        return "TooManyCharacters", str(exc.length)
    detail = getattr(exc, "detail", None)
    return type(exc).__name__, detail if isinstance(detail, str) else str(exc)


# -- beginnings -----------------------------------------------------------------------------------


def create_group(
    *,
    group_id: bytes,
    inbox_id: str,
    installation_id: bytes,
    signature_private: bytes,
    xmtp: XmtpGroupState,
    dm_id: Optional[str],
    seed: bytes,
    timestamp_ns: int,
) -> list[DomainEvent]:
    """A new group at epoch 0 whose context carries ``xmtp``'s extensions."""
    emitter = Emitter(group_uuid(group_id), 0, timestamp_ns)
    extensions = extension_pairs(group_context_extensions(xmtp))
    emitter.emit(
        GroupCreated,
        group_id=bytes(group_id),
        inbox_id=inbox_id,
        installation_id=bytes(installation_id),
        conversation_type=xmtp.conversation_type,
        dm_id=dm_id,
        extensions=extensions,
        signature_private=bytes(signature_private),
        seed=bytes(seed),
    )
    return emitter.events


def join_group(
    state: Optional[GroupAggregateState],
    joined: JoinedGroup,
    *,
    inbox_id: str,
    installation_id: bytes,
    timestamp_ns: int,
) -> list[DomainEvent]:
    """Join (or rejoin) the group of a validated welcome, with the "you were added" transcript."""
    if state is not None and state.is_active:
        return []
    emitter = (
        Emitter(group_uuid(joined.group_id), 0, timestamp_ns) if state is None else Emitter.after(state, timestamp_ns)
    )
    transcript = GroupUpdated(initiated_by_inbox_id=joined.added_by_inbox_id, added_inboxes=(inbox_id,))
    emitter.emit(
        GroupJoined,
        derived=joined.mls,
        group_id=joined.group_id,
        inbox_id=inbox_id,
        installation_id=bytes(installation_id),
        conversation_type=joined.conversation_type,
        dm_id=joined.dm_id,
        added_by_inbox_id=joined.added_by_inbox_id,
        welcome=joined.envelope.encode(),
        cursor=joined.envelope.cursor,
        group_updated=transcript.encode(),
        key_package_bundle=joined.bundle.encode(),
        epoch=joined.mls.epoch,
        extensions=extension_items(joined.mls.extensions),
        server_time_ns=joined.server_time_ns,
    )
    return emitter.events


# -- intents --------------------------------------------------------------------------------------


def queue_intent(
    state: GroupAggregateState, intent_id: bytes, data: IntentData, timestamp_ns: int
) -> list[DomainEvent]:
    """Record a mutation to publish (GroupInactive once we were removed)."""
    if not state.is_active:
        raise errors.GroupInactive()
    emitter = Emitter.after(state, timestamp_ns)
    emitter.emit(IntentQueued, intent_id=bytes(intent_id), data=data)
    return emitter.events


def _metadata_extension(mutable) -> dict[int, bytes]:
    return {MUTABLE_METADATA_EXTENSION_TYPE: mutable.encode()}


def plan_commit(state: GroupAggregateState, intent: Intent) -> CommitPlan:
    """The commit of a key-update, metadata, admin-list or permission intent at the current epoch
    (membership intents are planned by ``membership_plan`` with fetched inputs)."""
    data = intent.data
    xmtp = state.xmtp
    if isinstance(data, KeyUpdateData):
        return CommitPlan(update_path=True)
    if isinstance(data, MetadataUpdateData):
        check_metadata_update(xmtp, data.field_name, data.value)
        changes = _metadata_extension(xmtp.mutable_metadata.with_attribute(data.field_name, data.value))
    elif isinstance(data, UpdateAdminListData):
        check_admin_list_update(xmtp)
        mutable = xmtp.mutable_metadata
        action = data.action
        if action is AdminListAction.ADD_ADMIN:
            mutable = mutable.with_admin(data.inbox_id)
        elif action is AdminListAction.REMOVE_ADMIN:
            mutable = mutable.without_admin(data.inbox_id)
        elif action is AdminListAction.ADD_SUPER_ADMIN:
            mutable = mutable.with_super_admin(data.inbox_id)
        else:
            mutable = mutable.without_super_admin(data.inbox_id)
        changes = _metadata_extension(mutable)
    elif isinstance(data, UpdatePermissionData):
        check_permission_update(xmtp)
        policies = xmtp.permissions.updated(
            PermissionUpdateType(data.update_type), PermissionPolicyOption(data.policy_option), data.metadata_field
        )
        changes = {GROUP_PERMISSIONS_EXTENSION_TYPE: GroupMutablePermissions(policies).encode()}
    else:
        raise TypeError(f"no commit plan for {type(data).__name__}")
    extensions = replace_extensions(state.mls.extensions, changes)
    return CommitPlan(extensions=extension_pairs(extensions), update_path=True)


def publish_message(state: GroupAggregateState, intent: Intent, seed: bytes, timestamp_ns: int) -> list[DomainEvent]:
    """Encrypt an application-message intent at the current epoch (its payload is then sent)."""
    emitter = Emitter.after(state, timestamp_ns)
    if not state.is_active:
        emitter.emit(IntentFailed, intent_id=intent.intent_id, error="GroupInactive", detail="")
        return emitter.events
    mls, payload = encrypt_message(state.mls, intent.data, seed)  # type: ignore[arg-type]
    emitter.emit(
        IntentPublished,
        derived=(mls, payload),
        intent_id=intent.intent_id,
        epoch=state.epoch,
        payload=None,  # the seed rebuilds it (see IntentPublished)
        payload_hash=payload_hash(payload),
        plan=None,
        seed=bytes(seed),
    )
    return emitter.events


def intent_failed(state: GroupAggregateState, intent_id: bytes, exc: BaseException, timestamp_ns: int) -> list[DomainEvent]:
    """The intent ends in ERROR with ``exc``."""
    name, detail = error_record(exc)
    emitter = Emitter.after(state, timestamp_ns)
    emitter.emit(IntentFailed, intent_id=intent_id, error=name, detail=detail)
    return emitter.events


def publish_commit(
    state: GroupAggregateState,
    intent: Intent,
    plan: Union[CommitPlan, NothingToCommit],
    seed: bytes,
    timestamp_ns: int,
    fetch_identities: IdentityFetcher,
) -> list[DomainEvent]:
    """Stage the commit of ``plan`` and check it as receivers will: IntentPublished, IntentProcessed
    (nothing to commit) or IntentFailed (the commit is invalid or validation would reject it)."""
    emitter = Emitter.after(state, timestamp_ns)
    if not state.is_active:
        emitter.emit(IntentFailed, intent_id=intent.intent_id, error="GroupInactive", detail="")
        return emitter.events
    if isinstance(plan, NothingToCommit):
        emitter.emit(IntentProcessed, intent_id=intent.intent_id)
        return emitter.events
    extensions = None if plan.extensions is None else tuple(Extension(t, d) for t, d in plan.extensions)
    try:
        staged = commit(
            state.mls,
            adds=plan.adds,
            removes=plan.removes,
            group_context_extensions=extensions,
            update_path=plan.update_path,
            seed=seed,
            include_pending=False,
            now=timestamp_ns // 1_000_000_000,
        )
    except (DecodeError, MlsError) as exc:
        emitter.emit(IntentFailed, intent_id=intent.intent_id, error=type(exc).__name__, detail=str(exc))
        return emitter.events
    verdict, identities = check_own_commit(state.mls, staged.effect, fetch_identities, state.xmtp)
    if isinstance(verdict, CommitViolation):
        emitter.emit(IntentFailed, intent_id=intent.intent_id, error=verdict.violation.value, detail=verdict.detail)
        return emitter.events
    emitter.emit(
        IntentPublished,
        derived=CheckedCommit(staged, state.mls.encoded_group_context, fetch_identities, verdict, identities),
        intent_id=intent.intent_id,
        epoch=state.epoch,
        payload=staged.message,
        payload_hash=payload_hash(staged.message),
        plan=plan,
        seed=bytes(seed),
        identity_states=identity_record(identities),
    )
    return emitter.events


def send_failed(state: GroupAggregateState, intent_id: bytes, reason: str, timestamp_ns: int) -> list[DomainEvent]:
    emitter = Emitter.after(state, timestamp_ns)
    emitter.emit(IntentSendFailed, intent_id=intent_id, reason=reason)
    return emitter.events


def welcomes_sent(state: GroupAggregateState, intent_id: bytes, timestamp_ns: int) -> list[DomainEvent]:
    emitter = Emitter.after(state, timestamp_ns)
    emitter.emit(IntentProcessed, intent_id=intent_id)
    return emitter.events


def change_membership_state(
    state: GroupAggregateState, membership_state: MembershipState, timestamp_ns: int
) -> list[DomainEvent]:
    if state.membership_state is membership_state:
        return []
    emitter = Emitter.after(state, timestamp_ns)
    emitter.emit(MembershipStateChanged, membership_state=membership_state)
    return emitter.events


def change_consent_state(state: GroupAggregateState, consent_state: ConsentState, timestamp_ns: int) -> list[DomainEvent]:
    if state.consent_state is consent_state:
        return []
    emitter = Emitter.after(state, timestamp_ns)
    emitter.emit(ConsentStateChanged, consent_state=consent_state)
    return emitter.events
