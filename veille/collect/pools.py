"""The workers of a collection cycle: an I/O thread pool fed host by host, a process pool
for extraction, and one queue on which their finished work comes back.

Network work runs in threads sharing one HTTP client (measured faster than asyncio here).
Extraction is CPU-bound: a cycle's first `extract_pool_min_pages` pages are extracted in
the I/O threads, and the process pool starts only when the cycle asks for more, so a small
deployment (a few feeds, a few new articles a tick) never pays the processes' start-up
(~1 s of CPU each, importing trafilatura and lxml) nor their memory (~45 MB each), and a
cycle of unchanged feeds starts nothing. The pool's workers fork from a forkserver that has
imported the extraction modules once (copy-on-write pages shared between them). Measured
in benchmarks/README.md ("Small deployments"). Completed futures arrive on one queue:
`wait()` over thousands of pending futures costs O(pending) per call in the main thread,
which is the cycle's bottleneck.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from datetime import datetime
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any

from veille.collect import heap
from veille.collect.decide import NewArticle
from veille.collect.fetcher import Fetcher, FetchPolicy
from veille.collect.hostqueue import HostQueue
from veille.collect.worker import PageOutcome, SourceState, fetch_listing, fetch_page
from veille.config import Settings
from veille.db.articles import LEAD_CHARS

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

# What the forkserver imports before forking the workers: each worker then shares these
# modules' pages with it instead of importing them again (`worker.extract_with_facts`
# imports the extraction and text modules when it first runs).
PRELOAD = [
    "veille.collect.worker",
    "veille.collect.extract",
    "veille.collect.clean",
    "veille.collect.stories",
    "veille.collect.storykeys",
    "veille.text.french",
    "veille.text.fingerprint",
    "trafilatura",
    "charset_normalizer",
]


def process_pool(settings: Settings) -> ProcessPoolExecutor:
    import multiprocessing  # with concurrent.futures.process: only cycles that extract
    from concurrent.futures import ProcessPoolExecutor

    workers = settings.extract_workers or os.cpu_count() or 1
    # forkserver: forking a process that runs threads (uvicorn, APScheduler) can deadlock.
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def start_threads(pool: ThreadPoolExecutor, count: int) -> None:
    """Start `count` threads of a new pool now, before any request runs. The pool starts
    a thread per submission, and the submitting thread waits for each new one to run:
    started while the first requests were already answering, 64 threads cost the cycle's
    main thread 0.3–0.6 s on a loaded machine."""
    if count <= 0:
        return
    started = threading.Barrier(count + 1)
    for _ in range(count):  # each holds its thread until all are up, so none is reused
        pool.submit(started.wait, THREAD_START_TIMEOUT)
    with contextlib.suppress(threading.BrokenBarrierError):  # then they start as needed
        started.wait(THREAD_START_TIMEOUT)


# Seconds start_threads waits for the threads: past it, the cycle goes on (they start as
# the pool needs them, as before).
THREAD_START_TIMEOUT = 10.0


class Pools:
    """The cycle's fetcher and pools; closes what it made itself (not a caller's fetcher
    nor a caller's extractor) when the `with` block ends."""

    def __init__(
        self, settings: Settings, fetcher: Fetcher | None, extractor: Executor | None
    ) -> None:
        heap.limit_arenas()  # before the threads below allocate (collect/heap.py)
        self.settings = settings
        self.own_fetcher = fetcher is None
        self.fetcher = fetcher or Fetcher(FetchPolicy.from_settings(settings))
        self.own_pool = extractor is None
        self.pool: Executor | None = extractor
        self.io = ThreadPoolExecutor(
            max_workers=settings.concurrency, thread_name_prefix="veille-io"
        )
        policy = self.fetcher.policy
        self.hosts = HostQueue(self.io, policy.per_host_concurrency, delay=policy.per_host_delay)
        self.done: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()
        self.pages_asked = 0  # pages this cycle asked for: the pool starts past the threshold
        # Until then, pages are extracted one at a time in this process's own thread (not in
        # every I/O thread at once: they would fight over the GIL with the storing thread).
        self.inline = ThreadPoolExecutor(max_workers=1, thread_name_prefix="veille-extract")

    def fetch_listings(self, sources: Sequence[SourceState], now: datetime) -> list[Future[Any]]:
        """Fetch and parse every listing of a cycle (futures in the order of `sources`):
        the I/O threads are started first, then every listing is queued at once and each
        host's first one handed over (`HostQueue.submit_all`)."""
        start_threads(self.io, min(self.settings.concurrency, len(sources)))
        tasks = [(s.url, partial(fetch_listing, self.fetcher, s, now)) for s in sources]
        futures = self.hosts.submit_all(tasks)
        for fut in futures:
            fut.add_done_callback(self.done.put)
        return futures

    def fetch_page(self, item: NewArticle) -> Future[Any]:
        """Fetch and extract an entry's page; pages go before listings (they feed the
        extraction workers, which otherwise idle)."""
        self.pages_asked += 1
        if (
            self.pool is None
            and self.own_pool
            and self.pages_asked > self.settings.extract_pool_min_pages
        ):
            self.pool = process_pool(self.settings)
        fut = self.hosts.submit(item.link, partial(self._page, item), urgent=True)
        fut.add_done_callback(self.done.put)
        return fut

    def _page(self, item: NewArticle) -> PageOutcome:
        """In an I/O thread: extraction goes to the process pool if it runs when the page's
        turn comes (pages queued before it started go to it too), else to `inline`."""
        return fetch_page(
            self.fetcher,
            self.pool or self.inline,
            item.link,
            has_date=item.entry.published_at is not None,
            has_author=bool(item.entry.author),
            title=item.entry.title,
            lead_chars=LEAD_CHARS,  # the lead the story index keeps (its names are read there)
            summary_html=item.entry.summary_html,
        )

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
        self.inline.shutdown(wait=True, cancel_futures=True)
        if self.own_pool and self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        if self.own_fetcher:
            self.fetcher.close()
        heap.trim()  # the cycle's pages and parse trees, freed: back to the system
