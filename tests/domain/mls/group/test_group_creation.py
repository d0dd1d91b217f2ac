"""Creating a one-member group (RFC 9420 11)."""

import pytest

from mlsgroup.domain.mls.cipher_suite import SUPPORTED_SUITES
from mlsgroup.domain.mls.credentials import BasicCredential
from mlsgroup.domain.mls.extensions import Extension
from mlsgroup.domain.mls.group import CapabilityNotSupported, GroupUsageError, InvalidSeed, Signer, create_group

from .builders import GROUP_ID, key_package, seed


@pytest.mark.parametrize("suite", SUPPORTED_SUITES)
def test_create_in_every_suite(suite):
    state = create_group(suite, GROUP_ID, key_package(b"alice", 1, suite), seed=seed(2))
    assert state.epoch == 0 and list(state.members()) == [0]
    assert state.group_context.confirmed_transcript_hash == b""
    assert state.group_context.tree_hash == state.tree.tree_hash()


def test_creation_is_deterministic_per_seed():
    bundle = key_package(b"alice", 1)
    a = create_group(1, GROUP_ID, bundle, seed=seed(2))
    assert a == create_group(1, GROUP_ID, bundle, seed=seed(2))
    assert a.epoch_authenticator != create_group(1, GROUP_ID, bundle, seed=seed(3)).epoch_authenticator


def test_create_from_a_signer():
    bundle = key_package(b"alice", 1)
    signer = Signer(1, BasicCredential(b"alice"), bundle.signature_private)
    state = create_group(1, GROUP_ID, signer, extensions=[Extension(0xFF00, b"meta")], seed=seed(2))
    leaf = state.own_leaf()
    assert leaf.signature_key == bundle.leaf_node.signature_key
    assert 0xFF00 in leaf.capabilities.extensions
    assert state.extensions == (Extension(0xFF00, b"meta"),)
    assert "***" in repr(signer) and bundle.signature_private.hex() not in repr(signer)


def test_extensions_the_creator_does_not_support_are_refused():
    with pytest.raises(CapabilityNotSupported):
        create_group(1, GROUP_ID, key_package(b"alice", 1), extensions=[Extension(0xFF00, b"")], seed=seed(2))


def test_bad_requests():
    with pytest.raises(GroupUsageError):
        create_group(2, GROUP_ID, key_package(b"alice", 1), seed=seed(2))
    with pytest.raises(InvalidSeed):
        create_group(1, GROUP_ID, key_package(b"alice", 1), seed=b"x")
    with pytest.raises(TypeError):
        create_group(1, GROUP_ID, object(), seed=seed(2))  # type: ignore[arg-type]
