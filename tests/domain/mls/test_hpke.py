"""HPKE base mode (RFC 9180) against the RFC's test vectors, cryptography's own HPKE, and properties.

Vectors: ``HPKE/test-vectors.json`` of the ``cryptography_vectors`` package is the RFC 9180 appendix A
set: one JSON object per (mode, kem_id, kdf_id, aead_id) with hex fields ``info``, ``ikmR``, ``ikmE``,
``skRm``, ``skEm``, ``pkRm``, ``pkEm``, ``enc``, ``shared_secret``, ``key_schedule_context``, ``secret``,
``key``, ``base_nonce``, ``exporter_secret``, a list ``encryptions`` of ``{aad, pt, nonce, ct}`` made
with consecutive sequence numbers, and a list ``exports`` of ``{exporter_context, L, exported_value}``.
Every mode-0 vector of DHKEM P-256/P-384/P-521/X25519/X448 is checked: DeriveKeyPair(ikmR) and
DeriveKeyPair(ikmE), Encap with ikmE (enc and shared_secret), Decap, the key schedule context and
outputs, every encryption (sealed by the sender context and opened by the receiver context, in order,
nonce included) and every export. Vectors of other modes or KEMs are filtered out.

``HPKE/hpke-pq-test-vectors.json`` (same format, no ``skEm``/``pkEm``) also holds four base-mode
vectors of these KEMs, paired with the draft one-stage KDFs 0x0010-0x0013 (SHAKE/TurboSHAKE, not
RFC 9180). Their KEM half, which RFC 9180 fully defines, is checked (DeriveKeyPair, Encap, Decap);
it is the only P-384 data in the package. Their key schedule needs those draft KDFs, which this
implementation does not provide, and the test checks that they are refused.
"""

from __future__ import annotations

import json

import cryptography_vectors
import pytest
from cryptography.hazmat.primitives import hpke as their_hpke
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsgroup.domain.mls import hpke
from mlsgroup.domain.mls.errors import HpkeError

OUR_KEMS = (0x0010, 0x0011, 0x0012, 0x0020, 0x0021)
KDFS = (0x0001, 0x0002, 0x0003)
AEADS = (0x0001, 0x0002, 0x0003)


def _load(name: str) -> list[dict]:
    with cryptography_vectors.open_vector_file(f"HPKE/{name}", "r") as handle:
        return json.load(handle)


RFC_VECTORS = [v for v in _load("test-vectors.json") if v["mode"] == 0 and v["kem_id"] in OUR_KEMS]
PQ_FILE_VECTORS = [v for v in _load("hpke-pq-test-vectors.json") if v["mode"] == 0 and v["kem_id"] in OUR_KEMS]


def _vector_id(v: dict) -> str:
    return f"kem{v['kem_id']:04x}-kdf{v['kdf_id']:04x}-aead{v['aead_id']:04x}"


def h(value: str) -> bytes:
    return bytes.fromhex(value)


def test_vector_files_cover_every_kem():
    assert {v["kem_id"] for v in RFC_VECTORS} >= {0x0010, 0x0012, 0x0020, 0x0021}
    assert {v["kem_id"] for v in RFC_VECTORS + PQ_FILE_VECTORS} == set(OUR_KEMS)
    assert all(v["encryptions"] or v["aead_id"] == 0xFFFF for v in RFC_VECTORS)


@pytest.mark.parametrize("v", RFC_VECTORS, ids=_vector_id)
def test_rfc9180_vector(v):
    suite = hpke.hpke_suite(v["kem_id"], v["kdf_id"], v["aead_id"])
    kem = suite.kem
    assert kem.derive_key_pair(h(v["ikmR"])) == (h(v["skRm"]), h(v["pkRm"]))
    assert kem.derive_key_pair(h(v["ikmE"])) == (h(v["skEm"]), h(v["pkEm"]))
    assert kem.public_from_private(h(v["skRm"])) == h(v["pkRm"])
    assert kem.encap(h(v["pkRm"]), h(v["ikmE"])) == (h(v["shared_secret"]), h(v["enc"]))
    assert kem.decap(h(v["enc"]), h(v["skRm"])) == h(v["shared_secret"])

    info = h(v["info"])
    assert suite.key_schedule_context(info) == h(v["key_schedule_context"])
    enc, sender = suite.setup_base_s(h(v["pkRm"]), info, h(v["ikmE"]))
    receiver = suite.setup_base_r(h(v["enc"]), h(v["skRm"]), info)
    assert enc == h(v["enc"])
    for context in (sender, receiver):
        assert (context.key, context.base_nonce, context.exporter_secret) == (
            h(v["key"]),
            h(v["base_nonce"]),
            h(v["exporter_secret"]),
        )

    for number, e in enumerate(v["encryptions"]):
        assert sender.seq == number
        assert sender._nonce() == h(e["nonce"])
        assert sender.seal(h(e["aad"]), h(e["pt"])) == h(e["ct"])
        assert receiver.open(h(e["aad"]), h(e["ct"])) == h(e["pt"])
    if v["aead_id"] == 0xFFFF:
        with pytest.raises(HpkeError):
            sender.seal(b"", b"pt")

    for x in v["exports"]:
        for context in (sender, receiver):
            assert context.export(h(x["exporter_context"]), x["L"]) == h(x["exported_value"])


