"""Message framing (RFC 9420 section 6): senders, FramedContent, the content-type-dependent auth
data, PublicMessage membership tags, PrivateMessage(Content) padding, the AADs, and
FramedContentTBS / AuthenticatedContentTBM checked against message-protection.json (signature
and membership tag of each public message, under the GroupContext the vector describes)."""

import hmac

import pytest
from hypothesis import given, settings, strategies as st

from mlsgroup.domain.mls.commits import Commit
from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.mls.framing import (
    SENDER,
    AuthenticatedContent,
    ContentType,
    FramedContent,
    FramedContentAuthData,
    PrivateContentAAD,
    PrivateMessage,
    PrivateMessageContent,
    PublicMessage,
    SenderData,
    SenderDataAAD,
    SenderExternal,
    SenderMember,
    SenderNewMemberCommit,
    SenderNewMemberProposal,
    WireFormat,
    framed_content_tbs,
)
from mlsgroup.domain.mls.group_context import GroupContext
from mlsgroup.domain.mls.messages import MLSMessage
from mlsgroup.domain.mls.proposals import PROPOSAL, Remove
from tests.vectors import load_vectors, suite_ids

from .wire_testing import (
    SUITE_HASH,
    assert_decodes_or_rejects,
    encode_method,
    framed_contents,
    message_seeds,
    mutations,
    private_message_contents,
    private_messages,
    public_messages,
    sender_datas,
    senders,
    verifies_with_label,
)

PROTECTION = load_vectors("message-protection.json")
CONTEXT = GroupContext(1, 1, b"group", 9, b"tree", b"transcript", ())


def framed(sender, content):
    return FramedContent(b"group", 9, sender, b"aad", content)


@pytest.mark.parametrize("entry", PROTECTION, ids=suite_ids(PROTECTION))
def test_public_messages_of_message_protection_verify(entry):
    suite = entry["cipher_suite"]
    context = GroupContext(
        1, suite, bytes.fromhex(entry["group_id"]), entry["epoch"],
        bytes.fromhex(entry["tree_hash"]), bytes.fromhex(entry["confirmed_transcript_hash"]), (),
    )
    signature_pub = bytes.fromhex(entry["signature_pub"])
    raw = {"proposal_pub": PROPOSAL.decode(bytes.fromhex(entry["proposal"])),
           "commit_pub": Commit.decode(bytes.fromhex(entry["commit"]))}
    for field, expected in raw.items():
        message = MLSMessage.decode(bytes.fromhex(entry[field])).body
        assert message.content.content == expected
        assert message.content.sender == SenderMember(1)
        tbs = message.authenticated_content().tbs(context)
        assert tbs == framed_content_tbs(WireFormat.PUBLIC_MESSAGE, message.content, context.encode())
        assert verifies_with_label(suite, signature_pub, message.auth.signature, b"FramedContentTBS", tbs)
        tag = hmac.new(bytes.fromhex(entry["membership_key"]), message.tbm(context), SUITE_HASH[suite].name).digest()
        assert hmac.compare_digest(tag, message.membership_tag)


def test_tbs_covers_context_only_for_member_and_new_member_commit_senders():
    head = bytes.fromhex("0001 0001".replace(" ", ""))
    for sender in (SenderMember(0), SenderNewMemberCommit()):
        content = framed(sender, b"hi")
        assert framed_content_tbs(1, content, CONTEXT) == head + content.encode() + CONTEXT.encode()
        with pytest.raises(ValueError):
            framed_content_tbs(1, content, None)
    for sender in (SenderExternal(0), SenderNewMemberProposal()):
        content = framed(sender, Remove(1))
        assert framed_content_tbs(1, content, CONTEXT) == head + content.encode()
        assert framed_content_tbs(1, content, None) == head + content.encode()


