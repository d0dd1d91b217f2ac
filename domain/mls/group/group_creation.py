"""Creating a one-member group (RFC 9420 section 11): the creator's tree, epoch 0 and its key schedule.

The creator's leaf comes from a ``KeyPackageBundle`` (its leaf node and private keys) or from a
``Signer``, for which a fresh encryption key pair and leaf are derived from the seed. The epoch-0
epoch secret is expanded from the seed too, so creation is deterministic.
"""

from __future__ import annotations

from typing import Iterable, Union

from ..cipher_suite import cipher_suite
from ..enums import ProtocolVersion
from ..extensions import Extension
from ..group_context import GroupContext
from ..key_schedule import confirmation_tag, derive_epoch_secrets
from ..ratchet_tree import RatchetTree
from ..secret_tree import SecretTree
from ..transcript import interim_transcript_hash
from ..tree_structs import LeafNode, Lifetime
from ..treekem import TreeKemPrivate
from .capabilities import check_group_extensions_supported
from .epoch_transition import retained_secrets
from .errors import GroupUsageError
from .key_package_bundles import MAX_U64, KeyPackageBundle, Signer, default_capabilities, sign_leaf_node
from .seeds import check_seed, expand_seed
from .state import GroupState

__all__ = ["create_group"]


def _leaf_for_signer(signer: Signer, seed: bytes, extensions: tuple[Extension, ...]) -> tuple[LeafNode, bytes]:
    suite = cipher_suite(signer.suite_id)
    private, public = suite.hpke_key_pair(expand_seed(suite, seed, b"creator encryption key", suite.hash_len))
    capabilities = signer.capabilities or default_capabilities(
        signer.suite_id, [e.extension_type for e in extensions]
    )
    leaf = LeafNode(
        public, signer.signature_public, signer.credential, capabilities, Lifetime(0, MAX_U64), (), b""
    )
    return sign_leaf_node(signer.suite_id, signer.signature_private, leaf), private


def create_group(
    suite_id: int,
    group_id: bytes,
    bundle_or_signer: Union[KeyPackageBundle, Signer],
    *,
    extensions: Iterable[Extension] = (),
    seed: bytes,
) -> GroupState:
    """A new group at epoch 0 whose only member is the creator (leaf 0).

    GroupUsageError if the bundle or signer is for another suite, or the creator's capabilities
    do not support ``extensions`` (CapabilityNotSupported).
    """
    suite = cipher_suite(suite_id)
    seed = check_seed(seed)
    extensions = tuple(extensions)
    if isinstance(bundle_or_signer, KeyPackageBundle):
        if bundle_or_signer.suite_id != suite_id:
            raise GroupUsageError(f"the KeyPackage is for suite {bundle_or_signer.suite_id}, not {suite_id}")
        leaf = bundle_or_signer.leaf_node
        encryption_private = bundle_or_signer.encryption_private
        signature_private = bundle_or_signer.signature_private
    elif isinstance(bundle_or_signer, Signer):
        if bundle_or_signer.suite_id != suite_id:
            raise GroupUsageError(f"the signer is for suite {bundle_or_signer.suite_id}, not {suite_id}")
        leaf, encryption_private = _leaf_for_signer(bundle_or_signer, seed, extensions)
        signature_private = bundle_or_signer.signature_private
    else:
        raise TypeError("create_group needs a KeyPackageBundle or a Signer")
    tree = RatchetTree.create(suite, leaf)
    check_group_extensions_supported(extensions, tree)
    context = GroupContext(ProtocolVersion.MLS10, suite_id, bytes(group_id), 0, tree.tree_hash(), b"", extensions)
    secrets = derive_epoch_secrets(suite, expand_seed(suite, seed, b"epoch secret", suite.hash_len))
    tag = confirmation_tag(suite, secrets.confirmation_key, b"")
    return GroupState(
        group_context=context,
        tree=tree,
        private=TreeKemPrivate(0, encryption_private),
        signature_private=signature_private,
        epoch_secrets=retained_secrets(secrets),
        secret_tree=SecretTree.create(suite, secrets.encryption_secret, tree.n_leaves),
        interim_transcript_hash=interim_transcript_hash(suite, b"", tag),
        confirmation_tag=tag,
    )
