"""The one orchestrator of collection: fetch → parse → decide → extract → store.

`veille collect`, `veille demo` and the scheduler's collection job call `refresh_due`,
which runs one `Cycle` with its workers (`pools.py`). Only the main thread writes to the
database: a source's new articles are committed *with* its new validators (ETag,
Last-Modified), in a transaction that may hold several ready sources (fewer commits, one
classification call): a crash before the commit leaves each of them as it was, so the
next cycle fetches them in full and the store ends as a clean cycle would leave it.

Several collectors may share one database: a cycle works only on the sources it claimed
(`db.leases`), renews its leases while it runs and clears each with the source's result.

A cycle pays for what its feeds bring: the store step of new pages, the story index (a
fortnight of fingerprints, their names indexed), the classifier and their modules (numpy,
scikit-learn, the extraction) come with the first changed listing or page. A cycle in which
every feed answers 304 loads none of them and saves its sources' health in one statement
per transaction (`unchanged.save_unchanged`), on the Core tables of `db/schema.py`.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from veille.collect import unchanged
from veille.collect.decide import Decision, Known, NewArticle, decide, entry_keys, keyed
from veille.collect.fetcher import Fetcher
from veille.collect.pools import Pools
from veille.collect.summary import CycleSummary, SourceReport
from veille.collect.worker import Listing, PageOutcome, SourceState
from veille.config import Settings
from veille.db import collection as collection_db
from veille.db import leases as lease_db
from veille.db.engine import transaction

if TYPE_CHECKING:  # imported by the steps that use them: see the module docstring
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from veille.classify.classifier import Classifier
    from veille.collect.store import PageStored
    from veille.collect.storyindex import StoryIndex
    from veille.sources import FeedsConfig  # (YAML and its models: only when it changed)

__all__ = ["CollectContext", "Cycle", "CycleSummary", "refresh_due"]

log = logging.getLogger(__name__)

ProgressFn = Callable[[str, str], None]


@dataclass
class CollectContext:
    """What a cycle needs; built by the CLI or the scheduler, injectable in tests."""

    settings: Settings
    sessions: Callable[[], Session]  # a sessionmaker, or `db.engine.LazySessions`
    config: FeedsConfig | None = None
    fetcher: Fetcher | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    classifier: Classifier | None = None  # loaded from the store when None…
    # …or, when given, by this on first need (the CLI: a cycle of unchanged feeds then
    # never imports scikit-learn nor unpickles a model).
    classifier_loader: Callable[[], Classifier] | None = None
    sync: bool = True  # sync `config` into the sources table first (once per tick is enough)
    # Given, the claim runs on a Core connection (first requests before the ORM is imported,
    # `db.engine.LazySessions`); a lease is not shown, so it need not move the data version.
    engine: Engine | None = None


def refresh_due(
    ctx: CollectContext,
    *,
    keys: list[str] | None = None,
    force: bool = False,
    progress: ProgressFn | None = None,
    extractor: Executor | None = None,
    limit: int | None = None,
) -> CycleSummary:
    """One collection cycle over at most `limit` due sources (all: `force`) nobody holds."""
    try:
        cycle = Cycle.start(ctx, keys=keys, force=force, progress=progress, limit=limit)
    except IntegrityError:  # another collector inserted the same new sources first
        cycle = Cycle.start(ctx, keys=keys, force=force, progress=progress, limit=limit)
    if not cycle.states:  # nothing due: no workers started, no cycle recorded
        cycle.summary.finished_at = ctx.clock()
        return cycle.summary
    try:
        with Pools(ctx.settings, ctx.fetcher, extractor) as pools:
            cycle.run(pools)
    finally:  # a cycle that stops early gives its sources back at once (a dead one cannot)
        cycle.give_back()
    cycle.finish()
    return cycle.summary


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
SOURCE_WAIT = 0.25  # how long ready sources wait for others to be saved with (`_sources_due`)
MAX_PAGES_PER_TRANSACTION = 128


@dataclass(eq=False)
class Cycle:
    """One collection cycle, in the main thread (the only one that writes):

        Cycle.start(ctx)             sync feeds.yaml, claim the due sources
        run(pools):
            fetch and parse each due source's listing                     (threads)
            as work completes, never waiting for all of it:
                listings_arrived()   look their entries up (one query), decide each;
                                     fetch and extract each new page once, for the first
                                     source that wants it, its owner   (threads, processes)
                pages_arrived()      store a batch of pages as articles, classified (one
                                     transaction); a source whose pages are all stored is
                                     ready
                sources_done()       link a batch of ready sources' entries, save their
                                     health and validators (one transaction): validators
                                     last, so a crash leaves each source as it was
        finish()                     record the summary

    A batch whose transaction fails is stored again one by one, so a failing page or
    source fails alone; a page that fails fails the sources that want it, which keep their
    old validators.
    """

    ctx: CollectContext
    now: datetime
    started: float  # time.monotonic() when the cycle started, for `summary.seconds`
    states: list[SourceState]  # the due sources
    owner: str  # this cycle's id on the leases of its sources (`db.leases`)
    lease: timedelta
    progress: ProgressFn | None = None
    index: StoryIndex | None = None  # read with the first page to store (`_story_index`)
    classifier: Classifier | None = None  # the context's, else loaded on first need
    renew_at: float = field(init=False, default=0.0)  # time.monotonic() of the next renewal
    summary: CycleSummary = field(init=False)
    # Work on its way: a listing's future → its source; a page's future → its URL key.
    listing_futures: dict[Future[Any], SourceState] = field(init=False, default_factory=dict)
    page_futures: dict[Future[Any], str] = field(init=False, default_factory=dict)
    listings_in: list[Listing] = field(init=False, default_factory=list)  # not yet decided
    # Fetched pages waiting to be stored, and when the oldest of them came in.
    arrived: deque[tuple[str, PageOutcome]] = field(init=False, default_factory=deque)
    arrived_since: float = field(init=False, default=0.0)
    # A page is fetched once per cycle, for the first source whose entry wants it (its
    # owner); its future is dropped once handled, so its text is freed once stored.
    owners: dict[str, tuple[int, NewArticle]] = field(init=False, default_factory=dict)
    # Page key → its article, or why storing it failed.
    stored: dict[str, PageStored | str] = field(init=False, default_factory=dict)
    # Decided sources not yet done: their listing, decision and the page keys they want.
    waiting: dict[str, tuple[Listing, Decision, set[str]]] = field(init=False, default_factory=dict)
    # Which sources wait for which page, and how many pages each still waits for.
    waiters: dict[str, set[str]] = field(init=False, default_factory=dict)
    outstanding: dict[str, int] = field(init=False, default_factory=dict)
    ready: list[str] = field(init=False, default_factory=list)  # in the order they got so
    ready_since: float = field(init=False, default=0.0)  # when the oldest of them got so

    def __post_init__(self) -> None:
        self.summary = CycleSummary(started_at=self.now)
        self.renew_at = self.started + self.lease.total_seconds() / 3

    @classmethod
    def start(
        cls,
        ctx: CollectContext,
        *,
        keys: list[str] | None,
        force: bool,
        progress: ProgressFn | None,
        limit: int | None = None,
    ) -> Cycle:
        """Claim the due sources nobody holds (a short transaction: other collectors wait
        for it on SQLite). The claimed sources' validators cannot change under a lease; the
        story index and the classifier are read when the first page is to be stored."""
        started = time.monotonic()
        now = ctx.clock()
        owner = lease_db.collector_id()
        lease = timedelta(seconds=ctx.settings.collect_lease())
        if ctx.config is not None and ctx.sync:
            from veille.db import sources as source_db

            with transaction(ctx.sessions) as session:
                source_db.sync_sources(session, ctx.config.sources, now)
        # Starts by writing: SQLite waits its turn.
        with ctx.engine.begin() if ctx.engine is not None else transaction(ctx.sessions) as bind:
            due = lease_db.claim_due(bind, owner, now, lease, keys=keys, force=force, limit=limit)
            states = [SourceState.of(r) for r in due]
        if progress:
            progress("start", str(len(states)))
        return cls(ctx, now, started, states, owner, lease, progress, classifier=ctx.classifier)

    def run(self, pools: Pools) -> None:
        """Hand every listing to the pools, then handle their work as it completes until
        every source is done: the pools keep fetching and extracting while this thread
        decides and stores."""
        listings = pools.fetch_listings(self.states, self.now)  # every host's first at once
        self.listing_futures.update(zip(listings, self.states, strict=True))
        while self.listing_futures or self.waiting:
            self._keep_leases()
            if not self._sources_due() and not self._pages_due():
                # The next completion, or none once pages or sources are due or leases need renewing
                now = time.monotonic()
                until = self.renew_at - now
                if self.arrived:
                    until = min(until, PAGE_WAIT - (now - self.arrived_since))
                if self.ready:
                    until = min(until, SOURCE_WAIT - (now - self.ready_since))
                fut = pools.next_done(max(0.0, until))
                if fut is not None:
                    self._take(fut)
            while (fut := pools.done_now()) is not None:  # what completed meanwhile
                self._take(fut)
            if self.listings_in:
                self.listings_arrived(self.listings_in, pools)
                self.listings_in.clear()
            if self._pages_due():
                take = min(len(self.arrived), MAX_PAGES_PER_TRANSACTION)
                self.pages_arrived([self.arrived.popleft() for _ in range(take)])
            if self._sources_due():
                batch = self.ready[:MAX_SOURCES_PER_TRANSACTION]
                del self.ready[:MAX_SOURCES_PER_TRANSACTION]
                self.sources_done(batch)

    def _take(self, fut: Future[Any]) -> None:
        """File a completed future: a listing to decide, or a page to store."""
        if fut in self.listing_futures:
            del self.listing_futures[fut]
            listing = fut.result()
            assert isinstance(listing, Listing)
            self.listings_in.append(listing)
        else:
            if not self.arrived:
                self.arrived_since = time.monotonic()
            self.arrived.append((self.page_futures.pop(fut), fut.result()))

    def _sources_due(self) -> bool:
        """Ready sources are saved together once a transaction's worth is ready, the oldest
        waited SOURCE_WAIT or no listing is on its way (a cycle of 500 304s, saved as they
        came: 9–45 commits, each ~3 ms of this thread's CPU taken from the I/O threads)."""
        return bool(self.ready) and (
            len(self.ready) >= MAX_SOURCES_PER_TRANSACTION
            or not self.listing_futures
            or time.monotonic() - self.ready_since >= SOURCE_WAIT
        )

    def _make_ready(self, key: str) -> None:
        if not self.ready:
            self.ready_since = time.monotonic()
        self.ready.append(key)

    def _pages_due(self) -> bool:
        return bool(self.arrived) and (
            len(self.arrived) >= PAGE_BATCH
            or not self.page_futures  # no other page on its way
            or time.monotonic() - self.arrived_since >= PAGE_WAIT
        )

    def listings_arrived(self, batch: list[Listing], pools: Pools) -> None:
        """Decide what is new in the listings that came in together: one lookup of their
        URL keys (feeds relist each other's entries), then one decision each."""
        readable = [
            (it.source, it.feed) for it in batch if it.feed is not None and it.error is None
        ]
        known: dict[str, dict[str, Known]] | Exception = {}
        keys: dict[str, dict[str, str]] = {}  # each listing's links → URL keys, made once
        if readable:
            from veille.collect.store import known_for
            from veille.text.urls import url_key

            try:
                keys = {src.key: entry_keys(feed.entries, url_key) for src, feed in readable}
                with self.ctx.sessions() as session:
                    found = known_for(session, [(src.id, keys[src.key]) for src, _ in readable])
                known = {src.key: hits for (src, _), hits in zip(readable, found, strict=True)}
            except Exception as exc:  # the store is unreadable: these listings fail
                log.exception("looking up %d listings failed", len(readable))
                known = exc
        for listing in batch:
            self._decide(
                listing,
                known if isinstance(known, Exception) else known.get(listing.source.key, {}),
                keys.get(listing.source.key, {}),
                pools,
            )

    def _decide(
        self,
        listing: Listing,
        known: Mapping[str, Known] | Exception,
        keys: Mapping[str, str],
        pools: Pools,
    ) -> None:
        """Decide one listing, fetch the pages it is the first to want, and make its source
        wait for the pages it wants that are not stored yet."""
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
                    key_of=keyed(keys),
                    max_new=self.ctx.settings.max_articles_per_source,
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
                if item.url_key not in self.owners:
                    self.owners[item.url_key] = (src.id, item)
                    self.page_futures[pools.fetch_page(item)] = item.url_key
        self.waiting[src.key] = (listing, decision or Decision(), wanted)
        blockers = wanted - self.stored.keys()
        if not blockers:
            self._make_ready(src.key)
        else:
            self.outstanding[src.key] = len(blockers)
            for k in blockers:
                self.waiters.setdefault(k, set()).add(src.key)

    def pages_arrived(self, batch: list[tuple[str, PageOutcome]]) -> None:
        """Store fetched pages as articles, then make ready the sources that waited only
        for them."""
        from veille.collect.store import PendingClassification, WantedPage, store_pages

        wanted = [WantedPage(*self.owners[key], page) for key, page in batch]
        # Wanted pages are new URLs: they almost always make new articles. The loaders run
        # their own transactions, so they must run before this one (SQLite: one writer).
        clf = self._current_classifier()
        index = self._story_index()
        mark = index.mark()
        try:
            with transaction(self.ctx.sessions) as session:
                pending = PendingClassification()
                done = store_pages(session, wanted, index, self.now, pending)
                pending.apply(session, clf, index)
        except Exception as exc:
            index.rollback(mark)
            if len(batch) > 1:  # find the culprit: the others are stored one by one
                for one in batch:
                    self.pages_arrived([one])
                return
            log.exception("storing the article page %s failed", batch[0][0])
            done = {}
            self.stored[batch[0][0]] = f"storage error: {exc!r}"
        self.stored.update(done)
        for key, _ in batch:
            for src_key in sorted(self.waiters.pop(key, ())):
                self.outstanding[src_key] -= 1
                if self.outstanding[src_key] == 0:
                    del self.outstanding[src_key]
                    self._make_ready(src_key)

    def sources_done(self, batch: list[str]) -> None:
        """Link ready sources' entries to their articles and save their health and
        validators; a source one of whose pages failed to store fails, validators kept."""
        items = [self.waiting[key] for key in batch]
        failed: dict[str, str] = {}
        for key, (_, _, wanted) in zip(batch, items, strict=True):
            errors = [e for k in sorted(wanted) if isinstance(e := self.stored[k], str)]
            if errors:
                failed[key] = errors[0]
        if failed:  # an article of theirs is not stored: keep their validators
            for key, (listing, _, _) in zip(batch, items, strict=True):
                if key in failed:
                    self._record_failure(listing.source, failed[key])
                    self._report(key, SourceReport(key, status="failed", error=failed[key]))
            batch = [key for key in batch if key not in failed]
            items = [self.waiting[key] for key in batch]
            if not batch:
                return
        try:
            with transaction(self.ctx.sessions) as session:
                quiet = [listing for listing, _, _ in items if unchanged.is_unchanged(listing)]
                done = {r.key: r for r in unchanged.save_unchanged(session, quiet, self.now)}
                changed = [
                    (listing, decision, self._pages_of(wanted))
                    for listing, decision, wanted in items
                    if listing.source.key not in done
                ]
                if changed:
                    from veille.collect.store import store_listings

                    done.update((r.key, r) for r in store_listings(session, changed, self.now))
                ids = [listing.source.id for listing, _, _ in items]
                lease_db.release(session, self.owner, ids)  # with the result, not before
            reports = [done[key] for key in batch]
        except Exception as exc:
            if len(batch) > 1:  # find the culprit: the others are stored one by one
                for key in batch:
                    self.sources_done([key])
                return
            key = batch[0]
            log.exception("storing source %s failed", key)
            error = f"storage error: {exc!r}"
            reports = [SourceReport(key=key, status="failed", error=error)]
            self._record_failure(items[0][0].source, error)
        for key, report in zip(batch, reports, strict=True):
            self._report(key, report)

    def _pages_of(self, wanted: set[str]) -> dict[str, PageStored]:
        """What the stored pages a source waited for became (all stored by now)."""
        return {k: v for k in wanted if not isinstance(v := self.stored[k], str)}

    def _keep_leases(self) -> None:
        """Renew the leases every third of their length: only a dead collector loses them."""
        if time.monotonic() < self.renew_at:
            return
        self.renew_at = time.monotonic() + self.lease.total_seconds() / 3
        try:
            with transaction(self.ctx.sessions) as session:
                lease_db.renew(session, self.owner, self.ctx.clock(), self.lease)
        except Exception:  # the next renewal retries; the lease is long enough for that
            log.exception("renewing the leases of %s failed", self.owner)

    def give_back(self) -> None:
        """Clear the leases this cycle still holds (the sources it did not finish)."""
        try:
            with transaction(self.ctx.sessions) as session:
                lease_db.release(session, self.owner)
        except Exception:  # they come back when the lease expires
            log.exception("giving back the leases of %s failed", self.owner)

    def finish(self) -> None:
        """Rescore the stories widened (`widened.py`), then record the cycle for `veille
        sources list`, once its workers are shut down."""
        from veille.collect.widened import rescore_widened

        rescore_widened(self.ctx.sessions, self.owner)
        self.summary.finished_at = self.ctx.clock()
        self.summary.seconds = time.monotonic() - self.started
        with transaction(self.ctx.sessions) as session:
            collection_db.record_cycle(
                session, self.now, self.summary.finished_at, self.summary.as_dict()
            )

    def _current_classifier(self) -> Classifier | None:
        """The classifier, loaded on first need (by the caller's loader if it gave one): a
        cycle without new articles (every feed unchanged) never loads a model."""
        if self.classifier is None:
            if self.ctx.classifier_loader is not None:
                self.classifier = self.ctx.classifier_loader()
            else:
                from veille.classify.service import load_classifier

                with transaction(self.ctx.sessions) as session:
                    self.classifier = load_classifier(session, self.ctx.config)
        return self.classifier

    def _story_index(self) -> StoryIndex:
        """The recent articles new pages are compared with, read on first need: a cycle
        without new pages never reads a fortnight of fingerprints nor indexes their names."""
        if self.index is None:
            from veille.collect.store import STORY_WINDOW
            from veille.collect.storyindex import StoryIndex
            from veille.db.articles import recent_fingerprints

            with transaction(self.ctx.sessions) as session:
                self.index = StoryIndex(recent_fingerprints(session, self.now - STORY_WINDOW))
        return self.index

    def _report(self, key: str, report: SourceReport) -> None:
        del self.waiting[key]
        self.summary.sources.append(report)
        if self.progress:
            self.progress("done", key)

    def _record_failure(self, src: SourceState, error: str) -> None:
        try:
            with transaction(self.ctx.sessions) as session:
                collection_db.record_source_failure(session, src.id, error, self.now)
                lease_db.release(session, self.owner, [src.id])
        except Exception:
            log.exception("could not record the failure of %s", src.key)
