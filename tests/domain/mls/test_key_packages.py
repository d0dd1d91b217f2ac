"""KeyPackages (RFC 9420 section 10): round trips, KeyPackageTBS checked against the signatures
of the messages.json KeyPackages, and bad input."""

import attrs
import pytest
from hypothesis import given, strategies as st

from mlsgroup.domain.mls.key_packages import KeyPackage, KeyPackageTBS
from mlsgroup.domain.mls.messages import MLSMessage
from tests.vectors import load_vectors

from .wire_testing import (
    assert_decodes_or_rejects,
    encode_method,
    key_packages,
    message_seeds,
    mutations,
    verifies_with_label,
)


def test_key_package_signatures_of_messages_json_verify_over_tbs():
    for entry in load_vectors("messages.json"):
        kp = MLSMessage.decode(bytes.fromhex(entry["mls_key_package"])).body
        key = kp.leaf_node.signature_key
        assert verifies_with_label(kp.cipher_suite, key, kp.signature, b"KeyPackageTBS", kp.tbs())
        assert not verifies_with_label(kp.cipher_suite, key, kp.signature, b"LeafNodeTBS", kp.tbs())


def test_tbs_struct_matches_and_signs():
    kp = MLSMessage.decode(message_seeds("mls_key_package")[0]).body
    tbs = KeyPackageTBS(kp.version, kp.cipher_suite, kp.init_key, kp.leaf_node, kp.extensions)
    assert tbs.encode() == kp.tbs()
    assert tbs.signed(kp.signature) == kp
    assert attrs.evolve(kp, signature=b"").tbs() == kp.tbs()


def test_key_package_is_frozen_and_hashable():
    kp = MLSMessage.decode(message_seeds("mls_key_package")[0]).body
    assert hash(kp) == hash(KeyPackage.decode(kp.encode()))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        kp.version = 2


@given(key_packages)
def test_round_trip(kp):
    assert KeyPackage.decode(kp.encode()) == kp


@given(st.binary(max_size=256))
def test_random_bytes_only_raise_decode_error(data):
    assert_decodes_or_rejects(KeyPackage.decode, encode_method, data)


@given(st.data())
def test_mutated_vectors_only_raise_decode_error(data):
    seeds = message_seeds("mls_key_package", strip_header=True)
    assert_decodes_or_rejects(KeyPackage.decode, encode_method, data.draw(mutations(seeds)))
