"""Pre-shared keys in the group state machine: PSK stores, lookups and the psk_secret (RFC 9420 8.4, 12.1.4).

External PSKs come from the caller's ``PskStore`` (any mapping of psk_id to secret); resumption
PSKs of this group come from the resumption secrets of recent epochs the state keeps. Resumption
PSKs with usage reinit or branch belong to ReInit and branching, which this library does not
support, so they are rejected.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Optional, Protocol

from ..cipher_suite import CipherSuite
from ..enums import PSKType, ResumptionPSKUsage
from ..psk import psk_secret as _psk_secret
from ..proposals import PreSharedKeyID
from .errors import DuplicateProposal, InvalidPsk, PskNotFound

__all__ = ["PskStore", "check_psk_id", "check_psk_ids", "resolve_psks", "psk_secret_for"]


class PskStore(Protocol):
    """Where external PSKs are looked up: psk_id -> secret (a dict will do)."""

    def get(self, psk_id: bytes, default: None = None) -> Optional[bytes]: ...


def check_psk_id(suite: CipherSuite, psk: PreSharedKeyID) -> None:
    """InvalidPsk unless the nonce has KDF.Nh bytes and a resumption PSK has usage application."""
    if len(psk.psk_nonce) != suite.hash_len:
        raise InvalidPsk(f"psk_nonce has {len(psk.psk_nonce)} bytes, the suite needs {suite.hash_len}")
    if psk.psk.TAG == PSKType.RESUMPTION and psk.psk.usage != ResumptionPSKUsage.APPLICATION:
        raise InvalidPsk(f"resumption PSK usage {psk.psk.usage} is only valid for ReInit or branching")


def check_psk_ids(suite: CipherSuite, psks: Iterable[PreSharedKeyID]) -> None:
    """check_psk_id for each, and DuplicateProposal if one PreSharedKeyID appears twice."""
    seen = set()
    for psk in psks:
        check_psk_id(suite, psk)
        key = psk.encode()
        if key in seen:
            raise DuplicateProposal("the same PreSharedKeyID appears twice")
        seen.add(key)


def resolve_psks(
    psks: Iterable[PreSharedKeyID],
    psk_store: Optional[Mapping[bytes, bytes]],
    group_id: bytes,
    resumption_psks: Mapping[int, bytes],
) -> list[tuple[bytes, bytes]]:
    """(encoded PreSharedKeyID, secret) for each PSK in order; PskNotFound for one we lack."""
    resolved = []
    for psk in psks:
        inner = psk.psk
        if inner.TAG == PSKType.EXTERNAL:
            value = None if psk_store is None else psk_store.get(inner.psk_id)
            if value is None:
                raise PskNotFound(f"no external PSK with id {inner.psk_id.hex()}")
        else:
            value = resumption_psks.get(inner.psk_epoch) if inner.psk_group_id == group_id else None
            if value is None:
                raise PskNotFound(
                    f"no resumption PSK for group {inner.psk_group_id.hex()} epoch {inner.psk_epoch}"
                )
        resolved.append((psk.encode(), bytes(value)))
    return resolved


def psk_secret_for(suite: CipherSuite, resolved: list[tuple[bytes, bytes]]) -> Optional[bytes]:
    """The psk_secret of resolved PSKs, or None (the all-zero default) when there are none."""
    if not resolved:
        return None
    return _psk_secret(suite, resolved)
