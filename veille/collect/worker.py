"""Collection stages that run in worker threads: fetch and parse a source, fetch and
extract an article page. They know nothing of the database; they return plain outcomes
that the orchestrator (`pipeline.py`) hands to the store step (`store.py`).

The parsers and the extraction (lxml, nh3, trafilatura, the text and story modules) are
imported by the stage that first needs them: a cycle in which every feed answers 304
(most cycles of a steady collector) parses nothing and extracts nothing, so it imports
none of them. The extraction processes import them once, in the forkserver (`pools.py`).
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from veille.collect.fetcher import FEED_ACCEPT, Fetcher
from veille.collect.types import Extracted, FetchResult, ParsedEntry, ParsedFeed
from veille.errors import FetchError, ParseError
from veille.text import urls

if TYPE_CHECKING:
    from sqlalchemy import Row

    from veille.collect.storykeys import StoryKeys
    from veille.text.fingerprint import HashedCounts

log = logging.getLogger("veille.collect.pipeline")


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

    @classmethod
    def of(cls, row: Row[Any]) -> SourceState:
        """The claimed row's fields the cycle's threads read (`leases.CLAIMED_COLUMNS`)."""
        return cls(
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
class TextFacts:
    """What the store derives from an extracted text, computed in the extraction worker:
    CPU work that would otherwise queue in the main thread, the cycle's bottleneck."""

    content_hash: str  # content_fingerprint of the text
    index_words: str  # the text's part of the full-text document (fulltext.document)
    fingerprint: int | None = None  # SimHash of title + text; None: too short for stories
    vector: HashedCounts | None = None  # the text's shingle counts, hashed
    story: StoryFacts | None = None  # None: no fingerprint, the article joins no story
    # The record's title (the feed's, as text, else the page's) and summary (of the feed's
    # summary, else the page's description, else the text): `store.build_record`'s, which
    # reads them here when the record keeps the page's text.
    heading: str | None = None
    summary: str | None = None


@dataclass(frozen=True)
class StoryFacts:
    """What the story index reads of a new article, computed in the extraction worker for
    the title and host the store will give it (`title`, `host`: the writer uses them only
    when its record agrees). Matching runs in the writer, the cycle's bottleneck; the keys
    and the lead's names were 1.1–1.7 ms of pure text work per article there
    (benchmarks/README.md, « Story keys in the workers »)."""

    title: str  # the record's title: the heading, else the article's URL
    host: str  # the host of the article's URL key
    keys: StoryKeys  # storykeys.story_keys(title, text, host)
    # What the index files the article under (`StoryIndex._index_lead`): the lead's names,
    # else the site's, and `storykeys.title_words` of the lead; what `match` looks up:
    # `title_words` of the title alone.
    index_names: frozenset[str]
    index_words: frozenset[str]
    title_words: frozenset[str]


@dataclass(frozen=True)
class PageOutcome:
    """The article page of one new entry: extracted content, or why there is none."""

    final_url: str | None = None
    extracted: Extracted | None = None
    note: str | None = None
    facts: TextFacts | None = None  # of `extracted.text`


def article_url(link: str, final_url: str | None, extracted: Extracted | None) -> tuple[str, str]:
    """The article's canonical URL and its key: `rel=canonical` (same site only, checked by
    extraction), else the URL after redirects, else the feed's link."""
    ex = extracted
    source = (ex.canonical_url if ex and ex.canonical_url else None) or final_url or link
    try:
        url = urls.canonical_url(source)
        return url, urls.url_key(url)
    except ValueError:
        return urls.canonical_url(link), urls.url_key(link)


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
        from veille.collect.feeds import parse_feed
        from veille.collect.pages import listing_entries

        if src.kind == "page":
            feed = listing_entries(result.content, base_url=result.url, selector=src.selector)
        elif src.kind == "sitemap":
            feed = read_sitemap(fetcher, result, now)
        else:
            feed = parse_feed(
                result.content,
                url=result.url,
                content_type=result.headers.get("content-type"),
                now=now,  # the cycle's clock judges publication dates
            )
        # The body is parsed: the listing waits for its pages with its headers only (500
        # feeds of ~100 KB would otherwise stay in memory until their sources are stored).
        return Listing(src, result=replace(result, content=b""), feed=feed)
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
    from veille.collect.pages import parse_sitemap

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


