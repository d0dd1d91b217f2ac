"""The store key an audit reads with: from a key file (32 raw bytes or 64 hex characters) or the
``MLSGROUP_KEY`` environment variable (64 hex characters)."""

from __future__ import annotations

import os
import string
from pathlib import Path
from typing import Mapping, Optional

from .errors import KeyFormatError

__all__ = ["KEY_VARIABLE", "load_key", "parse_key"]

KEY_VARIABLE = "MLSGROUP_KEY"
_KEY_SIZE = 32
_HEX = frozenset(string.hexdigits)


def parse_key(data: bytes, source: str) -> bytes:
    """A 32-byte key from its raw or hex form (KeyFormatError naming ``source`` otherwise)."""
    if len(data) == _KEY_SIZE:
        return bytes(data)
    text = data.strip()
    if len(text) == 2 * _KEY_SIZE and all(chr(c) in _HEX for c in text):
        return bytes.fromhex(text.decode("ascii"))
    raise KeyFormatError(f"{source} must hold a 32-byte key: 32 raw bytes or 64 hex characters (got {len(data)} bytes)")


def load_key(key_file: Optional[str], environ: Mapping[str, str] = os.environ) -> Optional[bytes]:
    """The key of ``key_file`` if given, else of $MLSGROUP_KEY, else None (an unencrypted store)."""
    if key_file is not None:
        try:
            data = Path(key_file).read_bytes()
        except OSError as exc:
            raise KeyFormatError(f"cannot read the key file {key_file}: {exc.strerror or exc}") from None
        return parse_key(data, f"the key file {key_file}")
    value = environ.get(KEY_VARIABLE)
    if value:
        return parse_key(value.encode("utf-8", "replace"), f"${KEY_VARIABLE}")
    return None
