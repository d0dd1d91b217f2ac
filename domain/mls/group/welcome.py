"""Creating the GroupInfo and the Welcome for members a commit adds (RFC 9420 12.4.3, 12.4.3.1).

The GroupInfo of the new epoch is signed by the committer, carries the ratchet tree in a
``ratchet_tree`` extension unless the caller delivers the tree otherwise, and is encrypted under
the welcome key. Each new member gets GroupSecrets (joiner secret, the path secret of its lowest
common ancestor with the committer when the commit has a path, the PSK ids) encrypted to its
KeyPackage's init key; HPKE ephemerals are expanded from the seed.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

from ..cipher_suite import CipherSuite
from ..enums import ExtensionType
from ..extensions import Extension
from ..group_context import GroupContext
from ..key_packages import KeyPackage
from ..key_schedule import welcome_key_nonce
from ..messages import MLSMessage
from ..proposals import PreSharedKeyID
from ..ratchet_tree import RatchetTree
from ..tree_structs import HPKECiphertext
from ..welcome import EncryptedGroupSecrets, GroupInfo, GroupInfoTBS, GroupSecrets, PathSecret, Welcome
from .seeds import expand_seed
from .state import GroupState
from .wire_cache import key_package_bytes

__all__ = ["sign_group_info", "build_welcome", "export_group_info"]

_GROUP_INFO_TBS = b"GroupInfoTBS"
_WELCOME_LABEL = b"Welcome"


def sign_group_info(
    suite: CipherSuite,
    signature_private: bytes,
    group_context: GroupContext,
    confirmation_tag: bytes,
    signer: int,
    tree: Optional[RatchetTree],
    extensions: Sequence[Extension] = (),
) -> GroupInfo:
    """The signed GroupInfo of an epoch; with ``tree``, a ratchet_tree extension carries it."""
    extensions = tuple(extensions)
    if tree is not None:
        extensions = extensions + (Extension(ExtensionType.RATCHET_TREE, tree.encode()),)
    tbs = GroupInfoTBS(group_context, extensions, confirmation_tag, signer)
    return tbs.signed(suite.sign_with_label(signature_private, _GROUP_INFO_TBS, tbs.encode()))


def build_welcome(
    suite: CipherSuite,
    group_info: GroupInfo,
    joiner_secret: bytes,
    welcome_secret: bytes,
    new_members: Sequence[tuple[int, KeyPackage]],
    psks: Sequence[PreSharedKeyID],
    path_secret_for: Callable[[int], Optional[bytes]],
    seed: bytes,
) -> bytes:
    """The encoded MLSMessage(Welcome) for ``new_members`` ((leaf index, KeyPackage) pairs)."""
    key, nonce = welcome_key_nonce(suite, welcome_secret)
    encrypted_group_info = suite.aead_seal(key, nonce, b"", group_info.encode())
    entries = []
    psks = tuple(psks)
    for leaf_index, key_package in new_members:
        path_secret = path_secret_for(leaf_index)
        secrets = GroupSecrets(joiner_secret, None if path_secret is None else PathSecret(path_secret), psks)
        ephemeral = expand_seed(suite, seed, b"welcome ephemeral", suite.hash_len, leaf_index.to_bytes(4, "big"))
        kem_output, ciphertext = suite.encrypt_with_label(
            key_package.init_key, _WELCOME_LABEL, encrypted_group_info, secrets.encode(), ephemeral
        )
        entries.append(
            EncryptedGroupSecrets(
                suite.make_key_package_ref(key_package_bytes(key_package)), HPKECiphertext(kem_output, ciphertext)
            )
        )
    return MLSMessage.wrap(Welcome(suite.id, tuple(entries), encrypted_group_info)).encode()


def export_group_info(state: GroupState, *, with_ratchet_tree: bool = True) -> bytes:
    """The current epoch's GroupInfo, signed by us, as an encoded MLSMessage (12.4.3)."""
    group_info = sign_group_info(
        state.suite,
        state.signature_private,
        state.group_context,
        state.confirmation_tag,
        state.own_leaf_index,
        state.tree if with_ratchet_tree else None,
    )
    return MLSMessage.wrap(group_info).encode()
