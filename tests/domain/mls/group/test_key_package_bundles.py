"""KeyPackage generation from a seed and validation (RFC 9420 10, 10.1, 7.3)."""

import attrs
import pytest

from mlsgroup.domain.mls.cipher_suite import SUPPORTED_SUITES, cipher_suite
from mlsgroup.domain.mls.credentials import BasicCredential, X509Credential
from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.mls.extensions import Extension
from mlsgroup.domain.mls.group import (
    GroupUsageError,
    InvalidSeed,
    KeyPackageBundle,
    KeyPackageValidationError,
    decode_key_package_message,
    generate_key_package,
    validate_key_package,
)
from mlsgroup.domain.mls.group.key_package_bundles import sign_leaf_node
from mlsgroup.domain.mls.key_packages import KeyPackageTBS
from mlsgroup.domain.mls.tree_structs import Capabilities, UpdateSource

from .builders import key_package, seed


def resigned(bundle, **changes):
    """The bundle's KeyPackage with ``changes``, validly re-signed by its own key."""
    suite = cipher_suite(bundle.suite_id)
    kp = attrs.evolve(bundle.key_package, **changes)
    tbs = KeyPackageTBS(kp.version, kp.cipher_suite, kp.init_key, kp.leaf_node, kp.extensions)
    return tbs.signed(suite.sign_with_label(bundle.signature_private, "KeyPackageTBS", tbs.encode()))


def resigned_leaf(bundle, **changes):
    leaf = attrs.evolve(bundle.leaf_node, **changes)
    context = (None, None) if leaf.source.TAG == 1 else (b"group", 0)
    leaf = sign_leaf_node(bundle.suite_id, bundle.signature_private, leaf, *context)
    return resigned(bundle, leaf_node=leaf)


@pytest.mark.parametrize("suite", SUPPORTED_SUITES)
def test_generated_key_package_is_valid_in_every_suite(suite):
    bundle = key_package(b"alice", 1, suite)
    validate_key_package(bundle.key_package, suite_id=suite, now=100)
    assert bundle.key_package.cipher_suite == suite
    s = cipher_suite(suite)
    assert s.hpke_public_from_private(bundle.init_private) == bundle.key_package.init_key
    assert s.hpke_public_from_private(bundle.encryption_private) == bundle.leaf_node.encryption_key


def test_generation_is_deterministic():
    assert key_package(b"a", 1).key_package.encode() == key_package(b"a", 1).key_package.encode()
    assert key_package(b"a", 1).key_package.init_key != key_package(b"a", 2).key_package.init_key


def test_given_signature_key_is_used():
    signer = key_package(b"id", 7)
    bundle = generate_key_package(
        1, BasicCredential(b"a"), seed(9), not_before=0, not_after=10, signature_private=signer.signature_private
    )
    assert bundle.leaf_node.signature_key == signer.leaf_node.signature_key
    assert bundle.leaf_node.encryption_key != signer.leaf_node.encryption_key


def test_secrets_never_print():
    bundle = key_package(b"alice", 1)
    text = repr(bundle)
    for secret in (bundle.init_private, bundle.encryption_private, bundle.signature_private):
        assert secret.hex() not in text and repr(secret) == "***"


def test_bundle_encoding_round_trips_and_rejects_garbage():
    bundle = key_package(b"alice", 1)
    assert KeyPackageBundle.decode(bundle.encode()) == bundle
    with pytest.raises(DecodeError):
        KeyPackageBundle.decode(bundle.encode()[:-1])
    with pytest.raises(DecodeError):
        KeyPackageBundle.decode(b"\x00garbage")


def test_message_round_trip():
    bundle = key_package(b"alice", 1)
    assert decode_key_package_message(bundle.message()) == bundle.key_package
    with pytest.raises(DecodeError):
        decode_key_package_message(bundle.key_package.encode())


def test_default_capabilities_list_leaf_extension_types():
    bundle = generate_key_package(
        1, BasicCredential(b"a"), seed(3), not_before=0, not_after=10,
        leaf_extensions=[Extension(0xFF00, b"x")], extensions=[Extension(0x000A, b"")],
    )
    assert set(bundle.leaf_node.capabilities.extensions) == {0xFF00, 0x000A}
    validate_key_package(bundle.key_package, suite_id=1, now=5)


