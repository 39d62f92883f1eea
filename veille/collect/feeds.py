"""Feed bytes → `ParsedFeed` (RSS 0.9x/1.0/2.0, RDF, Atom 0.3/1.0, JSON Feed 1.0/1.1).

Three readers feed one normaliser (`_finish`), so every path yields the same shapes:

- JSON Feed, read with `json` (feedparser 6.0.x does not know it);
- `fastfeed`, an lxml reader for well-formed RSS 2.0 / Atom 1.0 / RDF of a known simple
  shape — about 30x faster than feedparser, which matters when 500 feeds are parsed per cycle;
- feedparser, for everything else: older dialects, ill-formed XML, odd encodings, DOCTYPEs.

Only `ParseError` ever leaves `parse_feed`: the fetched bytes are untrusted and one bad
source must never stop a cycle.
"""

from __future__ import annotations

import html
import io
import json
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from veille.collect import fastfeed
from veille.collect.dates import plausible_date
from veille.collect.types import ParsedEntry, ParsedFeed
from veille.errors import ParseError

# Dates further ahead than this are publisher clock or typing errors, not news.
# Internal-subset entities may expand to at most this many characters in total: above it,
# the declarations are removed (see `defuse_entities`).
MAX_ENTITY_EXPANSION = 1_000_000
_WARNING_MAX = 200
MAX_TITLE = 1000  # a longer title or author is junk (or an attack), not a headline

_TAG_RE = re.compile(r"<[^>]*>")
# An absolute http(s) URL that `urljoin` and `urlsplit` give back unchanged whatever the
# base: lowercase scheme, a host part without brackets, no `;` (path parameters), no
# whitespace or control character (urlsplit drops them), a `?` or `#` only with something
# after it (an empty query or fragment is dropped by `urlunsplit`). Most feed links are
# this; the rest take the general path. tests/test_feeds.py checks the equivalence (the one
# difference, a base urlsplit refuses, cannot happen: the feed's URL was fetched).
_URL_CHARS = r"A-Za-z0-9\-._~%!$&'()*+,=:@"
_PLAIN_WEB_URL_RE = re.compile(
    rf"https?://[{_URL_CHARS}]+(?:/[{_URL_CHARS}/]*)?"
    rf"(?:\?[{_URL_CHARS}/?]+)?(?:#[{_URL_CHARS}/?#]+)?"
)
_WS_RE = re.compile(r"\s+")
_ENTITY_DECL_RE = re.compile(rb"<!ENTITY\s+(%\s+)?([\w.:-]+)\s+(?:\"([^\"]*)\"|'([^']*)')", re.S)
_NESTED_REF_RE = re.compile(rb"[&%][A-Za-z_:]")
_DOCTYPE_SUBSET_RE = re.compile(rb"<!DOCTYPE[^\[>]*\[.*?\]\s*>", re.S)
_HTML_START_RE = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html[\s>])", re.I | re.S)


def parse_feed(
    content: bytes,
    *,
    url: str,
    content_type: str | None = None,
    now: datetime | None = None,
) -> ParsedFeed:
    """Read a feed; raise `ParseError` only when the bytes hold no feed at all.

    `now` (default: the current time) bounds publication dates: an implausible one
    (`dates.plausible_date`) becomes None.
    """
    now = now or datetime.now(UTC)
    try:
        return _parse(content, url=url, content_type=content_type, now=now)
    except ParseError:
        raise
    except Exception as exc:  # untrusted input: no other exception may escape
        raise ParseError(
            f"The document could not be read as a feed ({type(exc).__name__})."
        ) from exc


def _parse(content: bytes, *, url: str, content_type: str | None, now: datetime) -> ParsedFeed:
    body = content.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not body:
        raise ParseError("The document is empty.")
    if body[:1] in (b"{", b"[") or (content_type and "json" in content_type.lower()):
        return _finish(_read_json_feed(content, url), url=url, now=now)
    if _HTML_START_RE.match(body[:4096]):
        raise ParseError("The document is an HTML page, not a feed.")
    content = defuse_entities(content)
    raw: dict[str, Any] | None = None
    try:
        raw = fastfeed.read(content, content_type=content_type)
    except Exception:  # any doubt: feedparser decides
        raw = None
    if raw is None:
        raw = _read_with_feedparser(content, content_type)
    return _finish(raw, url=url, now=now)


