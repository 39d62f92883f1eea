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
import multiprocessing
import os
import time
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


def fetch_page(
    fetcher: Fetcher, extractor: Executor | None, url: str, *, has_date: bool = False
) -> PageOutcome:
    """Fetch an article page and extract its main content (in the process pool).

    The costly date search of trafilatura is skipped when the feed already dated the entry.
    """
    try:
        if not fetcher.allowed_by_robots(url):
            return PageOutcome(note="robots.txt disallows the article page")
        result = fetcher.fetch(url)
        job = partial(
            extract_article,
            result.content,
            url=result.url,
            encoding=_charset(result.headers.get("content-type")),
            extensive_date=not has_date,
        )
        extracted = job() if extractor is None else extractor.submit(job).result()
        if extracted is None:
            return PageOutcome(final_url=result.url, note="no main text found on the page")
        return PageOutcome(final_url=result.url, extracted=extracted)
    except FetchError as exc:
        return PageOutcome(note=f"article page: {exc}")
    except Exception as exc:
        log.exception("unexpected error on page %s", url)
        return PageOutcome(note=f"article page: internal error {exc!r}")


# --- pure assembly ------------------------------------------------------------------------


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
    canonical_source = (ex.canonical_url if ex and ex.canonical_url else None) or base
    try:
        url = clean.canonical_url(canonical_source)
        key = clean.url_key(url)
    except ValueError:
        url, key = clean.canonical_url(link), clean.url_key(link)
    title = clean.html_to_text(entry.title).strip() or (ex.title if ex and ex.title else "")
    summary_src = clean.html_to_text(entry.summary_html) if entry.summary_html else ""
    if not summary_src and ex and ex.description:
        summary_src = ex.description
    summary = summary_from_text(summary_src or text)
    published = entry.published_at or (ex.published_at if ex else None) or entry.updated_at
    if published is not None and published > now + timedelta(days=2):
        published = None
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
    loaded from the store, confirms the match.
    """

    items: list[article_db.Fingerprinted]

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
        near = [
            item
            for item in self.items
            if stories.hamming(fp, stories.from_signed64(item.fingerprint))
            <= stories.CANDIDATE_THRESHOLD
        ]
        if not near:
            return None, None
        texts = article_db.texts_of(session, [item.article_id for item in near])
        story = stories.assign_story_confirmed(
            fp,
            record.text,
            [(i.story_id, i.fingerprint, texts.get(i.article_id, "")) for i in near],
        )
        return None, story

    def add(self, article_id: int, story_id: int, record: article_db.ArticleRecord) -> None:
        if record.fingerprint is not None:
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
    for relisted in decision.relisted:
        if article_db.add_link(
            session,
            article_id=relisted.article_id,
            source_id=src.id,
            url_key=relisted.url_key,
            guid=relisted.entry.guid,
            now=now,
        ):
            report.relisted += 1
            widened.add(relisted.article_id)
    for item in decision.new:
        page = pages.get(item.url_key, PageOutcome(note="article page not fetched"))
        record = build_record(item.entry, item.link, page, source_id=src.id, now=now)
        # Another source may have stored the same article earlier in this cycle, or under
        # its canonical URL: re-resolve both keys at store time.
        hits = article_db.lookup_keys(session, {item.url_key, record.url_key})
        existing = hits.get(record.url_key) or hits.get(item.url_key)
        copy_id, story_id = index.match(session, record) if existing is None else (None, None)
        target = existing.article_id if existing else copy_id
        if target is not None:
            for key in {item.url_key, record.url_key}:
                article_db.add_link(
                    session,
                    article_id=target,
                    source_id=src.id,
                    url_key=key,
                    guid=item.entry.guid,
                    now=now,
                )
            report.merged += 1
            widened.add(target)
            continue
        article_id = article_db.insert_article(session, record, story_id)
        stored = session.get(article_db.ArticleRow, article_id)
        assert stored is not None and stored.story_id is not None
        for key in {item.url_key, record.url_key}:
            article_db.add_link(
                session,
                article_id=article_id,
                source_id=src.id,
                url_key=key,
                guid=item.entry.guid,
                now=now,
            )
        index.add(article_id, stored.story_id, record)
        new_ids.append(article_id)
        if story_id is not None:
            widened.add(article_id)
        report.new += 1
        report.partial += int(record.partial)
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
    try:
        listing_futures: dict[Future[Listing], SourceState] = {
            io.submit(fetch_listing, fetcher, s, now): s for s in states
        }
        page_futures: dict[str, Future[PageOutcome]] = {}
        waiting: dict[str, tuple[Listing, Decision, set[str]]] = {}
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
                                page_futures[item.url_key] = io.submit(
                                    fetch_page,
                                    fetcher,
                                    pool,
                                    item.link,
                                    has_date=item.entry.published_at is not None,
                                )
                    waiting[src.key] = (listing, decision or Decision(), wanted)
                    blockers = {page_futures[k] for k in wanted if not page_futures[k].done()}
                    if not blockers:
                        finish(src.key)
                    else:
                        pending |= blockers  # type: ignore[arg-type]
                else:
                    for key in [
                        k
                        for k, (_, _, wanted) in waiting.items()
                        if all(page_futures[u].done() for u in wanted)
                    ]:
                        finish(key)
    finally:
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
