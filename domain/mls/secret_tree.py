"""The secret tree and its per-sender hash ratchets, plus sender-data keys (RFC 9420 section 9, 6.3.2).

``SecretTree`` is an immutable value: asking it for a key returns the key, the nonce and the tree
that no longer holds that key. Keeping the old value therefore undoes a failed decryption, and a
snapshot is just the value (``encode()`` / ``SecretTree.decode``). Derivation is lazy: only the
path from the lowest stored ancestor down to a requested leaf is derived; consumed node secrets,
ratchet secrets and keys are dropped, as the deletion schedule (9.2) requires.

Each ratchet accepts generations up to ``max_forward`` ahead of its next unused one; the keys of
generations it skips on the way are kept (the newest ``max_skipped`` of them) for messages that
arrive out of order. A key hands out once: asking again for a consumed generation raises
``SecretTreeError``.

``SecretTreeDraft`` is a mutable working copy for consuming many keys in a row (an audit's replay of
an epoch's messages), giving the same keys, errors and final tree as ``key_nonce`` calls.
"""

from __future__ import annotations

import enum
import functools
import hmac
from itertools import islice
from typing import NamedTuple

import attrs

from . import tree_math
from .cipher_suite import MLS_PREFIX, CipherSuite, cipher_suite
from .codec import Reader, Writer, encode_varint
from .errors import DecodeError, LibraryError, SecretTreeError, UnsupportedCipherSuite

__all__ = [
    "RatchetType",
    "MAX_FORWARD",
    "MAX_SKIPPED",
    "SecretTree",
    "SecretTreeDraft",
    "sender_data_key_nonce",
    "apply_reuse_guard",
]

MAX_FORWARD = 1000
"""How many generations past a ratchet's next unused one a message may be."""

MAX_SKIPPED = 256
"""How many skipped (not yet used) keys each ratchet keeps for out-of-order messages."""

MAX_GENERATION = 0xFFFFFFFF

_LEFT, _RIGHT = b"left", b"right"


class RatchetType(enum.IntEnum):
    """Which of a leaf's two ratchets: handshake (proposals, commits) or application messages."""

    HANDSHAKE = 0
    APPLICATION = 1


# ``_Ratchet``'s fields given as one tuple: the generated ``__new__`` is a Python call, one per message.
_new_tuple = tuple.__new__


class _Ratchet(NamedTuple):
    """One sender ratchet: the secret of its next unused generation and the keys it skipped.

    ``skipped`` maps generation -> (key, nonce) in ascending generation order and is never
    mutated once the ratchet is built. A tuple, because one is built per message.
    """

    generation: int
    secret: bytes
    skipped: dict[int, tuple[bytes, bytes]]

    def __repr__(self) -> str:
        return f"_Ratchet(generation={self.generation}, secret=***, skipped=<{len(self.skipped)} keys>)"


@functools.cache
def _ratchet_infos(nk: int, nn: int, nh: int) -> tuple[bytes, bytes, bytes]:
    """KDFLabel prefixes of DeriveTreeSecret for "key", "nonce" and "secret", up to the generation.

    Each is ``uint16 length || opaque label<V> || 0x04`` (the generation context is a 4-byte vector).
    """

    def prefix(label: bytes, length: int) -> bytes:
        full = MLS_PREFIX + label
        return length.to_bytes(2, "big") + encode_varint(len(full)) + full + b"\x04"

    return prefix(b"key", nk), prefix(b"nonce", nn), prefix(b"secret", nh)


def _take(
    suite: CipherSuite, ratchet: _Ratchet, generation: int, max_forward: int, max_skipped: int
) -> tuple[bytes, bytes, _Ratchet]:
    head = ratchet.generation
    if generation < head:
        pair = ratchet.skipped.get(generation)
        if pair is None:
            raise SecretTreeError(f"generation {generation} was already used or has expired")
        skipped = dict(ratchet.skipped)
        del skipped[generation]
        return pair[0], pair[1], _Ratchet(head, ratchet.secret, skipped)
    if generation - head > max_forward:
        raise SecretTreeError(f"generation {generation} is more than {max_forward} past {head}")
    if generation > MAX_GENERATION:
        raise SecretTreeError("the ratchet is exhausted")
    # Key, nonce and secret lengths never exceed KDF.Nh, so each HKDF-Expand is the single block
    # HMAC(secret, info || 0x01) (RFC 5869); the label part of info is encoded once per suite.
    mac = suite.mac
    nk, nn = suite.aead_key_len, suite.aead_nonce_len
    key_info, nonce_info, secret_info = _ratchet_infos(nk, nn, suite.hash_len)
    secret = ratchet.secret
    skipped = ratchet.skipped
    if generation > head:
        skipped = dict(skipped)
        # Skipped keys older than the retention bound would be evicted at once: never derive them.
        first_kept = generation - max_skipped
        for g in range(head, generation):
            context = g.to_bytes(4, "big") + b"\x01"
            if g >= first_kept:
                skipped[g] = (mac(secret, key_info + context)[:nk], mac(secret, nonce_info + context)[:nn])
            secret = mac(secret, secret_info + context)
        excess = len(skipped) - max_skipped
        if excess > 0:
            for g in list(islice(skipped, excess)):
                del skipped[g]
    context = generation.to_bytes(4, "big") + b"\x01"
    return (
        mac(secret, key_info + context)[:nk],
        mac(secret, nonce_info + context)[:nn],
        _Ratchet(generation + 1, mac(secret, secret_info + context), skipped),
    )


