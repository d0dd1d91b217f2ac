"""Clocks the infrastructure injects into the domain for event timestamps (ARCHITECTURE 2, determinism).

The domain only sees ``mlsgroup.domain.eventing.Clock`` (``now_ns() -> int``); these are the real
and the test implementations. Both are thread-safe and never go backwards, so timestamps within one
installation are strictly increasing even when the wall clock steps back.
"""

from __future__ import annotations

import threading
import time

__all__ = ["SystemClock", "ManualClock"]


class SystemClock:
    """Wall-clock nanoseconds, nudged forward by 1 ns whenever the OS clock has not advanced."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def now_ns(self) -> int:
        now = time.time_ns()
        with self._lock:
            if now <= self._last:
                now = self._last + 1
            self._last = now
            return now


class ManualClock:
    """A deterministic clock for tests and replays: starts at ``start_ns`` and steps by ``step_ns``."""

    def __init__(self, start_ns: int = 1_700_000_000_000_000_000, step_ns: int = 1_000) -> None:
        if start_ns < 0 or step_ns < 0:
            raise ValueError("ManualClock needs start_ns >= 0 and step_ns >= 0")
        self._lock = threading.Lock()
        self._next = start_ns
        self._step = step_ns

    def now_ns(self) -> int:
        with self._lock:
            now = self._next
            self._next += self._step
            return now

    def advance(self, delta_ns: int) -> None:
        """Move the clock forward by ``delta_ns`` (never backwards)."""
        if delta_ns < 0:
            raise ValueError("a clock does not go backwards")
        with self._lock:
            self._next += delta_ns