def defuse_entities(content: bytes) -> bytes:
    """Drop a DOCTYPE's internal subset when its entities could expand into a memory bomb.

    feedparser strips nested entity definitions but keeps flat ones, so a 3 MB document
    of `&a;` references to a 200-character entity grows to 200 MB of text (measured:
    880 MB RSS). Real feeds declare a handful of short entities used a few times.
    """
    head = content[:65536]
    if b"<!ENTITY" not in head and b"<!entity" not in head:
        return content
    total = 0
    for match in _ENTITY_DECL_RE.finditer(head):
        name = match.group(2)
        value = match.group(3) if match.group(3) is not None else match.group(4) or b""
        refs = content.count(b"&" + name + b";") + content.count(b"%" + name + b";")
        total += (len(value) + 1) * refs
        if _NESTED_REF_RE.search(value):  # nested entities: let nobody expand them
            total += MAX_ENTITY_EXPANSION
    if total <= MAX_ENTITY_EXPANSION:
        return content
    return _DOCTYPE_SUBSET_RE.sub(b"", content, count=1)


# --- feedparser ------------------------------------------------------------------------


def _read_with_feedparser(content: bytes, content_type: str | None) -> dict[str, Any]:
    import feedparser  # the fallback: most feeds never need it (nor its import, ~30 ms)

    headers = {"content-type": content_type} if content_type else {}
    result = feedparser.parse(
        io.BytesIO(content),
        response_headers=headers,
        resolve_relative_uris=False,
        sanitize_html=False,
    )
    version = result.get("version") or ""
    entries = result.get("entries") or []
    feed = result.get("feed") or {}
    if not version and not entries and _root_name(content) not in _FEED_ROOTS:
        reason = _short(result.get("bozo_exception")) if result.get("bozo") else ""
        detail = f" ({reason})" if reason else ""
        raise ParseError(f"The document is not a feed{detail}.")
    warning = None
    exc = result.get("bozo_exception")
    if result.get("bozo") and not isinstance(exc, feedparser.NonXMLContentType):
        warning = _short(exc) or "The feed is not well-formed."
    feed_language = feed.get("language")
    return {
        "format": version or "unknown",
        "title": _detail_text(feed, "title"),
        "link": feed.get("link"),
        "ttl": feed.get("ttl"),
        "warning": warning,
        "entries": [_fp_entry(e, feed_language) for e in entries],
    }


_FEED_ROOTS = {"rss", "rdf", "feed", "channel"}  # RSS 1.1's root is <Channel>
_COMMENT_RE = re.compile(rb"<!--.*?-->|<\?.*?\?>|<!DOCTYPE[^\[>]*(\[.*?\])?\s*>", re.S | re.I)
_ROOT_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")


def _root_name(content: bytes) -> str:
    """Local name of the root element, lower-cased: an empty but valid feed is still a feed."""
    head = _COMMENT_RE.sub(b"", content[:16384])
    match = _ROOT_RE.search(head)
    return match.group(1).decode("ascii").lower() if match else ""


def _fp_entry(e: dict[str, Any], feed_language: str | None) -> dict[str, Any]:
    contents = e.get("content") or []
    content = contents[0] if contents else {}
    summary_detail = e.get("summary_detail") or {}
    language = (
        e.get("language")
        or (e.get("title_detail") or {}).get("language")
        or summary_detail.get("language")
        or feed_language
    )
    return {
        "link": e.get("link"),
        "guid": e.get("id"),
        "title": _detail_text(e, "title"),
        "summary": _as_html(e.get("summary") or "", summary_detail.get("type")),
        "content": _as_html(content.get("value") or "", content.get("type")),
        "author": e.get("author"),
        # dict.get: FeedParserDict.get maps updated to published with a DeprecationWarning
        "published": _from_struct(dict.get(e, "published_parsed") or dict.get(e, "updated_parsed")),
        "updated": _from_struct(dict.get(e, "updated_parsed")),
        "image": _fp_image(e),
        "language": language,
    }


def _fp_image(e: Mapping[str, Any]) -> str | None:
    for thumb in e.get("media_thumbnail") or []:
        if thumb.get("url"):
            return str(thumb["url"])
    for media in e.get("media_content") or []:
        kind = f"{media.get('medium', '')} {media.get('type', '')}"
        if media.get("url") and "image" in kind:
            return str(media["url"])
    for link in e.get("links") or []:
        kind = str(link.get("type", ""))
        if link.get("rel") == "enclosure" and kind.startswith("image") and link.get("href"):
            return str(link["href"])
    image = e.get("image")
    if isinstance(image, Mapping) and image.get("href"):
        return str(image["href"])
    return None


def _detail_text(node: Mapping[str, Any], key: str) -> str:
    detail = node.get(f"{key}_detail") or {}
    value = node.get(key) or ""
    return _as_html(value, detail.get("type")) if value else ""


def _as_html(value: str, kind: str | None) -> str:
    """feedparser gives text/plain values unescaped; every HTML field here is HTML."""
    if kind == "text/plain":
        return html.escape(value, quote=False)
    return value


