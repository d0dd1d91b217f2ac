"""Seed expansion: every random value comes from the caller's seed, one label per use."""

import pytest

from mlsgroup.domain.mls.cipher_suite import cipher_suite
from mlsgroup.domain.mls.group import InvalidSeed
from mlsgroup.domain.mls.group.seeds import MIN_SEED_LEN, check_seed, expand_seed

SUITE = cipher_suite(1)


def test_expansion_is_deterministic_and_separated():
    seed = bytes(range(32))
    assert expand_seed(SUITE, seed, b"a", 16) == expand_seed(SUITE, seed, b"a", 16)
    assert expand_seed(SUITE, seed, b"a", 16) != expand_seed(SUITE, seed, b"b", 16)
    assert expand_seed(SUITE, seed, b"a", 16, b"1") != expand_seed(SUITE, seed, b"a", 16, b"2")
    assert len(expand_seed(SUITE, seed, b"a", 100)) == 100


def test_short_seeds_are_refused():
    assert check_seed(bytearray(MIN_SEED_LEN)) == bytes(MIN_SEED_LEN)
    for bad in (b"", bytes(MIN_SEED_LEN - 1), "x" * 40, None):
        with pytest.raises(InvalidSeed):
            check_seed(bad)  # type: ignore[arg-type]
