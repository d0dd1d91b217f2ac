"""Joining a group from a Welcome message (RFC 9420 12.4.3.1).

``open_welcome`` finds our entry, decrypts the GroupSecrets with the KeyPackage's init key, derives
the welcome key (PSKs included) and decrypts the GroupInfo. ``join_group`` then verifies the
GroupInfo signature, validates the ratchet tree (from the ratchet_tree extension or supplied)
against the GroupContext's tree hash, checks the confirmation tag, derives the epoch secrets, finds
our leaf and the path secrets the committer sent us, and returns the new ``GroupState``.
"""

from __future__ import annotations

from typing import Mapping, Optional, Union

import attrs

from ..cipher_suite import CipherSuite, cipher_suite
from ..enums import ExtensionType
from ..errors import AeadError, DecodeError, HpkeError, SignatureError
from ..extensions import find_extension
from ..key_schedule import join_epoch, verify_confirmation_tag, welcome_key_nonce, welcome_secret as _welcome_secret
from ..messages import MLSMessage
from ..ratchet_tree import RatchetTree
from ..secret_tree import SecretTree
from ..transcript import interim_transcript_hash
from ..tree_validation import validate_tree
from ..treekem import TreeKemPrivate
from ..welcome import GroupInfo, GroupSecrets, Welcome
from .capabilities import check_group_extensions_supported
from .epoch_transition import retained_secrets
from .key_package_bundles import KeyPackageBundle
from .state import GroupState
from .errors import (
    InvalidGroupInfo,
    InvalidProposal,
    InvalidWelcome,
    MissingRatchetTree,
    UnexpectedMessage,
    WelcomeNotForUs,
)
from .psks import check_psk_ids, psk_secret_for, resolve_psks

__all__ = ["OpenedWelcome", "decode_welcome", "open_welcome", "verify_group_info_signature", "join_group"]

_WELCOME_LABEL = b"Welcome"
_GROUP_INFO_TBS = b"GroupInfoTBS"


@attrs.frozen
class OpenedWelcome:
    """A Welcome after decryption: our GroupSecrets, the decrypted GroupInfo and the resolved PSKs."""

    group_secrets: GroupSecrets
    group_info: GroupInfo
    psk_secret: Optional[bytes] = attrs.field(repr=False)


def decode_welcome(welcome_bytes: bytes) -> Welcome:
    """The Welcome of an encoded MLSMessage; DecodeError / UnexpectedMessage otherwise."""
    message = MLSMessage.decode(welcome_bytes)
    if not isinstance(message.body, Welcome):
        raise UnexpectedMessage("the MLSMessage does not carry a Welcome")
    return message.body


def open_welcome(
    welcome: Welcome,
    key_package_ref: bytes,
    init_private: bytes,
    suite_id: int,
    *,
    psk_store: Optional[Mapping[bytes, bytes]] = None,
) -> OpenedWelcome:
    """Decrypt our GroupSecrets and the GroupInfo of ``welcome``.

    WelcomeNotForUs when no entry names ``key_package_ref`` or the suite differs from ours;
    InvalidWelcome when decryption or decoding fails; PskNotFound for a PSK we lack.
    """
    if welcome.cipher_suite != suite_id:
        raise WelcomeNotForUs(f"the Welcome uses cipher suite {welcome.cipher_suite}, our KeyPackage {suite_id}")
    suite = cipher_suite(suite_id)
    entry = next((e for e in welcome.secrets if e.new_member == key_package_ref), None)
    if entry is None:
        raise WelcomeNotForUs("no entry of the Welcome is for our KeyPackage")
    encrypted = entry.encrypted_group_secrets
    try:
        plaintext = suite.decrypt_with_label(
            init_private, _WELCOME_LABEL, welcome.encrypted_group_info, encrypted.kem_output, encrypted.ciphertext
        )
        secrets = GroupSecrets.decode(plaintext)
    except (HpkeError, DecodeError) as exc:
        raise InvalidWelcome(f"cannot decrypt our GroupSecrets: {exc}") from None
    if len(secrets.joiner_secret) != suite.hash_len:
        raise InvalidWelcome("the joiner secret has the wrong length")
    if secrets.path_secret is not None and len(secrets.path_secret.path_secret) != suite.hash_len:
        raise InvalidWelcome("the path secret has the wrong length")
    try:
        check_psk_ids(suite, secrets.psks)
    except InvalidProposal as exc:
        raise InvalidWelcome(f"invalid PSK in GroupSecrets: {exc}") from None
    resolved = resolve_psks(secrets.psks, psk_store, b"", {})
    psk = psk_secret_for(suite, resolved)
    key, nonce = welcome_key_nonce(suite, _welcome_secret(suite, secrets.joiner_secret, psk))
    try:
        group_info = GroupInfo.decode(suite.aead_open(key, nonce, b"", welcome.encrypted_group_info))
    except (AeadError, DecodeError) as exc:
        raise InvalidWelcome(f"cannot decrypt the GroupInfo: {exc}") from None
    return OpenedWelcome(secrets, group_info, psk)


