"""XMTP commit validation (libxmtp ValidatedCommit + PolicySet::evaluate_commit, spec section 5): a pure
function of the pre-commit group state, a commit summary and the identity states it needs.

Every commit is checked, our own included, against the PRE-commit policies and admin lists. The
rules, in the order a violation is reported:

1. the immutable GroupMetadata is unchanged; the mutable metadata, permissions and membership
   extensions are present and well formed;
2. new metadata values respect the length limits;
3. the committer and every proposer are members (ActorNotMember); no PSK proposals;
4. removed installations are in the tree; membership sequence ids only increase;
5. added installations are expected from identity updates or already in the tree, and belong to the
   inbox their credential names; removed installations are exactly the expected ones (minus failed);
6. the committer's and updated leaves' credentials belong to their inbox at the new sequence id;
7. policies: each added inbox passes add_member_policy for its proposer (else the committer), except
   a DM's single permitted add; each removed inbox passes remove_member_policy and is not a super
   admin; each changed metadata field passes its policy (no policy: "_" keys super admin only, others
   admin or super admin); admin additions/removals pass add/remove_admin_policy; super-admin
   additions need a super-admin committer, removals too and must leave the list non-empty; a
   permission change needs a super-admin committer (being the creator grants nothing);
8. the group's minimum supported protocol version does not exceed ours (when ours is given).
"""

from __future__ import annotations

from typing import Iterable

from .commit_summary import (
    CommitSummary,
    CommitViolation,
    LeafIdentity,
    ValidatedCommit,
    Violation,
)
from .extensions import (
    GROUP_MEMBERSHIP_EXTENSION_TYPE,
    GROUP_METADATA_EXTENSION_TYPE,
    GROUP_PERMISSIONS_EXTENSION_TYPE,
    MUTABLE_METADATA_EXTENSION_TYPE,
    GroupMembership,
    GroupMetadata,
    GroupMutableMetadata,
    GroupMutablePermissions,
)
from .group_state import XmtpGroupState
from .installation_diff import (
    IdentityStates,
    expected_installation_diff,
    identity_requirements,
    installations_at,
    removal_mismatch,
)
from .metadata_fields import MetadataField, length_limit
from .policies import Actor, PolicySet, evaluate
from .protobuf import DecodeError
from .transcript import MetadataFieldChange

__all__ = [
    "validate_commit",
    "check_commit",
    "required_identity_states",
    "metadata_field_changes",
    "parse_version",
]


class _Rejected(Exception):
    def __init__(self, violation: Violation, detail: str = "") -> None:
        super().__init__(violation, detail)
        self.violation = CommitViolation(violation, detail)


def validate_commit(
    state: XmtpGroupState,
    commit: CommitSummary,
    identities: IdentityStates,
    *,
    protocol_version: str | None = None,
) -> ValidatedCommit | CommitViolation:
    """Validate ``commit`` against the pre-commit ``state``; the accepted commit or the first violation.

    ``identities`` must hold every key of ``required_identity_states(state, commit)`` (else
    MissingIdentityState, a local error). ``protocol_version`` (e.g. "1.10.0") enables the
    minimum-supported-version check."""
    try:
        return _validate(state, commit, identities, protocol_version)
    except _Rejected as rejected:
        return rejected.violation


def check_commit(
    state: XmtpGroupState,
    commit: CommitSummary,
    identities: IdentityStates,
    *,
    protocol_version: str | None = None,
) -> ValidatedCommit:
    """Like ``validate_commit`` but raising the violation's ``CommitValidationError``."""
    result = validate_commit(state, commit, identities, protocol_version=protocol_version)
    if isinstance(result, CommitViolation):
        raise result.error()
    return result


def required_identity_states(state: XmtpGroupState, commit: CommitSummary) -> frozenset[tuple[str, int]]:
    """The (inbox_id, sequence_id) identity states validating ``commit`` reads (empty if its
    membership extension is missing or malformed: validation rejects it before reading any)."""
    raw = commit.new_extensions.get(GROUP_MEMBERSHIP_EXTENSION_TYPE)
    if raw is None:
        return frozenset()
    try:
        new_membership = GroupMembership.decode(raw)
    except DecodeError:
        return frozenset()
    return identity_requirements(state.membership, new_membership, (leaf.inbox_id for leaf in _credentials(commit)))


