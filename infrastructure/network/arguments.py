"""Argument checks and per-topic server-time rule shared by every network adapter (ports contract)."""

from __future__ import annotations

from typing import Iterable, Sequence

__all__ = ["check_topic", "check_payloads", "check_welcomes", "check_query", "unique_ids", "first_server_time"]


def check_topic(topic: bytes, what: str = "group_id") -> bytes:
    """``topic`` as bytes; TypeError / ValueError for anything else or an empty id."""
    if not isinstance(topic, (bytes, bytearray, memoryview)):
        raise TypeError(f"{what} must be bytes, not {type(topic).__name__}")
    topic = bytes(topic)
    if not topic:
        raise ValueError(f"{what} must not be empty")
    return topic


def check_payloads(payloads: Sequence[bytes]) -> list[bytes]:
    """The payloads as a list of bytes (TypeError for a single bytes value or a non-bytes item)."""
    if isinstance(payloads, (bytes, bytearray, memoryview, str)):
        raise TypeError("payloads must be a sequence of bytes values, not a single value")
    checked = []
    for payload in payloads:
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise TypeError(f"payload must be bytes, not {type(payload).__name__}")
        checked.append(bytes(payload))
    return checked


def check_welcomes(messages: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``(installation_id, payload)`` pairs as bytes."""
    checked = []
    for installation_id, payload in messages:
        checked.append((check_topic(installation_id, "installation_id"), check_payloads([payload])[0]))
    return checked


def check_query(after_cursor: int, limit: int | None) -> None:
    """A query needs ``after_cursor >= 0`` and ``limit`` None or >= 1."""
    if isinstance(after_cursor, bool) or not isinstance(after_cursor, int) or after_cursor < 0:
        raise ValueError(f"after_cursor must be an int >= 0, not {after_cursor!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be None or an int >= 1, not {limit!r}")


def unique_ids(installation_ids: Iterable[bytes]) -> list[bytes]:
    """Installation ids as bytes, duplicates dropped, first occurrence order kept."""
    if isinstance(installation_ids, (bytes, bytearray, memoryview)):
        raise TypeError("installation_ids must be an iterable of ids, not a single id")
    return list(dict.fromkeys(check_topic(i, "installation_id") for i in installation_ids))


def first_server_time(last_time_ns: int, now_ns: int) -> int:
    """The server time of the next payload on a topic: strictly after the previous one even if the clock stepped back."""
    return max(now_ns, last_time_ns + 1)
