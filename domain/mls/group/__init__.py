"""The MLS group state machine (RFC 9420 sections 10-15) as pure functions over immutable values.

Every operation takes a ``GroupState`` (and, where randomness is needed, a ``seed``) and returns
new values; nothing is mutated and nothing is random beyond the seed, so replaying inputs
reproduces outputs byte for byte. Commits are staged and merged later (``merge_commit``); policy
plugs in through ``MlsRules``.
"""

from __future__ import annotations

from .application import encrypt_application
from .commit import commit
from .epoch_transition import merge_commit
from .errors import *  # noqa: F403 - every typed error is public
from .errors import __all__ as _error_names
from .group_creation import create_group
from .join import join_group
from .key_package_bundles import (
    KeyPackageBundle,
    Signer,
    decode_key_package_message,
    default_capabilities,
    generate_key_package,
    validate_key_package,
)
from .outputs import (
    AddedMember,
    ApplicationMessage,
    CommitEffect,
    OwnMessageReceived,
    Processed,
    ProposalReceived,
    StagedCommit,
    UpdatedMember,
)
from .process import process_message
from .received import ResealRun, consume_application_key, reseal_application
from .propose import (
    propose_add,
    propose_group_context_extensions,
    propose_psk,
    propose_remove,
    propose_update,
)
from .rules import AcceptAll, MlsRules
from .state import MAX_PAST_EPOCHS, GroupState, Member, export_secret
from .welcome import export_group_info

__all__ = [
    "generate_key_package",
    "validate_key_package",
    "decode_key_package_message",
    "default_capabilities",
    "KeyPackageBundle",
    "Signer",
    "create_group",
    "propose_add",
    "propose_remove",
    "propose_update",
    "propose_psk",
    "propose_group_context_extensions",
    "commit",
    "merge_commit",
    "process_message",
    "consume_application_key",
    "reseal_application",
    "ResealRun",
    "encrypt_application",
    "join_group",
    "export_secret",
    "export_group_info",
    "GroupState",
    "Member",
    "MAX_PAST_EPOCHS",
    "StagedCommit",
    "CommitEffect",
    "AddedMember",
    "UpdatedMember",
    "Processed",
    "ApplicationMessage",
    "ProposalReceived",
    "OwnMessageReceived",
    "MlsRules",
    "AcceptAll",
    *_error_names,
]
