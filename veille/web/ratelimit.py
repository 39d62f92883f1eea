"""Sliding-window limiters (per IP, per address, per login), in two backings with one
interface (`Limiter`):

- `RateLimiter`, in process memory: a restart forgetting the counters only gives an abuser
  a fresh window, but each process counts alone;
- `SharedRateLimiter`, in the database (`veille.db.rate_limits`): what the web app uses,
  so a limit holds across `VEILLE_WEB_WORKERS` processes and machines — a client
  spreading its requests over all of them gets the limit once, not once per process.

Two uses: `hit` counts every attempt and refuses the one over the limit (the members'
forms); the desk login throttle (`veille.web.login_throttle`) checks and counts a try
under several limiters in one step (`held`, then `wait_in` and `add_in`), and takes it back
when the password was right. In the database, each step runs in a transaction that is the
only one counting its keys (`veille.db.rate_limits.exclusive`), so two processes can never
both take a limit's last free slot. The clock is injected so tests need no sleeping."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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


@contextmanager
def held(sessions: sessionmaker[Session], keys: Sequence[tuple[str, str]]) -> Iterator[Session]:
    """A transaction that alone counts and adds on these (scope, key) pairs until it ends."""
    with transaction(sessions) as session:
        rate_db.exclusive(session, keys)
        yield session


class SharedRateLimiter:
    """`RateLimiter`'s answers, counted in the database: every web process and machine adds
    to the same counters. Attempts fall in buckets of 1/15 of the window, so the window
    slides by that step: an attempt counts for between 14/15 of the window and all of it.
    The check and the count of an attempt run in one transaction holding its key
    (`held`): attempts racing from any number of processes get exactly the free slots."""

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

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _recent(self, session: Session, key: str, now: datetime) -> list[tuple[datetime, int]]:
        return rate_db.buckets(session, self.scope, key, now - timedelta(seconds=self.window))

    def count_in(self, session: Session, key: str, now: datetime) -> int:
        """Attempts counted against the key within the window."""
        return sum(n for _, n in self._recent(session, key, now))

    def wait_in(self, session: Session, key: str, now: datetime) -> float:
        """Seconds until the key is under its limit again; 0 when it is."""
        found = self._recent(session, key, now)
        total = sum(n for _, n in found)
        wait = 0.0
        for start, n in found:  # oldest first: drop buckets until under the limit
            if total < self.limit:
                break
            total -= n
            wait = (start - now).total_seconds() + self.window
        return max(wait, 0.0)

    def add_in(self, session: Session, key: str, now: datetime) -> None:
        rate_db.add(session, self.scope, [key], now, self.width)

    def take_back_in(self, session: Session, key: str, at: datetime) -> None:
        """Uncount the attempt `add_in` counted at `at`."""
        rate_db.take_back(session, self.scope, key, at, self.width)

    def added(self, now: datetime) -> None:
        """Purge this scope's past buckets every PURGE_EVERY attempts of this process; call
        it after the transaction that added."""
        with self._lock:
            self._added += 1
            due = self._added % PURGE_EVERY == 0
        if due:
            with transaction(self._sessions) as session:
                rate_db.purge(session, self.scope, now - timedelta(seconds=2 * self.window))

    def hit(self, key: str) -> bool:
        now = self.now()
        with held(self._sessions, [(self.scope, key)]) as session:
            if self.count_in(session, key, now) >= self.limit:
                return False
            self.add_in(session, key, now)
        self.added(now)
        return True

    def reset(self, key: str) -> None:
        with transaction(self._sessions) as session:
            rate_db.reset(session, self.scope, key)