def test_generation_refuses_bad_requests():
    with pytest.raises(InvalidSeed):
        generate_key_package(1, BasicCredential(b"a"), b"short", not_before=0, not_after=1)
    with pytest.raises(GroupUsageError):
        generate_key_package(1, BasicCredential(b"a"), seed(1), not_before=5, not_after=1)
    no_x509 = Capabilities((1,), (1,), (), (), (1,))
    with pytest.raises(GroupUsageError, match="credential type"):
        generate_key_package(1, X509Credential((b"cert",)), seed(1), not_before=0, not_after=1, capabilities=no_x509)
    with pytest.raises(GroupUsageError, match="extension type"):
        generate_key_package(
            1, BasicCredential(b"a"), seed(1), not_before=0, not_after=1, capabilities=no_x509,
            leaf_extensions=[Extension(0xFF00, b"")],
        )


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(version=2), "version"),
        (dict(cipher_suite=2), "cipher suite"),
    ],
)
def test_version_and_suite_must_match(change, match):
    bundle = key_package(b"a", 1)
    with pytest.raises(KeyPackageValidationError, match=match):
        validate_key_package(resigned(bundle, **change), suite_id=1, now=1)


def test_lifetime_is_checked_against_now():
    bundle = generate_key_package(1, BasicCredential(b"a"), seed(1), not_before=100, not_after=200)
    validate_key_package(bundle.key_package, suite_id=1, now=150)
    validate_key_package(bundle.key_package, suite_id=1, now=None)
    for now in (99, 201):
        with pytest.raises(KeyPackageValidationError, match="lifetime"):
            validate_key_package(bundle.key_package, suite_id=1, now=now)


def test_signatures_are_checked():
    bundle = key_package(b"a", 1)
    kp = bundle.key_package
    with pytest.raises(KeyPackageValidationError, match="KeyPackage signature"):
        validate_key_package(attrs.evolve(kp, signature=bytes(64)), suite_id=1, now=1)
    bad_leaf = attrs.evolve(kp.leaf_node, signature=bytes(64))
    with pytest.raises(KeyPackageValidationError, match="leaf node signature"):
        validate_key_package(resigned(bundle, leaf_node=bad_leaf), suite_id=1, now=1)
    other = key_package(b"b", 2)
    with pytest.raises(KeyPackageValidationError, match="KeyPackage signature"):
        validate_key_package(attrs.evolve(kp, signature=other.key_package.signature), suite_id=1, now=1)


def test_init_key_must_differ_from_encryption_key():
    bundle = key_package(b"a", 1)
    kp = resigned(bundle, init_key=bundle.leaf_node.encryption_key)
    with pytest.raises(KeyPackageValidationError, match="init_key"):
        validate_key_package(kp, suite_id=1, now=1)


def test_init_key_must_be_a_valid_key():
    bundle = key_package(b"a", 1, suite=2)
    with pytest.raises(KeyPackageValidationError, match="HPKE"):
        validate_key_package(resigned(bundle, init_key=b"\x04" + bytes(64)), suite_id=2, now=1)


def test_leaf_source_must_be_key_package():
    bundle = key_package(b"a", 1)
    with pytest.raises(KeyPackageValidationError, match="source"):
        validate_key_package(resigned_leaf(bundle, source=UpdateSource()), suite_id=1, now=1)


def test_capabilities_are_checked():
    bundle = key_package(b"a", 1)
    caps = bundle.leaf_node.capabilities
    cases = [
        (attrs.evolve(caps, cipher_suites=(2,)), "cipher suite"),
        (attrs.evolve(caps, versions=()), "mls10"),
        (attrs.evolve(caps, credentials=(2,)), "credential type"),
    ]
    for capabilities, match in cases:
        with pytest.raises(KeyPackageValidationError, match=match):
            validate_key_package(resigned_leaf(bundle, capabilities=capabilities), suite_id=1, now=1)
    unlisted = resigned_leaf(bundle, extensions=(Extension(0xFF01, b""),))
    with pytest.raises(KeyPackageValidationError, match="not listed"):
        validate_key_package(unlisted, suite_id=1, now=1)
    doubled = resigned(bundle, extensions=(Extension(3, b""), Extension(3, b"")))
    with pytest.raises(KeyPackageValidationError, match="twice"):
        validate_key_package(doubled, suite_id=1, now=1)