@pytest.mark.parametrize("v", [v for v in RFC_VECTORS if v["aead_id"] != 0xFFFF], ids=_vector_id)
def test_rfc9180_vector_single_shot(v):
    suite = hpke.hpke_suite(v["kem_id"], v["kdf_id"], v["aead_id"])
    first = v["encryptions"][0]
    enc, ct = suite.seal_base(h(v["pkRm"]), h(v["info"]), h(first["aad"]), h(first["pt"]), h(v["ikmE"]))
    assert (enc, ct) == (h(v["enc"]), h(first["ct"]))
    assert suite.open_base(h(v["skRm"]), enc, h(v["info"]), h(first["aad"]), ct) == h(first["pt"])


def _clamped(kem_id: int, sk: bytes) -> bytes:
    """The X25519/X448 scalar a private key denotes (RFC 7748 5), to compare serializations."""
    b = bytearray(sk)
    if kem_id == 0x0020:
        b[0] &= 248
        b[31] = (b[31] & 127) | 64
    elif kem_id == 0x0021:
        b[0] &= 252
        b[55] |= 128
    return bytes(b)


@pytest.mark.parametrize("v", PQ_FILE_VECTORS, ids=_vector_id)
def test_pq_file_vector_kem(v):
    kem = hpke.kem(v["kem_id"])
    sk, pk = kem.derive_key_pair(h(v["ikmR"]))
    # Some of these vectors serialize X448 keys clamped (RFC 9180 7.1.2) and others unclamped;
    # both denote the same key, so compare the scalars and the public keys.
    assert _clamped(v["kem_id"], sk) == _clamped(v["kem_id"], h(v["skRm"]))
    assert pk == h(v["pkRm"])
    assert kem.public_from_private(h(v["skRm"])) == pk
    assert kem.encap(h(v["pkRm"]), h(v["ikmE"])) == (h(v["shared_secret"]), h(v["enc"]))
    assert kem.decap(h(v["enc"]), h(v["skRm"])) == h(v["shared_secret"])
    assert kem.decap(h(v["enc"]), sk) == h(v["shared_secret"])
    with pytest.raises(HpkeError):
        hpke.hpke_suite(v["kem_id"], v["kdf_id"], v["aead_id"])


# -- cross-check with cryptography.hazmat.primitives.hpke ----------------------------------------

_THEIR_KEM = {0x0010: "P256", 0x0011: "P384", 0x0012: "P521", 0x0020: "X25519"}
_THEIR_KDF = {0x0001: "HKDF_SHA256", 0x0002: "HKDF_SHA384", 0x0003: "HKDF_SHA512"}
_THEIR_AEAD = {0x0001: "AES_128_GCM", 0x0002: "AES_256_GCM", 0x0003: "CHACHA20_POLY1305"}
_CROSS = [(k, f, a) for k in _THEIR_KEM for f in KDFS for a in AEADS]


def _their_keys(kem_id: int, sk: bytes, pk: bytes):
    if kem_id == 0x0020:
        return x25519.X25519PrivateKey.from_private_bytes(sk), x25519.X25519PublicKey.from_public_bytes(pk)
    curve = {0x0010: ec.SECP256R1(), 0x0011: ec.SECP384R1(), 0x0012: ec.SECP521R1()}[kem_id]
    return ec.derive_private_key(int.from_bytes(sk, "big"), curve), ec.EllipticCurvePublicKey.from_encoded_point(
        curve, pk
    )


