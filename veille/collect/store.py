"""The store step of a collection cycle, in the orchestrator's main thread: turn a
source's outcomes into articles, links, stories, themes and scores, and its new health and
schedule, all in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from veille.classify.classifier import Classifier
from veille.classify.service import classify_articles
from veille.collect import clean, stories
from veille.collect.dates import publication_date
from veille.collect.decide import Decision, Known, NewArticle
from veille.collect.httpcache import next_interval, parse_max_age, publish_gaps, should_pause
from veille.collect.storyindex import StoryIndex
from veille.collect.summary import SourceReport
from veille.collect.types import ParsedEntry
from veille.collect.unchanged import is_unchanged, not_modified_values
from veille.collect.worker import (
    Listing,
    PageOutcome,
    StoryFacts,
    article_url,
    record_summary,
    record_title,
)
from veille.db import articles as article_db
from veille.db import collection as collection_db
from veille.db import coverage_marks
from veille.db import stories as story_db
from veille.db.tables import SourceRow
from veille.text.fingerprint import HashedCounts, content_fingerprint, to_signed64
from veille.text.urls import key_host

STORY_WINDOW = timedelta(days=14)


# --- pure assembly ------------------------------------------------------------------------


def page_url(link: str, page: PageOutcome) -> tuple[str, str]:
    """The article's canonical URL and its key (`worker.article_url`)."""
    return article_url(link, page.final_url, page.extracted)


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
    facts = page.facts if not partial else None  # the worker's, of the text kept here
    if facts is not None and facts.heading is not None:
        title = facts.heading
    else:
        title = record_title(entry.title, ex)
    if facts is not None and facts.summary is not None:
        summary = facts.summary
    else:
        summary = record_summary(entry.summary_html, ex.description if ex else None, text)
    page_date = ex.published_at if ex else None
    published = publication_date((entry.published_at, page_date, entry.updated_at), now)
    if facts is not None:
        fp, content_hash = facts.fingerprint, facts.content_hash
    else:
        # The workers' rule (`stories.fingerprint`: an English text read in French terms),
        # so an article from a feed alone and the same text from a page fingerprint alike.
        story = stories.fingerprint(title, text)
        fp = story[0] if story is not None else None
        content_hash = content_fingerprint(text) if text else ""
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
        content_hash=content_hash,
        fingerprint=to_signed64(fp) if fp is not None else None,
        index_words=facts.index_words if facts is not None else None,
    )


def page_vector(page: PageOutcome, record: article_db.ArticleRecord) -> HashedCounts | None:
    """The worker's shingle counts of the page's text, when the record kept that text."""
    if record.partial or page.facts is None:
        return None
    return page.facts.vector


def page_story(page: PageOutcome, record: article_db.ArticleRecord) -> StoryFacts | None:
    """The worker's story facts of the page, when they are of this record: its text (not
    partial), its title and its host (`StoryIndex.match` computes them otherwise)."""
    if record.partial or page.facts is None or page.facts.story is None:
        return None
    story = page.facts.story
    if story.title != record.title or story.host != key_host(record.url_key):
        return None
    return story


@dataclass
class PendingClassification:
    """New articles and widened stories of one transaction, classified and marked together
    at its end (one model call instead of one per article or source).

    `visible` keeps, for each new article, how much of the story index there was when it
    was stored, so its novelty is measured against what came before it.
    """

    article_ids: list[int] = field(default_factory=list)
    visible: dict[int, int] = field(default_factory=dict)
    widened: set[int] = field(default_factory=set)

    def apply(
        self, session: Session, classifier: Classifier | None, index: StoryIndex | None
    ) -> None:
        if classifier is not None and index is not None and self.article_ids:
            classify_articles(
                session,
                classifier,
                self.article_ids,
                recent=index.items,
                visible=self.visible,
                refresh=False,
            )
        # The stories that gained a source or a member: marked, in this transaction, and
        # rescored at the cycle's end (`widened.py`: each article's row rewritten once a
        # cycle, not once per source that relists it).
        coverage_marks.mark(session, article_db.story_ids_of(session, sorted(self.widened)))
        # One entry per story for the new members, chosen once for the transaction.
        story_db.refresh(session, article_db.story_ids_of(session, self.article_ids))


# --- storage, in the main thread ----------------------------------------------------------


