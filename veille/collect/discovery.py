"""`veille sources add URL`: turn whatever URL the delegate pastes into a source.

A feed URL is taken as is; an HTML page is searched for `<link rel="alternate">` feeds,
then for the usual feed paths; a sitemap is recognised; failing all that the page itself
becomes a `page` source whose article links are found automatically.
"""

from __future__ import annotations

from dataclasses import dataclass

from veille.collect.feeds import parse_feed
from veille.collect.fetcher import FEED_ACCEPT, Fetcher, FetchPolicy
from veille.collect.pages import candidate_feed_paths, discover_feeds
from veille.config import Settings
from veille.errors import ConfigError, FetchError, ParseError
from veille.sources import key_from_url


@dataclass(frozen=True)
class FoundSource:
    key: str
    name: str
    url: str
    kind: str


def _as_feed(fetcher: Fetcher, url: str) -> FoundSource | None:
    try:
        result = fetcher.fetch(url, accept=FEED_ACCEPT)
        feed = parse_feed(
            result.content, url=result.url, content_type=result.headers.get("content-type")
        )
    except (FetchError, ParseError):
        return None
    if feed.format in ("html", "sitemap"):
        return None
    return FoundSource(key_from_url(result.url), feed.title or result.url, result.url, "feed")


def find_source(url: str, settings: Settings, *, kind: str | None = None) -> FoundSource:
    if kind not in (None, "feed", "page", "sitemap"):
        raise ConfigError(f"Unknown kind '{kind}': use feed, page or sitemap.")
    with Fetcher(FetchPolicy.from_settings(settings)) as fetcher:
        if kind in ("page", "sitemap"):
            return FoundSource(key_from_url(url), url, url, kind)
        try:
            page = fetcher.fetch(url)
        except FetchError as exc:
            raise ConfigError(f"Cannot fetch {url}: {exc}") from None
        ctype = page.headers.get("content-type", "")
        head = page.content[:2048].lower()
        if b"<urlset" in head or b"<sitemapindex" in head:
            return FoundSource(key_from_url(page.url), page.url, page.url, "sitemap")
        if "html" not in ctype and b"<html" not in head:
            found = _as_feed(fetcher, page.url)
            if found:
                return found
        for candidate in discover_feeds(page.content, base_url=page.url):
            found = _as_feed(fetcher, candidate)
            if found:
                return found
        if kind is None:
            for candidate in candidate_feed_paths(page.url):
                found = _as_feed(fetcher, candidate)
                if found:
                    return found
        if kind == "feed":
            raise ConfigError(f"No feed found at or linked from {url}.")
        return FoundSource(key_from_url(page.url), page.url, page.url, "page")