def test_sender_layouts_and_strictness():
    assert SENDER.encode(SenderMember(2)) == b"\x01\x00\x00\x00\x02"
    assert SENDER.encode(SenderExternal(1)) == b"\x02\x00\x00\x00\x01"
    assert SENDER.encode(SenderNewMemberProposal()) == b"\x03"
    assert SENDER.encode(SenderNewMemberCommit()) == b"\x04"
    for bad in (b"\x00", b"\x05", b"\x01\x00"):
        with pytest.raises(DecodeError):
            SENDER.decode(bad)


def test_content_type_follows_content():
    assert framed(SenderMember(0), b"x").content_type == ContentType.APPLICATION
    assert framed(SenderMember(0), Remove(0)).content_type == ContentType.PROPOSAL
    assert framed(SenderMember(0), Commit((), None)).content_type == ContentType.COMMIT


def test_unknown_content_type_is_a_decode_error():
    good = framed(SenderMember(0), b"x").encode()
    at = len(good) - 2
    assert good[at] == ContentType.APPLICATION
    for bad in (0, 4):
        with pytest.raises(DecodeError):
            FramedContent.decode(good[:at] + bytes([bad]) + good[at + 1 :])


def test_confirmation_tag_only_for_commits():
    commit = framed(SenderMember(0), Commit((), None))
    with pytest.raises(ValueError):
        PublicMessage(commit, FramedContentAuthData(b"sig"), b"tag").encode()
    with pytest.raises(ValueError):
        PublicMessage(framed(SenderMember(0), b"x"), FramedContentAuthData(b"s", b"c"), b"t").encode()
    good = PublicMessage(commit, FramedContentAuthData(b"sig", b"conf"), b"tag")
    assert good.encode().endswith(b"\x03sig\x04conf\x03tag")
    assert PublicMessage.decode(good.encode()) == good
    assert FramedContentAuthData.decode(b"\x01s\x01c", ContentType.COMMIT) == FramedContentAuthData(b"s", b"c")
    assert FramedContentAuthData.decode(b"\x01s", ContentType.PROPOSAL) == FramedContentAuthData(b"s")
    with pytest.raises(DecodeError):
        FramedContentAuthData.decode(b"\x01s\x01c", ContentType.APPLICATION)
    with pytest.raises(DecodeError):
        FramedContentAuthData.decode(b"\x01s", 0)


def test_membership_tag_only_for_members():
    external = framed(SenderExternal(0), Remove(1))
    with pytest.raises(ValueError):
        PublicMessage(external, FramedContentAuthData(b"sig"), b"tag").encode()
    with pytest.raises(ValueError):
        PublicMessage(framed(SenderMember(0), b"x"), FramedContentAuthData(b"sig")).encode()
    message = PublicMessage(external, FramedContentAuthData(b"sig"))
    assert PublicMessage.decode(message.encode()) == message
    with pytest.raises(DecodeError):  # a tag after a non-member's message is trailing data
        PublicMessage.decode(message.encode() + b"\x03tag")


def test_authenticated_content_round_trip_and_transcript_input():
    content = framed(SenderMember(3), Commit((Remove(0),), None))
    auth = FramedContentAuthData(b"sig", b"conf")
    ac = AuthenticatedContent(WireFormat.PRIVATE_MESSAGE, content, auth)
    assert ac.encode() == b"\x00\x02" + content.encode() + auth.encode()
    assert AuthenticatedContent.decode(ac.encode()) == ac
    assert ac.confirmed_transcript_hash_input() == b"\x00\x02" + content.encode() + b"\x03sig"
    with pytest.raises(DecodeError):  # only public and private messages carry framed content
        AuthenticatedContent.decode(b"\x00\x03" + ac.encode()[2:])