def metadata_field_changes(old: GroupMutableMetadata, new: GroupMutableMetadata) -> tuple[MetadataFieldChange, ...]:
    """Every attribute whose value differs, in key order (None for an absent attribute)."""
    keys = sorted(set(old.attributes) | set(new.attributes))
    return tuple(
        MetadataFieldChange(key, old.get(key), new.get(key)) for key in keys if old.get(key) != new.get(key)
    )


def parse_version(version: str) -> tuple[int, int, int, tuple[int, str]] | None:
    """A libxmtp version "MAJOR.MINOR.PATCH[-suffix]" as an ordering key (None if malformed).

    Ordered as libxmtp's derived Ord: a version without suffix sorts before one with a suffix."""
    parts = version.split(".")
    if len(parts) != 3:
        return None
    patch, _, suffix = parts[2].partition("-")
    numbers = (parts[0], parts[1], patch)
    if not all(n.isdigit() and n.isascii() for n in numbers):
        return None
    has_suffix = "-" in parts[2]
    return int(numbers[0]), int(numbers[1]), int(numbers[2]), (1, suffix) if has_suffix else (0, "")


def _credentials(commit: CommitSummary) -> tuple[LeafIdentity, ...]:
    actor = commit.actor_leaf
    return (*commit.updated_leaves, *((actor,) if actor is not None else ()))


def _decode(commit: CommitSummary, extension_type: int, decoder, missing: Violation, name: str):
    raw = commit.new_extensions.get(extension_type)
    if raw is None:
        raise _Rejected(missing, name)
    try:
        return decoder(raw)
    except DecodeError as exc:
        raise _Rejected(Violation.MALFORMED_EXTENSION, f"{name}: {exc}") from None


def _validate(
    state: XmtpGroupState, commit: CommitSummary, identities: IdentityStates, protocol_version: str | None
) -> ValidatedCommit:
    metadata = _decode(commit, GROUP_METADATA_EXTENSION_TYPE, GroupMetadata.decode,
                       Violation.IMMUTABLE_METADATA_CHANGED, "GroupMetadata")
    if metadata != state.metadata:
        raise _Rejected(Violation.IMMUTABLE_METADATA_CHANGED, "GroupMetadata")
    mutable = _decode(commit, MUTABLE_METADATA_EXTENSION_TYPE, GroupMutableMetadata.decode,
                      Violation.MISSING_MUTABLE_METADATA, "GroupMutableMetadata")
    permissions: PolicySet = _decode(commit, GROUP_PERMISSIONS_EXTENSION_TYPE,
                                     lambda raw: GroupMutablePermissions.decode(raw).policies,
                                     Violation.MISSING_GROUP_PERMISSIONS, "GroupMutablePermissions")
    membership = _decode(commit, GROUP_MEMBERSHIP_EXTENSION_TYPE, GroupMembership.decode,
                         Violation.MISSING_GROUP_MEMBERSHIP, "GroupMembership")

    field_changes = metadata_field_changes(state.mutable_metadata, mutable)
    for change in field_changes:
        limit = length_limit(change.field_name)
        if limit is not None and change.new_value is not None and len(change.new_value.encode("utf-8")) > limit:
            raise _Rejected(Violation.TOO_MANY_CHARACTERS, str(limit))

    actor_leaf = _check_participants(state, commit)
    if commit.has_psk_proposals:
        raise _Rejected(Violation.NO_PSK_SUPPORT)
    for removed in commit.removed_installations:
        if removed.installation_id not in state.leaves:
            raise _Rejected(Violation.SUBJECT_DOES_NOT_EXIST, removed.installation_id.hex())

    old_membership = state.membership
    diff = old_membership.diff(membership)
    for inbox_id in diff.updated_inboxes:
        if membership.members[inbox_id] < old_membership.members[inbox_id]:
            raise _Rejected(Violation.SEQUENCE_ID_DECREASED, inbox_id)

    _check_installations(state, commit, old_membership, membership, identities)
    for leaf in _credentials(commit):
        _check_credential(state, leaf, old_membership, membership, identities)

    actor = state.actor(actor_leaf.inbox_id)
    old_mutable = state.mutable_metadata
    validated = ValidatedCommit(
        actor=actor,
        actor_installation_id=actor_leaf.installation_id,
        added_inboxes=tuple(sorted(diff.added_inboxes)),
        removed_inboxes=tuple(sorted(diff.removed_inboxes)),
        metadata_field_changes=field_changes,
        added_admins=_added(old_mutable.admin_list, mutable.admin_list),
        removed_admins=_added(mutable.admin_list, old_mutable.admin_list),
        added_super_admins=_added(old_mutable.super_admin_list, mutable.super_admin_list),
        removed_super_admins=_added(mutable.super_admin_list, old_mutable.super_admin_list),
        permissions_changed=permissions != state.permissions,
        installations_changed=bool(commit.added_installations or commit.removed_installations),
        metadata=metadata,
        mutable_metadata=mutable,
        membership=membership,
        permissions=permissions,
    )
    denial = _policy_denial(state, commit, validated)
    if denial is not None:
        raise _Rejected(Violation.INSUFFICIENT_PERMISSIONS, denial)
    _check_protocol_version(mutable, protocol_version)
    return validated


