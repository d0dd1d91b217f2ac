"""Credentials of RFC 9420 (section 5.3): basic identities and X.509 certificate chains.

``Credential`` is the RFC's ``select`` on ``credential_type``: a value is a ``BasicCredential`` or
an ``X509Credential`` and ``CREDENTIAL`` is its codec. An unknown credential type cannot be
skipped (its body has no length prefix), so it is a DecodeError.
"""

from __future__ import annotations

from typing import ClassVar, Union

from .codec import Enum, Select, Vector, opaque, uint16, wire, wire_struct
from .enums import CredentialType

__all__ = [
    "CredentialType",
    "BasicCredential",
    "X509Credential",
    "Credential",
    "CREDENTIAL",
]


@wire_struct
class BasicCredential:
    """A bare assertion of an application-defined identity."""

    TAG: ClassVar[int] = CredentialType.BASIC
    credential_type: ClassVar[int] = CredentialType.BASIC

    identity: bytes = wire(opaque)


@wire_struct
class X509Credential:
    """A chain of DER certificates, end-entity first (each one is a ``Certificate { cert_data<V> }``)."""

    TAG: ClassVar[int] = CredentialType.X509
    credential_type: ClassVar[int] = CredentialType.X509

    certificates: tuple[bytes, ...] = wire(Vector(opaque))


Credential = Union[BasicCredential, X509Credential]

CREDENTIAL = Select(
    Enum(uint16, name="credential type"),
    {CredentialType.BASIC: BasicCredential.CODEC, CredentialType.X509: X509Credential.CODEC},
    name="credential",
)
