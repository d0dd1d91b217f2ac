"""Message protection (RFC 9420 section 6): signing, PublicMessage membership tags, PrivateMessage
encryption, against message-protection.json and by unit and property tests.

message-protection.json: per entry a cipher suite, the fields of a GroupContext (group id, epoch,
tree hash, confirmed transcript hash), a signature key pair, the epoch's ``encryption_secret``,
``sender_data_secret`` and ``membership_key``, and a raw proposal, commit and application data with
their protected forms: ``*_pub`` (MLSMessage(PublicMessage), not for application data) and
``*_priv`` (MLSMessage(PrivateMessage)), all sent by leaf 1 of a two-leaf group. The checker
unprotects every given message (membership tag, decryption, signature) and compares the content
with the raw value, then protects the raw value itself, as a PublicMessage (which must be refused
for application data) and as a PrivateMessage, and reads its own output back.

The unit tests check each failure raises its own typed error and leaves the caller's secret tree
usable; the properties check that mutated messages never raise anything but MlsError subclasses
and never authenticate.
"""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsgroup.domain.mls.cipher_suite import SUPPORTED_SUITES, cipher_suite
from mlsgroup.domain.mls.codec import encode_opaque
from mlsgroup.domain.mls.commits import Commit
from mlsgroup.domain.mls.enums import WireFormat
from mlsgroup.domain.mls.errors import (
    AeadError,
    DecodeError,
    MembershipTagError,
    MlsError,
    SecretTreeError,
    SignatureError,
)
from mlsgroup.domain.mls.framing import (
    AuthenticatedContent,
    FramedContent,
    FramedContentAuthData,
    PrivateMessage,
    PublicMessage,
    SenderExternal,
    SenderData,
    SenderMember,
    SenderNewMemberCommit,
    SenderNewMemberProposal,
    framed_content_tbs,
)
from mlsgroup.domain.mls.group_context import GroupContext
from mlsgroup.domain.mls.message_protection import (
    SenderNotAllowed,
    UnknownSender,
    WireFormatNotAllowed,
    WrongEpoch,
    WrongGroup,
    check_content_rules,
    content_tbs,
    group_and_epoch,
    protect_public,
    sign_content,
    unprotect_public,
    verify_content,
)
from mlsgroup.domain.mls.messages import MLSMessage
from mlsgroup.domain.mls.private_message_protection import (
    padding_for,
    protect_private,
    reseal_private,
    unprotect_private,
)
from mlsgroup.domain.mls.proposals import Remove, Update
from mlsgroup.domain.mls.secret_tree import RatchetType, SecretTree, apply_reuse_guard
from mlsgroup.infrastructure.conformance import message_protection as conformance
from tests.vectors import load_vectors, suite_ids

from .wire_testing import framed_contents, mutations

VECTORS = load_vectors(conformance.FILE)

SUITE = cipher_suite(1)
SIG_PRIV, SIG_PUB = SUITE.signature_key_pair(bytes(32))
OTHER_PRIV, OTHER_PUB = SUITE.signature_key_pair(bytes([7]) * 32)
GROUP_ID = bytes(range(16))
EPOCH = 5
CONTEXT = GroupContext(1, 1, GROUP_ID, EPOCH, bytes(32), bytes(32), ()).encode()
ENCRYPTION_SECRET = bytes(range(32))
SENDER_DATA_SECRET = bytes(range(32, 64))
MEMBERSHIP_KEY = bytes(range(64, 96))
N_LEAVES, LEAF = 4, 2
GUARD = b"\x00\x00\x00\x01"
PRIVATE, PUBLIC = WireFormat.PRIVATE_MESSAGE, WireFormat.PUBLIC_MESSAGE
TAG = bytes(32)
COMMIT = Commit((Remove(0),), None)

#: The signature keys of the group's senders; leaf 1 is blank, external sender 0 is known.
KEYS = {SenderMember(LEAF): SIG_PUB, SenderMember(0): OTHER_PUB, SenderExternal(0): OTHER_PUB}


def key_of(framed: FramedContent) -> bytes:
    try:
        return KEYS[framed.sender]
    except KeyError:
        raise UnknownSender(f"no member {framed.sender!r}") from None


