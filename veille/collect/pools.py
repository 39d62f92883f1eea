"""The workers of a collection cycle: an I/O thread pool fed host by host, a process pool
for extraction, and one queue on which their finished work comes back.

Network work runs in threads sharing one HTTP client (measured faster than asyncio here);
extraction is CPU-bound and runs in processes, started on the first page to extract (a
cycle of unchanged feeds never starts them). Completed futures arrive on one queue:
`wait()` over thousands of pending futures costs O(pending) per call in the main thread,
which is the cycle's bottleneck.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime
from functools import partial
from types import TracebackType
from typing import Any

from veille.collect.decide import NewArticle
from veille.collect.fetcher import Fetcher, FetchPolicy
from veille.collect.hostqueue import HostQueue
from veille.collect.worker import SourceState, fetch_listing, fetch_page
from veille.config import Settings


def process_pool(settings: Settings) -> ProcessPoolExecutor:
    workers = settings.extract_workers or os.cpu_count() or 1
    # forkserver: forking a process that runs threads (uvicorn, APScheduler) can deadlock.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method))


class Pools:
    """The cycle's fetcher and pools; closes what it made itself (not a caller's fetcher
    nor a caller's extractor) when the `with` block ends."""

    def __init__(
        self, settings: Settings, fetcher: Fetcher | None, extractor: Executor | None
    ) -> None:
        self.settings = settings
        self.own_fetcher = fetcher is None
        self.fetcher = fetcher or Fetcher(FetchPolicy.from_settings(settings))
        self.own_pool = extractor is None
        self.pool: Executor | None = extractor
        self.io = ThreadPoolExecutor(
            max_workers=settings.concurrency, thread_name_prefix="veille-io"
        )
        self.hosts = HostQueue(self.io, self.fetcher.policy.per_host_concurrency)
        self.done: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()

    def fetch_listing(self, src: SourceState, now: datetime) -> Future[Any]:
        fut = self.hosts.submit(src.url, partial(fetch_listing, self.fetcher, src, now))
        fut.add_done_callback(self.done.put)
        return fut

    def fetch_page(self, item: NewArticle) -> Future[Any]:
        """Fetch and extract an entry's page; pages go before listings (they feed the
        extraction workers, which otherwise idle)."""
        if self.pool is None and self.own_pool:
            self.pool = process_pool(self.settings)
        fut = self.hosts.submit(
            item.link,
            partial(
                fetch_page,
                self.fetcher,
                self.pool,
                item.link,
                has_date=item.entry.published_at is not None,
                has_author=bool(item.entry.author),
                title=item.entry.title,
            ),
            urgent=True,
        )
        fut.add_done_callback(self.done.put)
        return fut

    def next_done(self, timeout: float | None) -> Future[Any] | None:
        """The next completed future, waiting at most `timeout` seconds (forever if None)."""
        with contextlib.suppress(queue.Empty):
            return self.done.get(timeout=timeout)
        return None

    def done_now(self) -> Future[Any] | None:
        """A completed future if one is waiting, without blocking."""
        with contextlib.suppress(queue.Empty):
            return self.done.get_nowait()
        return None

    def __enter__(self) -> Pools:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.hosts.cancel_all()
        self.io.shutdown(wait=True, cancel_futures=True)
        if self.own_pool and self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        if self.own_fetcher:
            self.fetcher.close()