def _derive_leaf(
    suite: CipherSuite, n_leaves: int, nodes: dict[int, bytes], leaf: int
) -> tuple[tuple[_Ratchet, _Ratchet], dict[int, bytes]]:
    """A leaf's fresh ratchets and the node secrets left after deriving them from its lowest stored
    ancestor (``nodes`` itself is not changed)."""
    target = leaf << 1
    top = target
    root = n_leaves - 1
    while top not in nodes:
        if top == root:
            raise LibraryError(f"no secret left from which to derive leaf {leaf}")
        top = tree_math.parent(top, n_leaves)
    nodes = dict(nodes)
    secret = nodes.pop(top)
    expand = suite.expand_with_label
    nh = suite.hash_len
    node = top
    while node != target:
        k = tree_math.level(node)
        left_node, right_node = node ^ (1 << (k - 1)), node ^ (3 << (k - 1))
        left_secret = expand(secret, b"tree", _LEFT, nh)
        right_secret = expand(secret, b"tree", _RIGHT, nh)
        if target < node:
            nodes[right_node] = right_secret
            node, secret = left_node, left_secret
        else:
            nodes[left_node] = left_secret
            node, secret = right_node, right_secret
    pair = (
        _Ratchet(0, expand(secret, b"handshake", b"", nh), {}),
        _Ratchet(0, expand(secret, b"application", b"", nh), {}),
    )
    return pair, nodes


