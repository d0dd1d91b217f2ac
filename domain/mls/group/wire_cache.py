"""Memoized encodings of KeyPackages and the fast encoding of a commit's FramedContent (RFC 9420 10, 6).

A commit adding hundreds of members would otherwise encode every KeyPackage several times (its
signature inputs, its reference, the commit's signature input, transcript hash and message).
Wire values are immutable, so the encoding of one KeyPackage object is computed once and kept in
a small identity-keyed cache (the entry holds the object, so an id is never confused with a later
object's). ``framed_commit_bytes`` encodes a FramedContent carrying a Commit with those cached
KeyPackage encodings; it equals ``FramedContent.encode()`` byte for byte.
"""

from __future__ import annotations

from ..codec import encode_opaque, encode_varint
from ..commits import Commit, ProposalRef
from ..enums import ContentType, ProposalOrRefType, ProposalType
from ..extensions import EXTENSIONS
from ..framing import SENDER, FramedContent
from ..key_packages import KeyPackage
from ..proposals import PROPOSAL

__all__ = ["key_package_bytes", "remember_key_package_bytes", "key_package_signed_parts", "framed_commit_bytes"]

_MAX_ENTRIES = 4096
_encoded: dict[int, tuple[KeyPackage, bytes]] = {}


def remember_key_package_bytes(key_package: KeyPackage, encoded: bytes) -> None:
    """Record that ``encoded`` is the encoding of ``key_package`` (e.g. the bytes it was decoded from)."""
    if len(_encoded) >= _MAX_ENTRIES:
        _encoded.clear()
    _encoded[id(key_package)] = (key_package, encoded)


def key_package_bytes(key_package: KeyPackage) -> bytes:
    """``key_package.encode()``, computed once per KeyPackage object."""
    entry = _encoded.get(id(key_package))
    if entry is not None and entry[0] is key_package:
        return entry[1]
    encoded = key_package.encode()
    remember_key_package_bytes(key_package, encoded)
    return encoded


def key_package_signed_parts(key_package: KeyPackage) -> tuple[bytes, bytes]:
    """(KeyPackageTBS, LeafNodeTBS of its key_package leaf), sliced from the cached encoding."""
    encoded = key_package_bytes(key_package)
    tbs = encoded[: len(encoded) - len(encode_opaque(key_package.signature))]
    leaf_start = 4 + len(encode_opaque(key_package.init_key))
    leaf_end = len(tbs) - len(EXTENSIONS.encode(key_package.extensions))
    leaf = encoded[leaf_start:leaf_end]
    return tbs, leaf[: len(leaf) - len(encode_opaque(key_package.leaf_node.signature))]


def _proposal_or_ref(item: object) -> bytes:
    if type(item) is ProposalRef:
        return bytes((ProposalOrRefType.REFERENCE,)) + encode_opaque(item.value)
    if item.TAG == ProposalType.ADD:  # type: ignore[attr-defined]
        return b"\x01\x00\x01" + key_package_bytes(item.key_package)  # type: ignore[attr-defined]
    return bytes((ProposalOrRefType.PROPOSAL,)) + PROPOSAL.encode(item)


def framed_commit_bytes(framed: FramedContent) -> bytes:
    """``framed.encode()`` for a FramedContent whose content is a Commit, reusing KeyPackage encodings."""
    commit: Commit = framed.content  # type: ignore[assignment]
    proposals = b"".join(_proposal_or_ref(item) for item in commit.proposals)
    path = b"\x00" if commit.path is None else b"\x01" + commit.path.encode()
    return b"".join(
        (
            encode_opaque(framed.group_id),
            framed.epoch.to_bytes(8, "big"),
            SENDER.encode(framed.sender),
            encode_opaque(framed.authenticated_data),
            bytes((ContentType.COMMIT,)),
            encode_varint(len(proposals)),
            proposals,
            path,
        )
    )
