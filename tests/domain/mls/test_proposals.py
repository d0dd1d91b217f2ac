"""Proposals (RFC 9420 section 12.1) and PreSharedKeyID (8.4): the select on proposal type,
each body's layout, strict enums, round trips and bad input."""

import pytest
from hypothesis import given, strategies as st

from mlsgroup.domain.mls.errors import DecodeError
from mlsgroup.domain.mls.proposals import (
    PROPOSAL,
    Add,
    ExternalInit,
    ExternalPsk,
    GroupContextExtensions,
    PreSharedKey,
    PreSharedKeyID,
    ProposalType,
    PSKType,
    ReInit,
    Remove,
    ResumptionPsk,
    ResumptionPSKUsage,
    Update,
)

from .wire_testing import assert_decodes_or_rejects, message_seeds, mutations, proposals, psk_ids

BODIES = {
    "add_proposal": Add,
    "update_proposal": Update,
    "remove_proposal": Remove,
    "pre_shared_key_proposal": PreSharedKey,
    "re_init_proposal": ReInit,
    "external_init_proposal": ExternalInit,
    "group_context_extensions_proposal": GroupContextExtensions,
}


def tagged_seeds() -> list[bytes]:
    return [
        cls.TAG.to_bytes(2, "big") + body
        for field, cls in BODIES.items()
        for body in message_seeds(field)[:6]
    ]


@pytest.mark.parametrize("field", BODIES)
def test_proposal_is_its_type_then_its_body(field):
    cls = BODIES[field]
    body = message_seeds(field)[0]
    value = cls.decode(body)
    assert value.proposal_type == cls.TAG
    assert PROPOSAL.encode(value) == cls.TAG.to_bytes(2, "big") + body
    assert PROPOSAL.decode(PROPOSAL.encode(value)) == value


def test_remove_layout():
    assert Remove(5).encode() == bytes.fromhex("00000005")
    assert PROPOSAL.encode(Remove(5)) == bytes.fromhex("000300000005")


def test_psk_id_layouts():
    external = PreSharedKeyID(ExternalPsk(b"id"), b"nonce")
    assert external.encode() == b"\x01\x02id\x05nonce"
    assert external.psktype == PSKType.EXTERNAL
    resumption = PreSharedKeyID(ResumptionPsk(ResumptionPSKUsage.REINIT, b"g", 7), b"")
    assert resumption.encode() == b"\x02\x02\x01g" + (7).to_bytes(8, "big") + b"\x00"
    assert PreSharedKeyID.decode(resumption.encode()) == resumption


@pytest.mark.parametrize(
    "bad",
    [
        b"\x00\x02id\x00",  # psktype reserved
        b"\x03\x02id\x00",  # psktype unknown
        b"\x02\x00\x01g" + bytes(8) + b"\x00",  # usage reserved
        b"\x02\x04\x01g" + bytes(8) + b"\x00",  # usage unknown
    ],
)
def test_psk_id_enums_are_strict(bad):
    with pytest.raises(DecodeError):
        PreSharedKeyID.decode(bad)


@pytest.mark.parametrize("proposal_type", [0, 8, 0x0A0A, 0xFFFF])
def test_unknown_proposal_types_are_decode_errors(proposal_type):
    with pytest.raises(DecodeError):
        PROPOSAL.decode(proposal_type.to_bytes(2, "big") + bytes(4))


def test_types_match_the_registry():
    assert [cls.TAG for cls in BODIES.values()] == list(ProposalType)


@given(proposals)
def test_round_trip(proposal):
    encoded = PROPOSAL.encode(proposal)
    decoded = PROPOSAL.decode(encoded)
    assert decoded == proposal and hash(decoded) == hash(proposal)
    assert encoded[2:] == proposal.encode()


@given(psk_ids)
def test_psk_id_round_trip(psk_id):
    assert PreSharedKeyID.decode(psk_id.encode()) == psk_id


@given(st.binary(max_size=256))
def test_random_bytes_only_raise_decode_error(data):
    assert_decodes_or_rejects(PROPOSAL.decode, PROPOSAL.encode, data)


@given(st.data())
def test_mutated_vectors_only_raise_decode_error(data):
    assert_decodes_or_rejects(PROPOSAL.decode, PROPOSAL.encode, data.draw(mutations(tagged_seeds())))
