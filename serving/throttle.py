"""Counting failures per client in a sliding window, to slow down guessing (API keys here; review sign-ins
keep theirs in the database, where supervisors read them)."""

from __future__ import annotations

import threading
import time
from collections import deque


class FailureWindow:
    """At most ``limit`` failures per key in any ``window_s`` seconds; past that the key waits until the
    oldest failure leaves the window. Memory is bounded: at most ``max_keys`` keys are tracked (the ones that
    failed longest ago are forgotten first)."""

    def __init__(self, limit: int, window_s: float, max_keys: int = 10_000) -> None:
        self.limit, self.window_s, self.max_keys = limit, window_s, max_keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_s(self, key: str, now: float | None = None) -> float:
        """Seconds ``key`` must wait before its next try; 0 when it may try now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._failures.get(key)
            if times is None:
                return 0.0
            while times and times[0] <= now - self.window_s:
                times.popleft()
            if not times:
                del self._failures[key]
                return 0.0
            return max(0.0, times[0] + self.window_s - now) if len(times) >= self.limit else 0.0

    def fail(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._failures.pop(key, None) or deque(maxlen=self.limit)
            times.append(now)
            self._failures[key] = times  # re-inserted: dicts keep order, the oldest failing key comes first
            while len(self._failures) > self.max_keys:
                del self._failures[next(iter(self._failures))]