def _from_struct(value: time.struct_time | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _short(exc: object) -> str:
    text = _WS_RE.sub(" ", str(exc or "")).strip()
    return text[:_WARNING_MAX]


# --- JSON Feed -------------------------------------------------------------------------


def _read_json_feed(content: bytes, url: str) -> dict[str, Any]:
    try:
        doc = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ParseError("The document is neither XML nor valid JSON.") from exc
    version = doc.get("version") if isinstance(doc, dict) else None
    if not isinstance(version, str) or "jsonfeed.org/version/" not in version:
        raise ParseError("The JSON document is not a JSON Feed.")
    items = doc.get("items")
    feed_language = _str(doc.get("language"))
    entries = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        text = _str(item.get("content_text"))
        entries.append(
            {
                "link": _str(item.get("url")) or _str(item.get("external_url")),
                "guid": _str(item.get("id")) or None,
                "title": html.escape(_str(item.get("title")), quote=False),
                "summary": html.escape(_str(item.get("summary")), quote=False),
                "content": _str(item.get("content_html"))
                or (f"<p>{html.escape(text, quote=False)}</p>" if text else ""),
                "author": _json_author(item) or _json_author(doc),
                "published": _iso_date(item.get("date_published") or item.get("date_modified")),
                "updated": _iso_date(item.get("date_modified")),
                "image": _str(item.get("image")) or _str(item.get("banner_image")) or None,
                "language": _str(item.get("language")) or feed_language or None,
            }
        )
    minor = version.rsplit("/", 1)[-1].replace(".", "")
    return {
        "format": "json" + (minor if minor.isdigit() else "1"),
        "title": html.escape(_str(doc.get("title")), quote=False),
        "link": _str(doc.get("home_page_url")) or None,
        "ttl": None,
        "warning": None,
        "entries": entries,
    }


def _json_author(node: Mapping[str, Any]) -> str | None:
    authors = node.get("authors")
    author = authors[0] if isinstance(authors, list) and authors else node.get("author")
    if isinstance(author, dict):
        return _str(author.get("name")) or None
    return None


def _str(value: object) -> str:
    return value.strip() if isinstance(value, str) else str(value) if isinstance(value, int) else ""


def _iso_date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # year 1 with an offset overflows: no date
        return None


# --- one normaliser for every reader ---------------------------------------------------


def _finish(raw: Mapping[str, Any], *, url: str, now: datetime) -> ParsedFeed:
    feed_link = _absolute(raw.get("link"), url)
    base = feed_link or url
    entries = tuple(_finish_entry(e, base=base, now=now) for e in raw["entries"])
    return ParsedFeed(
        entries=entries,
        title=plain_text(raw.get("title") or ""),
        link=feed_link,
        ttl_minutes=_ttl(raw.get("ttl")),
        warning=raw.get("warning"),
        format=raw.get("format") or "",
    )


def _finish_entry(raw: Mapping[str, Any], *, base: str, now: datetime) -> ParsedEntry:
    guid = (raw.get("guid") or "").strip() or None
    raw_link = (raw.get("link") or "").strip() or None
    if raw_link and raw_link == guid and not _is_web_url(guid):
        raw_link = None  # RSS guid taken as permalink although it is no URL
    link = _absolute(raw_link, base)
    if link is None and guid and _is_web_url(guid):
        link = _absolute(guid, base)
    return ParsedEntry(
        link=link,
        guid=guid,
        title=plain_text(raw.get("title") or "")[:MAX_TITLE],
        summary_html=(raw.get("summary") or "").strip(),
        content_html=(raw.get("content") or "").strip(),
        author=(raw.get("author") or "").strip()[:MAX_TITLE] or None,
        published_at=_bounded(raw.get("published"), now),
        updated_at=_bounded(raw.get("updated"), now),
        image=_absolute(raw.get("image"), base),
        language=(raw.get("language") or "").strip() or None,
    )


def plain_text(markup: str) -> str:
    """Titles may carry markup and entities; users read them as one line of text."""
    text = _TAG_RE.sub("", markup) if "<" in markup else markup
    if "&" in text:
        text = html.unescape(text)
    return _WS_RE.sub(" ", text).strip()


def _absolute(link: str | None, base: str) -> str | None:
    if not link or not isinstance(link, str):
        return None
    link = link.strip()
    if _PLAIN_WEB_URL_RE.fullmatch(link):
        return link  # what urljoin and the check below give (~25,000 links a first cycle)
    try:
        joined = urljoin(base, link)
    except ValueError:
        return None
    return joined if _is_web_url(joined) else None


def _is_web_url(value: str) -> bool:
    if _PLAIN_WEB_URL_RE.fullmatch(value):
        return True
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _bounded(value: datetime | None, now: datetime) -> datetime | None:
    return plausible_date(value, now)


def _ttl(value: object) -> int | None:
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return minutes if minutes > 0 else None
