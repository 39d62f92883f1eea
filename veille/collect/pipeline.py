"""The one orchestrator of collection: fetch → parse → decide → extract → store.

The scheduler, the CLI and the desk all call `refresh_due`. Network work runs in a thread
pool sharing one HTTP client (measured faster than asyncio here); extraction is CPU-bound
and runs in a process pool. Only this module's main thread writes to the database, one
transaction per source holding its new articles *and* its new validators (ETag,
Last-Modified): a crash before the commit leaves the source as it was, so the next cycle
fetches it in full and the store ends as a clean cycle would leave it.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session, sessionmaker

from veille.classify.classifier import Classifier
from veille.classify.service import classify_articles, load_classifier, rescore_coverage
from veille.collect import clean, stories
from veille.collect.decide import Decision, Known, decide
from veille.collect.extract import extract_article, summary_from_text
from veille.collect.feeds import parse_feed
from veille.collect.fetcher import Fetcher, FetchPolicy
from veille.collect.httpcache import next_interval, parse_max_age, publish_gaps
from veille.collect.pages import listing_entries, parse_sitemap
from veille.collect.types import Extracted, FetchResult, ParsedEntry, ParsedFeed
from veille.config import Settings
from veille.db import articles as article_db
from veille.db import sources as source_db
from veille.db.engine import transaction
from veille.db.tables import SourceRow
from veille.errors import FetchError, ParseError
from veille.sources import FeedsConfig

log = logging.getLogger(__name__)

STORY_WINDOW = timedelta(days=14)
# SimHash pre-filter before the exact text comparison. Same-story pairs measured 6–19 bits
# apart (docs/dedup.md); 20 keeps them all while letting far fewer unrelated articles
# through than stories.CANDIDATE_THRESHOLD (24), which on realistic text passed ~20 %.
PREFILTER_BITS = 20
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)


@dataclass(frozen=True)
class SourceState:
    """A snapshot of a source row, safe to hand to worker threads."""

    id: int
    key: str
    url: str
    kind: str
    selector: str | None
    interval: int
    etag: str | None
    last_modified: str | None
    consecutive_failures: int


@dataclass(frozen=True)
class Listing:
    """What fetching and parsing a source gave."""

    source: SourceState
    result: FetchResult | None = None
    feed: ParsedFeed | None = None
    error: str | None = None
    error_kind: str | None = None
    http_status: int | None = None
    retry_after: float | None = None


@dataclass(frozen=True)
class PageOutcome:
    """The article page of one new entry: extracted content, or why there is none."""

    final_url: str | None = None
    extracted: Extracted | None = None
    note: str | None = None
    fingerprint: int | None = None  # SimHash of title + extracted text, computed off-thread


@dataclass
class SourceReport:
    key: str
    status: str = "ok"  # ok | not_modified | failed
    new: int = 0
    relisted: int = 0
    merged: int = 0
    partial: int = 0
    error: str | None = None
    warning: str | None = None


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


ProgressFn = Callable[[str, str], None]


@dataclass
class CollectContext:
    """What a cycle needs; built by the CLI or the scheduler, injectable in tests."""

    settings: Settings
    sessions: sessionmaker[Session]
    config: FeedsConfig | None = None
    fetcher: Fetcher | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    classifier: Classifier | None = None  # loaded from the store when None


def fetch_policy(settings: Settings) -> FetchPolicy:
    return FetchPolicy.from_settings(settings)


# --- stages run in worker threads -------------------------------------------------------


def fetch_listing(fetcher: Fetcher, src: SourceState, now: datetime) -> Listing:
    """Fetch and parse one source's feed, listing page or sitemap."""
    try:
        if src.kind == "page" and not fetcher.allowed_by_robots(src.url):
            return Listing(src, error="robots.txt disallows this page", error_kind="robots")
        result = fetcher.fetch(
            src.url,
            etag=src.etag,
            last_modified=src.last_modified,
            accept=FEED_ACCEPT if src.kind == "feed" else None,
        )
        if result.not_modified:
            return Listing(src, result=result)
        if src.kind == "page":
            feed = listing_entries(result.content, base_url=result.url, selector=src.selector)
        elif src.kind == "sitemap":
            feed = read_sitemap(fetcher, result, now)
        else:
            feed = parse_feed(
                result.content, url=result.url, content_type=result.headers.get("content-type")
            )
        return Listing(src, result=result, feed=feed)
    except FetchError as exc:
        return Listing(
            src,
            error=str(exc),
            error_kind=exc.kind,
            http_status=exc.status,
            retry_after=exc.retry_after,
        )
    except ParseError as exc:
        return Listing(src, error=str(exc), error_kind="parse")
    except Exception as exc:  # a bug must not stop the other sources
        log.exception("unexpected error on source %s", src.key)
        return Listing(src, error=f"internal error: {exc!r}", error_kind="internal")