def verify_group_info_signature(suite: CipherSuite, group_info: GroupInfo, signer_public: bytes) -> None:
    """InvalidGroupInfo unless the GroupInfo is signed by ``signer_public`` (label GroupInfoTBS)."""
    try:
        suite.verify_with_label(signer_public, _GROUP_INFO_TBS, group_info.tbs(), group_info.signature)
    except SignatureError:
        raise InvalidGroupInfo("the GroupInfo signature does not verify") from None


def _supplied_tree(suite_id: int, ratchet_tree: Union[RatchetTree, bytes]) -> RatchetTree:
    if isinstance(ratchet_tree, RatchetTree):
        if ratchet_tree.suite.id != suite_id:
            raise InvalidWelcome("the supplied ratchet tree uses another cipher suite")
        return ratchet_tree
    return RatchetTree.decode(suite_id, bytes(ratchet_tree))


def _tree_of(group_info: GroupInfo, suite_id: int, ratchet_tree: Union[RatchetTree, bytes, None]) -> RatchetTree:
    if ratchet_tree is not None:
        return _supplied_tree(suite_id, ratchet_tree)
    extension = find_extension(group_info.extensions, ExtensionType.RATCHET_TREE)
    if extension is None:
        raise MissingRatchetTree("the GroupInfo carries no ratchet_tree extension and no tree was supplied")
    try:
        return RatchetTree.decode(suite_id, extension.extension_data)
    except DecodeError as exc:
        raise InvalidGroupInfo(f"malformed ratchet_tree extension: {exc}") from None


def join_group(
    welcome_bytes: bytes,
    bundle: KeyPackageBundle,
    *,
    ratchet_tree: Union[RatchetTree, bytes, None] = None,
    psk_store: Optional[Mapping[bytes, bytes]] = None,
    now: Optional[int] = None,
) -> GroupState:
    """Join the group a Welcome (encoded MLSMessage) invites ``bundle``'s KeyPackage to.

    The tree comes from ``ratchet_tree`` (a RatchetTree or the extension encoding) or else from
    the GroupInfo's ratchet_tree extension. Raises DecodeError, InvalidWelcome subclasses,
    tree validation errors, ConfirmationTagError or PskNotFound; ``now`` enables lifetime checks.
    """
    welcome = decode_welcome(welcome_bytes)
    suite_id = bundle.suite_id
    suite = cipher_suite(suite_id)
    opened = open_welcome(welcome, bundle.ref, bundle.init_private, suite_id, psk_store=psk_store)
    group_info = opened.group_info
    context = group_info.group_context
    if context.cipher_suite != suite_id:
        raise InvalidGroupInfo(f"the GroupContext uses suite {context.cipher_suite}, our KeyPackage {suite_id}")
    if len({e.extension_type for e in group_info.extensions}) != len(group_info.extensions):
        raise InvalidGroupInfo("the GroupInfo extensions list an extension type twice")  # 13.4
    tree = _tree_of(group_info, suite_id, ratchet_tree)
    signer = tree.leaf(group_info.signer) if 0 <= group_info.signer < tree.n_leaves else None
    if signer is None:
        raise InvalidGroupInfo(f"the GroupInfo signer {group_info.signer} is not a member")
    verify_group_info_signature(suite, group_info, signer.signature_key)
    validate_tree(
        tree, group_id=context.group_id, tree_hash=context.tree_hash, extensions=context.extensions, now=now
    )
    try:
        check_group_extensions_supported(context.extensions, tree)
    except InvalidProposal as exc:
        raise InvalidGroupInfo(f"the group's extensions are not supported: {exc}") from None
    own_leaf = tree.find_leaf(bundle.leaf_node)
    if own_leaf is None:
        raise WelcomeNotForUs("our KeyPackage's leaf is not in the group's tree")
    encoded_context = context.encode()
    secrets = join_epoch(suite, opened.group_secrets.joiner_secret, encoded_context, opened.psk_secret)
    verify_confirmation_tag(suite, secrets.confirmation_key, context.confirmed_transcript_hash, group_info.confirmation_tag)
    path_secret = opened.group_secrets.path_secret
    private = TreeKemPrivate.for_joiner(
        tree,
        own_leaf,
        bundle.encryption_private,
        group_info.signer,
        None if path_secret is None else path_secret.path_secret,
    )
    return GroupState(
        group_context=context,
        tree=tree,
        private=private,
        signature_private=bundle.signature_private,
        epoch_secrets=retained_secrets(secrets),
        secret_tree=SecretTree.create(suite, secrets.encryption_secret, tree.n_leaves),
        interim_transcript_hash=interim_transcript_hash(
            suite, context.confirmed_transcript_hash, group_info.confirmation_tag
        ),
        confirmation_tag=group_info.confirmation_tag,
    )
