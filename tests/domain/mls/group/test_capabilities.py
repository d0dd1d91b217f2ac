"""Group-level capability checks (RFC 9420 7.3, 11.1, 13.4)."""

import attrs
import pytest

from mlsgroup.domain.mls.credentials import X509Credential
from mlsgroup.domain.mls.enums import ExtensionType
from mlsgroup.domain.mls.extensions import Extension, RequiredCapabilities
from mlsgroup.domain.mls.group import CapabilityNotSupported, InvalidProposal
from mlsgroup.domain.mls.group.capabilities import (
    GroupRequirements,
    check_credential_types,
    check_group_extensions_supported,
)
from mlsgroup.domain.mls.ratchet_tree import RatchetTree

from .builders import key_package


def required(*extension_types, proposals=(), credentials=()):
    body = RequiredCapabilities(tuple(extension_types), tuple(proposals), tuple(credentials)).encode()
    return Extension(ExtensionType.REQUIRED_CAPABILITIES, body)


def test_default_types_need_no_listing():
    leaf = key_package(b"a", 1).leaf_node
    GroupRequirements([required(1, 2, 3, 4, 5, proposals=range(1, 8), credentials=(1,))]).check(leaf)


def test_missing_capabilities_are_named():
    leaf = key_package(b"a", 1).leaf_node
    for extension, match in [
        (required(0xFF00), "extension types"),
        (required(proposals=(0x0A0A,)), "proposal types"),
        (required(credentials=(0x0B0B,)), "credential types"),
        (Extension(0xFF01, b""), "extension types"),
    ]:
        with pytest.raises(CapabilityNotSupported, match=match):
            GroupRequirements([extension]).check(leaf)


def test_duplicate_or_malformed_extensions():
    with pytest.raises(InvalidProposal):
        GroupRequirements([Extension(1, b""), Extension(1, b"")])
    with pytest.raises(InvalidProposal):
        GroupRequirements([Extension(ExtensionType.REQUIRED_CAPABILITIES, b"\x05")])


def test_every_member_must_support_group_extensions():
    a, b = key_package(b"a", 1).leaf_node, key_package(b"b", 2).leaf_node
    tree, _ = RatchetTree.create(1, a).add_leaf(b)
    check_group_extensions_supported([Extension(1, b"")], tree)
    with pytest.raises(CapabilityNotSupported, match="member"):
        check_group_extensions_supported([Extension(0xFF00, b"")], tree)


def test_credential_types_in_use_must_be_supported_by_all():
    a = key_package(b"a", 1).leaf_node
    basic_only = attrs.evolve(key_package(b"b", 2).leaf_node, capabilities=attrs.evolve(a.capabilities, credentials=(1,)))
    x509 = attrs.evolve(key_package(b"c", 3).leaf_node, credential=X509Credential((b"cert",)))
    tree, _ = RatchetTree.create(1, a).add_leaf(basic_only)
    check_credential_types(tree)
    tree, _ = tree.add_leaf(x509)
    with pytest.raises(CapabilityNotSupported):
        check_credential_types(tree)