SITEMAP_CHILDREN = 3


def read_sitemap(fetcher: Fetcher, result: FetchResult, now: datetime) -> ParsedFeed:
    """A sitemap, or the newest few children of a sitemap index (news sites split them by
    day or month: the newest children hold the recent URLs)."""
    feed = parse_sitemap(result.content, base_url=result.url, now=now)
    if feed.format != "sitemapindex":
        return feed
    entries: list[ParsedEntry] = []
    warnings: list[str] = []
    for child in feed.entries[:SITEMAP_CHILDREN]:
        if not child.link:
            continue
        try:
            sub = fetcher.fetch(child.link)
            entries.extend(parse_sitemap(sub.content, base_url=sub.url, now=now).entries)
        except (FetchError, ParseError) as exc:
            warnings.append(f"child sitemap {child.link}: {exc}")
    if not entries and warnings:
        raise ParseError("; ".join(warnings))
    return ParsedFeed(
        entries=tuple(entries),
        title=feed.title,
        link=feed.link,
        format="sitemap",
        warning="; ".join(warnings) or feed.warning,
    )


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip("\"' ")
    return None


def extract_and_fingerprint(
    content: bytes, *, url: str, encoding: str | None, extensive_date: bool, title: str
) -> tuple[Extracted | None, int | None]:
    """Extraction plus the story fingerprint, in the worker process: both are CPU work that
    would otherwise serialise in the main thread (SimHash costs ~7 ms per article)."""
    extracted = extract_article(content, url=url, encoding=encoding, extensive_date=extensive_date)
    if extracted is None or not stories.has_enough_text(extracted.text):
        return extracted, None
    heading = clean.html_to_text(title).strip() or (extracted.title or "")
    return extracted, stories.simhash(f"{heading}\n{extracted.text}")


def fetch_page(
    fetcher: Fetcher,
    extractor: Executor | None,
    url: str,
    *,
    has_date: bool = False,
    title: str = "",
) -> PageOutcome:
    """Fetch an article page and extract its main content (in the process pool).

    The costly date search of trafilatura is skipped when the feed already dated the entry.
    """
    try:
        if not fetcher.allowed_by_robots(url):
            return PageOutcome(note="robots.txt disallows the article page")
        result = fetcher.fetch(url)
        job = partial(
            extract_and_fingerprint,
            result.content,
            url=result.url,
            encoding=_charset(result.headers.get("content-type")),
            extensive_date=not has_date,
            title=title,
        )
        extracted, fp = job() if extractor is None else extractor.submit(job).result()
        if extracted is None:
            return PageOutcome(final_url=result.url, note="no main text found on the page")
        return PageOutcome(final_url=result.url, extracted=extracted, fingerprint=fp)
    except FetchError as exc:
        return PageOutcome(note=f"article page: {exc}")
    except Exception as exc:
        log.exception("unexpected error on page %s", url)
        return PageOutcome(note=f"article page: internal error {exc!r}")


# --- pure assembly ------------------------------------------------------------------------


