"""The expected installation diff from identity states, and the identity states it needs."""

import pytest

from mlsgroup.domain import errors
from mlsgroup.domain.extensions import GroupMembership
from mlsgroup.domain.installation_diff import (
    expected_installation_diff,
    identity_requirements,
    installations_at,
    removal_mismatch,
)

IDS = {
    ("a", 1): {b"a1"},
    ("a", 2): {b"a1", b"a2"},
    ("a", 3): {b"a2"},
    ("b", 4): {b"b1"},
    ("c", 1): {b"c1", b"c2"},
}


def test_added_updated_and_removed_inboxes():
    old = GroupMembership({"a": 1, "c": 1})
    new = GroupMembership({"a": 3, "b": 4})
    diff = expected_installation_diff(old, new, {}, IDS)
    assert diff.added_by_inbox == {"a": {b"a2"}, "b": {b"b1"}}
    assert diff.added == {b"a2", b"b1"}
    assert diff.removed == {b"a1", b"c1", b"c2"}
    assert identity_requirements(old, new) == {("a", 1), ("a", 3), ("b", 4), ("c", 1)}


def test_placeholder_sequence_ids_read_nothing():
    old = GroupMembership({"a": 0, "c": 0})
    new = GroupMembership({"a": 2})
    diff = expected_installation_diff(old, new, {b"c-leaf": "c", b"a-leaf": "a"}, IDS)
    assert diff.added_by_inbox == {"a": {b"a1", b"a2"}}
    assert diff.removed == {b"c-leaf"}  # a removed placeholder member loses the leaves it has
    assert identity_requirements(old, new, ["a"]) == {("a", 2)}
    assert installations_at(IDS, "zzz", 0) == frozenset()


def test_missing_identity_state_is_local_misuse():
    with pytest.raises(errors.MissingIdentityState):
        installations_at(IDS, "a", 9)


def test_removal_mismatch_prints_like_rust():
    assert removal_mismatch({b"\x01\x02", b"\x03"}, {b"\x03"}) == "[[1, 2]]"
