"""In-memory delivery service and identity registry (the ports of ``mlsgroup.domain.ports``), thread-safe.

One lock per adapter serialises writers, so cursors are assigned in acceptance order; a topic is a
list whose index i holds cursor i + 1, so a query is a slice.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from typing import Iterable, Sequence

from mlsgroup.domain import identity_errors
from mlsgroup.domain.identity import AddInstallation, CreateInbox, IdentityUpdate, InboxState, apply_update
from mlsgroup.domain.ports import Clock, Envelope

from .arguments import check_payloads, check_query, check_topic, check_welcomes, first_server_time, unique_ids

__all__ = ["InMemoryDeliveryService", "InMemoryIdentityRegistry"]


class _Topics:
    """Append-only topics of envelopes keyed by id; the caller holds the lock."""

    def __init__(self) -> None:
        self._topics: dict[bytes, list[Envelope]] = defaultdict(list)

    def append(self, topic: bytes, payloads: list[bytes], now_ns: int) -> list[int]:
        envelopes = self._topics[topic]
        last_time = envelopes[-1].server_time_ns if envelopes else 0
        time_ns = first_server_time(last_time, now_ns)
        first = len(envelopes) + 1
        envelopes.extend(Envelope(first + i, payload, time_ns + i) for i, payload in enumerate(payloads))
        return list(range(first, first + len(payloads)))

    def query(self, topic: bytes, after_cursor: int, limit: int | None) -> list[Envelope]:
        envelopes = self._topics.get(topic)
        if not envelopes:
            return []
        stop = None if limit is None else after_cursor + limit
        return envelopes[after_cursor:stop]


class InMemoryDeliveryService:
    """Group topics, welcome topics and key packages held in process memory."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._groups = _Topics()
        self._welcomes = _Topics()
        self._one_time: dict[bytes, deque[bytes]] = defaultdict(deque)
        self._last_resort: dict[bytes, bytes] = {}

    def send_group_messages(self, group_id: bytes, payloads: Sequence[bytes]) -> list[int]:
        group_id = check_topic(group_id)
        payloads = check_payloads(payloads)
        if not payloads:
            return []
        with self._lock:
            return self._groups.append(group_id, payloads, self._clock.now_ns())

    def query_group_messages(self, group_id: bytes, after_cursor: int = 0, limit: int | None = None) -> list[Envelope]:
        group_id = check_topic(group_id)
        check_query(after_cursor, limit)
        with self._lock:
            return self._groups.query(group_id, after_cursor, limit)

    def send_welcome_messages(self, messages: Sequence[tuple[bytes, bytes]]) -> list[int]:
        messages = check_welcomes(messages)
        cursors = []
        with self._lock:
            now_ns = self._clock.now_ns()
            for installation_id, payload in messages:
                cursors.extend(self._welcomes.append(installation_id, [payload], now_ns))
        return cursors

    def query_welcome_messages(
        self, installation_id: bytes, after_cursor: int = 0, limit: int | None = None
    ) -> list[Envelope]:
        installation_id = check_topic(installation_id, "installation_id")
        check_query(after_cursor, limit)
        with self._lock:
            return self._welcomes.query(installation_id, after_cursor, limit)

    def upload_key_package(self, installation_id: bytes, key_package: bytes, is_last_resort: bool = True) -> None:
        installation_id = check_topic(installation_id, "installation_id")
        key_package = check_payloads([key_package])[0]
        with self._lock:
            if is_last_resort:
                self._last_resort[installation_id] = key_package
            else:
                self._one_time[installation_id].append(key_package)

    def fetch_key_packages(self, installation_ids: Iterable[bytes]) -> dict[bytes, bytes]:
        found: dict[bytes, bytes] = {}
        with self._lock:
            for installation_id in unique_ids(installation_ids):
                queue = self._one_time.get(installation_id)
                if queue:
                    found[installation_id] = queue.popleft()
                elif installation_id in self._last_resort:
                    found[installation_id] = self._last_resort[installation_id]
        return found


class InMemoryIdentityRegistry:
    """Identity update chains held in process memory, validated with ``domain.identity.apply_update``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._updates: dict[str, list[IdentityUpdate]] = {}
        self._states: dict[str, InboxState] = {}
        self._owners: dict[bytes, str] = {}

    def publish_identity_update(self, update: IdentityUpdate) -> InboxState:
        if not isinstance(update, IdentityUpdate):
            raise TypeError(f"expected an IdentityUpdate, not {type(update).__name__}")
        with self._lock:
            inbox_id = update.inbox_id
            state = apply_update(self._states.get(inbox_id), update)
            action = update.action
            if isinstance(action, (CreateInbox, AddInstallation)):
                owner = self._owners.get(action.installation_id)
                if owner is not None and owner != inbox_id:
                    raise identity_errors.InstallationOwnedByAnotherInbox(
                        f"installation {action.installation_id.hex()} belongs to inbox {owner}"
                    )
                self._owners[action.installation_id] = inbox_id
            self._updates.setdefault(inbox_id, []).append(update)
            self._states[inbox_id] = state
            return state

    def get_inbox_state(self, inbox_id: str) -> InboxState:
        with self._lock:
            state = self._states.get(inbox_id)
        if state is None:
            raise identity_errors.InboxNotFound(inbox_id)
        return state

    def get_inbox_states(self, inbox_ids: Iterable[str]) -> dict[str, InboxState]:
        wanted = list(dict.fromkeys(inbox_ids))
        with self._lock:
            found = {i: self._states[i] for i in wanted if i in self._states}
        missing = [i for i in wanted if i not in found]
        if missing:
            raise identity_errors.InboxNotFound(missing)
        return found

    def get_identity_updates(self, inbox_id: str, after_sequence_id: int = 0) -> list[IdentityUpdate]:
        check_query(after_sequence_id, None)
        with self._lock:
            updates = self._updates.get(inbox_id)
            if updates is None:
                raise identity_errors.InboxNotFound(inbox_id)
            return updates[after_sequence_id:]