def known_for(
    session: Session, listings: Sequence[tuple[int, Mapping[str, str]]]
) -> list[dict[str, Known]]:
    """What the store knows of each listing's entries, for `(source id, URL keys)` pairs
    (the keys: `decide.entry_keys`): one lookup for all of them (feeds that arrive
    together often list the same articles)."""
    hits = article_db.lookup_keys(session, {k for _, keys in listings for k in keys.values()})
    return [
        {
            k: Known(hit.article_id, source_id in hit.source_ids)
            for k in keys.values()
            if (hit := hits.get(k))
        }
        for source_id, keys in listings
    ]


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


@dataclass(frozen=True)
class WantedPage:
    """A fetched article page and the entry that first asked for it (its owner)."""

    source_id: int
    item: NewArticle
    page: PageOutcome


@dataclass(frozen=True)
class PageStored:
    """What the page step made of one wanted page: the article its entries point to."""

    article_id: int
    url_key: str  # the page's own key (rel=canonical, redirects), beside the entry's
    inserted_for: int | None = None  # the owner's source id when the page made a new article
    partial: bool = False


def store_pages(
    session: Session,
    wanted: list[WantedPage],
    index: StoryIndex,
    now: datetime,
    pending: PendingClassification,
) -> dict[str, PageStored]:
    """Turn fetched pages into articles, as soon as they arrive, in the caller's transaction.

    Each page becomes a new article of its owner (linked to it), or resolves to an article
    already stored under one of its keys, or to an exact copy on the same site. The
    sources' own steps (`store_listing`) then only link their entries to these articles, so
    the costly work overlaps with the extraction of the other pages instead of waiting for
    every page a source lists. A crash between the two steps loses nothing: the sources'
    validators are saved by their own step, so the next cycle relists the stored articles.
    """
    candidates = []
    for w in wanted:
        keys = (w.item.url_key, page_url(w.item.link, w.page)[1])
        candidates.append((w, keys))
    known = article_db.lookup_keys(session, {k for _, keys in candidates for k in keys})
    resolved = {k: hit.article_id for k, hit in known.items()}
    # New articles get provisional negative ids (and new stories the id of the article
    # that opens them) until the batch is inserted at once: a later page of the batch may
    # be a copy of an earlier one, or join its story, before either has its stored id.
    new: list[tuple[WantedPage, tuple[str, str], article_db.ArticleRecord, int]] = []
    mark = index.mark()
    out: dict[str, PageStored] = {}
    for w, keys in candidates:
        target = next((resolved[k] for k in keys if k in resolved), None)
        if target is None:
            record = build_record(w.item.entry, w.item.link, w.page, source_id=w.source_id, now=now)
            counts, facts = page_vector(w.page, record), page_story(w.page, record)
            target, story_id = index.match(session, record, counts, facts)
        if target is not None:
            for key in keys:
                resolved[key] = target
            out[w.item.url_key] = PageStored(target, keys[1])
            continue
        provisional = -1 - len(new)
        story = story_id if story_id is not None else provisional
        new.append((w, keys, record, story))
        for key in keys:
            resolved[key] = provisional
        index.add(provisional, story, record, counts, facts)
        pending.visible[provisional] = len(index.items)
        if story_id is not None:
            pending.widened.add(provisional)
        out[w.item.url_key] = PageStored(
            provisional, keys[1], inserted_for=w.source_id, partial=record.partial
        )
    ids, stories_created = article_db.insert_articles(session, [(r, s) for _, _, r, s in new])
    stored = {-1 - n: article_id for n, article_id in enumerate(ids)}
    index.renumber(mark, stored, stories_created)
    pending.article_ids.extend(ids)
    pending.visible = {stored.get(a, a): n for a, n in pending.visible.items()}
    pending.widened = {stored.get(a, a) for a in pending.widened}
    out = {
        k: replace(p, article_id=stored[p.article_id]) if p.article_id < 0 else p
        for k, p in out.items()
    }
    links: dict[int, article_db.LinkBatch] = {}
    for (w, keys, _, _), article_id in zip(new, ids, strict=True):
        batch = links.setdefault(w.source_id, article_db.LinkBatch(w.source_id, now))
        for key in dict.fromkeys(keys):
            batch.add(article_id, key, w.item.entry.guid)
    for batch in links.values():
        batch.flush(session)
    return out


