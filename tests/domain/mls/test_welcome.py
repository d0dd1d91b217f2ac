"""Welcome, GroupInfo and GroupSecrets (RFC 9420 section 12.4.3): GroupInfoTBS checked against the
signatures of the messages.json GroupInfos, hidden secrets, round trips and bad input."""

import pytest
from hypothesis import given, strategies as st

from mlsgroup.domain.mls.extensions import ExtensionType, find_extension
from mlsgroup.domain.mls.messages import MLSMessage
from mlsgroup.domain.mls.secrets import Secret
from mlsgroup.domain.mls.tree_structs import RATCHET_TREE
from mlsgroup.domain.mls.welcome import (
    GroupInfo,
    GroupInfoTBS,
    GroupSecrets,
    PathSecret,
    Welcome,
)
from tests.vectors import load_vectors

from .wire_testing import (
    assert_decodes_or_rejects,
    encode_method,
    group_infos,
    group_secrets,
    message_seeds,
    mutations,
    verifies_with_label,
    welcomes,
)


def test_group_info_signatures_of_messages_json_verify_over_tbs():
    for entry in load_vectors("messages.json"):
        info = MLSMessage.decode(bytes.fromhex(entry["mls_group_info"])).body
        tree = find_extension(info.extensions, ExtensionType.RATCHET_TREE).parse(RATCHET_TREE)
        signer = tree[2 * info.signer]
        suite = info.group_context.cipher_suite
        assert verifies_with_label(suite, signer.signature_key, info.signature, b"GroupInfoTBS", info.tbs())
        assert not verifies_with_label(suite, signer.signature_key, info.signature, b"GroupInfoTBS", info.tbs()[1:])


def test_tbs_struct_matches_and_signs():
    info = MLSMessage.decode(message_seeds("mls_group_info")[0]).body
    tbs = GroupInfoTBS(info.group_context, info.extensions, info.confirmation_tag, info.signer)
    assert tbs.encode() == info.tbs()
    assert tbs.signed(info.signature) == info


def test_group_secrets_hide_secrets_in_repr():
    secrets = GroupSecrets(b"joiner-secret", PathSecret(b"path-secret"), ())
    text = repr(secrets)
    assert "joiner-secret" not in text and "path-secret" not in text and "***" in text
    decoded = GroupSecrets.decode(secrets.encode())
    assert isinstance(decoded.joiner_secret, Secret) and isinstance(decoded.path_secret.path_secret, Secret)
    assert decoded.joiner_secret == b"joiner-secret"


def test_messages_json_group_secrets_and_welcomes_decode():
    for data in message_seeds("group_secrets"):
        assert GroupSecrets.decode(data).encode() == data
    for data in message_seeds("mls_welcome"):
        welcome = MLSMessage.decode(data).body
        assert isinstance(welcome, Welcome) and welcome.secrets


@given(group_infos)
def test_group_info_round_trip(info):
    assert GroupInfo.decode(info.encode()) == info


@given(group_secrets)
def test_group_secrets_round_trip(secrets):
    assert GroupSecrets.decode(secrets.encode()) == secrets


@given(welcomes)
def test_welcome_round_trip(welcome):
    assert Welcome.decode(welcome.encode()) == welcome


DECODERS = {
    "welcome": (Welcome.decode, message_seeds("mls_welcome", strip_header=True)),
    "group_info": (GroupInfo.decode, message_seeds("mls_group_info", strip_header=True)),
    "group_secrets": (GroupSecrets.decode, message_seeds("group_secrets")),
}


@pytest.mark.parametrize("name", DECODERS)
@given(data=st.binary(max_size=256))
def test_random_bytes_only_raise_decode_error(name, data):
    assert_decodes_or_rejects(DECODERS[name][0], encode_method, data)


@pytest.mark.parametrize("name", DECODERS)
@given(data=st.data())
def test_mutated_vectors_only_raise_decode_error(name, data):
    decode, seeds = DECODERS[name]
    assert_decodes_or_rejects(decode, encode_method, data.draw(mutations(seeds)))