def _added(old: Iterable[str], new: Iterable[str]) -> tuple[str, ...]:
    before = set(old)
    return tuple(inbox for inbox in new if inbox not in before)


def _is_member_leaf(state: XmtpGroupState, leaf: LeafIdentity | None) -> bool:
    return leaf is not None and state.leaves.get(leaf.installation_id) == leaf.inbox_id


def _check_participants(state: XmtpGroupState, commit: CommitSummary) -> LeafIdentity:
    """The committer and every proposer must hold a leaf; returns the committing leaf (libxmtp's actor)."""
    sender = commit.sender
    if sender is None or not _is_member_leaf(state, sender) or commit.has_external_proposals:
        raise _Rejected(Violation.ACTOR_NOT_MEMBER)
    for proposal in (*commit.added_installations, *commit.removed_installations):
        if proposal.proposer is not None and not _is_member_leaf(state, proposal.proposer):
            raise _Rejected(Violation.ACTOR_NOT_MEMBER, proposal.proposer.inbox_id)
    actor = commit.path_leaf if commit.path_leaf is not None else sender
    # An update path may rotate the committer's leaf, but it cannot turn it into another inbox's.
    if actor.inbox_id != sender.inbox_id:
        raise _Rejected(Violation.INBOX_VALIDATION_FAILED, actor.inbox_id)
    return actor


def _check_installations(
    state: XmtpGroupState,
    commit: CommitSummary,
    old: GroupMembership,
    new: GroupMembership,
    identities: IdentityStates,
) -> None:
    expected = expected_installation_diff(old, new, state.leaves, identities)
    expected_added = expected.added
    unknown = [
        a.installation_id for a in commit.added_installations
        if a.installation_id not in expected_added and a.installation_id not in state.leaves
    ]
    if unknown:
        raise _Rejected(Violation.UNEXPECTED_INSTALLATION_ADDED, ",".join(sorted(i.hex() for i in unknown)))
    for added in commit.added_installations:
        owner_ok = added.installation_id in expected.added_by_inbox.get(added.inbox_id, frozenset()) or (
            state.leaves.get(added.installation_id) == added.inbox_id
        )
        if not owner_ok:
            raise _Rejected(Violation.INBOX_VALIDATION_FAILED, added.inbox_id)
    # Failed installations never got a leaf, so they cannot be removed; old failures count only
    # while they still have none.
    failed = set(new.failed_installations)
    failed.update(i for i in old.failed_installations if i not in state.leaves)
    actual_removed = {r.installation_id for r in commit.removed_installations}
    if actual_removed != expected.removed - failed:
        raise _Rejected(Violation.UNEXPECTED_INSTALLATIONS_REMOVED, removal_mismatch(actual_removed, expected.removed))