def new_tree(n_leaves: int = N_LEAVES) -> SecretTree:
    return SecretTree.create(SUITE, ENCRYPTION_SECRET, n_leaves)


RECEIVER = new_tree()


def signed(content=b"hello", wire_format=PRIVATE, *, sender=SenderMember(LEAF), authenticated_data=b"",
           group_id=GROUP_ID, epoch=EPOCH, key=SIG_PRIV, tag=None) -> AuthenticatedContent:
    if tag is None and type(content) is Commit:
        tag = TAG
    framed = FramedContent(group_id, epoch, sender, authenticated_data, content)
    return sign_content(SUITE, key, framed, wire_format, CONTEXT, tag)


def private(content=b"hello", *, tree=None, guard=GUARD, padding_block=0, **kwargs):
    """(PrivateMessage, sender's tree after it) of content signed by ``signed(content, **kwargs)``."""
    sent = signed(content, **kwargs)
    return protect_private(SUITE, sent, tree or new_tree(), SENDER_DATA_SECRET, guard, padding_block=padding_block)


def receive(message: PrivateMessage, tree: SecretTree = RECEIVER):
    return unprotect_private(SUITE, message, tree, SENDER_DATA_SECRET, CONTEXT, key_of)


def public(content=Remove(0), **kwargs) -> PublicMessage:
    return protect_public(SUITE, signed(content, PUBLIC, **kwargs), MEMBERSHIP_KEY, CONTEXT)


def receive_public(message: PublicMessage) -> AuthenticatedContent:
    return unprotect_public(SUITE, message, MEMBERSHIP_KEY, CONTEXT, key_of)


# -- vectors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", VECTORS, ids=suite_ids(VECTORS))
def test_vector(entry):
    conformance.check(entry)


# -- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"hello", b"", Remove(3), COMMIT], ids=["app", "empty", "proposal", "commit"])
def test_private_round_trip(content):
    sent = signed(content)
    message, _ = protect_private(SUITE, sent, new_tree(), SENDER_DATA_SECRET, GUARD)
    decrypted, _ = receive(MLSMessage.decode(MLSMessage.wrap(message).encode()).body)
    assert decrypted.authenticated_content == sent
    assert (decrypted.leaf_index, decrypted.generation) == (LEAF, 0)
    verify_content(SUITE, SIG_PUB, decrypted.authenticated_content, CONTEXT)


@pytest.mark.parametrize("suite_id", SUPPORTED_SUITES)
def test_every_suite_round_trips_a_commit(suite_id):
    suite = cipher_suite(suite_id)
    private_key, public_key = suite.signature_key_pair(bytes(32))
    context = GroupContext(1, suite_id, GROUP_ID, EPOCH, b"", b"", ()).encode()
    secret = bytes(suite.hash_len)
    framed = FramedContent(GROUP_ID, EPOCH, SenderMember(0), b"ad", COMMIT)
    sent = sign_content(suite, private_key, framed, PRIVATE, context, bytes(suite.hash_len))
    message, _ = protect_private(suite, sent, SecretTree.create(suite, secret, 2), secret, GUARD)
    decrypted, _ = unprotect_private(suite, message, SecretTree.create(suite, secret, 2), secret, context,
                                     lambda _: public_key)
    assert decrypted.authenticated_content == sent


def test_handshake_and_application_ratchets_are_separate():
    tree = new_tree()
    generations = []
    for content in (b"a", Remove(0), b"b", b"c", Remove(1)):
        message, tree = private(content, tree=tree)
        generations.append(receive(message)[0].generation)
    assert generations == [0, 0, 1, 2, 1]
    assert tree.next_generation(LEAF, RatchetType.APPLICATION) == 3
    assert tree.next_generation(LEAF, RatchetType.HANDSHAKE) == 2


def test_out_of_order_messages_decrypt():
    tree, messages = new_tree(), []
    for i in range(4):
        message, tree = private(b"m%d" % i, tree=tree)
        messages.append(message)
    receiver = RECEIVER
    for i in (3, 0, 2, 1):
        decrypted, receiver = receive(messages[i], receiver)
        assert decrypted.authenticated_content.content.content == b"m%d" % i


