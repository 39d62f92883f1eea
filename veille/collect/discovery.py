"""`veille sources add URL` and the desk's « Ajouter une source »: turn whatever URL the
delegate pastes into a source, and show the first articles it would give before it is saved.

A feed URL is taken as is; an HTML page is searched for `<link rel="alternate">` feeds,
then for the usual feed paths; a sitemap is recognised; failing all that the page itself
becomes a `page` source whose article links are found automatically.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from veille.collect import error_text
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
        raise ConfigError(f"Type de source inconnu « {kind} » : feed, page ou sitemap.")
    with Fetcher(FetchPolicy.from_settings(settings)) as fetcher:
        if kind in ("page", "sitemap"):
            return FoundSource(key_from_url(url), url, url, kind)
        try:
            page = fetcher.fetch(url)
        except FetchError as exc:
            raise ConfigError(f"Impossible de lire {url}. {fetch_problem(exc)}") from None
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
            raise ConfigError(f"Aucun flux à l’adresse {url} ni dans ses liens.")
        return FoundSource(key_from_url(page.url), page.url, page.url, "page")


def fetch_problem(exc: FetchError) -> str:
    """The French sentence for a failed fetch: the wording of every screen
    (`collect.error_text`), the English detail kept in logs and `sources list`."""
    return error_text.sentence(str(exc) or exc.kind or "erreur", exc.status)


WEB = ("http://", "https://")


@dataclass(frozen=True)
class PreviewEntry:
    title: str
    url: str
    published_at: datetime | None


def preview(found: FoundSource, settings: Settings, limit: int = 8) -> list[PreviewEntry]:
    """The first articles the source lists, fetched and parsed as a collection cycle would
    (same fetcher, same SSRF guard, same parsers); nothing is stored. ConfigError in French
    when the source gives nothing, so the delegate sees it before saving."""
    from veille.collect.worker import SourceState, fetch_listing

    state = SourceState(
        id=0,
        key=found.key,
        url=found.url,
        kind=found.kind,
        selector=None,
        interval=60,
        etag=None,
        last_modified=None,
        consecutive_failures=0,
    )
    with Fetcher(FetchPolicy.from_settings(settings)) as fetcher:
        listing = fetch_listing(fetcher, state, datetime.now(UTC))
    if listing.error or listing.feed is None:
        reason = fetch_problem(
            FetchError(
                listing.error or "not a feed (parse)",
                kind=listing.error_kind or "",
                status=listing.http_status,
            )
        )
        raise ConfigError(f"Impossible de lire {found.url}. {reason}")
    # Only web links: a feed is untrusted and the preview makes them clickable.
    entries = [e for e in listing.feed.entries if (e.link or "").startswith(WEB)][:limit]
    return [
        PreviewEntry(" ".join(e.title.split()) or e.link or "", e.link or "", e.published_at)
        for e in entries
    ]