def page_url(link: str, page: PageOutcome) -> tuple[str, str]:
    """The article's canonical URL and its key: `rel=canonical` (same site only, checked by
    extraction), else the URL after redirects, else the feed's link."""
    ex = page.extracted
    source = (ex.canonical_url if ex and ex.canonical_url else None) or page.final_url or link
    try:
        url = clean.canonical_url(source)
        return url, clean.url_key(url)
    except ValueError:
        return clean.canonical_url(link), clean.url_key(link)


def build_record(
    entry: ParsedEntry, link: str, page: PageOutcome, *, source_id: int, now: datetime
) -> article_db.ArticleRecord:
    """Merge what the feed says and what the page says into one clean record.

    The page wins for text (the feed often carries a teaser); the feed wins for the date
    when the page has none. When the page failed, the feed's content is kept and the
    article is marked partial, so nothing is lost.
    """
    ex = page.extracted
    base = page.final_url or link
    feed_html = entry.content_html or entry.summary_html
    if ex is not None and ex.text.strip():
        html = ex.html
        text = ex.text
        partial = False
    else:
        html = clean.sanitize_html(feed_html, base_url=base) if feed_html else ""
        text = clean.html_to_text(feed_html) if feed_html else ""
        partial = True
    url, key = page_url(link, page)
    title = clean.html_to_text(entry.title).strip() or (ex.title if ex and ex.title else "")
    summary_src = clean.html_to_text(entry.summary_html) if entry.summary_html else ""
    if not summary_src and ex and ex.description:
        summary_src = ex.description
    summary = summary_from_text(summary_src or text)
    published = entry.published_at or (ex.published_at if ex else None) or entry.updated_at
    if published is not None and published > now + timedelta(days=2):
        published = None
    if not partial and page.fingerprint is not None:
        fp: int | None = page.fingerprint
    else:
        fp = stories.simhash(f"{title}\n{text}") if stories.has_enough_text(text) else None
    return article_db.ArticleRecord(
        url=url,
        url_key=key,
        original_url=link,
        source_id=source_id,
        guid=entry.guid,
        title=title or url,
        summary=summary,
        text=text,
        html=html,
        author=entry.author or (ex.author if ex else None),
        language=entry.language or (ex.language if ex else None),
        image=entry.image or (ex.image if ex else None),
        published_at=published,
        fetched_at=now,
        partial=partial,
        extract_note=page.note,
        content_hash=clean.content_fingerprint(text) if text else "",
        fingerprint=stories.to_signed64(fp) if fp is not None else None,
    )


