"""Throttling of failed desk logins that a stranger cannot turn into a lock-out.

Counting failures per account alone (as before) let anyone lock the delegate out: five
wrong passwords for her address, from anywhere, and her right password waited 15 minutes.
Failures are now counted three ways, in a sliding `WINDOW` on the app's clock:

- per (account, IP) pair, `PAIR_LIMIT`: one machine guessing one password is stopped;
- per IP, `IP_LIMIT`: one machine trying many accounts is stopped;
- per account, `ACCOUNT_LIMIT`: guesses spread over many machines are slowed — past it,
  an IP that already failed on this account gets no further try (a fresh IP still gets
  one), so the limit is never a lever against someone whose IP has not failed.

Only failures count, so a right password never uses up a try; a success forgets its pair.
The app counts in the database, so the limits hold across processes and machines
(`veille.web.ratelimit.SharedRateLimiter`); without sessions, in this process's memory.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from veille.web.ratelimit import Limiter, RateLimiter, SharedRateLimiter

WINDOW = timedelta(minutes=15)
PAIR_LIMIT = 5
IP_LIMIT = 20
ACCOUNT_LIMIT = 30
MAX_KEYS = 10_000


class LoginThrottle:
    def __init__(
        self, clock: Callable[[], float], sessions: sessionmaker[Session] | None = None
    ) -> None:
        seconds = WINDOW.total_seconds()

        def limiter(scope: str, limit: int) -> Limiter:
            if sessions is not None:
                return SharedRateLimiter(scope, limit, seconds, clock, sessions)
            return RateLimiter(limit, seconds, clock, max_keys=MAX_KEYS)

        self.pairs = limiter("login-pair", PAIR_LIMIT)
        self.ips = limiter("login-ip", IP_LIMIT)
        self.accounts = limiter("login-account", ACCOUNT_LIMIT)

    @staticmethod
    def _pair(account: str, ip: str) -> str:
        return f"{account}\n{ip}"

    def retry_after(self, account: str, ip: str) -> int | None:
        """Seconds this IP must wait before trying this account again, or None."""
        pair = self._pair(account, ip)
        waits = [self.pairs.retry_after(pair), self.ips.retry_after(ip)]
        if self.pairs.count(pair) > 0:  # only IPs that failed here feel the account limit
            waits.append(self.accounts.retry_after(account))
        found = [wait for wait in waits if wait is not None]
        return max(found) if found else None

    def failed(self, account: str, ip: str) -> None:
        self.pairs.record(self._pair(account, ip))
        self.ips.record(ip)
        self.accounts.record(account)

    def succeeded(self, account: str, ip: str) -> None:
        self.pairs.reset(self._pair(account, ip))