def test_private_message_content_padding():
    pmc = PrivateMessageContent(b"hello", FramedContentAuthData(b"sig"), 3)
    encoded = pmc.encode()
    assert encoded == b"\x05hello\x03sig" + bytes(3)
    assert PrivateMessageContent.decode(encoded, ContentType.APPLICATION) == pmc
    assert PrivateMessageContent.decode(encoded[:-3], ContentType.APPLICATION).padding == 0
    with pytest.raises(DecodeError):
        PrivateMessageContent.decode(encoded[:-1] + b"\x01", ContentType.APPLICATION)
    with pytest.raises(DecodeError):  # a commit needs a confirmation tag: zero padding is not one
        PrivateMessageContent.decode(b"\x00\x00" + b"\x03sig", ContentType.COMMIT)
    commit = PrivateMessageContent(Commit((), None), FramedContentAuthData(b"s", b"c"), 0)
    assert PrivateMessageContent.decode(commit.encode(), ContentType.COMMIT) == commit


def test_private_message_aads():
    message = PrivateMessage(b"g", 2, ContentType.PROPOSAL, b"ad", b"esd", b"ct")
    assert message.sender_data_aad() == b"\x01g" + (2).to_bytes(8, "big") + b"\x02"
    assert message.content_aad() == message.sender_data_aad() + b"\x02ad"
    assert SenderDataAAD.decode(message.sender_data_aad()) == SenderDataAAD(b"g", 2, 2)
    assert PrivateContentAAD.decode(message.content_aad()) == PrivateContentAAD(b"g", 2, 2, b"ad")


def test_private_message_yields_its_authenticated_content():
    message = PrivateMessage(b"g", 2, ContentType.APPLICATION, b"ad", b"esd", b"ct")
    plaintext = PrivateMessageContent(b"hello", FramedContentAuthData(b"sig"), 5)
    ac = message.authenticated_content(4, plaintext)
    assert ac == AuthenticatedContent(
        WireFormat.PRIVATE_MESSAGE, FramedContent(b"g", 2, SenderMember(4), b"ad", b"hello"), plaintext.auth
    )
    with pytest.raises(DecodeError):
        message.authenticated_content(4, PrivateMessageContent(Remove(0), FramedContentAuthData(b"s")))


def test_sender_data_layout():
    data = SenderData(1, 2, b"\xaa\xbb\xcc\xdd")
    assert data.encode() == bytes.fromhex("00000001 00000002 aabbccdd".replace(" ", ""))
    with pytest.raises(DecodeError):
        SenderData.decode(data.encode()[:-1])


@given(senders)
def test_sender_round_trip(sender):
    assert SENDER.decode(SENDER.encode(sender)) == sender


@settings(max_examples=50)
@given(framed_contents)
def test_framed_content_round_trip(content):
    decoded = FramedContent.decode(content.encode())
    assert decoded == content and hash(decoded) == hash(content)


@settings(max_examples=50)
@given(public_messages())
def test_public_message_round_trip(message):
    assert PublicMessage.decode(message.encode()) == message


@given(private_messages)
def test_private_message_round_trip(message):
    assert PrivateMessage.decode(message.encode()) == message


@settings(max_examples=50)
@given(private_message_contents())
def test_private_message_content_round_trip(pmc):
    assert PrivateMessageContent.decode(pmc.encode(), pmc.content_type) == pmc


@given(sender_datas)
def test_sender_data_round_trip(data):
    assert SenderData.decode(data.encode()) == data


PUBLIC_FIELDS = ("public_message_application", "public_message_proposal", "public_message_commit")
DECODERS = {
    "public_message": (PublicMessage.decode, [s for f in PUBLIC_FIELDS for s in message_seeds(f, True)[:10]]),
    "private_message": (PrivateMessage.decode, message_seeds("private_message", strip_header=True)),
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


@pytest.mark.parametrize("content_type", list(ContentType))
@given(data=st.binary(max_size=128))
def test_private_message_content_garbage_only_raises_decode_error(content_type, data):
    try:
        value = PrivateMessageContent.decode(data, content_type)
    except DecodeError:
        return
    assert value.encode() == data
