"""A small in-process sliding-window limiter (per IP, per address, per login).

In memory on purpose: one web process serves this tool; a restart forgetting the counters
only gives an abuser a fresh window. The clock is injected so tests need no sleeping."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from time import monotonic


class RateLimiter:
    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float] = monotonic
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def hit(self, key: str) -> bool:
        """Count one attempt; False when the key is over its limit (the attempt is refused
        and not counted)."""
        with self._lock:
            now = self._clock()
            hits = self._recent(key, now)
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            if len(self._hits) > 100_000:  # bounded memory under a flood of keys
                self._hits = {
                    k: v for k, v in self._hits.items() if v and v[-1] > now - self.window
                }
            return True

    def blocked(self, key: str) -> bool:
        with self._lock:
            return len(self._recent(key, self._clock())) >= self.limit

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)
