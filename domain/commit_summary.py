"""What commit validation is told about a commit (its input) and what it concludes (its output).

The MLS layer reduces a staged commit to a ``CommitSummary``: who sent it, the proposals' effects on
the tree, and the new group context's extensions as raw bytes (validation decodes them, so a
malformed extension is a rejection, not an exception). Validation answers with a ``ValidatedCommit``
(the changes, attributed and decoded) or a ``CommitViolation`` (the first rule broken).
"""

from __future__ import annotations

import enum
from typing import Iterable, Mapping

import attrs

from . import errors
from .extensions import GroupMembership, GroupMetadata, GroupMutableMetadata
from .frozen_map import FrozenMap
from .group_state import XmtpGroupState
from .policies import Actor, PolicySet
from .transcript import GroupUpdated, MetadataFieldChange

__all__ = [
    "LeafIdentity",
    "AddedInstallation",
    "RemovedInstallation",
    "CommitSummary",
    "Violation",
    "CommitViolation",
    "ValidatedCommit",
]


@attrs.frozen
class LeafIdentity:
    """A leaf as its credential presents it: inbox id (MlsCredential) and installation id (signature key)."""

    inbox_id: str
    installation_id: bytes


@attrs.frozen
class AddedInstallation:
    """An Add proposal: the key package's installation and the inbox its credential names."""

    installation_id: bytes
    inbox_id: str
    # None: proposed inline by the committer; otherwise the member who sent the proposal.
    proposer: LeafIdentity | None = None


@attrs.frozen
class RemovedInstallation:
    """A Remove proposal: the installation of the removed leaf."""

    installation_id: bytes
    proposer: LeafIdentity | None = None


def _extensions(value: Mapping[int, bytes]) -> FrozenMap[int, bytes]:
    return value if isinstance(value, FrozenMap) else FrozenMap(value)


@attrs.frozen
class CommitSummary:
    """A staged commit reduced to what XMTP's rules look at.

    ``sender`` is the committer's leaf before the commit (None when the sender is not a member leaf,
    e.g. an external commit); ``path_leaf`` is the leaf node its update path installs, if any.
    ``new_extensions`` maps extension type to data for the group context after the commit."""

    sender: LeafIdentity | None
    new_extensions: FrozenMap[int, bytes] = attrs.field(converter=_extensions)
    path_leaf: LeafIdentity | None = None
    added_installations: tuple[AddedInstallation, ...] = attrs.field(default=(), converter=tuple)
    removed_installations: tuple[RemovedInstallation, ...] = attrs.field(default=(), converter=tuple)
    updated_leaves: tuple[LeafIdentity, ...] = attrs.field(default=(), converter=tuple)
    has_psk_proposals: bool = False
    has_external_proposals: bool = False

    @property
    def actor_leaf(self) -> LeafIdentity | None:
        """The committer as libxmtp identifies it: the update-path leaf if any, else the sender's leaf."""
        return self.path_leaf if self.path_leaf is not None else self.sender

    def leaves_after(self, state: XmtpGroupState) -> FrozenMap[bytes, str]:
        """The tree's installations after this commit, derived from the pre-commit ones."""
        removed = {r.installation_id for r in self.removed_installations}
        leaves = {inst: inbox for inst, inbox in state.leaves.items() if inst not in removed}
        for added in self.added_installations:
            leaves[added.installation_id] = added.inbox_id
        for leaf in (*self.updated_leaves, *((self.path_leaf,) if self.path_leaf else ())):
            leaves[leaf.installation_id] = leaf.inbox_id
        return FrozenMap(leaves)


class Violation(enum.Enum):
    """The commit-validation rule a commit broke; the value names its ``errors`` class."""

    IMMUTABLE_METADATA_CHANGED = "ImmutableMetadataChanged"
    MISSING_MUTABLE_METADATA = "MissingMutableMetadata"
    MISSING_GROUP_PERMISSIONS = "MissingGroupPermissions"
    MISSING_GROUP_MEMBERSHIP = "MissingGroupMembership"
    MALFORMED_EXTENSION = "MalformedExtension"
    TOO_MANY_CHARACTERS = "CommitTooManyCharacters"
    ACTOR_NOT_MEMBER = "ActorNotMember"
    NO_PSK_SUPPORT = "NoPSKSupport"
    SUBJECT_DOES_NOT_EXIST = "SubjectDoesNotExist"
    SEQUENCE_ID_DECREASED = "SequenceIdDecreased"
    UNEXPECTED_INSTALLATION_ADDED = "UnexpectedInstallationAdded"
    UNEXPECTED_INSTALLATIONS_REMOVED = "UnexpectedInstallationsRemoved"
    INBOX_VALIDATION_FAILED = "InboxValidationFailed"
    INSUFFICIENT_PERMISSIONS = "InsufficientPermissions"
    INVALID_VERSION_FORMAT = "InvalidVersionFormat"
    PROTOCOL_VERSION_TOO_LOW = "ProtocolVersionTooLow"

    @property
    def error_class(self) -> type[errors.CommitValidationError]:
        return getattr(errors, self.value)


@attrs.frozen
class CommitViolation:
    """A rejected commit: the first rule it broke and a detail (an inbox, a limit, which policy...)."""

    violation: Violation
    detail: str = ""

    def error(self) -> errors.CommitValidationError:
        """The public error for this violation."""
        return self.violation.error_class(self.detail)

    def raise_error(self) -> None:
        raise self.error()


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen
class ValidatedCommit:
    """An accepted commit: who made it, what it changed (pre-commit ranks), and the new extensions."""

    actor: Actor
    actor_installation_id: bytes
    added_inboxes: tuple[str, ...]
    removed_inboxes: tuple[str, ...]
    metadata_field_changes: tuple[MetadataFieldChange, ...]
    added_admins: tuple[str, ...]
    removed_admins: tuple[str, ...]
    added_super_admins: tuple[str, ...]
    removed_super_admins: tuple[str, ...]
    permissions_changed: bool
    installations_changed: bool
    metadata: GroupMetadata
    mutable_metadata: GroupMutableMetadata
    membership: GroupMembership
    permissions: PolicySet

    def state_after(self, leaves: Mapping[bytes, str]) -> XmtpGroupState:
        """The XMTP state after merging, given the tree's installations after the commit."""
        return XmtpGroupState(self.metadata, self.mutable_metadata, self.membership, self.permissions, leaves)

    @property
    def changes_transcript(self) -> bool:
        """Whether the commit gets a GroupUpdated message: inboxes, metadata or admin lists changed."""
        return bool(
            self.added_inboxes or self.removed_inboxes or self.metadata_field_changes or self.added_admins
            or self.removed_admins or self.added_super_admins or self.removed_super_admins
        )

    def group_updated(self, pending_leavers: Iterable[str] = ()) -> GroupUpdated | None:
        """The transcript message, or None for commits that write none (key updates, permission-only
        changes). Removed inboxes that had asked to leave are listed as left instead of removed."""
        if not self.changes_transcript:
            return None
        leavers = frozenset(pending_leavers)
        return GroupUpdated(
            initiated_by_inbox_id=self.actor.inbox_id,
            added_inboxes=self.added_inboxes,
            removed_inboxes=_strings(i for i in self.removed_inboxes if i not in leavers),
            left_inboxes=_strings(i for i in self.removed_inboxes if i in leavers),
            metadata_field_changes=self.metadata_field_changes,
            added_admins=self.added_admins,
            removed_admins=self.removed_admins,
            added_super_admins=self.added_super_admins,
            removed_super_admins=self.removed_super_admins,
        )
