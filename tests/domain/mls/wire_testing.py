"""Shared test support for the RFC 9420 wire structs: hypothesis strategies that build valid
structs, byte-level mutations of valid encodings, the "only DecodeError escapes" check, valid
encodings taken from messages.json, and a label-signature verifier for known-answer checks.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import strategies as st

from mlsgroup.domain.mls.codec import encode_opaque
from mlsgroup.domain.mls.commits import Commit, ProposalRef
from mlsgroup.domain.mls.credentials import BasicCredential, X509Credential
from mlsgroup.domain.mls.enums import ContentType, ResumptionPSKUsage
from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.mls.extensions import Extension, ExternalSender, RequiredCapabilities
from mlsgroup.domain.mls.framing import (
    FramedContent,
    FramedContentAuthData,
    PrivateMessage,
    PrivateMessageContent,
    PublicMessage,
    SenderData,
    SenderExternal,
    SenderMember,
    SenderNewMemberCommit,
    SenderNewMemberProposal,
    content_type_of,
)
from mlsgroup.domain.mls.group_context import GroupContext
from mlsgroup.domain.mls.key_packages import KeyPackage
from mlsgroup.domain.mls.messages import MLSMessage
from mlsgroup.domain.mls.proposals import (
    Add,
    ExternalInit,
    ExternalPsk,
    GroupContextExtensions,
    PreSharedKey,
    PreSharedKeyID,
    ReInit,
    Remove,
    ResumptionPsk,
    Update,
)
from mlsgroup.domain.mls.tree_structs import (
    Capabilities,
    CommitSource,
    HPKECiphertext,
    LeafNode,
    Lifetime,
    ParentNode,
    UpdatePath,
    UpdatePathNode,
    UpdateSource,
)
from mlsgroup.domain.mls.welcome import (
    EncryptedGroupSecrets,
    GroupInfo,
    GroupSecrets,
    PathSecret,
    Welcome,
)
from tests.vectors import load_vectors

# --- strategies for valid structs -------------------------------------------------------------

blobs = st.binary(max_size=24)
u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFF_FFFF)
u64 = st.integers(0, 0xFFFF_FFFF_FFFF_FFFF)


def vectors(items: st.SearchStrategy[Any], max_size: int = 3) -> st.SearchStrategy[tuple]:
    return st.lists(items, max_size=max_size).map(tuple)


credentials = st.one_of(
    st.builds(BasicCredential, blobs), st.builds(X509Credential, vectors(blobs))
)
extensions = st.builds(Extension, u16, blobs)
capabilities = st.builds(
    Capabilities, vectors(u16), vectors(u16), vectors(u16), vectors(u16), vectors(u16)
)
required_capabilities = st.builds(RequiredCapabilities, vectors(u16), vectors(u16), vectors(u16))
external_senders = st.builds(ExternalSender, blobs, credentials)
leaf_sources = st.one_of(
    st.builds(Lifetime, u64, u64), st.just(UpdateSource()), st.builds(CommitSource, blobs)
)
leaf_nodes = st.builds(
    LeafNode, blobs, blobs, credentials, capabilities, leaf_sources, vectors(extensions), blobs
)
parent_nodes = st.builds(ParentNode, blobs, blobs, vectors(u32))
nodes = st.one_of(leaf_nodes, parent_nodes)
ratchet_trees = vectors(st.none() | nodes, max_size=7)
hpke_ciphertexts = st.builds(HPKECiphertext, blobs, blobs)
update_paths = st.builds(
    UpdatePath,
    leaf_nodes,
    vectors(st.builds(UpdatePathNode, blobs, vectors(hpke_ciphertexts)), max_size=2),
)
key_packages = st.builds(KeyPackage, u16, u16, blobs, leaf_nodes, vectors(extensions), blobs)
psk_ids = st.builds(
    PreSharedKeyID,
    st.one_of(
        st.builds(ExternalPsk, blobs),
        st.builds(ResumptionPsk, st.sampled_from(ResumptionPSKUsage), blobs, u64),
    ),
    blobs,
)
proposals = st.one_of(
    st.builds(Add, key_packages),
    st.builds(Update, leaf_nodes),
    st.builds(Remove, u32),
    st.builds(PreSharedKey, psk_ids),
    st.builds(ReInit, blobs, u16, u16, vectors(extensions)),
    st.builds(ExternalInit, blobs),
    st.builds(GroupContextExtensions, vectors(extensions)),
)
commits = st.builds(
    Commit,
    vectors(st.one_of(proposals, st.builds(ProposalRef, blobs)), max_size=2),
    st.none() | update_paths,
)
group_contexts = st.builds(GroupContext, st.just(1), u16, blobs, u64, blobs, blobs, vectors(extensions))
group_infos = st.builds(GroupInfo, group_contexts, vectors(extensions), blobs, u32, blobs)
group_secrets = st.builds(
    GroupSecrets, blobs, st.none() | st.builds(PathSecret, blobs), vectors(psk_ids)
)
welcomes = st.builds(
    Welcome, u16, vectors(st.builds(EncryptedGroupSecrets, blobs, hpke_ciphertexts)), blobs
)
senders = st.one_of(
    st.builds(SenderMember, u32),
    st.builds(SenderExternal, u32),
    st.just(SenderNewMemberProposal()),
    st.just(SenderNewMemberCommit()),
)
contents = st.one_of(blobs, proposals, commits)
framed_contents = st.builds(FramedContent, blobs, u64, senders, blobs, contents)


def auth_for(content_type: int) -> st.SearchStrategy[FramedContentAuthData]:
    tag = blobs if content_type == ContentType.COMMIT else st.none()
    return st.builds(FramedContentAuthData, blobs, tag)


@st.composite
def public_messages(draw: st.DrawFn) -> PublicMessage:
    content = draw(framed_contents)
    auth = draw(auth_for(content.content_type))
    member = content.sender.sender_type == SenderMember.sender_type
    return PublicMessage(content, auth, draw(blobs) if member else None)


@st.composite
def private_message_contents(draw: st.DrawFn) -> PrivateMessageContent:
    content = draw(contents)
    auth = draw(auth_for(content_type_of(content)))
    return PrivateMessageContent(content, auth, draw(st.integers(0, 40)))


private_messages = st.builds(
    PrivateMessage, blobs, u64, st.sampled_from(ContentType), blobs, blobs, blobs
)
sender_datas = st.builds(SenderData, u32, u32, st.binary(min_size=4, max_size=4))
mls_messages = st.builds(
    MLSMessage.wrap,
    st.one_of(public_messages(), private_messages, welcomes, group_infos, key_packages),
)

# --- bad input --------------------------------------------------------------------------------


@st.composite
def mutations(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A valid encoding from ``seeds`` after one to three byte flips, inserts, deletes or cuts."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(("flip", "insert", "delete", "truncate")))
        where = draw(st.integers(0, len(data)))
        if op == "insert":
            data.insert(where, draw(u8))
        elif not data:
            continue
        elif op == "flip":
            data[min(where, len(data) - 1)] ^= draw(st.integers(1, 0xFF))
        elif op == "delete":
            del data[min(where, len(data) - 1)]
        else:
            del data[where:]
    return bytes(data)


def assert_decodes_or_rejects(decode: Callable[[bytes], Any], encode: Callable[[Any], bytes], data: bytes) -> None:
    """Only DecodeError may escape ``decode``; what does decode is canonical, so re-encodes as is."""
    try:
        value = decode(data)
    except DecodeError:
        return
    assert encode(value) == data


def encode_method(value: Any) -> bytes:
    return value.encode()


# --- valid encodings from messages.json -------------------------------------------------------

_MLS_MESSAGE_HEADER = 4  # ProtocolVersion + WireFormat


@functools.cache
def message_seeds(field: str, strip_header: bool = False) -> list[bytes]:
    """The encodings of one messages.json field; ``strip_header`` drops the MLSMessage header."""
    start = _MLS_MESSAGE_HEADER if strip_header else 0
    seeds = [bytes.fromhex(entry[field])[start:] for entry in load_vectors("messages.json")]
    return sorted(set(seeds), key=len)[:: max(1, len(seeds) // 30)]


# --- known-answer signature checks --------------------------------------------------------------

_ECDSA = {2: (ec.SECP256R1, hashes.SHA256), 5: (ec.SECP521R1, hashes.SHA512), 7: (ec.SECP384R1, hashes.SHA384)}
_EDDSA = {1: Ed25519PublicKey, 3: Ed25519PublicKey, 4: Ed448PublicKey, 6: Ed448PublicKey}
SUITE_HASH = {1: hashes.SHA256, 2: hashes.SHA256, 3: hashes.SHA256, 4: hashes.SHA512,
              5: hashes.SHA512, 6: hashes.SHA512, 7: hashes.SHA384}


def verifies_with_label(cipher_suite: int, public_key: bytes, signature: bytes, label: bytes, content: bytes) -> bool:
    """VerifyWithLabel (RFC 9420 section 5.1.2) for the signature scheme of ``cipher_suite``."""
    sign_content = encode_opaque(b"MLS 1.0 " + label) + encode_opaque(content)
    try:
        if cipher_suite in _ECDSA:
            curve, digest = _ECDSA[cipher_suite]
            key = ec.EllipticCurvePublicKey.from_encoded_point(curve(), public_key)
            key.verify(signature, sign_content, ec.ECDSA(digest()))
        else:
            _EDDSA[cipher_suite].from_public_bytes(public_key).verify(signature, sign_content)
    except InvalidSignature:
        return False
    return True