def linked_keys(
    session: Session, listings: Sequence[tuple[int, Decision | None, Mapping[str, PageStored]]]
) -> dict[int, set[str]]:
    """For `(source id, decision, its pages)` of a batch of sources, the URL keys of their
    entries already linked to them: one lookup for the batch instead of one per source."""
    keys: set[str] = set()
    for _, decision, pages in listings:
        if decision is None:
            continue
        keys.update(r.url_key for r in decision.relisted)
        for item in decision.new:
            keys.add(item.url_key)
            if (page := pages.get(item.url_key)) is not None:
                keys.add(page.url_key)
    out: dict[int, set[str]] = {}
    for source_id, key in article_db.linked_keys(session, (s for s, _, _ in listings), keys):
        out.setdefault(source_id, set()).add(key)
    return out


def store_listing(
    session: Session,
    listing: Listing,
    decision: Decision | None,
    pages: Mapping[str, PageStored],
    now: datetime,
    pending: PendingClassification,
    linked: Collection[str],
    links_out: list[dict[str, Any]],
) -> SourceReport:
    """Apply one source's intents and its new health in the caller's transaction.

    Its new entries' pages are already stored (`store_pages`): this links the entries to
    their articles and saves the validators, which is what makes the source done.
    `linked`: the URL keys of its entries already linked to it (`linked_keys`).
    `links_out`: where its new links are left, for `store_listings` to insert with the
    other sources' in one statement.
    """
    src = listing.source
    row = session.get(SourceRow, src.id)
    assert row is not None
    if is_unchanged(listing):  # 304: the same values `save_unchanged` writes in bulk
        values = not_modified_values(listing, row.interval, row.etag, row.last_modified, now)
        for name, value in values.items():
            setattr(row, name, value)
        return SourceReport(key=src.key, status="not_modified")
    report = SourceReport(key=src.key)
    row.last_fetched_at = now
    if listing.error is not None:
        report.status = "failed"
        report.error = listing.error
        row.last_status = "error"
        row.last_error = listing.error
        row.last_http_status = listing.http_status
        row.consecutive_failures += 1
        if should_pause(row.consecutive_failures) and row.paused_at is None:
            row.paused_at = now  # not due any more: the delegate resumes it
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
    entries = [(item, pages[item.url_key]) for item in decision.new]
    links = article_db.LinkBatch(source_id=src.id, now=now)
    links.seen.update(linked)
    for relisted in decision.relisted:
        if links.add(relisted.article_id, relisted.url_key, relisted.entry.guid):
            report.relisted += 1
            pending.widened.add(relisted.article_id)
    for item, page in entries:
        for key in dict.fromkeys((item.url_key, page.url_key)):
            links.add(page.article_id, key, item.entry.guid)
        if page.inserted_for == src.id:
            report.new += 1
            report.partial += int(page.partial)
        else:  # stored for another source, or a copy of a stored article
            report.merged += 1
            pending.widened.add(page.article_id)
    links_out.extend(links.rows)
    if report.new:
        row.last_new_article_at = now
    _schedule(row, listing, now)
    return report


def store_listings(
    session: Session,
    listings: Sequence[tuple[Listing, Decision, Mapping[str, PageStored]]],
    now: datetime,
) -> list[SourceReport]:
    """`store_listing` for a batch of sources, their pages stored, in the caller's
    transaction: their rows read in one query, their linked keys in one lookup
    (`linked_keys`), their new links inserted in one statement (one per source, with the
    autoflush of the source rows each brought, was ~6 % of the writer's first cycle), the
    stories they widened marked for the cycle's end (`widened.py`)."""
    rows = collection_db.load_source_rows(session, [it.source.id for it, _, _ in listings])
    pending = PendingClassification()
    linked = linked_keys(session, [(it.source.id, d, pages) for it, d, pages in listings])
    new_links: list[dict[str, Any]] = []
    reports = [
        store_listing(
            session, it, d, pages, now, pending, linked.get(it.source.id, set()), new_links
        )
        for it, d, pages in listings
    ]
    article_db.insert_links(session, new_links)  # in the sources' order: the same ids
    pending.apply(session, None, None)
    del rows  # kept until here: the session's identity map holds weak references
    return reports
