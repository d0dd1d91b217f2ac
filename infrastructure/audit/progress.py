"""A one-line progress bar on stderr for long audits (shown on a TTY, or when asked for)."""

from __future__ import annotations

import sys
import time
from typing import Optional, TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """Redraws ``[#####.....] done/total events`` at most ten times a second, once ``total`` reaches
    ``min_total``; ``close`` ends the line."""

    def __init__(
        self, stream: Optional[TextIO] = None, width: int = 30, label: str = "events", min_total: int = 0
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.min_total = min_total
        self.width = width
        self.label = label
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        if total < self.min_total:
            return
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        filled = self.width if total == 0 else self.width * done // total
        self.stream.write(f"\raudit [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} {self.label}")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
