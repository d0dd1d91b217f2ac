"""Encryption of a view's sensitive columns at rest: AES-256-GCM cells and HMAC blind indexes (ARCHITECTURE 3).

Keys come from the store's 32-byte encryption key through HKDF-SHA256 with a label of their own
(``mlsgroup.projections.cells.v1``), so a view never holds the store key and its ciphertexts are
unrelated to the event records. HKDF yields two keys: one AES-GCM key for cells, one HMAC key for
blind indexes.

A sensitive cell is stored as ``0x01 || nonce (12) || ciphertext || tag (16)``; the associated
data names the view, table and column and the row's stored primary key, so a cell cannot be moved
to another row or column unnoticed. ``None`` stays SQL NULL. A sensitive column that is part of the
key or declared ``lookup`` also gets a ``<name>__idx`` column holding HMAC-SHA256(view, table,
column, value) truncated to 16 bytes: deterministic, so primary keys and equality filters work,
and it reveals only which cells are equal. Without an encryption key every column is stored in
clear and no index columns exist.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from typing import Any, Callable, Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mlsgroup.projections import BOOL, INT, TEXT, ColumnType, Table

from .errors import ViewDecryptionError

__all__ = ["CellKeys", "TableCodec", "INDEX_SUFFIX", "derive_cell_keys"]

INDEX_SUFFIX = "__idx"
HKDF_LABEL = b"mlsgroup.projections.cells.v1"
_NONCE = 12
_FORMAT = b"\x01"
_INDEX_SIZE = 16
_I64 = struct.Struct(">q")


class CellKeys:
    """The two keys derived for protecting view cells; their repr never shows them."""

    __slots__ = ("aead", "index_key", "check")

    def __init__(self, aead_key: bytes, index_key: bytes) -> None:
        self.aead = AESGCM(aead_key)
        self.index_key = index_key
        # A stored fingerprint of the keys, so a view written under another key is rebuilt, not misread.
        self.check = hmac.new(index_key, b"mlsgroup.projections.key-check", hashlib.sha256).hexdigest()[:16]

    def __repr__(self) -> str:
        return "CellKeys(***)"


def derive_cell_keys(store_key: bytes) -> CellKeys:
    """The cell and index keys of every view of the store encrypted with ``store_key``."""
    okm = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=HKDF_LABEL).derive(store_key)
    return CellKeys(okm[:32], okm[32:])


def _length_prefixed(*parts: bytes) -> bytes:
    return b"".join(len(part).to_bytes(4, "big") + part for part in parts)


def _to_bytes(kind: ColumnType) -> Callable[[Any], bytes]:
    if kind is INT:
        return _I64.pack
    if kind is TEXT:
        return lambda value: value.encode("utf-8")
    if kind is BOOL:
        return lambda value: b"\x01" if value else b"\x00"
    return bytes


def _from_bytes(kind: ColumnType) -> Callable[[bytes], Any]:
    if kind is INT:
        return lambda data: _I64.unpack(data)[0]
    if kind is TEXT:
        return lambda data: data.decode("utf-8")
    if kind is BOOL:
        return lambda data: data == b"\x01"
    return bytes


def _key_part(value: Any) -> bytes:
    """A typed, unambiguous encoding of one stored key value, for associated data."""
    if isinstance(value, bool):
        return b"b" + (b"\x01" if value else b"\x00")
    if isinstance(value, int):
        return b"i" + _I64.pack(value)
    if isinstance(value, str):
        return b"s" + value.encode("utf-8")
    return b"y" + bytes(value)


class TableCodec:
    """Turns a table's rows into stored tuples (encrypting sensitive cells) and back.

    ``stored_columns`` lists the storage columns in order: every column, then one ``__idx``
    column per blind-indexed column. ``stored_key`` names the storage columns of the primary key.
    """

    def __init__(self, view_name: str, table: Table, keys: CellKeys | None) -> None:
        self.table = table
        self._aead = keys.aead if keys is not None else None
        columns = table.columns
        self.column_names = tuple(c.name for c in columns)
        protected = keys is not None
        self.encrypted = tuple(i for i, c in enumerate(columns) if protected and c.sensitive)
        indexed = [c for c in columns if protected and c.sensitive and (c.lookup or c.name in table.key)]
        self.indexed = tuple(self.column_names.index(c.name) for c in indexed)
        self.stored_columns = self.column_names + tuple(c.name + INDEX_SUFFIX for c in indexed)
        self.stored_types: tuple[ColumnType | None, ...] = tuple(
            None if i in self.encrypted else c.type for i, c in enumerate(columns)
        ) + tuple(None for _ in indexed)  # None: raw bytes (ciphertext or index)
        self._index_of = {c.name: c.name + INDEX_SUFFIX for c in indexed}
        self.stored_key = tuple(self._index_of.get(name, name) for name in table.key)
        self.stored_key_positions = tuple(self.stored_columns.index(name) for name in self.stored_key)
        self._bools = tuple(i for i, c in enumerate(columns) if c.type is BOOL and i not in self.encrypted)
        self._encode = {i: _to_bytes(columns[i].type) for i in (*self.encrypted, *self.indexed)}
        self._decode = {i: _from_bytes(columns[i].type) for i in self.encrypted}
        prefix = _length_prefixed(view_name.encode(), table.name.encode())
        self._aad_prefix = {i: b"mlsgroup.view.cell.v1" + prefix + _length_prefixed(columns[i].name.encode())
                            for i in self.encrypted}
        self._index_macs = (
            {i: hmac.new(keys.index_key, b"mlsgroup.view.index.v1" + prefix + _length_prefixed(columns[i].name.encode()),
                         hashlib.sha256) for i in self.indexed}
            if keys is not None else {}
        )
        self._key_sources = tuple(
            (True, self.column_names.index(name)) if name in self._index_of else (False, self.column_names.index(name))
            for name in table.key
        )

    @property
    def is_plain(self) -> bool:
        return not self.encrypted

    def blind_index(self, position: int, value: Any) -> bytes:
        mac = self._index_macs[position].copy()
        mac.update(self._encode[position](value))
        return mac.digest()[:_INDEX_SIZE]

    def storage_filter(self, name: str, value: Any) -> tuple[str, Any]:
        """The storage column and value an equality filter on column ``name`` compares."""
        index_column = self._index_of.get(name)
        if index_column is not None:
            return index_column, None if value is None else self.blind_index(self.column_names.index(name), value)
        return name, value

    def _aad(self, position: int, stored_key: Sequence[Any]) -> bytes:
        return self._aad_prefix[position] + b"".join(_key_part(v) for v in stored_key)

    def encode_key(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        """The stored form of a primary key (blind indexes in place of sensitive values)."""
        if not self._index_macs:
            return key
        return tuple(
            self.blind_index(position, value) if is_indexed else value
            for (is_indexed, position), value in zip(self._key_sources, key)
        )

    def encode_row(self, row: dict[str, Any]) -> tuple[Any, ...]:
        values = [row[name] for name in self.column_names]
        if not self.encrypted:
            return tuple(values)
        indexes = [self.blind_index(i, values[i]) if values[i] is not None else None for i in self.indexed]
        stored_key = [
            indexes[self.indexed.index(position)] if is_indexed else values[position]
            for is_indexed, position in self._key_sources
        ]
        aead = self._aead
        for i in self.encrypted:
            value = values[i]
            if value is not None:
                nonce = os.urandom(_NONCE)
                values[i] = _FORMAT + nonce + aead.encrypt(nonce, self._encode[i](value), self._aad(i, stored_key))
        return (*values, *indexes)

    def decode_row(self, stored: Sequence[Any]) -> dict[str, Any]:
        values = list(stored[: len(self.column_names)])
        for i in self._bools:
            if values[i] is not None:
                values[i] = bool(values[i])
        if self.encrypted:
            stored_key = [stored[p] for p in self.stored_key_positions]
            for i in self.encrypted:
                cell = values[i]
                if cell is None:
                    continue
                cell = bytes(cell)
                if len(cell) < 1 + _NONCE + 16 or cell[:1] != _FORMAT:
                    raise ViewDecryptionError(f"{self.table.name}.{self.column_names[i]}: malformed encrypted cell")
                try:
                    plain = self._aead.decrypt(cell[1 : 1 + _NONCE], cell[1 + _NONCE :], self._aad(i, stored_key))
                except InvalidTag:
                    raise ViewDecryptionError(
                        f"{self.table.name}.{self.column_names[i]}: cell failed authentication"
                    ) from None
                values[i] = self._decode[i](plain)
        return dict(zip(self.column_names, values))