def test_public_round_trip_member_and_external():
    sent = signed(Remove(1), PUBLIC, authenticated_data=b"ad")
    message = protect_public(SUITE, sent, MEMBERSHIP_KEY, CONTEXT)
    assert message.membership_tag is not None
    assert receive_public(MLSMessage.decode(MLSMessage.wrap(message).encode()).body) == sent
    external = signed(Remove(1), PUBLIC, sender=SenderExternal(0), key=OTHER_PRIV)
    message = protect_public(SUITE, external, MEMBERSHIP_KEY, CONTEXT)
    assert message.membership_tag is None
    assert receive_public(message) == external


def test_content_tbs_fast_path_is_framed_content_tbs():
    framed = FramedContent(GROUP_ID, EPOCH, SenderMember(9), b"ad", b"x" * 300)
    for wire_format in (PUBLIC, PRIVATE):
        assert content_tbs(wire_format, framed, CONTEXT) == framed_content_tbs(wire_format, framed, CONTEXT)


@given(framed_contents, st.sampled_from([PUBLIC, PRIVATE]))
@settings(max_examples=50)
def test_content_tbs_equals_framing_for_any_content(framed, wire_format):
    assert content_tbs(wire_format, framed, CONTEXT) == framed_content_tbs(wire_format, framed, CONTEXT)


def test_group_and_epoch_reads_the_context():
    assert group_and_epoch(CONTEXT) == (GROUP_ID, EPOCH)
    with pytest.raises(DecodeError):
        group_and_epoch(b"\x00\x01")


# -- padding and the reuse guard -----------------------------------------------------------------


def test_padding_fills_whole_blocks_and_round_trips():
    plain, _ = private(b"x" * 10)
    padded, _ = private(b"x" * 10, padding_block=64)
    tag_len = SUITE.hpke.aead.tag_len
    assert (len(padded.ciphertext) - tag_len) % 64 == 0
    assert len(padded.ciphertext) > len(plain.ciphertext)
    assert receive(padded)[0].authenticated_content == receive(plain)[0].authenticated_content
    assert [padding_for(n, 16) for n in (0, 1, 16, 17)] == [0, 15, 0, 15]
    assert padding_for(5, 0) == 0
    with pytest.raises(ValueError):
        padding_for(5, -1)


def _encrypt_raw(plaintext: bytes, generation_tree: SecretTree) -> PrivateMessage:
    """A PrivateMessage around any plaintext, built from the RFC's steps with the raw AEAD."""
    generation, key, nonce, _ = generation_tree.next_key_nonce(LEAF, RatchetType.APPLICATION)
    aad_head = encode_opaque(GROUP_ID) + EPOCH.to_bytes(8, "big") + b"\x01"
    aead = SUITE.hpke.aead.factory
    ciphertext = aead(key).encrypt(apply_reuse_guard(nonce, GUARD), plaintext, aad_head + encode_opaque(b""))
    sample = ciphertext[: SUITE.hash_len]
    sd_key = SUITE.expand_with_label(SENDER_DATA_SECRET, b"key", sample, SUITE.aead_key_len)
    sd_nonce = SUITE.expand_with_label(SENDER_DATA_SECRET, b"nonce", sample, SUITE.aead_nonce_len)
    sender_data = LEAF.to_bytes(4, "big") + generation.to_bytes(4, "big") + GUARD
    encrypted_sender_data = aead(sd_key).encrypt(sd_nonce, sender_data, aad_head)
    return PrivateMessage(GROUP_ID, EPOCH, 1, b"", encrypted_sender_data, ciphertext)


def test_independent_encryption_decrypts():
    sent = signed(b"hello")
    message = _encrypt_raw(encode_opaque(b"hello") + encode_opaque(sent.auth.signature) + bytes(5), new_tree())
    assert receive(message)[0].authenticated_content == sent


def test_non_zero_padding_is_a_decode_error():
    sent = signed(b"hello")
    message = _encrypt_raw(encode_opaque(b"hello") + encode_opaque(sent.auth.signature) + b"\x00\x01", new_tree())
    with pytest.raises(DecodeError):
        receive(message)


