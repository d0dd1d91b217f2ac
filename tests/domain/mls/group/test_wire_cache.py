"""The memoized KeyPackage encodings and the fast commit encoding equal the codec's output."""

from mlsgroup.domain.mls.group import commit, propose_remove
from mlsgroup.domain.mls.group.wire_cache import framed_commit_bytes, key_package_bytes, key_package_signed_parts
from mlsgroup.domain.mls.messages import MLSMessage

from .builders import group, key_package, seed


def test_key_package_parts_match_the_structs():
    kp = key_package(b"alice", 1).key_package
    assert key_package_bytes(kp) == kp.encode()
    assert key_package_bytes(kp) is key_package_bytes(kp)
    assert key_package_signed_parts(kp) == (kp.tbs(), kp.leaf_node.tbs())


def test_framed_commit_bytes_match_the_codec():
    alice, bob = group([b"alice", b"bob"])
    bob, _ = propose_remove(bob, 0, seed=seed(1))
    erin = key_package(b"erin", 2).key_package
    for staged in (
        commit(alice, adds=[erin], update_path=True, seed=seed(3), handshake_wire_format="public"),
        commit(bob, adds=[erin], removes=[0], seed=seed(4), handshake_wire_format="public"),
    ):
        framed = MLSMessage.decode(staged.message).body.content
        assert framed_commit_bytes(framed) == framed.encode()
