"""A bytes type for secret values that never prints its contents (RFC 9420 section 8, key schedule secrets)."""

from __future__ import annotations

__all__ = ["Secret"]


class Secret(bytes):
    """Secret key material: behaves as ``bytes`` but its repr and str are ``***``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "***"
