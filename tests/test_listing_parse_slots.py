"""Listings parse within the cycle's parse slots: a bounded number at once, a 304 none."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from types import TracebackType

from tests.hostile_server import HostileServer
from veille.collect.fetcher import Fetcher, FetchPolicy
from veille.collect.worker import SourceState, fetch_listing


class CountingSlots:
    """A semaphore that records how many held it at once and how often it was taken."""

    def __init__(self, slots: int) -> None:
        self.semaphore = threading.BoundedSemaphore(slots)
        self.lock = threading.Lock()
        self.holding = self.peak = self.taken = 0

    def __enter__(self) -> None:
        self.semaphore.acquire()
        with self.lock:
            self.holding += 1
            self.taken += 1
            self.peak = max(self.peak, self.holding)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self.lock:
            self.holding -= 1
        self.semaphore.release()


def source(n: int, url: str, etag: str | None = None) -> SourceState:
    return SourceState(n, f"s{n}", url, "feed", None, 3600, etag, None, 0)


def test_listings_parse_within_the_slots_and_a_304_takes_none() -> None:
    slots = CountingSlots(2)
    policy = FetchPolicy(per_host_delay=0.0, allow_private_networks=True, retries=0)
    now = datetime.now(UTC)
    with HostileServer() as server, Fetcher(policy) as fetcher:
        parsed = [source(n, server.url("/ok.xml")) for n in range(8)]
        unchanged = source(99, server.url("/etag.xml"), etag='"v1"')
        with ThreadPoolExecutor(8) as pool:
            listings = list(
                pool.map(lambda s: fetch_listing(fetcher, s, now, slots), [*parsed, unchanged])
            )
    assert all(it.feed is not None and it.feed.entries for it in listings[:-1])
    assert listings[-1].result is not None and listings[-1].result.not_modified
    assert slots.taken == len(parsed)  # each parsed listing once, the 304 not at all
    assert 1 <= slots.peak <= 2
