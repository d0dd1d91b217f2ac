"""GroupContext (RFC 9420 section 8.1): layout, the fixed mls10 version, round trips, garbage."""

import pytest
from hypothesis import given, strategies as st

from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.mls.extensions import Extension
from mlsgroup.domain.mls.group_context import GroupContext

from .wire_testing import assert_decodes_or_rejects, encode_method, group_contexts


def test_layout():
    context = GroupContext(1, 2, b"g", 3, b"t", b"c", (Extension(5, b""),))
    assert context.encode() == bytes.fromhex("0001 0002 0167 0000000000000003 0174 0163 03 0005 00".replace(" ", ""))
    assert GroupContext.decode(context.encode()) == context


@pytest.mark.parametrize("version", [0, 2, 0xFFFF])
def test_only_mls10_decodes(version):
    encoded = GroupContext(1, 1, b"", 0, b"", b"", ()).encode()
    with pytest.raises(DecodeError):
        GroupContext.decode(version.to_bytes(2, "big") + encoded[2:])


@given(group_contexts)
def test_round_trip(context):
    assert GroupContext.decode(context.encode()) == context


@given(st.binary(max_size=128))
def test_garbage_only_raises_decode_error(data):
    assert_decodes_or_rejects(GroupContext.decode, encode_method, data)