@dataclass
class StoryIndex:
    """Recent fingerprints, loaded once per cycle and grown as articles are stored.

    SimHash alone lets unrelated articles of the same topic through (docs/dedup.md), so a
    loose SimHash pre-filter picks a few candidates and the exact text similarity of those,
    loaded from the store, confirms the match. Word vectors are computed once per article
    and kept (for a cycle's 2,000 new articles the loose pre-filter passes ~20 % of the
    index, so recomputing them per comparison made matching quadratic in text work).
    """

    items: list[article_db.Fingerprinted]
    _vectors: dict[int, tuple[Counter[str], int]] = field(default_factory=dict)

    def _vector(self, text: str) -> tuple[Counter[str], int]:
        counts = stories.shingles(text)
        return counts, sum(n * n for n in counts.values())

    def _similarity(self, a: tuple[Counter[str], int], b: tuple[Counter[str], int]) -> float:
        """`stories.text_similarity` on precomputed vectors (same formula, same result)."""
        (ca, na), (cb, nb) = a, b
        if not ca or not cb:
            return 0.0
        dot = sum(n * cb[k] for k, n in ca.items() if k in cb)
        return dot / math.sqrt(na * nb)

    def match(
        self, session: Session, record: article_db.ArticleRecord
    ) -> tuple[int | None, int | None]:
        """Return (article_id of an exact copy on the same site, story_id of a near copy)."""
        if record.fingerprint is None:
            return None, None
        host = record.url_key.split("/", 1)[0]
        if record.content_hash:
            for item in self.items:
                if item.content_hash == record.content_hash and item.host_key == host:
                    return item.article_id, item.story_id
        fp = stories.from_signed64(record.fingerprint)
        near = sorted(
            (d, i, item)
            for i, item in enumerate(self.items)
            if (d := stories.hamming(fp, stories.from_signed64(item.fingerprint))) <= PREFILTER_BITS
        )
        if not near:
            return None, None
        missing = [item.article_id for _, _, item in near if item.article_id not in self._vectors]
        if missing:
            for article_id, text in article_db.texts_of(session, missing).items():
                self._vectors[article_id] = self._vector(text)
        mine = self._vector(record.text)
        empty: tuple[Counter[str], int] = (Counter(), 0)
        for _, _, item in near:
            other = self._vectors.get(item.article_id, empty)
            if self._similarity(mine, other) >= stories.MIN_SIMILARITY:
                return None, item.story_id
        return None, None

    def add(self, article_id: int, story_id: int, record: article_db.ArticleRecord) -> None:
        if record.fingerprint is not None:
            self._vectors[article_id] = self._vector(record.text)
            self.items.append(
                article_db.Fingerprinted(
                    article_id,
                    story_id,
                    record.source_id,
                    record.fingerprint,
                    record.content_hash,
                    record.url_key.split("/", 1)[0],
                )
            )


# --- storage, in the main thread ----------------------------------------------------------


def _known_for(session: Session, source_id: int, feed: ParsedFeed) -> dict[str, Known]:
    keys = []
    for entry in feed.entries:
        if entry.link:
            try:
                keys.append(clean.url_key(entry.link))
            except ValueError:
                continue
    return {
        key: Known(hit.article_id, source_id in hit.source_ids)
        for key, hit in article_db.lookup_keys(session, keys).items()
    }


def _schedule(row: SourceRow, listing: Listing, now: datetime) -> None:
    max_age = None
    if listing.result is not None:
        max_age = parse_max_age(listing.result.headers.get("cache-control"))
    delay = next_interval(
        row.interval,
        max_age=max_age,
        retry_after=listing.retry_after,
        ttl_minutes=listing.feed.ttl_minutes if listing.feed else None,
        failures=row.consecutive_failures,
        recent_publish_intervals=(
            publish_gaps(e.published_at for e in listing.feed.entries) if listing.feed else []
        ),
    )
    row.next_fetch_at = now + delay


