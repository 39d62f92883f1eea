"""The one orchestrator of collection: fetch → parse → decide → extract → store.

The scheduler, the CLI and the desk all call `refresh_due`. Network work runs in a thread
pool sharing one HTTP client (measured faster than asyncio here); extraction is CPU-bound
and runs in a process pool. Only this module's main thread writes to the database: a
source's new articles are committed *with* its new validators (ETag, Last-Modified), in a
transaction that may hold several ready sources (fewer commits, one classification call):
a crash before the commit leaves each of them as it was, so the next cycle fetches them in
full and the store ends as a clean cycle would leave it.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import (
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
)
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from veille.classify.classifier import Classifier
from veille.classify.service import load_classifier
from veille.collect import clean
from veille.collect.decide import Decision, Known, NewArticle, decide
from veille.collect.fetcher import Fetcher, FetchPolicy
from veille.collect.hostqueue import HostQueue
from veille.collect.store import (
    STORY_WINDOW,
    PageStored,
    PendingClassification,
    SourceReport,
    WantedPage,
    known_for,
    store_listing,
    store_pages,
)
from veille.collect.storyindex import StoryIndex
from veille.collect.worker import (
    Listing,
    PageOutcome,
    SourceState,
    fetch_listing,
    fetch_page,
)
from veille.config import Settings
from veille.db import articles as article_db
from veille.db import sources as source_db
from veille.db.engine import transaction
from veille.db.tables import SourceRow
from veille.sources import FeedsConfig

__all__ = ["CollectContext", "CycleSummary", "refresh_due"]

log = logging.getLogger(__name__)

ProgressFn = Callable[[str, str], None]


@dataclass
class CycleSummary:
    started_at: datetime
    finished_at: datetime | None = None
    sources: list[SourceReport] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for s in self.sources if s.status == status)

    @property
    def new_articles(self) -> int:
        return sum(s.new for s in self.sources)

    @property
    def duplicates_merged(self) -> int:
        return sum(s.relisted + s.merged for s in self.sources)

    def as_dict(self) -> dict[str, object]:
        return {
            "sources_ok": self.count("ok"),
            "sources_not_modified": self.count("not_modified"),
            "sources_failed": self.count("failed"),
            "new_articles": self.new_articles,
            "duplicates_merged": self.duplicates_merged,
            "partial_articles": sum(s.partial for s in self.sources),
            "seconds": round(self.seconds, 3),
            "failures": {s.key: s.error for s in self.sources if s.status == "failed"},
        }


@dataclass
class CollectContext:
    """What a cycle needs; built by the CLI or the scheduler, injectable in tests."""

    settings: Settings
    sessions: sessionmaker[Session]
    config: FeedsConfig | None = None
    fetcher: Fetcher | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    classifier: Classifier | None = None  # loaded from the store when None…
    # …or, when given, by this on first need (the CLI: a cycle of unchanged feeds then
    # never imports scikit-learn nor unpickles a model).
    classifier_loader: Callable[[], Classifier] | None = None


# --- the cycle ----------------------------------------------------------------------------


def _snapshot(row: SourceRow) -> SourceState:
    return SourceState(
        id=row.id,
        key=row.key,
        url=row.url,
        kind=row.kind,
        selector=row.selector,
        interval=row.interval,
        etag=row.etag,
        last_modified=row.last_modified,
        consecutive_failures=row.consecutive_failures,
    )


def _process_pool(settings: Settings) -> ProcessPoolExecutor:
    workers = settings.extract_workers or os.cpu_count() or 1
    # forkserver: forking a process that runs threads (uvicorn, APScheduler) can deadlock.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method))


# Sources stored in one transaction at most: their pages are stored already, so batching
# only saves per-transaction work (commit, source rows); the cap bounds what a failing
# batch has to redo source by source.
MAX_SOURCES_PER_TRANSACTION = 64
# Pages are stored as they arrive, in transactions of up to MAX_PAGES_PER_TRANSACTION: a
# transaction is started once PAGE_BATCH pages wait, when the oldest has waited PAGE_WAIT
# seconds, or when no other page is on its way. Batches amortise the commit and the
# classifier's per-call cost; the wait bounds how late a page is stored.
PAGE_BATCH = 32
PAGE_WAIT = 0.25
MAX_PAGES_PER_TRANSACTION = 128


def refresh_due(
    ctx: CollectContext,
    *,
    keys: list[str] | None = None,
    force: bool = False,
    progress: ProgressFn | None = None,
    extractor: Executor | None = None,
) -> CycleSummary:
    """Run one collection cycle over the due sources (all of them with `force`)."""
    started = time.monotonic()
    now = ctx.clock()
    summary = CycleSummary(started_at=now)
    with transaction(ctx.sessions) as session:
        if ctx.config is not None:
            source_db.sync_sources(session, ctx.config.sources, now)
        states = [_snapshot(r) for r in source_db.due_sources(session, now, keys=keys, force=force)]
        index = StoryIndex(article_db.recent_fingerprints(session, now - STORY_WINDOW))
        classifier = ctx.classifier
        if classifier is None and ctx.classifier_loader is None and states:
            classifier = load_classifier(session, ctx.config)
    if progress:
        progress("start", str(len(states)))
    if not states:
        summary.finished_at = ctx.clock()
        return summary

    def current_classifier() -> Classifier | None:
        """The classifier, loaded on first need when the caller gave a loader: a cycle
        without new articles (every feed unchanged) never loads a model."""
        nonlocal classifier
        if classifier is None and ctx.classifier_loader is not None:
            classifier = ctx.classifier_loader()
        return classifier

    own_fetcher = ctx.fetcher is None
    fetcher = ctx.fetcher or Fetcher(FetchPolicy.from_settings(ctx.settings))
    own_pool = extractor is None
    pool: Executor | None = extractor
    io = ThreadPoolExecutor(max_workers=ctx.settings.concurrency, thread_name_prefix="veille-io")
    hosts = HostQueue(io, fetcher.policy.per_host_concurrency)
    # Completed futures arrive on one queue (`wait()` over thousands of pending futures
    # costs O(pending) per call in the main thread, which is the cycle's bottleneck).
    events: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()
    try:
        listing_futures: dict[Future[Any], SourceState] = {}
        for s in states:
            fut = hosts.submit(s.url, partial(fetch_listing, fetcher, s, now))
            listing_futures[fut] = s
            fut.add_done_callback(events.put)
        # A page is fetched once per cycle, for the first source whose entry wants it (its
        # owner); its future is dropped once handled, so its text is freed once stored.
        owners: dict[str, tuple[int, NewArticle]] = {}
        page_keys: dict[Future[Any], str] = {}
        arrived: deque[tuple[str, PageOutcome]] = deque()  # fetched, waiting to be stored
        arrived_since = 0.0  # when the oldest of `arrived` came in
        stored: dict[str, PageStored | str] = {}  # page key → article, or why storing failed
        waiting: dict[str, tuple[Listing, Decision, set[str]]] = {}
        # Which sources wait for which page, and how many pages each still waits for.
        waiters: dict[str, set[str]] = {}
        outstanding: dict[str, int] = {}
        listings_left = len(states)
        ready: list[str] = []  # sources whose pages are all stored, in the order they got so

        def store_page_batch(batch: list[tuple[str, PageOutcome]]) -> None:
            wanted = [WantedPage(*owners[key], page) for key, page in batch]
            # Wanted pages are new URLs: they almost always make new articles. The loader
            # runs its own transaction, so it must run before this one (SQLite: one writer).
            clf = current_classifier()
            mark = index.mark()
            try:
                with transaction(ctx.sessions) as session:
                    pending = PendingClassification()
                    done = store_pages(session, wanted, index, now, pending)
                    pending.apply(session, clf, index)
            except Exception as exc:
                index.rollback(mark)
                if len(batch) > 1:  # find the culprit: the others are stored one by one
                    for one in batch:
                        store_page_batch([one])
                    return
                log.exception("storing the article page %s failed", batch[0][0])
                done = {}
                stored[batch[0][0]] = f"storage error: {exc!r}"
            stored.update(done)
            for key, _ in batch:
                for src_key in sorted(waiters.pop(key, ())):
                    outstanding[src_key] -= 1
                    if outstanding[src_key] == 0:
                        del outstanding[src_key]
                        ready.append(src_key)

        def store_batch(batch: list[str]) -> None:
            items = [waiting[key] for key in batch]
            failed: dict[str, str] = {}
            for key, (_, _, wanted) in zip(batch, items, strict=True):
                errors = [e for k in sorted(wanted) if isinstance(e := stored[k], str)]
                if errors:
                    failed[key] = errors[0]
            if failed:  # an article of theirs is not stored: keep their validators
                for key, (listing, _, _) in zip(batch, items, strict=True):
                    if key in failed:
                        _record_failure(ctx, listing.source, failed[key], now)
                        report_done(key, SourceReport(key, status="failed", error=failed[key]))
                batch = [key for key in batch if key not in failed]
                items = [waiting[key] for key in batch]
                if not batch:
                    return
            try:
                with transaction(ctx.sessions) as session:
                    # One query puts the batch's source rows in the identity map, where
                    # store_listing's `session.get` finds them (the map holds weak
                    # references: `rows` keeps them there until the commit).
                    ids = [listing.source.id for listing, _, _ in items]
                    rows = session.scalars(select(SourceRow).where(SourceRow.id.in_(ids))).all()
                    pending = PendingClassification()
                    reports = [
                        store_listing(
                            session,
                            listing,
                            decision,
                            {k: v for k in wanted if isinstance(v := stored[k], PageStored)},
                            now,
                            pending,
                        )
                        for listing, decision, wanted in items
                    ]
                    pending.apply(session, None, index)
                    del rows
            except Exception as exc:
                if len(batch) > 1:  # find the culprit: the others are stored one by one
                    for key in batch:
                        store_batch([key])
                    return
                key = batch[0]
                log.exception("storing source %s failed", key)
                error = f"storage error: {exc!r}"
                reports = [SourceReport(key=key, status="failed", error=error)]
                _record_failure(ctx, items[0][0].source, error, now)
            for key, report in zip(batch, reports, strict=True):
                report_done(key, report)

        def report_done(key: str, report: SourceReport) -> None:
            del waiting[key]
            summary.sources.append(report)
            if progress:
                progress("done", key)

        def on_listings(batch: list[Listing]) -> None:
            """Decide what is new in the listings that came in together: one lookup of
            their URL keys (feeds relist each other's entries), then one decision each."""
            readable = [
                (it.source, it.feed) for it in batch if it.feed is not None and it.error is None
            ]
            known: dict[str, dict[str, Known]] | Exception = {}
            if readable:
                try:
                    with ctx.sessions() as session:
                        found = known_for(session, [(src.id, feed) for src, feed in readable])
                    known = {src.key: hits for (src, _), hits in zip(readable, found, strict=True)}
                except Exception as exc:  # the store is unreadable: these listings fail
                    log.exception("looking up %d listings failed", len(readable))
                    known = exc
            for listing in batch:
                on_listing(
                    listing,
                    known if isinstance(known, Exception) else known.get(listing.source.key, {}),
                )

        def on_listing(listing: Listing, known: Mapping[str, Known] | Exception) -> None:
            nonlocal pool
            src = listing.source
            decision = None
            wanted: set[str] = set()
            if listing.feed is not None and listing.error is None:
                try:
                    if isinstance(known, Exception):
                        raise known
                    decision = decide(
                        listing.feed.entries,
                        known=known,
                        key_of=clean.url_key,
                        max_new=ctx.settings.max_articles_per_source,
                    )
                except Exception as exc:
                    log.exception("deciding source %s failed", src.key)
                    listing = replace(
                        listing,
                        feed=None,
                        error=f"internal error: {exc!r}",
                        error_kind="internal",
                    )
            if decision is not None:
                for item in decision.new:
                    wanted.add(item.url_key)
                    if item.url_key not in owners:
                        if pool is None and own_pool:
                            pool = _process_pool(ctx.settings)
                        owners[item.url_key] = (src.id, item)
                        page = hosts.submit(
                            item.link,
                            partial(
                                fetch_page,
                                fetcher,
                                pool,
                                item.link,
                                has_date=item.entry.published_at is not None,
                                has_author=bool(item.entry.author),
                                title=item.entry.title,
                            ),
                            urgent=True,
                        )
                        page_keys[page] = item.url_key
                        page.add_done_callback(events.put)
            waiting[src.key] = (listing, decision or Decision(), wanted)
            blockers = wanted - stored.keys()
            if not blockers:
                ready.append(src.key)
            else:
                outstanding[src.key] = len(blockers)
                for k in blockers:
                    waiters.setdefault(k, set()).add(src.key)

        listings_in: list[Listing] = []  # fetched, not yet decided

        def handle(fut: Future[Any]) -> None:
            nonlocal listings_left, arrived_since
            if fut in listing_futures:
                listings_left -= 1
                del listing_futures[fut]
                listing = fut.result()
                assert isinstance(listing, Listing)
                listings_in.append(listing)
            else:
                if not arrived:
                    arrived_since = time.monotonic()
                arrived.append((page_keys.pop(fut), fut.result()))

        def pages_due() -> bool:
            return bool(arrived) and (
                len(arrived) >= PAGE_BATCH
                or not page_keys  # no other page on its way
                or time.monotonic() - arrived_since >= PAGE_WAIT
            )

        while listings_left or waiting:
            if not ready and not pages_due():
                # The next completion, or nothing once the waiting pages are due.
                waited = time.monotonic() - arrived_since
                with contextlib.suppress(queue.Empty):
                    handle(events.get(timeout=max(0.0, PAGE_WAIT - waited) if arrived else None))
            while True:  # take everything that completed meanwhile, without blocking
                try:
                    handle(events.get_nowait())
                except queue.Empty:
                    break
            if listings_in:
                on_listings(listings_in)
                listings_in.clear()
            if pages_due():
                take = min(len(arrived), MAX_PAGES_PER_TRANSACTION)
                store_page_batch([arrived.popleft() for _ in range(take)])
            if ready:
                batch = ready[:MAX_SOURCES_PER_TRANSACTION]
                del ready[:MAX_SOURCES_PER_TRANSACTION]
                store_batch(batch)
    finally:
        hosts.cancel_all()
        io.shutdown(wait=True, cancel_futures=True)
        if own_pool and pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        if own_fetcher:
            fetcher.close()
    summary.finished_at = ctx.clock()
    summary.seconds = time.monotonic() - started
    with transaction(ctx.sessions) as session:
        from veille.db.tables import CycleRow

        session.add(
            CycleRow(started_at=now, finished_at=summary.finished_at, summary=summary.as_dict())
        )
    return summary


def _record_failure(ctx: CollectContext, src: SourceState, error: str, now: datetime) -> None:
    try:
        with transaction(ctx.sessions) as session:
            row = session.get(SourceRow, src.id)
            if row is not None:
                row.last_status = "error"
                row.last_error = error
                row.last_fetched_at = now
                row.consecutive_failures += 1
                row.next_fetch_at = now + timedelta(minutes=row.interval)
    except Exception:
        log.exception("could not record the failure of %s", src.key)