def test_truncated_plaintext_is_a_decode_error():
    with pytest.raises(DecodeError):
        receive(_encrypt_raw(encode_opaque(b"hello"), new_tree()))


def test_sender_data_is_the_framing_struct():
    message, _ = private(guard=b"\x09\x08\x07\x06")
    sample = message.ciphertext[: SUITE.hash_len]
    sd_key = SUITE.expand_with_label(SENDER_DATA_SECRET, b"key", sample, SUITE.aead_key_len)
    sd_nonce = SUITE.expand_with_label(SENDER_DATA_SECRET, b"nonce", sample, SUITE.aead_nonce_len)
    opened = SUITE.aead_open(sd_key, sd_nonce, message.sender_data_aad(), message.encrypted_sender_data)
    assert SenderData.decode(opened) == SenderData(LEAF, 0, b"\x09\x08\x07\x06")


def test_reuse_guard_changes_the_ciphertext():
    tree = new_tree()
    first, _ = private(b"same", tree=tree, guard=b"\x00\x00\x00\x00")
    second, _ = private(b"same", tree=tree, guard=b"\xff\x00\x00\x01")
    assert first.ciphertext != second.ciphertext
    assert receive(first)[0].authenticated_content == receive(second)[0].authenticated_content


# -- failures: typed, and the input tree stays usable --------------------------------------------


def _fails_and_keeps_tree(message, error, good):
    before = RECEIVER.encode()
    with pytest.raises(error):
        receive(message)
    assert RECEIVER.encode() == before
    assert receive(good)[0].generation == 0


def test_tampered_ciphertext():
    good, _ = private()
    flipped = bytearray(good.ciphertext)
    flipped[-1] ^= 1
    _fails_and_keeps_tree(attrs.evolve(good, ciphertext=bytes(flipped)), AeadError, good)


def test_tampered_sender_data():
    good, _ = private()
    flipped = bytearray(good.encrypted_sender_data)
    flipped[0] ^= 0x80
    _fails_and_keeps_tree(attrs.evolve(good, encrypted_sender_data=bytes(flipped)), AeadError, good)


def test_tampered_authenticated_data():
    good, _ = private(authenticated_data=b"ad")
    _fails_and_keeps_tree(attrs.evolve(good, authenticated_data=b"AD"), AeadError, good)


def test_tampered_content_type():
    good, _ = private()
    _fails_and_keeps_tree(attrs.evolve(good, content_type=2), AeadError, good)


def test_wrong_epoch_and_group():
    good, _ = private()
    _fails_and_keeps_tree(attrs.evolve(good, epoch=EPOCH + 1), WrongEpoch, good)
    _fails_and_keeps_tree(attrs.evolve(good, group_id=b"other"), WrongGroup, good)
    with pytest.raises(WrongEpoch):
        receive_public(public(epoch=EPOCH - 1))
    with pytest.raises(WrongGroup):
        receive_public(public(group_id=b"other"))


def test_bad_signature_private():
    good, _ = private()
    forged, _ = private(key=OTHER_PRIV)
    _fails_and_keeps_tree(forged, SignatureError, good)


def test_bad_signature_public():
    # A valid membership tag over a signature by the wrong key: only the signature check can catch it.
    with pytest.raises(SignatureError):
        receive_public(public(key=OTHER_PRIV))


def test_bad_membership_tag():
    good = public()
    bad_tag = bytearray(good.membership_tag)
    bad_tag[5] ^= 4
    with pytest.raises(MembershipTagError):
        receive_public(attrs.evolve(good, membership_tag=bytes(bad_tag)))
    with pytest.raises(MembershipTagError):
        unprotect_public(SUITE, good, bytes(32), CONTEXT, key_of)
    tampered = attrs.evolve(good, auth=FramedContentAuthData(good.auth.signature[::-1]))
    with pytest.raises(MembershipTagError):
        receive_public(tampered)
    assert receive_public(good).content.content == Remove(0)


def test_replay_is_a_secret_tree_error():
    message, _ = private()
    _, after = receive(message)
    with pytest.raises(SecretTreeError):
        receive(message, after)
    assert receive(message, RECEIVER)[0].generation == 0


