"""An immutable, hashable mapping with a canonical (key-sorted) order, for frozen domain values.

Protobuf maps (XMTP attributes, group membership, metadata policies) carry no order on the wire, so a
value holding one must compare equal whatever order the entries arrived in; sorting the keys once also
makes every encoding deterministic.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, TypeVar

__all__ = ["FrozenMap"]

K = TypeVar("K")
V = TypeVar("V")


class FrozenMap(Mapping[K, V]):
    """A read-only mapping; equal to any mapping with the same items, hashable, repr reads as Python."""

    __slots__ = ("_data", "_hash")

    def __init__(self, items: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        source = items.items() if isinstance(items, Mapping) else items
        self._data: dict[K, V] = dict(sorted(source, key=lambda kv: kv[0]))  # type: ignore[arg-type]
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, FrozenMap):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def set(self, key: K, value: V) -> FrozenMap[K, V]:
        """A copy with ``key`` mapped to ``value``."""
        data = dict(self._data)
        data[key] = value
        return FrozenMap(data)

    def delete(self, *keys: K) -> FrozenMap[K, V]:
        """A copy without ``keys`` (absent keys are ignored)."""
        return FrozenMap((k, v) for k, v in self._data.items() if k not in keys)
