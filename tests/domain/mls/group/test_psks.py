"""PSK lookups and checks in the group (RFC 9420 8.4, 12.1.4)."""

import pytest

from mlsgroup.domain.mls.cipher_suite import cipher_suite
from mlsgroup.domain.mls.group import DuplicateProposal, InvalidPsk, PskNotFound
from mlsgroup.domain.mls.group.psks import check_psk_id, check_psk_ids, psk_secret_for, resolve_psks
from mlsgroup.domain.mls.proposals import ExternalPsk, PreSharedKeyID, ResumptionPsk
from mlsgroup.domain.mls.psk import psk_secret

SUITE = cipher_suite(1)
EXTERNAL = PreSharedKeyID(ExternalPsk(b"id"), bytes(32))
RESUMPTION = PreSharedKeyID(ResumptionPsk(1, b"group", 4), b"\x01" * 32)


def test_checks():
    check_psk_ids(SUITE, [EXTERNAL, RESUMPTION])
    with pytest.raises(InvalidPsk):
        check_psk_id(SUITE, PreSharedKeyID(ExternalPsk(b"id"), bytes(16)))
    for usage in (2, 3):
        with pytest.raises(InvalidPsk):
            check_psk_id(SUITE, PreSharedKeyID(ResumptionPsk(usage, b"group", 4), bytes(32)))
    with pytest.raises(DuplicateProposal):
        check_psk_ids(SUITE, [EXTERNAL, EXTERNAL])


def test_resolution():
    resolved = resolve_psks([EXTERNAL, RESUMPTION], {b"id": b"e" * 32}, b"group", {4: b"r" * 32})
    assert resolved == [(EXTERNAL.encode(), b"e" * 32), (RESUMPTION.encode(), b"r" * 32)]
    assert psk_secret_for(SUITE, resolved) == psk_secret(SUITE, resolved)
    assert psk_secret_for(SUITE, []) is None
    with pytest.raises(PskNotFound):
        resolve_psks([EXTERNAL], None, b"group", {})
    with pytest.raises(PskNotFound):
        resolve_psks([RESUMPTION], {}, b"other group", {4: b"r" * 32})
    with pytest.raises(PskNotFound):
        resolve_psks([RESUMPTION], {}, b"group", {3: b"r" * 32})