def test_sender_outside_the_tree():
    wide_sender, _ = private(sender=SenderMember(6), tree=new_tree(8))
    good, _ = private()
    _fails_and_keeps_tree(wide_sender, UnknownSender, good)


def test_sender_not_a_member():
    blank_leaf, _ = private(sender=SenderMember(1))
    good, _ = private()
    _fails_and_keeps_tree(blank_leaf, UnknownSender, good)


def test_own_message_needs_another_tree():
    message, sender_tree = private()
    with pytest.raises(SecretTreeError):
        receive(message, sender_tree)


# -- framing rules -------------------------------------------------------------------------------


def test_application_data_is_never_public():
    with pytest.raises(WireFormatNotAllowed):
        signed(b"data", PUBLIC)
    framed = FramedContent(GROUP_ID, EPOCH, SenderMember(LEAF), b"", b"data")
    tbs = framed_content_tbs(PUBLIC, framed, CONTEXT)
    auth = FramedContentAuthData(SUITE.sign_with_label(SIG_PRIV, "FramedContentTBS", tbs))
    with pytest.raises(WireFormatNotAllowed):
        protect_public(SUITE, AuthenticatedContent(PUBLIC, framed, auth), MEMBERSHIP_KEY, CONTEXT)
    tag = SUITE.mac(MEMBERSHIP_KEY, tbs + auth.encode())
    with pytest.raises(WireFormatNotAllowed):
        receive_public(PublicMessage(framed, auth, tag))


@pytest.mark.parametrize(
    "sender, content, error",
    [
        (SenderExternal(0), COMMIT, SenderNotAllowed),
        (SenderExternal(0), b"data", WireFormatNotAllowed),
        (SenderNewMemberProposal(), Remove(0), SenderNotAllowed),
        (SenderNewMemberCommit(), Remove(0), SenderNotAllowed),
    ],
    ids=["external-commit", "external-application", "new-member-remove", "new-member-commit-proposal"],
)
def test_sender_type_rules(sender, content, error):
    framed = FramedContent(GROUP_ID, EPOCH, sender, b"", content)
    with pytest.raises(error):
        check_content_rules(framed, PUBLIC)


def test_external_update_is_refused_and_non_members_never_encrypt():
    framed = FramedContent(GROUP_ID, EPOCH, SenderExternal(0), b"", Update(None))  # body irrelevant to the rule
    with pytest.raises(SenderNotAllowed):
        check_content_rules(framed, PUBLIC)
    with pytest.raises(WireFormatNotAllowed):
        signed(Remove(0), PRIVATE, sender=SenderExternal(0))
    with pytest.raises(WireFormatNotAllowed):
        check_content_rules(FramedContent(GROUP_ID, EPOCH, SenderMember(0), b"", b""), WireFormat.WELCOME)


def test_protect_misuse():
    with pytest.raises(WireFormatNotAllowed):
        protect_private(SUITE, signed(Remove(0), PUBLIC), new_tree(), SENDER_DATA_SECRET, GUARD)
    with pytest.raises(WireFormatNotAllowed):
        protect_public(SUITE, signed(Remove(0), PRIVATE), MEMBERSHIP_KEY, CONTEXT)
    with pytest.raises(ValueError):
        protect_private(SUITE, signed(), new_tree(), SENDER_DATA_SECRET, b"\x00")
    framed = FramedContent(GROUP_ID, EPOCH, SenderMember(LEAF), b"", COMMIT)
    with pytest.raises(ValueError):
        sign_content(SUITE, SIG_PRIV, framed, PRIVATE, CONTEXT)
    untagged = AuthenticatedContent(PRIVATE, framed, FramedContentAuthData(b"sig"))
    with pytest.raises(ValueError):
        protect_private(SUITE, untagged, new_tree(), SENDER_DATA_SECRET, GUARD)
    with pytest.raises(ValueError):
        sign_content(SUITE, SIG_PRIV, FramedContent(GROUP_ID, EPOCH, SenderMember(LEAF), b"", b"x"),
                     PRIVATE, CONTEXT, TAG)


# -- properties: mutated messages ----------------------------------------------------------------

