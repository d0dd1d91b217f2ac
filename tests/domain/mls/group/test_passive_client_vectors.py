"""passive-client-welcome.json (56), passive-client-handling-commit.json (91) and
passive-client-random.json (1 x 200 epochs), test-vectors.md "Passive Client Scenarios".

Each entry gives a KeyPackage with its signature, encryption and init private keys, external
PSKs, a Welcome (with the tree in its GroupInfo or given apart) and the initial epoch
authenticator, then epochs of proposals and a commit (PublicMessages) with the epoch
authenticator after each. The checker joins, processes and merges every epoch, and compares every
epoch authenticator; every entry of every suite runs.
"""

import pytest

from mlsgroup.infrastructure.conformance import VectorMismatch
from mlsgroup.infrastructure.conformance import passive_client_handling_commit as handling_commit
from mlsgroup.infrastructure.conformance import passive_client_random as random_scenario
from mlsgroup.infrastructure.conformance import passive_client_welcome as welcome
from tests.vectors import load_vectors, suite_ids

WELCOME = load_vectors(welcome.FILE)
HANDLING_COMMIT = load_vectors(handling_commit.FILE)
RANDOM = load_vectors(random_scenario.FILE)


@pytest.mark.parametrize("entry", WELCOME, ids=suite_ids(WELCOME, prefix="welcome-cs"))
def test_welcome(entry):
    welcome.check(entry)


@pytest.mark.parametrize("entry", HANDLING_COMMIT, ids=suite_ids(HANDLING_COMMIT, prefix="commit-cs"))
def test_handling_commit(entry):
    handling_commit.check(entry)


@pytest.mark.parametrize("entry", RANDOM, ids=suite_ids(RANDOM, prefix="random-cs"))
def test_random(entry):
    random_scenario.check(entry)


def test_wrong_authenticator_is_reported():
    entry = dict(HANDLING_COMMIT[0], initial_epoch_authenticator="00" * 32)
    with pytest.raises(VectorMismatch, match="initial_epoch_authenticator"):
        handling_commit.check(entry)
    epochs = [dict(HANDLING_COMMIT[0]["epochs"][0], epoch_authenticator="00" * 32)]
    with pytest.raises(VectorMismatch, match="epoch 0"):
        handling_commit.check(dict(HANDLING_COMMIT[0], epochs=epochs))


def test_wrong_key_is_reported():
    entry = dict(WELCOME[0], init_priv=WELCOME[1]["init_priv"])
    with pytest.raises(VectorMismatch):
        welcome.check(entry)
