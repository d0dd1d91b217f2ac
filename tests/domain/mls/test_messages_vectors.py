"""messages.json (test-vectors.md "Messages"): every entry's Welcome, GroupInfo, KeyPackage (the
three MLSMessage-wrapped), ratchet tree, GroupSecrets, seven proposal bodies, Commit, three
PublicMessages (application, proposal, commit) and PrivateMessage decode as their types, carry
the wire format and content type the field names, and re-encode to the same bytes."""

import pytest

from mlsgroup.infrastructure.conformance import VectorMismatch
from mlsgroup.infrastructure.conformance.messages import FIELDS, FILE, check
from tests.vectors import load_vectors, suite_ids

ENTRIES = load_vectors(FILE)


@pytest.mark.parametrize("entry", ENTRIES, ids=suite_ids(ENTRIES, prefix="messages"))
def test_entry(entry):
    check(entry)


def test_vector_covers_every_field():
    assert set(ENTRIES[0]) == set(FIELDS)


def test_mismatches_are_reported():
    entry = dict(ENTRIES[0])
    swapped = dict(entry, public_message_application=entry["public_message_commit"])
    with pytest.raises(VectorMismatch, match="content_type"):
        check(swapped)
    swapped = dict(entry, mls_welcome=entry["mls_group_info"])
    with pytest.raises(VectorMismatch, match="wire_format"):
        check(swapped)
    with pytest.raises(VectorMismatch, match="does not decode"):
        check(dict(entry, commit=entry["commit"] + "00"))
    with pytest.raises(VectorMismatch, match="lacks"):
        check({k: v for k, v in entry.items() if k != "ratchet_tree"})
