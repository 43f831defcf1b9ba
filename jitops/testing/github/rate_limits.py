"""GitHub's primary rate limit as the test server counts it: calls per hour per user."""

from __future__ import annotations

import threading
import time


class RateLimits:
    """GitHub's primary rate limit: ``limit`` calls per hour per user."""

    def __init__(self, limit: int = 5000) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # login -> (window reset, used)

    def peek(self, login: str) -> tuple[int, int]:
        """``(used, reset epoch)`` without counting a call."""
        now = int(time.time())
        with self._lock:
            reset, used = self._windows.get(login, (now + 3600, 0))
            return (0, now + 3600) if reset <= now else (used, reset)

    def spend(self, login: str) -> tuple[int, int]:
        """Count one call; return ``(used, reset epoch)``."""
        now = int(time.time())
        with self._lock:
            reset, used = self._windows.get(login, (now + 3600, 0))
            if reset <= now:
                reset, used = now + 3600, 0
            used += 1
            self._windows[login] = (reset, used)
            return used, reset

    def refund(self, login: str) -> None:
        """Give back one call (GitHub does not count a 304 answer to a conditional request)."""
        with self._lock:
            reset, used = self._windows.get(login, (0, 1))
            self._windows[login] = (reset, max(0, used - 1))

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
