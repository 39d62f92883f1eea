"""A limit holds exactly under simultaneous attempts: threads, each on its own database
connection (what two web processes are to the database), hammer one key at the same
instant, and exactly the free slots are taken — on SQLite (the write lock) and PostgreSQL
(advisory locks), since the check and the count run in one transaction holding the key."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
from sqlalchemy.orm import Session, sessionmaker

from veille.web import login_throttle
from veille.web.login_throttle import LoginThrottle, Try
from veille.web.ratelimit import SharedRateLimiter

T = TypeVar("T")
RACERS = 12
NOW = 1_800_000_000.0


def race(attempt: Callable[[], T]) -> list[T]:
    """RACERS simultaneous calls of `attempt`, released together by a barrier."""
    start = threading.Barrier(RACERS)

    def one() -> T:
        start.wait()
        return attempt()

    with ThreadPoolExecutor(RACERS) as pool:
        return list(pool.map(lambda _: one(), range(RACERS)))


@pytest.mark.postgres
def test_racing_hits_take_exactly_the_free_slots(sessions: sessionmaker[Session]) -> None:
    limiter = SharedRateLimiter("subscribe-address", 3, 3600, lambda: NOW, sessions)
    assert sum(race(lambda: limiter.hit("dupont@exemple.fr"))) == 3
    assert not limiter.hit("dupont@exemple.fr")
    assert limiter.hit("autre@exemple.fr")  # another key has its own slots


@pytest.mark.postgres
def test_racing_login_guesses_get_exactly_the_pair_limit(sessions: sessionmaker[Session]) -> None:
    """Tries are counted before the password is checked: a burst of parallel guesses gets
    PAIR_LIMIT tries, not one per request in flight."""
    throttle = LoginThrottle(lambda: NOW, sessions)
    outcomes = race(lambda: throttle.admit("delegue@exemple.fr", "203.0.113.5"))
    admitted = [o for o in outcomes if isinstance(o, Try)]
    assert len(admitted) == login_throttle.PAIR_LIMIT
    assert all(isinstance(o, int) and 1 <= o <= 15 * 60 for o in outcomes if o not in admitted)
    # A right password takes its try back: the IP's count falls by one.
    with sessions() as session:
        before = throttle.ips.count_in(session, "203.0.113.5", throttle.ips.now())
    throttle.succeeded(admitted[0])
    with sessions() as session:
        assert throttle.ips.count_in(session, "203.0.113.5", throttle.ips.now()) == before - 1
