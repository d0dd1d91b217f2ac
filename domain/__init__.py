"""mlsgroup's pure domain: XMTP group rules (extensions, permissions, conversation rules, commit
validation, errors) on top of the RFC 9420 core in ``mlsgroup.domain.mls``."""

from . import errors
from .commit_summary import (
    AddedInstallation,
    CommitSummary,
    CommitViolation,
    LeafIdentity,
    RemovedInstallation,
    ValidatedCommit,
    Violation,
)
from .conversation import (
    MAX_GROUP_SIZE,
    ConsentState,
    GroupMember,
    MembershipState,
    dm_id,
)
from .extensions import (
    ConversationType,
    DmMembers,
    GroupMembership,
    GroupMetadata,
    GroupMutableMetadata,
    GroupMutablePermissions,
)
from .group_state import XmtpGroupState
from .message_kinds import DeliveryStatus, MessageKind
from .metadata_fields import MetadataField
from .mls_group import MlsGroup
from .policies import (
    AndCondition,
    AnyCondition,
    BasePolicy,
    PermissionLevel,
    PermissionPolicyOption,
    PermissionUpdateType,
    PolicySet,
    Preset,
)
from .transcript import GroupUpdated, MetadataFieldChange
from .validation import check_commit, required_identity_states, validate_commit

__all__ = [
    "errors",
    "MlsGroup",
    "ConversationType",
    "MembershipState",
    "ConsentState",
    "PermissionLevel",
    "Preset",
    "PolicySet",
    "BasePolicy",
    "AndCondition",
    "AnyCondition",
    "PermissionUpdateType",
    "PermissionPolicyOption",
    "MetadataField",
    "MessageKind",
    "DeliveryStatus",
    "MAX_GROUP_SIZE",
    "GroupMember",
    "GroupUpdated",
    "MetadataFieldChange",
    "dm_id",
    "DmMembers",
    "GroupMetadata",
    "GroupMutableMetadata",
    "GroupMembership",
    "GroupMutablePermissions",
    "XmtpGroupState",
    "LeafIdentity",
    "AddedInstallation",
    "RemovedInstallation",
    "CommitSummary",
    "CommitViolation",
    "Violation",
    "ValidatedCommit",
    "validate_commit",
    "check_commit",
    "required_identity_states",
]
