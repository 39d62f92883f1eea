"""Sliding-window limiters (per IP, per address, per login), in two backings with one
interface (`Limiter`):

- `RateLimiter`, in process memory: a restart forgetting the counters only gives an abuser
  a fresh window, but each process counts alone;
- `SharedRateLimiter`, in the database (`veille.db.rate_limits`): what the web app uses,
  so a limit holds across `VEILLE_WEB_WORKERS` processes and machines — a client
  spreading its requests over all of them gets the limit once, not once per process.

Two uses: `hit` counts every attempt and refuses the one over the limit (the members'
forms); `retry_after` before and `record` after count only what went wrong (failed desk
logins), so a right password never uses up a try. The clock is injected so tests need no
sleeping."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from time import monotonic
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from veille.db import rate_limits as rate_db
from veille.db.engine import transaction

BUCKETS_PER_WINDOW = 15
PURGE_EVERY = 256  # attempts between two purges of a shared limiter's old buckets


class Limiter(Protocol):
    def hit(self, key: str) -> bool: ...
    def record(self, *keys: str) -> None: ...
    def retry_after(self, *keys: str) -> int | None: ...
    def count(self, key: str) -> int: ...
    def blocked(self, key: str) -> bool: ...
    def reset(self, key: str) -> None: ...


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


class SharedRateLimiter:
    """`RateLimiter`'s answers, counted in the database: every web process and machine adds
    to the same counters. Attempts fall in buckets of 1/15 of the window, so the window
    slides by that step: an attempt counts for between 14/15 of the window and all of it.
    Two attempts at the very same instant from two processes may both pass the last
    free slot (the check and the count are two statements); the limit is then exceeded
    by the number of processes racing, never multiplied by the number of processes."""

    def __init__(
        self,
        scope: str,
        limit: int,
        window_seconds: float,
        clock: Callable[[], float],
        sessions: sessionmaker[Session],
    ) -> None:
        self.scope = scope
        self.limit = limit
        self.window = window_seconds
        self.width = window_seconds / BUCKETS_PER_WINDOW
        self._clock = clock
        self._sessions = sessions
        self._added = 0
        self._lock = threading.Lock()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _recent(self, session: Session, key: str, now: datetime) -> list[tuple[datetime, int]]:
        return rate_db.buckets(session, self.scope, key, now - timedelta(seconds=self.window))

    def _count(self, key: str, now: datetime) -> int:
        with self._sessions() as session:
            return sum(n for _, n in self._recent(session, key, now))

    def _added_one(self, now: datetime) -> None:
        """Purge this scope's past buckets every PURGE_EVERY attempts of this process."""
        with self._lock:
            self._added += 1
            due = self._added % PURGE_EVERY == 0
        if due:
            with transaction(self._sessions) as session:
                rate_db.purge(session, self.scope, now - timedelta(seconds=2 * self.window))

    def hit(self, key: str) -> bool:
        now = self._now()
        with transaction(self._sessions) as session:
            if sum(n for _, n in self._recent(session, key, now)) >= self.limit:
                return False
            rate_db.add(session, self.scope, [key], now, self.width)
        self._added_one(now)
        return True

    def record(self, *keys: str) -> None:
        now = self._now()
        with transaction(self._sessions) as session:
            rate_db.add(session, self.scope, keys, now, self.width)
        self._added_one(now)

    def retry_after(self, *keys: str) -> int | None:
        now = self._now()
        wait = 0.0
        with self._sessions() as session:
            for key in keys:
                found = self._recent(session, key, now)
                total = sum(n for _, n in found)
                for start, n in found:  # oldest first: drop buckets until under the limit
                    if total < self.limit:
                        break
                    total -= n
                    wait = max(wait, (start - now).total_seconds() + self.window)
        return max(1, math.ceil(wait)) if wait > 0 else None

    def count(self, key: str) -> int:
        return self._count(key, self._now())

    def blocked(self, key: str) -> bool:
        return self._count(key, self._now()) >= self.limit

    def reset(self, key: str) -> None:
        with transaction(self._sessions) as session:
            rate_db.reset(session, self.scope, key)
