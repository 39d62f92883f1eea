"""Plain data passed between collection stages.

Stages exchange these frozen dataclasses and nothing else, so each stage can be tested on
its own: the fetcher knows HTTP, the parser knows bytes, `decide` knows neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class FetchResult:
    """One HTTP exchange that ended in a usable answer (2xx or 304)."""

    url: str  # final URL, after redirects
    status: int
    content: bytes  # decoded body (gzip/deflate/br undone); empty on 304
    headers: Mapping[str, str]  # lower-case names
    etag: str | None = None
    last_modified: str | None = None
    elapsed: float = 0.0

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class ParsedEntry:
    """One feed entry (or one URL from a page listing or sitemap), before extraction.

    HTML fields are raw and untrusted: `clean.sanitize_html` runs before anything is stored.
    """

    link: str | None  # absolute URL of the article, or None when the entry has none
    guid: str | None = None
    title: str = ""
    summary_html: str = ""
    content_html: str = ""
    author: str | None = None
    published_at: datetime | None = None  # timezone-aware UTC
    updated_at: datetime | None = None
    image: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class ParsedFeed:
    """What a feed, page listing or sitemap yields."""

    entries: tuple[ParsedEntry, ...]
    title: str = ""
    link: str | None = None
    ttl_minutes: int | None = None  # RSS <ttl>
    warning: str | None = None  # ill-formed but partly readable
    format: str = ""  # rss20, atom10, json1, html, sitemap, ...


@dataclass(frozen=True)
class Extracted:
    """The main content of an article page, as trafilatura (or the feed) gives it."""

    text: str
    html: str  # sanitised
    title: str | None = None
    author: str | None = None
    published_at: datetime | None = None
    description: str | None = None
    image: str | None = None
    language: str | None = None
    canonical_url: str | None = None
    sitename: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
