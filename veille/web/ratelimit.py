"""A small in-process sliding-window limiter (per IP, per address, per login).

Two uses: `hit` counts every attempt and refuses the one over the limit (the members'
forms); `retry_after` before and `record` after count only what went wrong (failed desk
logins), so a right password never uses up a try.

In memory on purpose: a restart forgetting the counters only gives an abuser a fresh
window. Per process: with `VEILLE_WEB_WORKERS` = N, each worker counts alone, so a client
spreading its requests over all of them gets up to N times the limit (docs/operations.md).
The clock is injected so tests need no sleeping."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from time import monotonic


class RateLimiter:
    def __init__(
        self,
        limit: int,
        window_seconds: float,
        clock: Callable[[], float] = monotonic,
        *,
        max_keys: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def _add(self, key: str, now: float) -> None:
        hits = self._recent(key, now)
        hits.append(now)
        self._hits[key] = hits
        if len(self._hits) > self._max_keys:  # bounded memory under a flood of keys
            self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - self.window}
            while len(self._hits) > self._max_keys:  # still full: drop the oldest keys
                del self._hits[next(iter(self._hits))]

    def hit(self, key: str) -> bool:
        """Count one attempt; False when the key is over its limit (the attempt is refused
        and not counted)."""
        with self._lock:
            now = self._clock()
            if len(self._recent(key, now)) >= self.limit:
                return False
            self._add(key, now)
            return True

    def record(self, *keys: str) -> None:
        """Count one attempt against each key, whatever their state (a failed login)."""
        with self._lock:
            now = self._clock()
            for key in keys:
                self._add(key, now)

    def retry_after(self, *keys: str) -> int | None:
        """Whole seconds (at least 1) until every key is under its limit again, or None when
        none is over it."""
        with self._lock:
            now = self._clock()
            wait = 0.0
            for key in keys:
                hits = self._recent(key, now)
                if len(hits) >= self.limit:
                    wait = max(wait, hits[-self.limit] + self.window - now)
        return max(1, math.ceil(wait)) if wait > 0 else None

    def count(self, key: str) -> int:
        """Attempts counted against the key within the window."""
        with self._lock:
            return len(self._recent(key, self._clock()))

    def blocked(self, key: str) -> bool:
        with self._lock:
            return len(self._recent(key, self._clock())) >= self.limit

    def reset(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)
