"""XMTP's MLS configuration applied to the MLS group machine (libxmtp spec section 10).

Cipher suite 3, Basic credentials whose identity is ``MlsCredential{inbox_id}``, the installation's
Ed25519 key as the leaf signature key (so the installation id is the leaf's ``signature_key``),
key packages with the last-resort extension and an ApplicationId(inbox id) leaf extension, an
84-day lifetime, and the required capabilities every member must list. Also the bridge from MLS
values to XMTP's: a leaf's (inbox id, installation id), the tree's installations, and the
``XmtpGroupState`` of a ``GroupState``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Mapping, Optional

from .configuration import (
    CIPHERSUITE,
    KEY_PACKAGE_LIFETIME_S,
    LAST_RESORT_EXTENSION_TYPE,
    REQUIRED_CREDENTIAL_TYPES,
    REQUIRED_EXTENSION_TYPES,
    REQUIRED_PROPOSAL_TYPES,
)
from .credentials import encode_credential_identity, inbox_id_from_identity
from .frozen_map import FrozenMap
from .group_state import XmtpGroupState
from .mls.credentials import BasicCredential, Credential
from .mls.enums import CredentialType, ExtensionType, ProtocolVersion
from .mls.errors import DecodeError
from .mls.extensions import APPLICATION_ID, Extension, RequiredCapabilities
from .mls.group import GroupState, KeyPackageBundle, generate_key_package
from .mls.key_packages import KeyPackage
from .mls.tree_structs import Capabilities, LeafNode

__all__ = [
    "CIPHERSUITE",
    "xmtp_credential",
    "xmtp_capabilities",
    "required_capabilities_extension",
    "group_context_extensions",
    "extension_map",
    "extension_pairs",
    "replace_extensions",
    "generate_xmtp_key_package",
    "key_package_problem",
    "credential_inbox_id",
    "leaf_inbox_id",
    "tree_installations",
    "xmtp_state_of",
]

_XMTP_EXTENSION_TYPES = tuple(sorted(t for t in REQUIRED_EXTENSION_TYPES if t not in set(ExtensionType)))


def xmtp_credential(inbox_id: str) -> BasicCredential:
    """The Basic credential of an installation of ``inbox_id``."""
    return BasicCredential(encode_credential_identity(inbox_id))


def xmtp_capabilities() -> Capabilities:
    """What every XMTP leaf supports: mls10, suite 3, Basic credentials, XMTP's extensions."""
    return Capabilities(
        (ProtocolVersion.MLS10,), (CIPHERSUITE,), _XMTP_EXTENSION_TYPES, (), (CredentialType.BASIC,)
    )


def required_capabilities_extension() -> Extension:
    """The group's required_capabilities: XMTP's extensions, GroupContextExtensions proposals, Basic."""
    body = RequiredCapabilities(
        tuple(REQUIRED_EXTENSION_TYPES), tuple(REQUIRED_PROPOSAL_TYPES), tuple(REQUIRED_CREDENTIAL_TYPES)
    )
    return Extension(int(ExtensionType.REQUIRED_CAPABILITIES), body.encode())


def group_context_extensions(xmtp: XmtpGroupState) -> tuple[Extension, ...]:
    """A new group's GroupContext extensions: required capabilities, then the four XMTP ones."""
    xmtp_extensions = tuple(Extension(t, data) for t, data in xmtp.extensions().items())
    return (required_capabilities_extension(),) + xmtp_extensions


def extension_map(extensions: Iterable[Extension]) -> FrozenMap[int, bytes]:
    """Extension type -> data."""
    return FrozenMap({e.extension_type: e.extension_data for e in extensions})


def extension_pairs(extensions: Iterable[Extension]) -> tuple[tuple[int, bytes], ...]:
    """Extensions as plain (type, data) pairs, the form events store."""
    return tuple((int(e.extension_type), bytes(e.extension_data)) for e in extensions)


