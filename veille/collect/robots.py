"""robots.txt: a per-host cache of parsed rules, fetched through the guarded fetcher.

Which answers mean what (RFC 9309 with one deliberate deviation):

* 2xx: the rules apply (parsed by `urllib.robotparser`, matched on our product token);
* 4xx (including 401/403/429): no usable rules, everything is allowed (RFC 9309 §2.3.1.3);
* 5xx, timeouts, network errors, bodies over the size limit: allowed too. The RFC asks
  crawlers to assume "disallow all" here; we allow because the collector only ever fetches
  pages a site itself lists in its feed or listing page, one at a time per host with a delay,
  and a flaky robots.txt must not silence a source. Such answers are cached for a short
  time only (`error_ttl`) so real rules apply as soon as the file is readable again.

Rules are cached `ttl` seconds (24 h, the RFC's upper bound) per scheme://host:port.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from veille.collect.types import FetchResult
from veille.errors import FetchError

RobotsFetch = Callable[[str], FetchResult]
"""Fetches a robots.txt URL (through the same guarded, polite path as everything else)."""


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}/robots.txt"


def parse_robots(body: bytes) -> RobotFileParser:
    parser = RobotFileParser()
    parser.parse(body.decode("utf-8", errors="replace").splitlines())
    return parser


@dataclass
class _Entry:
    parser: RobotFileParser | None  # None: everything allowed
    expires: float


class RobotsCache:
    """Thread-safe: one fetch per host even when many threads ask at once."""

    def __init__(
        self,
        fetch: RobotsFetch,
        *,
        user_agent: str,
        clock: Callable[[], float],
        ttl: float = 86_400.0,
        error_ttl: float = 3_600.0,
    ) -> None:
        self._fetch = fetch
        self._agent = user_agent
        self._clock = clock
        self._ttl = ttl
        self._error_ttl = error_ttl
        self._entries: dict[str, _Entry] = {}
        self._host_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def allowed(self, url: str) -> bool:
        key = robots_url(url)
        with self._lock:
            host_lock = self._host_locks.setdefault(key, threading.Lock())
        with host_lock:
            entry = self._entries.get(key)
            if entry is None or entry.expires <= self._clock():
                entry = self._load(key)
                self._entries[key] = entry
        return entry.parser is None or entry.parser.can_fetch(self._agent, url)

    def _load(self, key: str) -> _Entry:
        now = self._clock()
        try:
            result = self._fetch(key)
        except FetchError as exc:
            if exc.kind == "blocked":  # the page fetch itself will be refused, clearly
                return _Entry(None, now + self._error_ttl)
            if exc.kind == "http" and exc.status is not None and 400 <= exc.status < 500:
                return _Entry(None, now + self._ttl)
            return _Entry(None, now + self._error_ttl)
        if result.status == 304 or not (200 <= result.status < 300):
            return _Entry(None, now + self._error_ttl)
        return _Entry(parse_robots(result.content), now + self._ttl)
