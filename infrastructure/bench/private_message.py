"""``mlsgroup bench crypto``, PrivateMessage row: sign + protect + unprotect + verify of a 100-byte
application message (RFC 9420 6.3) beside the raw primitive calls that work needs.

The floor is written straight on ``cryptography`` and ``hmac``, given the encoded plaintext, AADs
and FramedContentTBS: Ed25519 sign and verify over the same SignContent, the ratchet's key, nonce
and next-secret HMACs on each side, the sender-data key and nonce HMACs on each side, and the
content and sender-data AES-GCM seal and open with a freshly built cipher per key. Both sides are
checked to produce the same ciphertext before timing, so the row compares like work.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mlsgroup.domain.mls import tree_math
from mlsgroup.domain.mls.cipher_suite import cipher_suite
from mlsgroup.domain.mls.codec import encode_opaque
from mlsgroup.domain.mls.enums import WireFormat
from mlsgroup.domain.mls.framing import FramedContent, SenderMember, framed_content_tbs
from mlsgroup.domain.mls.group_context import GroupContext
from mlsgroup.domain.mls.message_protection import sign_content
from mlsgroup.domain.mls.private_message_protection import protect_private, unprotect_private
from mlsgroup.domain.mls.secret_tree import SecretTree

from .timing import Row, compare

__all__ = ["private_message_rows"]

_SEED = bytes(range(32))
_PAYLOAD = bytes(range(100))
_GUARD = b"\x01\x02\x03\x04"
_LEAF, _N_LEAVES = 1, 2


def _kdf_label(label: bytes, context: bytes, length: int) -> bytes:
    full = b"MLS 1.0 " + label
    return length.to_bytes(2, "big") + encode_opaque(full) + encode_opaque(context)


def private_message_rows(samples: int = 15) -> list[Row]:
    """The PrivateMessage protect+unprotect row for cipher suite 1."""
    suite = cipher_suite(1)
    private_key, public_key = suite.signature_key_pair(_SEED)
    group_id = hashlib.sha256(b"group").digest()[:16]
    epoch = 7
    context = GroupContext(1, 1, group_id, epoch, bytes(32), bytes(32), ()).encode()
    encryption_secret = hashlib.sha256(b"encryption").digest()
    sender_data_secret = hashlib.sha256(b"sender data").digest()

    def key_of(_framed: FramedContent) -> bytes:
        return public_key

    state = {
        "send": SecretTree.create(suite, encryption_secret, _N_LEAVES),
        "recv": SecretTree.create(suite, encryption_secret, _N_LEAVES),
    }

    def ours() -> None:
        framed = FramedContent(group_id, epoch, SenderMember(_LEAF), b"", _PAYLOAD)
        signed = sign_content(suite, private_key, framed, WireFormat.PRIVATE_MESSAGE, context)
        message, state["send"] = protect_private(suite, signed, state["send"], sender_data_secret, _GUARD)
        _, state["recv"] = unprotect_private(suite, message, state["recv"], sender_data_secret, context, key_of)

    # -- the floor: primitives only, over the same bytes ------------------------------------------
    framed = FramedContent(group_id, epoch, SenderMember(_LEAF), b"", _PAYLOAD)
    tbs = framed_content_tbs(WireFormat.PRIVATE_MESSAGE, framed, context)
    sign_input = encode_opaque(b"MLS 1.0 FramedContentTBS") + encode_opaque(tbs)
    raw_private = ed25519.Ed25519PrivateKey.from_private_bytes(private_key)
    raw_public = ed25519.Ed25519PublicKey.from_public_bytes(public_key)
    aad_head = encode_opaque(group_id) + epoch.to_bytes(8, "big") + b"\x01"
    content_aad = aad_head + encode_opaque(b"")
    # The leaf's application ratchet secret at generation 0; deriving it is per epoch, not per message.
    leaf_secret = encryption_secret
    node, target = tree_math.root(_N_LEAVES), 2 * _LEAF
    while node != target:
        child = tree_math.left(node) if target < node else tree_math.right(node)
        side = b"left" if child < node else b"right"
        leaf_secret = hmac.digest(leaf_secret, _kdf_label(b"tree", side, 32) + b"\x01", "sha256")
        node = child
    ratchet_secret = hmac.digest(leaf_secret, _kdf_label(b"application", b"", 32) + b"\x01", "sha256")

    def ratchet(secret: bytes, generation: int) -> tuple[bytes, bytes, bytes]:
        context_bytes = generation.to_bytes(4, "big")
        return (
            hmac.digest(secret, _kdf_label(b"key", context_bytes, 16) + b"\x01", "sha256")[:16],
            hmac.digest(secret, _kdf_label(b"nonce", context_bytes, 12) + b"\x01", "sha256")[:12],
            hmac.digest(secret, _kdf_label(b"secret", context_bytes, 32) + b"\x01", "sha256"),
        )

    def sender_data_key_nonce(ciphertext: bytes) -> tuple[bytes, bytes]:
        sample = ciphertext[:32]
        return (
            hmac.digest(sender_data_secret, _kdf_label(b"key", sample, 16) + b"\x01", "sha256")[:16],
            hmac.digest(sender_data_secret, _kdf_label(b"nonce", sample, 12) + b"\x01", "sha256")[:12],
        )

    def guarded(nonce: bytes) -> bytes:
        return (int.from_bytes(nonce[:4], "big") ^ int.from_bytes(_GUARD, "big")).to_bytes(4, "big") + nonce[4:]

    def floor() -> tuple[bytes, bytes]:
        signature = raw_private.sign(sign_input)
        plaintext = encode_opaque(_PAYLOAD) + encode_opaque(signature)
        key, nonce, _next = ratchet(ratchet_secret, 0)
        ciphertext = AESGCM(key).encrypt(guarded(nonce), plaintext, content_aad)
        sd_key, sd_nonce = sender_data_key_nonce(ciphertext)
        sender_data = _LEAF.to_bytes(4, "big") + (0).to_bytes(4, "big") + _GUARD
        encrypted_sender_data = AESGCM(sd_key).encrypt(sd_nonce, sender_data, aad_head)
        # the receiver
        sd_key, sd_nonce = sender_data_key_nonce(ciphertext)
        AESGCM(sd_key).decrypt(sd_nonce, encrypted_sender_data, aad_head)
        key, nonce, _next = ratchet(ratchet_secret, 0)
        opened = AESGCM(key).decrypt(guarded(nonce), ciphertext, content_aad)
        raw_public.verify(opened[-64:], sign_input)
        return ciphertext, encrypted_sender_data

    # Same work: our first message (generation 0) must equal the floor's bytes.
    signed = sign_content(suite, private_key, framed, WireFormat.PRIVATE_MESSAGE, context)
    fresh = SecretTree.create(suite, encryption_secret, _N_LEAVES)
    first, _ = protect_private(suite, signed, fresh, sender_data_secret, _GUARD)
    if (first.ciphertext, first.encrypted_sender_data) != floor():
        raise RuntimeError("PrivateMessage: ours and the floor disagree; the benchmark would compare unlike work")

    t = compare({"ours": ours, "floor": floor}, samples=samples, inner=50)
    return [Row("PrivateMessage protect+unprotect (100 B)", t["ours"], t["floor"])]