def extract_with_facts(
    content: bytes,
    *,
    url: str,
    encoding: str | None,
    extensive_date: bool,
    need_author: bool = True,
    title: str,
    link: str | None = None,
    lead_chars: int | None = None,
    summary_html: str | None = None,
) -> tuple[Extracted | None, TextFacts | None]:
    """Extraction plus the text's facts, in the worker process. With `link` (the feed's
    link) and `lead_chars` (how much of the text the story index keeps as the lead,
    `db.articles.LEAD_CHARS`), the story index's facts too (`StoryFacts`); with
    `summary_html` (the feed entry's, "" when it has none), the record's summary."""
    from veille.collect import stories, storykeys
    from veille.collect.extract import extract_article
    from veille.text import french
    from veille.text.fingerprint import content_fingerprint, hashed_counts

    extracted = extract_article(
        content,
        url=url,
        encoding=encoding,
        extensive_date=extensive_date,
        need_author=need_author,
    )
    if extracted is None:
        return None, None
    heading = record_title(title, extracted)
    story = stories.fingerprint(heading, extracted.text)
    keyed = None
    if story is not None and link is not None and lead_chars is not None:
        # The record's title and host as `store.build_record` makes them.
        record_url, key = article_url(link, url, extracted)
        shown, host = heading or record_url, urls.key_host(key)
        lead = f"{shown}\n{extracted.text[:lead_chars]}"
        keyed = StoryFacts(
            title=shown,
            host=host,
            keys=storykeys.story_keys(shown, extracted.text, host),
            index_names=storykeys.lead_names(lead) or storykeys.site_names(host),
            index_words=storykeys.title_words(lead),
            title_words=storykeys.title_words(shown),
        )
    return extracted, TextFacts(
        content_hash=content_fingerprint(extracted.text),
        index_words=french.index_words(extracted.text),
        fingerprint=story[0] if story else None,
        vector=hashed_counts(story[1]) if story else None,
        story=keyed,
        heading=heading,
        summary=(
            None
            if summary_html is None
            else record_summary(summary_html, extracted.description, extracted.text)
        ),
    )


def record_title(title_html: str, extracted: Extracted | None) -> str:
    """An article's title: its feed entry's title as text, else its page's ("" if neither).
    The worker's `TextFacts.heading` and the writer's record both take it from here: the
    writer uses the worker's story facts only when the titles agree."""
    from veille.collect import clean

    return clean.html_to_text(title_html).strip() or (
        extracted.title if extracted and extracted.title else ""
    )


def record_summary(summary_html: str, description: str | None, text: str) -> str:
    """An article's summary: its feed entry's summary as text, else its page's
    description, else its text (the page's, or the feed's when the page gave none)."""
    from veille.collect import clean
    from veille.collect.extract import summary_from_text

    return summary_from_text(
        (clean.html_to_text(summary_html) if summary_html else "") or description or text
    )


def fetch_page(
    fetcher: Fetcher,
    extractor: Executor | None,
    url: str,
    *,
    has_date: bool = False,
    has_author: bool = False,
    title: str = "",
    lead_chars: int | None = None,
    summary_html: str | None = None,
) -> PageOutcome:
    """Fetch an article page and extract its main content (in the process pool).

    trafilatura's costly date and byline searches are skipped when the feed already gave
    the entry's date and author (the feed's win over the page's). `lead_chars` and
    `summary_html`: see `extract_with_facts`.
    """
    try:
        if not fetcher.allowed_by_robots(url):
            return PageOutcome(note="robots.txt disallows the article page")
        result = fetcher.fetch(url)
        job = partial(
            extract_with_facts,
            result.content,
            url=result.url,
            encoding=_charset(result.headers.get("content-type")),
            extensive_date=not has_date,
            need_author=not has_author,
            title=title,
            link=url,
            lead_chars=lead_chars,
            summary_html=summary_html,
        )
        extracted, facts = job() if extractor is None else extractor.submit(job).result()
        if extracted is None:
            return PageOutcome(final_url=result.url, note="no main text found on the page")
        return PageOutcome(final_url=result.url, extracted=extracted, facts=facts)
    except FetchError as exc:
        return PageOutcome(note=f"article page: {exc}")
    except Exception as exc:
        log.exception("unexpected error on page %s", url)
        return PageOutcome(note=f"article page: internal error {exc!r}")