def store_listing(
    session: Session,
    listing: Listing,
    decision: Decision | None,
    pages: dict[str, PageOutcome],
    index: StoryIndex,
    now: datetime,
    classifier: Classifier | None = None,
) -> SourceReport:
    """Apply one source's intents and its new health in the caller's transaction."""
    src = listing.source
    row = session.get(SourceRow, src.id)
    assert row is not None
    report = SourceReport(key=src.key)
    row.last_fetched_at = now
    if listing.error is not None:
        report.status = "failed"
        report.error = listing.error
        row.last_status = "error"
        row.last_error = listing.error
        row.last_http_status = listing.http_status
        row.consecutive_failures += 1
        _schedule(row, listing, now)
        return report
    assert listing.result is not None
    row.last_http_status = listing.result.status
    row.last_error = None
    row.consecutive_failures = 0
    row.last_success_at = now
    if listing.result.etag or listing.result.last_modified or not listing.result.not_modified:
        row.etag = listing.result.etag
        row.last_modified = listing.result.last_modified
    if listing.result.not_modified or listing.feed is None or decision is None:
        report.status = "not_modified"
        row.last_status = "not_modified"
        _schedule(row, listing, now)
        return report
    row.last_status = "ok"
    row.feed_title = listing.feed.title or row.feed_title
    warnings = [w for w in (listing.feed.warning, *decision.warnings) if w]
    row.last_warning = "; ".join(warnings) or None
    report.warning = row.last_warning
    new_ids: list[int] = []
    widened: set[int] = set()  # articles whose story gained a source
    # Keys of every new entry (feed link and canonical URL), resolved in one query: many
    # "new" entries were stored a moment ago by another source listing the same article.
    candidates = []
    for item in decision.new:
        page = pages.get(item.url_key, PageOutcome(note="article page not fetched"))
        url_key = page_url(item.link, page)[1]
        candidates.append((item, page, (item.url_key, url_key)))
    known = article_db.lookup_keys(
        session,
        {k for _, _, keys in candidates for k in keys} | {r.url_key for r in decision.relisted},
    )
    resolved = {k: hit.article_id for k, hit in known.items()}
    links = article_db.LinkBatch(source_id=src.id, now=now)
    links.seen.update(k for k, hit in known.items() if src.id in hit.source_ids)
    for relisted in decision.relisted:
        if links.add(relisted.article_id, relisted.url_key, relisted.entry.guid):
            report.relisted += 1
            widened.add(relisted.article_id)
    for item, page, keys in candidates:
        target = next((resolved[k] for k in keys if k in resolved), None)
        if target is None:
            record = build_record(item.entry, item.link, page, source_id=src.id, now=now)
            copy_id, story_id = index.match(session, record)
            target = copy_id
        if target is not None:
            for key in dict.fromkeys(keys):
                links.add(target, key, item.entry.guid)
                resolved[key] = target
            report.merged += 1
            widened.add(target)
            continue
        article_id = article_db.insert_article(session, record, story_id)
        stored = session.get(article_db.ArticleRow, article_id)  # in the identity map
        assert stored is not None and stored.story_id is not None
        stored_story = stored.story_id
        for key in dict.fromkeys(keys):
            links.add(article_id, key, item.entry.guid)
            resolved[key] = article_id
        index.add(article_id, stored_story, record)
        new_ids.append(article_id)
        if story_id is not None:
            widened.add(article_id)
        report.new += 1
        report.partial += int(record.partial)
    links.flush(session)
    if report.new:
        row.last_new_article_at = now
    if classifier is not None:
        classify_articles(session, classifier, new_ids, recent=index.items)
        rescore_coverage(session, article_db.story_ids_of(session, sorted(widened)))
    _schedule(row, listing, now)
    return report


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


class HostQueue:
    """Hands the I/O pool at most `limit` tasks per host at a time, in FIFO order per host.

    The fetcher makes a thread wait for a busy host's slot; fed straight from a feed that
    lists 20 pages of one site, the pool's threads would all wait on that host while the
    99 others sit idle. Queuing here keeps every thread on a host that can be fetched.
    """

    def __init__(self, pool: Executor, limit: int) -> None:
        self._pool = pool
        self._limit = limit
        self._queues: dict[str, deque[tuple[Future[Any], Callable[[], Any]]]] = {}
        self._running: Counter[str] = Counter()
        self._lock = threading.RLock()  # a done callback may run in the submitting thread

    def submit(self, url: str, fn: Callable[[], Any]) -> Future[Any]:
        host = (urlsplit(url).hostname or "").lower()
        outer: Future[Any] = Future()
        with self._lock:
            self._queues.setdefault(host, deque()).append((outer, fn))
            self._pump(host)
        return outer

    def _pump(self, host: str) -> None:
        queue = self._queues[host]
        while queue and self._running[host] < self._limit:
            outer, fn = queue.popleft()
            if not outer.set_running_or_notify_cancel():
                continue
            self._running[host] += 1
            try:
                inner = self._pool.submit(fn)
            except RuntimeError as exc:  # the pool is shutting down
                self._running[host] -= 1
                outer.set_exception(exc)
                continue
            inner.add_done_callback(partial(self._done, host, outer))

    def _done(self, host: str, outer: Future[Any], inner: Future[Any]) -> None:
        with self._lock:
            self._running[host] -= 1
            self._pump(host)
        if inner.cancelled():
            outer.set_exception(RuntimeError("cancelled"))
        elif (exc := inner.exception()) is not None:
            outer.set_exception(exc)
        else:
            outer.set_result(inner.result())

    def cancel_all(self) -> None:
        with self._lock:
            for queue in self._queues.values():
                for outer, _ in queue:
                    outer.cancel()
                queue.clear()