def _check_credential(
    state: XmtpGroupState,
    leaf: LeafIdentity,
    old: GroupMembership,
    new: GroupMembership,
    identities: IdentityStates,
) -> None:
    sequence_id = new.sequence_id(leaf.inbox_id)
    if sequence_id is None:
        raise _Rejected(Violation.SUBJECT_DOES_NOT_EXIST, leaf.inbox_id)
    if sequence_id == 0:
        # An unchanged creation placeholder has no identity state to check against; the leaf the
        # group already authenticated is the proof, and nothing new may claim it.
        known = old.sequence_id(leaf.inbox_id) == 0 and state.leaves.get(leaf.installation_id) == leaf.inbox_id
        if not known:
            raise _Rejected(Violation.INBOX_VALIDATION_FAILED, leaf.inbox_id)
        return
    if leaf.installation_id not in installations_at(identities, leaf.inbox_id, sequence_id):
        raise _Rejected(Violation.INBOX_VALIDATION_FAILED, leaf.inbox_id)


def _acting(state: XmtpGroupState, proposer: LeafIdentity | None, committer: Actor) -> Actor:
    return committer if proposer is None else state.actor(proposer.inbox_id)


def _policy_denial(state: XmtpGroupState, commit: CommitSummary, validated: ValidatedCommit) -> str | None:
    """Which pre-commit policy the commit fails, or None (PolicySet::evaluate_commit)."""
    policies = state.permissions
    committer = validated.actor
    dm_members = state.metadata.dm_members
    for inbox_id in validated.added_inboxes:
        proposers = {a.proposer for a in commit.added_installations if a.inbox_id == inbox_id} or {None}
        for proposer in proposers:
            acting = _acting(state, proposer, committer)
            if evaluate(policies.add_member_policy, acting):
                continue
            dm_add = (
                dm_members is not None
                and len(validated.added_inboxes) == 1
                and inbox_id in dm_members.inboxes()
                and inbox_id != acting.inbox_id
            )
            if not dm_add:
                return f"add_member_policy denies {acting.inbox_id} adding {inbox_id}"
    removed_installs = {r.installation_id: r.proposer for r in commit.removed_installations}
    for inbox_id in validated.removed_inboxes:
        if state.mutable_metadata.is_super_admin(inbox_id):
            return f"super admin {inbox_id} cannot be removed"
        proposers = {p for inst, p in removed_installs.items() if state.leaves.get(inst) == inbox_id} or {None}
        for proposer in proposers:
            acting = _acting(state, proposer, committer)
            if not evaluate(policies.remove_member_policy, acting):
                return f"remove_member_policy denies {acting.inbox_id} removing {inbox_id}"
    for change in validated.metadata_field_changes:
        if not evaluate(policies.metadata_policy(change.field_name), committer):
            return f"metadata policy of {change.field_name} denies {committer.inbox_id}"
    if validated.added_admins and not evaluate(policies.add_admin_policy, committer):
        return f"add_admin_policy denies {committer.inbox_id}"
    if validated.removed_admins and not evaluate(policies.remove_admin_policy, committer):
        return f"remove_admin_policy denies {committer.inbox_id}"
    if validated.added_super_admins and not committer.is_super_admin:
        return "only a super admin can add super admins"
    if validated.removed_super_admins:
        if not committer.is_super_admin:
            return "only a super admin can remove super admins"
        if not validated.mutable_metadata.super_admin_list:
            return "the last super admin cannot be removed"
    if validated.permissions_changed and not committer.is_super_admin:
        return "only a super admin can change permissions"
    return None


def _check_protocol_version(mutable: GroupMutableMetadata, protocol_version: str | None) -> None:
    minimum = mutable.get(MetadataField.MINIMUM_SUPPORTED_PROTOCOL_VERSION)
    if protocol_version is None or minimum is None:
        return
    ours = parse_version(protocol_version)
    if ours is None:
        raise ValueError(f"our protocol version {protocol_version!r} is malformed")
    required = parse_version(minimum)
    if required is None:
        raise _Rejected(Violation.INVALID_VERSION_FORMAT, minimum)
    if required > ours:
        raise _Rejected(Violation.PROTOCOL_VERSION_TOO_LOW, minimum)
