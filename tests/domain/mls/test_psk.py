"""PSK secret (RFC 9420 8.4) against psk_secret.json, plus the PreSharedKeyID / PSKLabel encodings.

psk_secret.json: each entry has a cipher suite, a list of external PSKs (``psk_id``, ``psk``,
``psk_nonce``, all hex) and the resulting ``psk_secret``. The checker encodes each
PreSharedKeyID with the external PSK type, chains the PSKs in list order and compares the result.
"""

from __future__ import annotations

import pytest

from mlsgroup.domain.mls.cipher_suite import cipher_suite
from mlsgroup.domain.mls.errors import KeyScheduleError
from mlsgroup.domain.mls.psk import (
    PskType,
    ResumptionPskUsage,
    external_psk_id,
    psk_label,
    psk_secret,
    resumption_psk_id,
)
from mlsgroup.infrastructure.conformance import psk_secret as conformance
from tests.vectors import load_vectors, suite_ids

VECTORS = load_vectors(conformance.FILE)
SUITE = cipher_suite(1)


@pytest.mark.parametrize("entry", VECTORS, ids=suite_ids(VECTORS))
def test_vector(entry):
    conformance.check(entry)


def test_external_psk_id_encoding():
    assert external_psk_id(b"id", b"\x07" * 3) == bytes([PskType.EXTERNAL, 2]) + b"id" + b"\x03\x07\x07\x07"


def test_resumption_psk_id_encoding():
    encoded = resumption_psk_id(ResumptionPskUsage.BRANCH, b"g", 5, b"n")
    assert encoded == bytes([2, 3, 1]) + b"g" + (5).to_bytes(8, "big") + b"\x01n"
    with pytest.raises(ValueError):
        resumption_psk_id(9, b"g", 5, b"n")


def test_psk_label_appends_index_and_count():
    assert psk_label(b"\x01\x00\x00", 1, 3) == b"\x01\x00\x00\x00\x01\x00\x03"
    with pytest.raises(KeyScheduleError):
        psk_label(b"", 3, 3)


def test_no_psks_give_the_zero_vector():
    assert psk_secret(SUITE, []) == bytes(32)


def test_order_and_nonce_matter():
    a = (external_psk_id(b"a", b"1" * 32), b"k" * 32)
    b = (external_psk_id(b"b", b"2" * 32), b"k" * 32)
    b_other_nonce = (external_psk_id(b"b", b"3" * 32), b"k" * 32)
    assert psk_secret(SUITE, [a, b]) != psk_secret(SUITE, [b, a])
    assert psk_secret(SUITE, [a, b]) != psk_secret(SUITE, [a, b_other_nonce])
    # Index and count are part of each label, so a prefix of the list gives a different chain.
    assert psk_secret(SUITE, [a]) != psk_secret(SUITE, [a, b])