def _process_pool(settings: Settings) -> ProcessPoolExecutor:
    workers = settings.extract_workers or os.cpu_count() or 1
    # forkserver: forking a process that runs threads (uvicorn, APScheduler) can deadlock.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method))


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
        classifier = ctx.classifier or (load_classifier(session, ctx.config) if states else None)
    if progress:
        progress("start", str(len(states)))
    if not states:
        summary.finished_at = ctx.clock()
        return summary

    own_fetcher = ctx.fetcher is None
    fetcher = ctx.fetcher or Fetcher(fetch_policy(ctx.settings))
    own_pool = extractor is None
    pool: Executor | None = extractor
    io = ThreadPoolExecutor(max_workers=ctx.settings.concurrency, thread_name_prefix="veille-io")
    hosts = HostQueue(io, fetcher.policy.per_host_concurrency)
    try:
        listing_futures: dict[Future[Listing], SourceState] = {
            hosts.submit(s.url, partial(fetch_listing, fetcher, s, now)): s for s in states
        }
        page_futures: dict[str, Future[PageOutcome]] = {}
        waiting: dict[str, tuple[Listing, Decision, set[str]]] = {}
        # Which sources wait for which page, and how many pages each still waits for.
        page_keys: dict[Future[PageOutcome], str] = {}
        waiters: dict[str, set[str]] = {}
        outstanding: dict[str, int] = {}
        pending: set[Future[object]] = set(listing_futures)  # type: ignore[arg-type]

        def finish(key: str) -> None:
            listing, decision, wanted = waiting.pop(key)
            pages = {k: page_futures[k].result() for k in wanted}
            try:
                with transaction(ctx.sessions) as session:
                    report = store_listing(
                        session, listing, decision, pages, index, now, classifier
                    )
            except Exception as exc:
                log.exception("storing source %s failed", key)
                report = SourceReport(key=key, status="failed", error=f"storage error: {exc!r}")
                _record_failure(ctx, listing.source, report.error or "", now)
            summary.sources.append(report)
            if progress:
                progress("done", key)

        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            pending -= done
            for fut in done:
                if fut in listing_futures:
                    listing = fut.result()
                    assert isinstance(listing, Listing)
                    src = listing.source
                    decision = None
                    wanted: set[str] = set()
                    if listing.feed is not None and listing.error is None:
                        try:
                            with ctx.sessions() as session:
                                known = _known_for(session, src.id, listing.feed)
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
                            if item.url_key not in page_futures:
                                if pool is None and own_pool:
                                    pool = _process_pool(ctx.settings)
                                page_futures[item.url_key] = hosts.submit(
                                    item.link,
                                    partial(
                                        fetch_page,
                                        fetcher,
                                        pool,
                                        item.link,
                                        has_date=item.entry.published_at is not None,
                                        title=item.entry.title,
                                    ),
                                )
                    waiting[src.key] = (listing, decision or Decision(), wanted)
                    blockers = {k for k in wanted if not page_futures[k].done()}
                    if not blockers:
                        finish(src.key)
                    else:
                        outstanding[src.key] = len(blockers)
                        for k in blockers:
                            waiters.setdefault(k, set()).add(src.key)
                            page_keys[page_futures[k]] = k
                            pending.add(page_futures[k])  # type: ignore[arg-type]
                else:
                    for key in sorted(waiters.pop(page_keys.pop(fut), ())):  # type: ignore[arg-type]
                        outstanding[key] -= 1
                        if outstanding[key] == 0:
                            del outstanding[key]
                            finish(key)
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
