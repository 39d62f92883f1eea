"""Throttling of failed desk logins that a stranger cannot turn into a lock-out.

Counting failures per account alone (as before) let anyone lock the delegate out: five
wrong passwords for her address, from anywhere, and her right password waited 15 minutes.
Failures are now counted three ways, in a sliding `WINDOW` on the app's clock:

- per (account, IP) pair, `PAIR_LIMIT`: one machine guessing one password is stopped;
- per IP, `IP_LIMIT`: one machine trying many accounts is stopped;
- per account, `ACCOUNT_LIMIT`: guesses spread over many machines are slowed — past it,
  an IP that already failed on this account gets no further try (a fresh IP still gets
  one), so the limit is never a lever against someone whose IP has not failed.

Only failures count, so a right password never uses up a try: `admit` checks the three
limits and counts the try in one step, before the password is checked — otherwise a
burst of parallel guesses would all pass the check before any was counted — and a right
password takes it back (`succeeded`, which also forgets its pair). The step runs in one
transaction holding the three keys (`veille.web.ratelimit.held`), so the limits hold
exactly across processes and machines.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from veille.db.engine import transaction
from veille.web.ratelimit import SharedRateLimiter, held

WINDOW = timedelta(minutes=15)
PAIR_LIMIT = 5
IP_LIMIT = 20
ACCOUNT_LIMIT = 30


@dataclass(frozen=True)
class Try:
    """A login attempt admitted and counted as a failure until `succeeded` says otherwise."""

    account: str
    ip: str
    at: datetime


class LoginThrottle:
    def __init__(self, clock: Callable[[], float], sessions: sessionmaker[Session]) -> None:
        seconds = WINDOW.total_seconds()
        self._sessions = sessions
        self.pairs = SharedRateLimiter("login-pair", PAIR_LIMIT, seconds, clock, sessions)
        self.ips = SharedRateLimiter("login-ip", IP_LIMIT, seconds, clock, sessions)
        self.accounts = SharedRateLimiter("login-account", ACCOUNT_LIMIT, seconds, clock, sessions)

    @staticmethod
    def _pair(account: str, ip: str) -> str:
        return f"{account}\n{ip}"

    def _counted(self, account: str, ip: str) -> list[tuple[SharedRateLimiter, str]]:
        return [(self.pairs, self._pair(account, ip)), (self.ips, ip), (self.accounts, account)]

    def admit(self, account: str, ip: str) -> Try | int:
        """The try, counted, or the whole seconds (at least 1) this IP must wait before
        trying this account again."""
        counted = self._counted(account, ip)
        now = self.pairs.now()
        with held(self._sessions, [(limiter.scope, key) for limiter, key in counted]) as session:
            pair = counted[0][1]
            waits = [self.pairs.wait_in(session, pair, now), self.ips.wait_in(session, ip, now)]
            if self.pairs.count_in(session, pair, now) > 0:  # only IPs that failed here
                waits.append(self.accounts.wait_in(session, account, now))
            wait = max(waits)
            if wait > 0:
                return max(1, math.ceil(wait))
            for limiter, key in counted:
                limiter.add_in(session, key, now)
        for limiter, _ in counted:
            limiter.added(now)
        return Try(account, ip, now)

    def succeeded(self, attempt: Try) -> None:
        """The password was right: the try was no failure, and its pair starts afresh."""
        pair, *others = self._counted(attempt.account, attempt.ip)
        with transaction(self._sessions) as session:
            for limiter, key in others:
                limiter.take_back_in(session, key, attempt.at)
        self.pairs.reset(pair[1])
