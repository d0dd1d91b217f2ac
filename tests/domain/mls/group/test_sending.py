"""Framing and protecting what we send (RFC 9420 6.1-6.3)."""

import pytest

from mlsgroup.domain.mls.commits import Commit
from mlsgroup.domain.mls.enums import WireFormat
from mlsgroup.domain.mls.group import GroupUsageError
from mlsgroup.domain.mls.group.sending import authenticated, frame, protect, public_commit_message, sign_encoded, wire_format_of
from mlsgroup.domain.mls.framing import FramedContentAuthData, AuthenticatedContent

from .builders import group, seed


def test_wire_format_names():
    assert wire_format_of("public") == wire_format_of(WireFormat.PUBLIC_MESSAGE) == WireFormat.PUBLIC_MESSAGE
    assert wire_format_of("private") == WireFormat.PRIVATE_MESSAGE
    for bad in ("PUBLIC", 3, None, []):
        with pytest.raises(GroupUsageError):
            wire_format_of(bad)


def test_public_commit_message_equals_generic_protection():
    alice, _ = group([b"alice", b"bob"])
    framed = frame(alice, Commit((), None), b"ad")
    tbs, signature = sign_encoded(alice, framed, framed.encode(), WireFormat.PUBLIC_MESSAGE)
    tag = b"\x07" * 32
    fast = public_commit_message(alice, framed.encode(), tbs, signature, tag)
    content = AuthenticatedContent(WireFormat.PUBLIC_MESSAGE, framed, FramedContentAuthData(signature, tag))
    generic, tree = protect(alice, content, seed(1))
    assert fast == generic and tree is alice.secret_tree
    assert authenticated(alice, framed, WireFormat.PUBLIC_MESSAGE, tag) == content
