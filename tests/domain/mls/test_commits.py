"""Commits (RFC 9420 section 12.4): ProposalOrRef, the optional path, round trips, bad input."""

import pytest
from hypothesis import given, strategies as st

from mlsgroup.domain.mls.commits import PROPOSAL_OR_REF, Commit, ProposalRef
from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.mls.proposals import Remove

from .wire_testing import assert_decodes_or_rejects, commits, encode_method, message_seeds, mutations


def test_commit_layout_by_value_and_by_reference():
    commit = Commit((Remove(1), ProposalRef(b"\xaa" * 2)), None)
    body = b"\x01\x00\x03\x00\x00\x00\x01" + b"\x02\x02\xaa\xaa"
    assert commit.encode() == bytes([len(body)]) + body + b"\x00"
    assert Commit.decode(commit.encode()) == commit


@pytest.mark.parametrize("bad", [b"\x02\x00\x00\x00", b"\x02\x03\x00\x00", b"\x00\x02", b"\x00\x01\x00"])
def test_bad_proposal_or_ref_type_and_path_presence(bad):
    # proposal-or-ref types 0 and 3 are unknown; path presence octet must be 0 or 1; no truncation.
    with pytest.raises(DecodeError):
        Commit.decode(bad)


def test_reference_and_proposal_cases_are_distinct():
    assert PROPOSAL_OR_REF.encode(ProposalRef(b"")) == b"\x02\x00"
    assert PROPOSAL_OR_REF.decode(b"\x02\x00") == ProposalRef(b"")
    assert PROPOSAL_OR_REF.encode(Remove(0)) == b"\x01\x00\x03" + bytes(4)


def test_messages_json_commits_have_paths():
    for data in message_seeds("commit"):
        commit = Commit.decode(data)
        assert commit.path is not None and commit.proposals


@given(commits)
def test_round_trip(commit):
    decoded = Commit.decode(commit.encode())
    assert decoded == commit and hash(decoded) == hash(commit)


@given(st.binary(max_size=256))
def test_random_bytes_only_raise_decode_error(data):
    assert_decodes_or_rejects(Commit.decode, encode_method, data)


@given(st.data())
def test_mutated_vectors_only_raise_decode_error(data):
    assert_decodes_or_rejects(Commit.decode, encode_method, data.draw(mutations(message_seeds("commit"))))