_PRIVATE_SEEDS = [MLSMessage.wrap(private(content, authenticated_data=b"ad")[0]).encode()
                  for content in (b"hello", Remove(0), COMMIT)]
_PUBLIC_SEEDS = [MLSMessage.wrap(public(content)).encode() for content in (Remove(0), COMMIT)]


def _process(data: bytes) -> None:
    body = MLSMessage.decode(data).body
    if isinstance(body, PrivateMessage):
        receive(body)
    elif isinstance(body, PublicMessage):
        receive_public(body)


@given(mutations(_PRIVATE_SEEDS + _PUBLIC_SEEDS))
@settings(max_examples=300)
def test_mutated_messages_raise_only_typed_errors(data):
    try:
        _process(data)
    except MlsError:
        return
    # Encodings are canonical and every byte is authenticated: only the original may pass.
    assert data in _PRIVATE_SEEDS + _PUBLIC_SEEDS


@given(st.sampled_from(_PRIVATE_SEEDS), st.data())
@settings(max_examples=100)
def test_every_single_byte_flip_is_rejected(seed, data):
    index = data.draw(st.integers(0, len(seed) - 1))
    flipped = bytearray(seed)
    flipped[index] ^= data.draw(st.integers(1, 255))
    with pytest.raises(MlsError):
        _process(bytes(flipped))


# -- resealing from the opening fields -----------------------------------------------------------


def reseal(decrypted, tree: SecretTree = RECEIVER, *, key=SIG_PUB, **changes):
    framed = decrypted.authenticated_content.content
    fields = dict(
        group_id=framed.group_id, epoch=framed.epoch, leaf=decrypted.leaf_index, generation=decrypted.generation,
        reuse_guard=decrypted.reuse_guard, authenticated_data=framed.authenticated_data,
        application_data=framed.content, signature=decrypted.authenticated_content.auth.signature,
        padding=decrypted.padding,
    )
    fields.update(changes)
    return reseal_private(SUITE, tree, SENDER_DATA_SECRET, CONTEXT, key, **fields)


@given(
    content=st.binary(max_size=80),
    authenticated_data=st.binary(max_size=20),
    guard=st.binary(min_size=4, max_size=4),
    padding_block=st.sampled_from([0, 1, 16, 64]),
    skip=st.integers(0, 3),
)
@settings(max_examples=25)
def test_resealing_the_opened_fields_rebuilds_the_message(content, authenticated_data, guard, padding_block, skip):
    tree = new_tree()
    for _ in range(skip):
        _, tree = private(b"earlier", tree=tree)
    message, _ = private(content, tree=tree, guard=guard, padding_block=padding_block,
                         authenticated_data=authenticated_data)
    decrypted, after_open = receive(message)
    assert (decrypted.reuse_guard, decrypted.generation) == (guard, skip)
    resealed, after_reseal = reseal(decrypted)
    assert resealed == message
    assert after_reseal == after_open  # the same key is consumed


@pytest.mark.parametrize("size", [0, 63, 64, 300, 16383, 16384, 20000])
@pytest.mark.parametrize("authenticated_data", [b"", b"a" * 70])
def test_resealing_at_every_length_prefix_size(size, authenticated_data):
    """The resealer writes one-, two- and four-byte length prefixes in place: each gives the message."""
    message, _ = private(bytes(range(256)) * (size // 256) + bytes(size % 256), authenticated_data=authenticated_data)
    decrypted, after_open = receive(message)
    assert reseal(decrypted) == (message, after_open)


def test_resealing_checks_the_signature_sender_and_key():
    decrypted, after = receive(private(b"signed")[0])
    with pytest.raises(SignatureError):
        reseal(decrypted, application_data=b"edited")
    with pytest.raises(SignatureError):
        reseal(decrypted, key=OTHER_PUB)
    with pytest.raises(UnknownSender):
        reseal(decrypted, leaf=N_LEAVES)
    with pytest.raises(SecretTreeError):
        reseal(decrypted, after)  # the key was used already
    changed, _ = reseal(decrypted, padding=decrypted.padding + 1)
    assert changed.ciphertext != private(b"signed")[0].ciphertext
