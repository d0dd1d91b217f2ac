"""Extensions (RFC 9420 section 13.4): opaque extension data, unknown types, and the bodies of
the well-known extensions, including those found in messages.json GroupInfos."""

import pytest
from hypothesis import given, strategies as st

from mlsgroup.domain.mls.credentials import BasicCredential
from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.mls.extensions import (
    APPLICATION_ID,
    EXTENSIONS,
    EXTERNAL_SENDERS,
    Extension,
    ExtensionType,
    ExternalPub,
    ExternalSender,
    RequiredCapabilities,
    find_extension,
)
from mlsgroup.domain.mls.messages import MLSMessage

from .wire_testing import (
    assert_decodes_or_rejects,
    encode_method,
    extensions,
    external_senders,
    message_seeds,
    required_capabilities,
    vectors,
)


def test_extension_layout_and_grease_type():
    grease = Extension(0x0A0A, b"\x01\x02")
    assert grease.encode() == bytes.fromhex("0a0a 02 0102".replace(" ", ""))
    assert Extension.decode(grease.encode()) == grease


def test_well_known_bodies_round_trip_through_extension_data():
    senders = (ExternalSender(b"key", BasicCredential(b"ds")),)
    ext = Extension(ExtensionType.EXTERNAL_SENDERS, EXTERNAL_SENDERS.encode(senders))
    assert ext.parse(EXTERNAL_SENDERS) == senders
    app = Extension(ExtensionType.APPLICATION_ID, APPLICATION_ID.encode(b"device-1"))
    assert app.extension_data == b"\x08device-1"
    assert app.parse(APPLICATION_ID) == b"device-1"


def test_parse_is_strict():
    with pytest.raises(DecodeError):
        Extension(ExtensionType.EXTERNAL_PUB, b"\x02a").parse(ExternalPub.CODEC)
    with pytest.raises(DecodeError):
        Extension(ExtensionType.EXTERNAL_PUB, b"\x01ab").parse(ExternalPub.CODEC)


def test_find_extension():
    exts = (Extension(7, b""), Extension(ExtensionType.EXTERNAL_PUB, b"\x00"), Extension(4, b"\x01a"))
    assert find_extension(exts, ExtensionType.EXTERNAL_PUB) == exts[1]
    assert find_extension(exts, ExtensionType.RATCHET_TREE) is None


def test_group_info_extensions_of_messages_json_parse():
    for data in message_seeds("mls_group_info"):
        info = MLSMessage.decode(data).body
        pub = find_extension(info.extensions, ExtensionType.EXTERNAL_PUB).parse(ExternalPub.CODEC)
        assert len(pub.external_pub) in (32, 65)
        required = find_extension(info.group_context.extensions, ExtensionType.REQUIRED_CAPABILITIES)
        parsed = required.parse(RequiredCapabilities.CODEC)
        assert parsed.encode() == required.extension_data


@given(vectors(extensions))
def test_extension_list_round_trip(exts):
    assert EXTENSIONS.decode(EXTENSIONS.encode(exts)) == exts


@given(required_capabilities)
def test_required_capabilities_round_trip(value):
    assert RequiredCapabilities.decode(value.encode()) == value


@given(vectors(external_senders))
def test_external_senders_round_trip(value):
    assert EXTERNAL_SENDERS.decode(EXTERNAL_SENDERS.encode(value)) == value


@given(st.binary(max_size=64))
def test_garbage_only_raises_decode_error(data):
    assert_decodes_or_rejects(Extension.decode, encode_method, data)
    assert_decodes_or_rejects(EXTERNAL_SENDERS.decode, EXTERNAL_SENDERS.encode, data)
    assert_decodes_or_rejects(RequiredCapabilities.decode, encode_method, data)