@pytest.mark.parametrize("ids", _CROSS, ids=lambda t: "kem{:04x}-kdf{:04x}-aead{:04x}".format(*t))
def test_interoperates_with_cryptography_hpke(ids):
    kem_id, kdf_id, aead_id = ids
    ours = hpke.hpke_suite(kem_id, kdf_id, aead_id)
    theirs = their_hpke.Suite(
        getattr(their_hpke.KEM, _THEIR_KEM[kem_id]),
        getattr(their_hpke.KDF, _THEIR_KDF[kdf_id]),
        getattr(their_hpke.AEAD, _THEIR_AEAD[aead_id]),
    )
    sk, pk = ours.kem.derive_key_pair(bytes(range(ours.kem.private_key_len)))
    their_sk, their_pk = _their_keys(kem_id, sk, pk)
    info = b"cross-check info"

    enc, ct = ours.seal_base(pk, info, b"", b"ours to theirs", b"\x07" * 32)
    assert theirs.decrypt(enc + ct, their_sk, info=info) == b"ours to theirs"

    message = theirs.encrypt(b"theirs to ours", their_pk, info=info)
    n_enc = ours.kem.enc_len
    assert ours.open_base(sk, message[:n_enc], info, b"", message[n_enc:]) == b"theirs to ours"


# -- properties and failure cases ----------------------------------------------------------------

_ALL = [(k, f, a) for k in OUR_KEMS for f in KDFS for a in AEADS]


@settings(max_examples=40, deadline=None)
@given(
    ids=st.sampled_from(_ALL),
    ikm_r=st.binary(min_size=32, max_size=66),
    seed=st.binary(min_size=32, max_size=64),
    info=st.binary(max_size=64),
    aad=st.binary(max_size=64),
    plaintext=st.binary(max_size=256),
    flip=st.integers(min_value=0),
)
def test_seal_open_round_trip_and_tamper(ids, ikm_r, seed, info, aad, plaintext, flip):
    suite = hpke.hpke_suite(*ids)
    sk, pk = suite.kem.derive_key_pair(ikm_r)
    enc, ct = suite.seal_base(pk, info, aad, plaintext, seed)
    assert len(enc) == suite.kem.enc_len
    assert len(ct) == len(plaintext) + suite.aead.tag_len
    assert suite.seal_base(pk, info, aad, plaintext, seed) == (enc, ct)
    assert suite.open_base(sk, enc, info, aad, ct) == plaintext

    tampered = bytearray(ct)
    tampered[flip % len(ct)] ^= 1 << (flip % 8)
    with pytest.raises(HpkeError):
        suite.open_base(sk, enc, info, aad, bytes(tampered))
    with pytest.raises(HpkeError):
        suite.open_base(sk, enc, info + b"x", aad, ct)
    with pytest.raises(HpkeError):
        suite.open_base(sk, enc, info, aad + b"x", ct)


@pytest.mark.parametrize("kem_id", OUR_KEMS)
def test_wrong_recipient_or_enc_fails(kem_id):
    suite = hpke.hpke_suite(kem_id, 0x0001, 0x0001)
    sk, pk = suite.kem.derive_key_pair(b"\x01" * 66)
    other_sk, _ = suite.kem.derive_key_pair(b"\x02" * 66)
    enc, ct = suite.seal_base(pk, b"", b"", b"secret", b"\x03" * 32)
    with pytest.raises(HpkeError):
        suite.open_base(other_sk, enc, b"", b"", ct)
    other_enc, _ = suite.seal_base(pk, b"", b"", b"secret", b"\x04" * 32)
    assert other_enc != enc
    with pytest.raises(HpkeError):
        suite.open_base(sk, other_enc, b"", b"", ct)


@pytest.mark.parametrize("kem_id", (0x0010, 0x0011, 0x0012))
def test_nist_public_keys_must_be_valid_uncompressed_points(kem_id):
    kem = hpke.kem(kem_id)
    sk, pk = kem.derive_key_pair(b"\x05" * 66)
    _, their_pk = _their_keys(kem_id, sk, pk)
    compressed = their_pk.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    off_curve = pk[:-1] + bytes((pk[-1] ^ 1,))
    for bad in (compressed, off_curve, pk[:-1], b"\x00" + pk[1:], b""):
        with pytest.raises(HpkeError):
            kem.encap(bad, b"\x06" * 32)
        with pytest.raises(HpkeError):
            kem.decap(bad, sk)
        with pytest.raises(HpkeError):
            kem.check_public_key(bad)
    kem.check_public_key(pk)


@pytest.mark.parametrize("kem_id", (0x0010, 0x0011, 0x0012, 0x0020, 0x0021))
def test_private_keys_are_validated(kem_id):
    kem = hpke.kem(kem_id)
    sk, _ = kem.derive_key_pair(b"\x08" * 66)
    bad_keys = [sk[:-1], sk + b"\x00"]
    if kem_id in (0x0010, 0x0011, 0x0012):
        order = hpke.CURVE_ORDERS[{0x0010: "secp256r1", 0x0011: "secp384r1", 0x0012: "secp521r1"}[kem_id]]
        bad_keys += [bytes(len(sk)), order.to_bytes(len(sk), "big")]
    for bad in bad_keys:
        with pytest.raises(HpkeError):
            kem.public_from_private(bad)