@attrs.frozen(slots=True)
class SecretTree:
    """The secret tree of one epoch over ``n_leaves`` leaves (a power of two).

    ``nodes`` holds the not-yet-consumed node secrets on the frontier of what has been derived;
    ``ratchets`` maps a leaf index to its (handshake, application) ratchets once derived. Both
    dicts are never mutated: every change builds a new tree.
    """

    suite: CipherSuite
    n_leaves: int
    nodes: dict[int, bytes] = attrs.field(repr=lambda s: f"<{len(s)} node secrets>")
    ratchets: dict[int, tuple[_Ratchet, _Ratchet]] = attrs.field(repr=lambda s: f"<{len(s)} leaves>")
    max_forward: int = MAX_FORWARD
    max_skipped: int = MAX_SKIPPED

    @classmethod
    def create(
        cls,
        suite: CipherSuite,
        encryption_secret: bytes,
        n_leaves: int,
        *,
        max_forward: int = MAX_FORWARD,
        max_skipped: int = MAX_SKIPPED,
    ) -> "SecretTree":
        """A fresh tree whose root secret is the epoch's ``encryption_secret``."""
        if len(encryption_secret) != suite.hash_len:
            raise SecretTreeError(f"encryption_secret must be {suite.hash_len} bytes")
        if max_forward < 0 or max_skipped < 0:
            raise ValueError("max_forward and max_skipped must not be negative")
        root = tree_math.root(n_leaves)
        return cls(suite, n_leaves, {root: bytes(encryption_secret)}, {}, max_forward, max_skipped)

    def next_generation(self, leaf: int, kind: RatchetType) -> int:
        """The next unused generation of a leaf's ratchet (0 before the leaf is first used)."""
        self._check_leaf(leaf)
        pair = self.ratchets.get(leaf)
        return 0 if pair is None else pair[kind].generation

    def key_nonce(self, leaf: int, kind: RatchetType, generation: int) -> tuple[bytes, bytes, "SecretTree"]:
        """(key, nonce, tree without them) for ``generation`` of a leaf's ratchet: for decrypting."""
        self._check_leaf(leaf)
        if generation < 0:
            raise SecretTreeError(f"negative generation {generation}")
        pair, nodes = self._leaf_ratchets(leaf)
        key, nonce, ratchet = _take(self.suite, pair[kind], generation, self.max_forward, self.max_skipped)
        return key, nonce, self._with(leaf, kind, pair, ratchet, nodes)

    def next_key_nonce(self, leaf: int, kind: RatchetType) -> tuple[int, bytes, bytes, "SecretTree"]:
        """(generation, key, nonce, tree without them) of the next unused generation: for encrypting."""
        self._check_leaf(leaf)
        pair, nodes = self._leaf_ratchets(leaf)
        current = pair[kind]
        generation = current.generation
        key, nonce, ratchet = _take(self.suite, current, generation, self.max_forward, self.max_skipped)
        return generation, key, nonce, self._with(leaf, kind, pair, ratchet, nodes)

    def _check_leaf(self, leaf: int) -> None:
        if not 0 <= leaf < self.n_leaves:
            raise SecretTreeError(f"leaf {leaf} is outside a tree of {self.n_leaves} leaves")

    def _with(
        self,
        leaf: int,
        kind: RatchetType,
        pair: tuple[_Ratchet, _Ratchet],
        ratchet: _Ratchet,
        nodes: dict[int, bytes],
    ) -> "SecretTree":
        ratchets = dict(self.ratchets)
        ratchets[leaf] = (ratchet, pair[1]) if kind == RatchetType.HANDSHAKE else (pair[0], ratchet)
        return SecretTree(self.suite, self.n_leaves, nodes, ratchets, self.max_forward, self.max_skipped)

    def _leaf_ratchets(self, leaf: int) -> tuple[tuple[_Ratchet, _Ratchet], dict[int, bytes]]:
        """The leaf's ratchets and the node secrets left after deriving them (lazily)."""
        pair = self.ratchets.get(leaf)
        if pair is not None:
            return pair, self.nodes
        return _derive_leaf(self.suite, self.n_leaves, self.nodes, leaf)

    # -- snapshots -----------------------------------------------------------------------------

    def encode(self) -> bytes:
        """A byte encoding of the whole tree state (secrets included) for snapshots."""
        w = Writer()
        w.uint16(self.suite.id)
        w.uint32(self.n_leaves)
        w.uint32(self.max_forward)
        w.uint32(self.max_skipped)
        w.varint(len(self.nodes))
        for node in sorted(self.nodes):
            w.uint32(node)
            w.opaque(self.nodes[node])
        w.varint(len(self.ratchets))
        for leaf in sorted(self.ratchets):
            w.uint32(leaf)
            for ratchet in self.ratchets[leaf]:
                w.uint64(ratchet.generation)
                w.opaque(ratchet.secret)
                w.varint(len(ratchet.skipped))
                for g, (key, nonce) in ratchet.skipped.items():
                    w.uint32(g)
                    w.opaque(key)
                    w.opaque(nonce)
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> "SecretTree":
        """The tree ``encode`` wrote; DecodeError for anything else."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise DecodeError(f"expected bytes, got {type(data).__name__}")
        r = Reader(bytes(data))
        try:
            suite = cipher_suite(r.uint16())
        except UnsupportedCipherSuite as exc:
            raise DecodeError(str(exc)) from exc
        n_leaves, max_forward, max_skipped = r.uint32(), r.uint32(), r.uint32()
        try:
            tree_math.root(n_leaves)
        except tree_math.TreeMathError as exc:
            raise DecodeError(str(exc)) from exc
        nh = suite.hash_len

        def secret_of(length: int) -> bytes:
            value = r.opaque()
            if len(value) != length:
                raise DecodeError(f"secret of {len(value)} bytes, expected {length}")
            return value

        def ascending(previous: int, value: int, limit: int, what: str) -> int:
            if value <= previous or value >= limit:
                raise DecodeError(f"{what} {value} out of order or out of range")
            return value

        nodes: dict[int, bytes] = {}
        last = -1
        for _ in range(r.varint()):
            last = ascending(last, r.uint32(), 2 * n_leaves - 1, "node")
            nodes[last] = secret_of(nh)
        ratchets: dict[int, tuple[_Ratchet, _Ratchet]] = {}
        last = -1
        for _ in range(r.varint()):
            last = ascending(last, r.uint32(), n_leaves, "leaf")
            pair = []
            for _kind in RatchetType:
                generation = r.uint64()
                if generation > MAX_GENERATION + 1:
                    raise DecodeError(f"generation {generation} out of range")
                secret = secret_of(nh)
                skipped: dict[int, tuple[bytes, bytes]] = {}
                previous = -1
                for _ in range(r.varint()):
                    previous = ascending(previous, r.uint32(), generation, "skipped generation")
                    skipped[previous] = (secret_of(suite.aead_key_len), secret_of(suite.aead_nonce_len))
                pair.append(_Ratchet(generation, secret, skipped))
            ratchets[last] = (pair[0], pair[1])
        r.finish()
        return cls(suite, n_leaves, nodes, ratchets, max_forward, max_skipped)


class SecretTreeDraft:
    """A working copy of a ``SecretTree`` for taking many keys in a row (an audit rebuilds thousands
    of messages of one epoch) without building a tree per key.

    ``take`` gives what ``key_nonce`` gives (the same checks and errors) but holds the key back:
    only ``keep`` consumes it, so a key whose message then fails a check stays in the draft.
    ``tree()`` is the tree after every kept key, equal to the one the same ``key_nonce`` calls give.
    """

    __slots__ = ("_base", "_hash_name", "_infos", "_kept", "_nk", "_nn", "_nodes", "_ratchets", "_taken")

    def __init__(self, tree: SecretTree) -> None:
        self._base = tree
        self._nodes = tree.nodes
        self._ratchets = dict(tree.ratchets)  # the draft's own: only ``keep`` writes to it
        self._kept = False
        self._taken: tuple | None = None
        suite = tree.suite
        self._nk, self._nn = suite.aead_key_len, suite.aead_nonce_len
        self._infos = _ratchet_infos(self._nk, self._nn, suite.hash_len)
        self._hash_name = suite.hpke.kdf.hash_name

    def take(self, leaf: int, kind: RatchetType, generation: int) -> tuple[bytes, bytes]:
        """(key, nonce) of ``generation`` of a leaf's ratchet, not yet consumed (SecretTreeError)."""
        pair = self._ratchets.get(leaf)
        nodes = self._nodes
        if pair is None:
            base = self._base
            base._check_leaf(leaf)
            pair, nodes = _derive_leaf(base.suite, base.n_leaves, nodes, leaf)
        ratchet = pair[kind]
        if generation == ratchet.generation and generation <= MAX_GENERATION:
            # The next key in order (nearly every message): ``_take``'s last step, with the
            # labels and the hash looked up once per draft.
            key_info, nonce_info, secret_info = self._infos
            context = generation.to_bytes(4, "big") + b"\x01"
            secret, hash_name, digest = ratchet.secret, self._hash_name, hmac.digest
            key = digest(secret, key_info + context, hash_name)[: self._nk]
            nonce = digest(secret, nonce_info + context, hash_name)[: self._nn]
            ratchet = _new_tuple(_Ratchet, (generation + 1, digest(secret, secret_info + context, hash_name), ratchet.skipped))
        else:
            if generation < 0:
                raise SecretTreeError(f"negative generation {generation}")
            base = self._base
            key, nonce, ratchet = _take(base.suite, ratchet, generation, base.max_forward, base.max_skipped)
        # ``kind`` is the ratchet's index in the pair (handshake 0, application 1).
        self._taken = (leaf, (pair[0], ratchet) if kind else (ratchet, pair[1]), nodes)
        return key, nonce

    def keep(self) -> None:
        """Consume the key the last ``take`` gave."""
        taken = self._taken
        if taken is None:
            raise LibraryError("no key taken to keep")
        self._taken = None
        self._kept = True
        self._ratchets[taken[0]] = taken[1]
        self._nodes = taken[2]

    def tree(self) -> SecretTree:
        """The tree without every kept key."""
        base = self._base
        if not self._kept:
            return base
        return SecretTree(
            base.suite, base.n_leaves, self._nodes, dict(self._ratchets), base.max_forward, base.max_skipped
        )


def sender_data_key_nonce(
    suite: CipherSuite, sender_data_secret: bytes, ciphertext: bytes
) -> tuple[bytes, bytes]:
    """(sender_data_key, sender_data_nonce) from the first KDF.Nh bytes of the content ciphertext."""
    sample = ciphertext[: suite.hash_len]
    key = suite.expand_with_label(sender_data_secret, b"key", sample, suite.aead_key_len)
    nonce = suite.expand_with_label(sender_data_secret, b"nonce", sample, suite.aead_nonce_len)
    return key, nonce


def apply_reuse_guard(nonce: bytes, reuse_guard: bytes) -> bytes:
    """The nonce with its first four bytes XORed with the 4-byte ``reuse_guard`` (RFC 9420 6.3.1)."""
    if len(reuse_guard) != 4 or len(nonce) < 4:
        raise ValueError("reuse_guard must be 4 bytes and the nonce at least 4")
    head = int.from_bytes(nonce[:4], "big") ^ int.from_bytes(reuse_guard, "big")
    return head.to_bytes(4, "big") + nonce[4:]
