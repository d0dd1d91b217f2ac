"""Deterministic re-derivations of a group's MLS state from what its events recorded (ARCHITECTURE 2).

The group aggregate's projector never decides anything; where an event's effect needs cryptography
it calls these functions with the recorded seed, welcome, key-package bundle, commit plan or
payload, and gets the same bytes the decision produced. ``ReplayMismatch`` reports a recorded hash
that re-derivation does not reproduce (a bug, or a tampered store).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Optional

import attrs

from .application_content import ApplicationContent
from .configuration import CIPHERSUITE
from .group_events import GroupCreated, GroupJoined
from .intents import Intent, SendMessageData
from .mls.extensions import Extension
from .mls.group import (
    GroupState,
    KeyPackageBundle,
    StagedCommit,
    commit,
    create_group,
    encrypt_application,
    join_group,
)
from .welcomes import WelcomeEnvelope
from .xmtp_mls import generate_xmtp_key_package

__all__ = [
    "ReplayMismatch",
    "derive_seed",
    "payload_hash",
    "creator_bundle",
    "create_mls_group",
    "join_mls_group",
    "stage_commit",
    "CheckedCommit",
    "own_commit_check",
    "encrypt_message",
]


class ReplayMismatch(RuntimeError):
    """Re-deriving an event's effect produced something else than the event recorded (a bug or tampering)."""


def derive_seed(seed: bytes, label: bytes) -> bytes:
    """A 32-byte seed for one use of ``seed`` (HMAC-SHA256 keyed by the seed)."""
    return hmac.new(bytes(seed), b"mlsgroup " + label, hashlib.sha256).digest()


def payload_hash(payload: bytes) -> bytes:
    return hashlib.sha256(payload).digest()


def creator_bundle(event: GroupCreated) -> KeyPackageBundle:
    """The creator's leaf: a key package derived from the creation seed."""
    return generate_xmtp_key_package(
        event.inbox_id,
        event.signature_private,
        derive_seed(event.seed, b"creator key package"),
        event.timestamp_ns // 1_000_000_000,
    )


def create_mls_group(event: GroupCreated) -> GroupState:
    extensions = tuple(Extension(kind, data) for kind, data in event.extensions)
    return create_group(CIPHERSUITE, event.group_id, creator_bundle(event), extensions=extensions, seed=event.seed)


def join_mls_group(event: GroupJoined) -> GroupState:
    welcome = WelcomeEnvelope.decode(event.welcome).welcome
    return join_group(welcome, KeyPackageBundle.decode(event.key_package_bundle))


@attrs.frozen(eq=False)
class CheckedCommit:
    """Our staged commit with the verdict of the check it passed when published (never stored).

    Merging it when its envelope comes back re-checks it against the same state with the same
    identity fetcher; identity states are immutable per (inbox id, sequence id), so that check would
    give this verdict again: ``own_commit_check`` returns it instead of re-validating."""

    staged: StagedCommit
    context: bytes  # the encoded group context it was checked against
    fetch: Any
    verdict: Any
    identities: Any


def own_commit_check(intent: Intent, mls: GroupState, fetch: Any) -> Optional[tuple[Any, Any]]:
    """(verdict, identities) of a published commit's publish-time check, when ``mls`` and ``fetch``
    are those it was checked with; None otherwise (the caller checks it again)."""
    cached = intent.staged_cache
    if isinstance(cached, CheckedCommit) and cached.fetch is fetch and cached.context == mls.encoded_group_context:
        return cached.verdict, cached.identities
    return None


def stage_commit(mls: GroupState, intent: Intent) -> StagedCommit:
    """Re-derive the staged commit a published commit intent built (its plan and seed)."""
    cached = intent.staged_cache
    if isinstance(cached, CheckedCommit):
        cached = cached.staged
    if cached is not None and cached.from_epoch == mls.epoch and cached.new_state.group_id == mls.group_id:
        return cached
    plan = intent.plan
    if plan is None or intent.publish_seed is None:
        raise ReplayMismatch("a published commit intent without a plan")
    extensions = None
    if plan.extensions is not None:
        extensions = tuple(Extension(kind, data) for kind, data in plan.extensions)
    return commit(
        mls,
        adds=plan.adds,
        removes=plan.removes,
        group_context_extensions=extensions,
        update_path=plan.update_path,
        seed=intent.publish_seed,
        include_pending=False,
    )


def encrypt_message(mls: GroupState, data: SendMessageData, seed: bytes) -> tuple[GroupState, bytes]:
    """Encrypt an application message intent's content with ``seed``: (new state, payload)."""
    plaintext = ApplicationContent(data.content_type, data.content, data.idempotency_key).encode()
    return encrypt_application(mls, plaintext, seed)