@pytest.mark.parametrize("kem_id", (0x0020, 0x0021))
def test_small_order_public_key_is_rejected(kem_id):
    kem = hpke.kem(kem_id)
    # The zero u-coordinate is a small-order point: every DH with it gives the all-zero output.
    zero_point = bytes(kem.public_key_len)
    with pytest.raises(HpkeError):
        kem.encap(zero_point, b"\x09" * 32)
    sk, _ = kem.derive_key_pair(b"\x0a" * 56)
    with pytest.raises(HpkeError):
        kem.decap(zero_point, sk)


def test_derive_key_pair_rejection_sampling_uses_the_next_candidate():
    base = hpke.kem(0x0010)
    # With the order halved, about half of the candidates are rejected, exercising the loop.
    narrow = hpke._NistKem(0x0010, 32, 32, base.kdf, ec.SECP256R1(), 1 << 255, 0xFF)
    rejected_some = False
    for i in range(16):
        ikm = bytes((i,)) * 32
        sk, pk = narrow.derive_key_pair(ikm)
        dkp_prk = base.kdf.labeled_extract(base.suite_id, b"", b"dkp_prk", ikm)
        counter = 0
        while True:
            candidate = base.kdf.labeled_expand(base.suite_id, dkp_prk, b"candidate", bytes((counter,)), 32)
            if 0 < int.from_bytes(candidate, "big") < 1 << 255:
                break
            counter += 1
        rejected_some |= counter > 0
        assert sk == candidate
        assert pk == base.public_from_private(sk)
    assert rejected_some
    hopeless = hpke._NistKem(0x0010, 32, 32, base.kdf, ec.SECP256R1(), 1, 0xFF)
    with pytest.raises(HpkeError):
        hopeless.derive_key_pair(b"\x00" * 32)


def test_p521_candidates_are_masked_to_521_bits():
    kem = hpke.kem(0x0012)
    for i in range(8):
        sk, _ = kem.derive_key_pair(bytes((i,)) * 66)
        assert len(sk) == 66 and sk[0] <= 0x01


def test_context_sequence_numbers_and_limit():
    suite = hpke.hpke_suite(0x0020, 0x0001, 0x0001)
    sk, pk = suite.kem.derive_key_pair(b"\x0b" * 32)
    enc, sender = suite.setup_base_s(pk, b"info", b"\x0c" * 32)
    receiver = suite.setup_base_r(enc, sk, b"info")
    first, second = sender.seal(b"", b"one"), sender.seal(b"", b"two")
    with pytest.raises(HpkeError):
        receiver.open(b"", second)  # out of order: the receiver expects sequence number 0
    assert receiver.seq == 0
    assert receiver.open(b"", first) == b"one"
    assert receiver.open(b"", second) == b"two"
    assert sender.export(b"ctx", 17) == receiver.export(b"ctx", 17)
    sender.seq = (1 << 96) - 1
    with pytest.raises(HpkeError):
        sender.seal(b"", b"too many")
    assert "***" in repr(sender) and sender.key.hex() not in repr(sender)


def test_export_only_suite_refuses_single_shot():
    suite = hpke.hpke_suite(0x0020, 0x0001, 0xFFFF)
    sk, pk = suite.kem.derive_key_pair(b"\x0d" * 32)
    with pytest.raises(HpkeError):
        suite.seal_base(pk, b"", b"", b"pt", b"\x0e" * 32)
    with pytest.raises(HpkeError):
        suite.open_base(sk, bytes(32), b"", b"", b"ct")
    enc, sender = suite.setup_base_s(pk, b"", b"\x0e" * 32)
    assert sender.export(b"", 32) == suite.setup_base_r(enc, sk, b"").export(b"", 32)


def test_unsupported_ids_are_refused():
    for ids in ((0x0030, 1, 1), (0x0020, 0x0004, 1), (0x0020, 1, 0x0004)):
        with pytest.raises(HpkeError):
            hpke.hpke_suite(*ids)
    assert hpke.hpke_suite(0x0020, 1, 1) is hpke.hpke_suite(0x0020, 1, 1)


def test_hkdf_expand_length_limit():
    assert len(hpke.hkdf_expand("sha256", 32, b"k" * 32, b"", 255 * 32)) == 255 * 32
    with pytest.raises(HpkeError):
        hpke.hkdf_expand("sha256", 32, b"k" * 32, b"", 255 * 32 + 1)