def replace_extensions(extensions: Iterable[Extension], changes: Mapping[int, bytes]) -> tuple[Extension, ...]:
    """``extensions`` with the data of the types in ``changes`` replaced in place (new types appended)."""
    result = []
    seen = set()
    for extension in extensions:
        kind = extension.extension_type
        seen.add(kind)
        result.append(Extension(kind, changes[kind]) if kind in changes else extension)
    result.extend(Extension(kind, data) for kind, data in changes.items() if kind not in seen)
    return tuple(result)


def generate_xmtp_key_package(
    inbox_id: str, installation_private_key: bytes, seed: bytes, now_s: int
) -> KeyPackageBundle:
    """A last-resort key package of this installation, valid for 84 days from ``now_s``."""
    return generate_key_package(
        CIPHERSUITE,
        xmtp_credential(inbox_id),
        seed,
        not_before=now_s,
        not_after=now_s + KEY_PACKAGE_LIFETIME_S,
        capabilities=xmtp_capabilities(),
        extensions=(Extension(LAST_RESORT_EXTENSION_TYPE, b""),),
        leaf_extensions=(Extension(ExtensionType.APPLICATION_ID, APPLICATION_ID.encode(inbox_id.encode())),),
        signature_private=installation_private_key,
    )


def credential_inbox_id(credential: Credential) -> str:
    """The inbox id a leaf's credential names ("" when it is not an XMTP credential)."""
    if credential.TAG != CredentialType.BASIC:
        return ""
    return _identity_inbox_id(bytes(credential.identity))


@lru_cache(maxsize=8192)
def _identity_inbox_id(identity: bytes) -> str:
    # Every view of a group decodes every member's credential: the same few hundred byte strings,
    # over and over. The result is a pure function of the bytes, so memoising it is safe.
    try:
        return inbox_id_from_identity(identity)
    except DecodeError:
        return ""


def leaf_inbox_id(leaf: LeafNode) -> str:
    return credential_inbox_id(leaf.credential)


def key_package_problem(key_package: KeyPackage, inbox_id: str, installation_id: bytes) -> Optional[str]:
    """Why a fetched key package cannot add ``installation_id`` of ``inbox_id`` to an XMTP group, or None
    (the MLS checks of RFC 9420 10.1 are the caller's, with its clock)."""
    leaf = key_package.leaf_node
    if leaf.signature_key != installation_id:
        return "the key package is signed by another installation"
    if credential_inbox_id(leaf.credential) != inbox_id:
        return "the key package's credential names another inbox"
    missing = set(_XMTP_EXTENSION_TYPES) - set(leaf.capabilities.extensions)
    if missing:
        return f"the key package lacks required capabilities {sorted(missing)}"
    if CredentialType.BASIC not in leaf.capabilities.credentials:
        return "the key package does not support Basic credentials"
    return None


def tree_installations(state: GroupState) -> FrozenMap[bytes, str]:
    """Installation id (leaf signature key) -> inbox id for every leaf of the tree."""
    return FrozenMap({leaf.signature_key: leaf_inbox_id(leaf) for _, leaf in state.tree.leaves()})


_VIEWS: dict[bytes, XmtpGroupState] = {}
_VIEWS_KEPT = 64


def xmtp_state_of(state: GroupState) -> XmtpGroupState:
    """The XMTP view of an MLS group state (DecodeError if its XMTP extensions are missing or malformed).

    Views are memoised by the encoded group context: it holds the group id, epoch, tree hash and
    extensions, and the view is a function of the tree's leaves and the extensions alone, so equal
    contexts have equal views (application messages change neither). Views hold no key material."""
    key = state.encoded_group_context
    view = _VIEWS.get(key)
    if view is None:
        view = XmtpGroupState.from_extensions(extension_map(state.extensions), tree_installations(state))
        if len(_VIEWS) >= _VIEWS_KEPT:
            try:
                _VIEWS.pop(next(iter(_VIEWS)), None)
            except (RuntimeError, StopIteration):  # another thread changed the cache meanwhile
                pass
        _VIEWS[key] = view
    return view
