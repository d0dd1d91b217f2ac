"""Encryption of a view's sensitive columns at rest: one AES-256-GCM box per row, HMAC blind indexes (ARCHITECTURE 3).

Keys come from the store's 32-byte encryption key through HKDF-SHA256 with a label of their own
(``mlsgroup.projections.cells.v1``), so a view never holds the store key and its ciphertexts are
unrelated to the event records. HKDF yields two keys: one AES-GCM key, one HMAC key for blind
indexes.

With a key, the sensitive columns of a row are not stored as columns: their values (type-tagged,
length-prefixed, None included) are sealed together in the ``__sealed`` column as
``0x01 || nonce (12) || ciphertext || tag (16)``. The associated data names the view and table and
carries the row's stored primary key, so a box cannot be moved to another row unnoticed. A
sensitive column that is part of the key or declared ``lookup`` also gets a ``<name>__idx``
column holding HMAC-SHA256(view, table, column, value) truncated to 16 bytes: deterministic, so
primary keys and equality filters work, revealing only which values are equal. Without an
encryption key every column is stored in clear under its own name.
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

from mlsgroup.projections import BOOL, INT, TEXT, Column, ColumnType, Table

from .errors import ViewDecryptionError

__all__ = ["CellKeys", "TableCodec", "INDEX_SUFFIX", "SEALED_COLUMN", "derive_cell_keys"]

INDEX_SUFFIX = "__idx"
SEALED_COLUMN = "__sealed"
HKDF_LABEL = b"mlsgroup.projections.cells.v1"
_NONCE = 12
_FORMAT = b"\x01"
_INDEX_SIZE = 16
_I64 = struct.Struct(">q")
_U32 = struct.Struct(">I")
_CELL_HEAD = struct.Struct(">BI")  # present (1), then the value's length


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
    return _same


def _same(value: bytes) -> bytes:
    return value


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
    kind = type(value)
    if kind is bytes:
        return b"y" + len(value).to_bytes(4, "big") + value
    if kind is bool:
        return b"b" + (b"\x01" if value else b"\x00")
    if kind is int:
        return b"i" + _I64.pack(value)
    data = str(value).encode("utf-8")
    return b"s" + len(data).to_bytes(4, "big") + data


def _sealed_lines(columns: Sequence[tuple[str, Column]]) -> tuple[list[str], list[str]]:
    """Lines computing each sealed cell's plaintext from its variable (``0x00`` for None, else
    ``0x01 || length (4) || value bytes``) as a head and a data part, and the names of the parts."""
    lines, parts = [], []
    for number, (value, column) in enumerate(columns):
        head, data = f"h{number}", f"d{number}"
        if column.type is INT:
            lines += [f"if {value} is None:", f"    {head} = b'\\x00'", f"    {data} = b''", "else:",
                      f"    {head} = b'\\x01\\x00\\x00\\x00\\x08'", f"    {data} = pack_int({value})"]
        else:
            if column.type is TEXT:
                cell = f"{value}.encode('utf-8')"
            elif column.type is BOOL:
                cell = f"(b'\\x01' if {value} else b'\\x00')"
            else:
                cell = value
            lines += [f"if {value} is None:", f"    {head} = b'\\x00'", f"    {data} = b''", "else:",
                      f"    {data} = {cell}", f"    {head} = cell_head(1, len({data}))"]
        parts += [head, data]
    return lines, parts


def _key_part_expression(value: str, column: Column | None) -> str:
    """``_key_part(value)`` with the common case of a bytes value (a BYTES or blind-indexed key
    column: ``column`` None) written out; other types go through the function."""
    if column is None or column.type is ColumnType.BYTES:
        return f"(b''.join((b'y', pack_u32(len({value})), {value})) if type({value}) is bytes else key_part({value}))"
    return f"key_part({value})"


def _row_encoder(codec: TableCodec, blob: type | None, with_rowid: bool) -> Callable[..., list[tuple[Any, ...]]]:
    """``encode(rows, rowids, nonces) -> stored tuples`` written out for ``codec``'s table (a rebuild
    encodes one row per event: straight-line code costs a fraction of loops over the columns).

    ``blob`` wraps every bytes cell (SQLite binds a ``bytearray`` several times faster than
    ``bytes``, which it first offers to its adapters); with ``with_rowid`` each tuple starts with
    the row's entry of ``rowids``.
    """
    table = codec.table
    by_name = table.by_name
    namespace: dict[str, Any] = {
        "B": blob, "JOIN": b"".join if blob is None else blob().join, "cell_head": _CELL_HEAD.pack,
        "pack_int": _I64.pack, "pack_u32": _U32.pack, "key_part": _key_part, "FORMAT": _FORMAT,
        "PREFIX": codec._aad_prefix, "encrypt": codec._aead.encrypt if codec._aead else None,
    }
    variables = {name: f"v{number}" for number, name in enumerate(codec.column_names)}
    body = [f"{variables[name]} = row[{name!r}]" for name in codec.column_names]

    def stored(value: str, nullable: bool) -> str:
        if blob is None:
            return value
        return f"B({value})" if not nullable else f"(None if {value} is None else B({value}))"

    cells = []
    for name in codec._clear_names:
        column = by_name[name]
        value = variables[name]
        cells.append(stored(value, column.nullable) if column.type is ColumnType.BYTES else value)
    blinds = {}
    for number, name in enumerate(codec._indexed_names):
        mac, to_bytes = codec._index_macs[name]
        namespace[f"mac{number}"], namespace[f"raw{number}"] = mac, to_bytes
        value, blind = variables[name], f"i{number}"
        body += [f"if {value} is None:", f"    {blind} = None", "else:", f"    m = mac{number}.copy()",
                 f"    m.update(raw{number}({value}))", f"    {blind} = m.digest()[:{_INDEX_SIZE}]"]
        blinds[name] = blind
    if codec.encrypted:
        sealed_lines, parts = _sealed_lines([(variables[name], by_name[name]) for name in codec._sealed_names])
        body += sealed_lines
        aad = "".join(
            (_key_part_expression(blinds[name], None) if name in blinds
             else _key_part_expression(variables[name], by_name[name])) + ", "
            for name in table.key
        )
        # The box is joined straight into the type the driver binds.
        body += [f"nonce = nonces[at : at + {_NONCE}]", f"at += {_NONCE}",
                 f"sealed = encrypt(nonce, b''.join(({''.join(p + ', ' for p in parts)})), b''.join((PREFIX, {aad})))",
                 "box = JOIN((FORMAT, nonce, sealed))"]
        cells.append("box")
        cells += [stored(blinds[name], by_name[name].nullable) for name in codec._indexed_names]
    if with_rowid:
        cells.insert(0, "rowid")
    lines = ["def encode(rows, rowids, nonces):", "    stored = []", "    append = stored.append", "    at = 0",
             "    for rowid, row in zip(rowids, rows):" if with_rowid else "    for row in rows:"]
    lines += ["        " + line for line in body]
    lines.append(f"        append(({''.join(cell + ', ' for cell in cells)}))")
    lines.append("    return stored")
    exec("\n".join(lines), namespace)  # noqa: S102 - built from validated column names only
    return namespace["encode"]  # type: ignore[no-any-return]


class TableCodec:
    """Turns a table's rows into stored tuples (sealing sensitive cells) and back.

    ``stored_columns`` lists the storage columns in order: the clear columns, then ``__sealed``
    and one ``__idx`` column per blind-indexed column when protected. ``stored_key`` names the
    storage columns of the primary key.
    """

    def __init__(self, view_name: str, table: Table, keys: CellKeys | None, *, blob: type | None = None) -> None:
        self.table = table
        self._aead = keys.aead if keys is not None else None
        columns = table.columns
        self.column_names = tuple(c.name for c in columns)
        protected = keys is not None
        sealed = [c for c in columns if protected and c.sensitive]
        indexed = [c for c in sealed if c.lookup or c.name in table.key]
        clear = [c for c in columns if c not in sealed]
        self.encrypted = bool(sealed)
        self._clear_names = tuple(c.name for c in clear)
        self._sealed_names = tuple(c.name for c in sealed)
        self._sealed_decoders = tuple(_from_bytes(c.type) for c in sealed)
        self._indexed_names = tuple(c.name for c in indexed)
        self._index_of = {c.name: c.name + INDEX_SUFFIX for c in indexed}
        extra = (SEALED_COLUMN,) if sealed else ()
        self.stored_columns = self._clear_names + extra + tuple(self._index_of[c.name] for c in indexed)
        self.stored_types: tuple[ColumnType | None, ...] = (
            tuple(c.type for c in clear) + tuple(None for _ in extra) + tuple(None for _ in indexed)
        )  # None: raw bytes (a sealed box or an index)
        self.stored_key = tuple(self._index_of.get(name, name) for name in table.key)
        self.stored_key_positions = tuple(self.stored_columns.index(name) for name in self.stored_key)
        self.nullable_stored = frozenset(
            stored for stored in self.stored_columns
            if stored == SEALED_COLUMN or table.by_name[stored.split("__", 1)[0]].nullable
        )
        self._bools = tuple(i for i, c in enumerate(clear) if c.type is BOOL)
        prefix = _length_prefixed(view_name.encode(), table.name.encode())
        self._aad_prefix = b"mlsgroup.view.row.v1" + prefix
        self._index_macs = {
            c.name: (
                hmac.new(keys.index_key, b"mlsgroup.view.index.v1" + prefix + _length_prefixed(c.name.encode()),
                         hashlib.sha256),
                _to_bytes(c.type),
            )
            for c in indexed
        } if keys is not None else {}
        self._key_is_indexed = tuple(name in self._index_of for name in table.key)
        # The write path, written out for this table (with and without a leading rowid).
        self._encode = _row_encoder(self, blob, with_rowid=False)
        self._encode_at = _row_encoder(self, blob, with_rowid=True)

    def blind_index(self, name: str, value: Any) -> bytes:
        mac, encode = self._index_macs[name]
        mac = mac.copy()
        mac.update(encode(value))
        return mac.digest()[:_INDEX_SIZE]

    def storage_filter(self, name: str, value: Any) -> tuple[str, Any]:
        """The storage column and value an equality filter on column ``name`` compares."""
        index_column = self._index_of.get(name)
        if index_column is not None:
            return index_column, None if value is None else self.blind_index(name, value)
        return name, value

    def encode_key(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        """The stored form of a primary key (blind indexes in place of sensitive values)."""
        if not self._index_macs:
            return key
        return tuple(
            self.blind_index(name, value) if is_indexed else value
            for name, is_indexed, value in zip(self.table.key, self._key_is_indexed, key)
        )

    def encode_row(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return self.encode_rows((row,))[0]

    def encode_rows(self, rows: Sequence[dict[str, Any]], rowids: Sequence[int] | None = None) -> list[tuple[Any, ...]]:
        """The stored tuples of ``rows`` (a batch's writes of this table: one nonce draw for all),
        each led by its entry of ``rowids`` when given."""
        nonces = os.urandom(_NONCE * len(rows)) if self.encrypted else b""
        if rowids is None:
            return self._encode(rows, None, nonces)
        return self._encode_at(rows, rowids, nonces)

    def decode_row(self, stored: Sequence[Any]) -> dict[str, Any]:
        clear_count = len(self._clear_names)
        row = dict(zip(self._clear_names, stored[:clear_count]))
        for i in self._bools:
            name = self._clear_names[i]
            if row[name] is not None:
                row[name] = bool(row[name])
        if self.encrypted:
            key_aad = b"".join([_key_part(stored[p]) for p in self.stored_key_positions])
            plain = self._open(stored[clear_count], self._aad_prefix + key_aad)
            offset = 0
            try:
                for name, decode in zip(self._sealed_names, self._sealed_decoders):
                    present = plain[offset]
                    offset += 1
                    if present == 0:
                        row[name] = None
                        continue
                    size = int.from_bytes(plain[offset : offset + 4], "big")
                    row[name] = decode(plain[offset + 4 : offset + 4 + size])
                    offset += 4 + size
            except (IndexError, ValueError, struct.error):
                raise ViewDecryptionError(f"{self.table.name}: malformed sealed cells") from None
        return {name: row[name] for name in self.column_names}

    def _open(self, box: Any, aad: bytes) -> bytes:
        if box is None:
            raise ViewDecryptionError(f"{self.table.name}: sealed cells are missing")
        box = bytes(box)
        if len(box) < 1 + _NONCE + 16 or box[:1] != _FORMAT:
            raise ViewDecryptionError(f"{self.table.name}: malformed sealed cells")
        try:
            return self._aead.decrypt(box[1 : 1 + _NONCE], box[1 + _NONCE :], aad)  # type: ignore[union-attr]
        except InvalidTag:
            raise ViewDecryptionError(
                f"{self.table.name}: sealed cells failed authentication (wrong key or tampered file)"
            ) from None
