"""MLS cipher suites (RFC 9420 5, 17.1): the crypto-basics vectors and unit tests of each helper.

Vectors: ``crypto-basics.json`` holds one entry per cipher suite 1-7 with six objects:
``ref_hash`` {label, value, out}, ``expand_with_label`` {secret, label, context, length, out},
``derive_secret`` {secret, label, out}, ``derive_tree_secret`` {secret, label, generation, length, out},
``sign_with_label`` {priv, pub, content, label, signature} and ``encrypt_with_label`` {priv, pub,
label, context, plaintext, kem_output, ciphertext} (binary fields hex, labels without "MLS 1.0 ").
The checker (mlsgroup.infrastructure.conformance.crypto_basics) verifies every output, that pub is
the public key of priv, that the vector's signature verifies and ours does too (and equals the
vector's for the deterministic EdDSA suites), that the vector's ciphertext decrypts, and that our
own EncryptWithLabel output decrypts.
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from hypothesis import given, settings
from hypothesis import strategies as st

from mlsgroup.domain.mls import hpke
from mlsgroup.domain.mls.cipher_suite import SUPPORTED_SUITES, cipher_suite
from mlsgroup.domain.mls.codec import encode_opaque
from mlsgroup.domain.mls.errors import AeadError, CryptoError, HpkeError, SignatureError, UnsupportedCipherSuite
from mlsgroup.domain.mls.secrets import Secret
from mlsgroup.infrastructure.conformance import crypto_basics
from tests.vectors import load_vectors, suite_ids

VECTORS = load_vectors(crypto_basics.FILE)

# suite -> (Nh, Nk, Nn, KEM, KDF, AEAD, signature scheme, hash) from RFC 9420 17.1
PARAMETERS = {
    1: (32, 16, 12, 0x0020, 0x0001, 0x0001, 0x0807, hashes.SHA256()),
    2: (32, 16, 12, 0x0010, 0x0001, 0x0001, 0x0403, hashes.SHA256()),
    3: (32, 32, 12, 0x0020, 0x0001, 0x0003, 0x0807, hashes.SHA256()),
    4: (64, 32, 12, 0x0021, 0x0003, 0x0002, 0x0808, hashes.SHA512()),
    5: (64, 32, 12, 0x0012, 0x0003, 0x0002, 0x0603, hashes.SHA512()),
    6: (64, 32, 12, 0x0021, 0x0003, 0x0003, 0x0808, hashes.SHA512()),
    7: (48, 32, 12, 0x0011, 0x0002, 0x0002, 0x0503, hashes.SHA384()),
}
ECDSA_SUITES = (2, 5, 7)


@pytest.mark.parametrize("entry", VECTORS, ids=suite_ids(VECTORS))
def test_crypto_basics_vector(entry):
    crypto_basics.check(entry)


def test_vectors_cover_all_suites():
    assert sorted(e["cipher_suite"] for e in VECTORS) == list(SUPPORTED_SUITES) == list(range(1, 8))


@pytest.mark.parametrize("suite_id", SUPPORTED_SUITES)
def test_parameters(suite_id):
    nh, nk, nn, kem, kdf, aead, scheme, _ = PARAMETERS[suite_id]
    suite = cipher_suite(suite_id)
    assert suite is cipher_suite(suite_id)
    assert (suite.id, suite.hash_len, suite.aead_key_len, suite.aead_nonce_len) == (suite_id, nh, nk, nn)
    assert (suite.hpke.kem.id, suite.hpke.kdf.id, suite.hpke.aead.id) == (kem, kdf, aead)
    assert suite.signature_scheme.id == scheme


@pytest.mark.parametrize("suite_id", (0, 8, 0x0A0A, 0xFFFF, -1))
def test_unknown_suite(suite_id):
    with pytest.raises(UnsupportedCipherSuite):
        cipher_suite(suite_id)


# -- hash and KDF ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suite_id", SUPPORTED_SUITES)
def test_hash_mac_extract_match_cryptography(suite_id):
    suite, algorithm = cipher_suite(suite_id), PARAMETERS[suite_id][7]
    digest = hashes.Hash(algorithm)
    digest.update(b"data")
    assert suite.hash(b"data") == digest.finalize()
    mac = HMAC(b"key", algorithm)
    mac.update(b"data")
    assert suite.mac(b"key", b"data") == mac.finalize()
    zero_salt = HMAC(bytes(suite.hash_len), algorithm)
    zero_salt.update(b"ikm")
    assert suite.extract(b"", b"ikm") == zero_salt.finalize()


@settings(max_examples=30, deadline=None)
@given(
    suite_id=st.sampled_from(SUPPORTED_SUITES),
    secret=st.binary(min_size=1, max_size=80),
    label=st.binary(max_size=70),
    context=st.binary(max_size=300),
    length=st.integers(min_value=1, max_value=400),
)
def test_expand_with_label_is_hkdf_expand_of_kdf_label(suite_id, secret, label, context, length):
    suite, algorithm = cipher_suite(suite_id), PARAMETERS[suite_id][7]
    kdf_label = length.to_bytes(2, "big") + encode_opaque(b"MLS 1.0 " + label) + encode_opaque(context)
    expected = HKDFExpand(algorithm, length, kdf_label).derive(secret)
    assert suite.expand_with_label(secret, label, context, length) == expected
    assert suite.expand(secret, kdf_label, length) == expected


@pytest.mark.parametrize("suite_id", SUPPORTED_SUITES)
def test_derive_secret_and_tree_secret_are_expand_with_label(suite_id):
    suite = cipher_suite(suite_id)
    secret = bytes(range(suite.hash_len))
    assert suite.derive_secret(secret, b"epoch") == suite.expand_with_label(secret, b"epoch", b"", suite.hash_len)
    assert suite.derive_secret(secret, "epoch") == suite.derive_secret(secret, b"epoch")
    for generation in (0, 1, 255, 2**32 - 1):
        for length in (suite.aead_nonce_len, suite.aead_key_len, suite.hash_len):
            expected = suite.expand_with_label(secret, b"key", generation.to_bytes(4, "big"), length)
            assert suite.derive_tree_secret(secret, b"key", generation, length) == expected
    assert suite.derive_secret(Secret(secret), b"epoch") == suite.derive_secret(secret, b"epoch")


# -- AEAD -----------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    suite_id=st.sampled_from(SUPPORTED_SUITES),
    key_seed=st.binary(min_size=1, max_size=8),
    aad=st.binary(max_size=40),
    plaintext=st.binary(max_size=200),
    flip=st.integers(min_value=0),
)
def test_aead_round_trip_and_tamper(suite_id, key_seed, aad, plaintext, flip):
    suite = cipher_suite(suite_id)
    key = hashlib.sha512(key_seed).digest()[: suite.aead_key_len]
    nonce = hashlib.sha256(key_seed).digest()[: suite.aead_nonce_len]
    ct = suite.aead_seal(key, nonce, aad, plaintext)
    assert len(ct) == len(plaintext) + 16
    assert suite.aead_open(key, nonce, aad, ct) == plaintext
    tampered = bytearray(ct)
    tampered[flip % len(ct)] ^= 1 << (flip % 8)
    with pytest.raises(AeadError):
        suite.aead_open(key, nonce, aad, bytes(tampered))
    with pytest.raises(AeadError):
        suite.aead_open(key, nonce, aad + b"x", ct)
    other_nonce = bytes((nonce[0] ^ 1,)) + nonce[1:]
    with pytest.raises(AeadError):
        suite.aead_open(key, other_nonce, aad, ct)
    with pytest.raises(AeadError):
        suite.aead_open(key, nonce, aad, ct[:15])


def test_aead_cache_stays_bounded_and_correct():
    suite = cipher_suite(1)
    nonce = bytes(12)
    sealed = [(i.to_bytes(16, "big"), suite.aead_seal(i.to_bytes(16, "big"), nonce, b"", b"m")) for i in range(3000)]
    assert len(suite._aeads) <= 1024
    for key, ct in sealed[::97]:
        assert suite.aead_open(key, nonce, b"", ct) == b"m"
    with pytest.raises(AeadError):
        suite.aead_open(sealed[1][0], nonce, b"", sealed[2][1])


# -- references -----------------------------------------------------------------------------------


@pytest.mark.parametrize("suite_id", SUPPORTED_SUITES)
def test_references(suite_id):
    suite = cipher_suite(suite_id)
    value = b"\x01" * 100
    for label, function in (
        (b"MLS 1.0 KeyPackage Reference", suite.make_key_package_ref),
        (b"MLS 1.0 Proposal Reference", suite.make_proposal_ref),
    ):
        expected = suite.hash(encode_opaque(label) + encode_opaque(value))
        assert function(value) == suite.ref_hash(label, value) == expected
    assert suite.make_key_package_ref(value) != suite.make_proposal_ref(value)


# -- signatures -----------------------------------------------------------------------------------


@pytest.mark.parametrize("suite_id", SUPPORTED_SUITES)
def test_sign_and_verify_with_label(suite_id):
    suite = cipher_suite(suite_id)
    private_key, public_key = suite.signature_key_pair(b"\x11" * 32)
    signature = suite.sign_with_label(private_key, b"LeafNodeTBS", b"content")
    suite.verify_with_label(public_key, b"LeafNodeTBS", b"content", signature)
    suite.verify_with_label(public_key, "LeafNodeTBS", b"content", signature)
    _, other_public = suite.signature_key_pair(b"\x12" * 32)
    bad_cases = [
        (public_key, b"LeafNodeTBS", b"content!", signature),
        (public_key, b"KeyPackageTBS", b"content", signature),
        (other_public, b"LeafNodeTBS", b"content", signature),
        (public_key, b"LeafNodeTBS", b"content", signature[:-1] + bytes((signature[-1] ^ 1,))),
        (public_key, b"LeafNodeTBS", b"content", b""),
        (public_key[:-1], b"LeafNodeTBS", b"content", signature),
        (b"", b"LeafNodeTBS", b"content", signature),
    ]
    for args in bad_cases:
        with pytest.raises(SignatureError):
            suite.verify_with_label(*args)


@pytest.mark.parametrize("suite_id", SUPPORTED_SUITES)
def test_signatures_are_deterministic(suite_id):
    suite = cipher_suite(suite_id)
    private_key, _ = suite.signature_key_pair(b"\x13" * 32)
    first = suite.sign_with_label(private_key, b"label", b"content")
    assert suite.sign_with_label(private_key, b"label", b"content") == first
    assert suite.sign_with_label(private_key, b"label", b"other") != first
    if suite_id in ECDSA_SUITES:
        r, s = decode_dss_signature(first)  # DER, as MLS requires for ECDSA
        assert r > 0 and s > 0


@pytest.mark.parametrize("suite_id", ECDSA_SUITES)
def test_ecdsa_signature_matches_rfc6979_reference(suite_id):
    # Cross-check deterministic signing against cryptography's own loaded key, independently of our caches.
    suite = cipher_suite(suite_id)
    private_key, public_key = suite.signature_key_pair(b"\x14" * 32)
    curve = {2: ec.SECP256R1(), 5: ec.SECP521R1(), 7: ec.SECP384R1()}[suite_id]
    key = ec.derive_private_key(int.from_bytes(private_key, "big"), curve)
    sign_content = encode_opaque(b"MLS 1.0 label") + encode_opaque(b"content")
    expected = key.sign(sign_content, ec.ECDSA(PARAMETERS[suite_id][7], deterministic_signing=True))
    assert suite.sign_with_label(private_key, b"label", b"content") == expected


@pytest.mark.parametrize("suite_id", SUPPORTED_SUITES)
def test_signature_key_pair_from_seed(suite_id):
    suite = cipher_suite(suite_id)
    private_key, public_key = suite.signature_key_pair(b"\x15" * 32)
    assert suite.signature_key_pair(b"\x15" * 32) == (private_key, public_key)
    assert suite.signature_key_pair(b"\x16" * 32)[0] != private_key
    assert suite.signature_public_from_private(private_key) == public_key
    expected_len = {1: 32, 2: 32, 3: 32, 4: 57, 5: 66, 6: 57, 7: 48}[suite_id]
    assert len(private_key) == expected_len
    with pytest.raises(ValueError):
        suite.signature_key_pair(b"\x15" * 31)


@pytest.mark.parametrize("suite_id", SUPPORTED_SUITES)
def test_malformed_signature_private_key_is_refused(suite_id):
    suite = cipher_suite(suite_id)
    private_key, _ = suite.signature_key_pair(b"\x19" * 32)
    bad_keys = [b"", private_key + b"\x00"]
    if suite_id in ECDSA_SUITES:
        bad_keys.append(bytes(len(private_key)))  # the zero scalar
    for bad in bad_keys:
        with pytest.raises(CryptoError):
            suite.sign_with_label(bad, b"label", b"content")


# -- HPKE through the suite -----------------------------------------------------------------------


@pytest.mark.parametrize("suite_id", SUPPORTED_SUITES)
def test_encrypt_decrypt_with_label(suite_id):
    suite = cipher_suite(suite_id)
    private_key, public_key = suite.hpke_key_pair(b"\x17" * suite.hash_len)
    assert (private_key, public_key) == suite.hpke.kem.derive_key_pair(b"\x17" * suite.hash_len)
    assert suite.hpke_public_from_private(private_key) == public_key
    kem_output, ct = suite.encrypt_with_label(public_key, b"UpdatePathNode", b"ctx", b"path secret", b"\x18" * 32)
    assert suite.encrypt_with_label(public_key, b"UpdatePathNode", b"ctx", b"path secret", b"\x18" * 32) == (
        kem_output,
        ct,
    )
    assert suite.decrypt_with_label(private_key, b"UpdatePathNode", b"ctx", kem_output, ct) == b"path secret"
    # EncryptWithLabel is HPKE with info = EncryptContext and an empty aad (RFC 9420 5.1.3).
    info = encode_opaque(b"MLS 1.0 UpdatePathNode") + encode_opaque(b"ctx")
    assert suite.hpke.open_base(private_key, kem_output, info, b"", ct) == b"path secret"
    for label, context, output, ciphertext in (
        (b"Welcome", b"ctx", kem_output, ct),
        (b"UpdatePathNode", b"ctx2", kem_output, ct),
        (b"UpdatePathNode", b"ctx", kem_output, ct[:-1] + bytes((ct[-1] ^ 1,))),
        (b"UpdatePathNode", b"ctx", kem_output[:-1], ct),
    ):
        with pytest.raises(HpkeError):
            suite.decrypt_with_label(private_key, label, context, output, ciphertext)


def test_suites_share_hpke_objects():
    assert cipher_suite(1).hpke is hpke.hpke_suite(0x0020, 0x0001, 0x0001)
    assert cipher_suite(1).signature_scheme is cipher_suite(3).signature_scheme


def test_secret_never_prints():
    secret = Secret(b"\x99" * 32)
    assert repr(secret) == str(secret) == f"{secret}" == "***"
    assert "99" not in repr([secret])
    assert secret == b"\x99" * 32 and isinstance(secret, bytes)
