"""Joining a group in RFC 9420 (section 12.4.3): GroupInfo and the Welcome message with its
encrypted GroupSecrets.

``GroupInfo.tbs()`` is the encoded GroupInfoTBS its signature covers; a new GroupInfo is made by
signing ``GroupInfoTBS(...).encode()`` and attaching the signature with ``GroupInfoTBS.signed``.
The joiner and path secrets of ``GroupSecrets`` are ``Secret`` values, whose reprs hide them.
"""

from __future__ import annotations

from typing import Optional as Opt

from .codec import Optional, Vector, encode_opaque, opaque, uint16, uint32, wire, wire_struct
from .extensions import EXTENSIONS, Extension
from .group_context import GroupContext
from .proposals import PreSharedKeyID
from .secrets import Secret
from .tree_structs import HPKECiphertext

__all__ = [
    "GroupInfo",
    "GroupInfoTBS",
    "PathSecret",
    "GroupSecrets",
    "EncryptedGroupSecrets",
    "Welcome",
]


@wire_struct
class GroupInfo:
    """The state a joiner needs: GroupContext, extensions, confirmation tag, signer and signature."""

    group_context: GroupContext = wire(GroupContext)
    extensions: tuple[Extension, ...] = wire(EXTENSIONS)
    confirmation_tag: bytes = wire(opaque)
    signer: int = wire(uint32)
    signature: bytes = wire(opaque)

    def tbs(self) -> bytes:
        """The encoded GroupInfoTBS: every field but the signature."""
        encoded = self.encode()
        return encoded[: len(encoded) - len(encode_opaque(self.signature))]


@wire_struct
class GroupInfoTBS:
    """The part of a GroupInfo its signature covers (label "GroupInfoTBS")."""

    group_context: GroupContext = wire(GroupContext)
    extensions: tuple[Extension, ...] = wire(EXTENSIONS)
    confirmation_tag: bytes = wire(opaque)
    signer: int = wire(uint32)

    def signed(self, signature: bytes) -> GroupInfo:
        """The GroupInfo carrying these fields and ``signature``."""
        return GroupInfo(self.group_context, self.extensions, self.confirmation_tag, self.signer, signature)


@wire_struct
class PathSecret:
    """The path secret of the lowest node shared by the committer's and the joiner's paths."""

    path_secret: bytes = wire(opaque, converter=Secret)


@wire_struct
class GroupSecrets:
    """What a Welcome encrypts to each joiner: joiner secret, optional path secret, PSK ids."""

    joiner_secret: bytes = wire(opaque, converter=Secret)
    path_secret: Opt[PathSecret] = wire(Optional(PathSecret.CODEC))
    psks: tuple[PreSharedKeyID, ...] = wire(Vector(PreSharedKeyID.CODEC))


@wire_struct
class EncryptedGroupSecrets:
    """GroupSecrets HPKE-encrypted to the KeyPackage named by ``new_member`` (a KeyPackageRef)."""

    new_member: bytes = wire(opaque)
    encrypted_group_secrets: HPKECiphertext = wire(HPKECiphertext)


@wire_struct
class Welcome:
    """A Welcome: per-joiner encrypted GroupSecrets and the GroupInfo encrypted under the welcome key."""

    cipher_suite: int = wire(uint16)
    secrets: tuple[EncryptedGroupSecrets, ...] = wire(Vector(EncryptedGroupSecrets.CODEC))
    encrypted_group_info: bytes = wire(opaque)
