"""welcome.json (test-vectors.md "Welcome"): for each suite, a KeyPackage (an MLSMessage), its
init_priv, the signer's public key and a Welcome. The checker finds our entry by KeyPackageRef,
decrypts the GroupSecrets and the GroupInfo, verifies the GroupInfo signature under signer_pub
and the confirmation tag from the joiner secret's key schedule (no PSKs)."""

import pytest

from mlsgroup.infrastructure.conformance import VectorMismatch
from mlsgroup.infrastructure.conformance.welcome import FILE, check
from tests.vectors import load_vectors, suite_ids

ENTRIES = load_vectors(FILE)


@pytest.mark.parametrize("entry", ENTRIES, ids=suite_ids(ENTRIES))
def test_entry(entry):
    check(entry)


def test_mismatches_are_reported():
    entry = ENTRIES[0]
    with pytest.raises(VectorMismatch, match="InvalidGroupInfo"):
        flipped = bytes.fromhex(entry["signer_pub"])
        check(dict(entry, signer_pub=(flipped[:-1] + bytes([flipped[-1] ^ 1])).hex()))
    with pytest.raises(VectorMismatch, match="WelcomeNotForUs"):
        check(dict(entry, key_package=ENTRIES[2]["key_package"], cipher_suite=ENTRIES[0]["cipher_suite"]))
    with pytest.raises(VectorMismatch):
        check(dict(entry, init_priv="00" * 32))
