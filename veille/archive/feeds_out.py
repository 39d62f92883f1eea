"""Atom 1.0 feeds of the archive: a theme, or any archive filter, as a subscription.

Entry ids are tag URIs built from the public host and the article id, so a reader keeps
recognising an entry whatever its title or URL becomes. Content is the stored extract,
sanitised again here: a feed reader renders it as HTML.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from lxml import etree
from sqlalchemy.orm import Session

from veille.archive.query import NO_THEME, ArchiveQuery
from veille.archive.search import ArticleHit
from veille.collect.servehtml import served_html
from veille.db import articles as article_db

ATOM_NS = "http://www.w3.org/2005/Atom"
MAX_ENTRIES = 50
# A browser opening a feed gets it as a French page (templates/static/feed.xsl): what the
# feed is, how to add it to a reader, its entries. Feed readers ignore the instruction.
STYLESHEET = "/static/feed.xsl"
TAG_YEAR = 2026  # tag URIs name a date the authority owned the host: fixed once, forever


@dataclass(frozen=True)
class FeedMeta:
    title: str
    feed_id: str
    self_url: str
    html_url: str  # the archive page with the same filters
    subtitle: str = ""


@dataclass(frozen=True)
class FeedEntry:
    hit: ArticleHit
    content_html: str  # already sanitised
    updated: datetime
    author: str | None


def feed_title(
    query: ArchiveQuery, theme_labels: dict[str, str], source_names: dict[str, str]
) -> str:
    """« veille — Open data · recherche « portail » »: the feed named after its filter, so a
    reader's list of subscriptions says what each one follows."""
    parts = []
    if query.themes:
        parts.append(
            ", ".join(
                theme_labels.get(t, "Hors thèmes" if t == NO_THEME else t) for t in query.themes
            )
        )
    if query.sources:
        parts.append(", ".join(source_names.get(k, k) for k in query.sources))
    if query.q:
        parts.append(f"recherche « {query.q[:80]} »")
    if query.period:
        parts.append(
            {"semaine": "cette semaine", "mois": "ce mois", "annee": "cette année"}[query.period]
        )
    elif query.date_from or query.date_to:
        start = f"du {query.date_from.strftime('%d/%m/%Y')}" if query.date_from else ""
        end = f"au {query.date_to.strftime('%d/%m/%Y')}" if query.date_to else ""
        parts.append(" ".join(p for p in (start, end) if p))
    return "veille — " + (" · ".join(parts) if parts else "toute l'archive")


def tag_authority(base_url: str) -> str:
    host = urlsplit(base_url).hostname or "localhost"
    return f"tag:{host},{TAG_YEAR}"


def entry_id(base_url: str, article_id: int) -> str:
    return f"{tag_authority(base_url)}:article:{article_id}"


def feed_entries(session: Session, hits: Sequence[ArticleHit]) -> list[FeedEntry]:
    """Add each hit's stored extract (sanitised) and last update time: one query, of the
    three columns an entry adds (not whole ORM rows with their text)."""
    rows = article_db.rows_by_id(session, article_db.FEED_EXTRAS, [h.id for h in hits])
    entries = []
    for hit in hits[:MAX_ENTRIES]:
        row = rows.get(hit.id)
        html = row.html if row is not None else ""
        content = served_html(html, base_url=hit.url)  # checked, not re-parsed
        updated = (row.updated_at if row is not None else None) or hit.published_at
        entries.append(
            FeedEntry(
                hit=hit,
                content_html=content,
                updated=max(updated, hit.published_at),
                author=row.author if row is not None else None,
            )
        )
    return entries


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    node = etree.SubElement(
        parent, f"{{{ATOM_NS}}}{tag}", {k: _xml_safe(v) for k, v in attrs.items()}
    )
    if text is not None:
        node.text = _xml_safe(text)
    return node


# What XML 1.0 cannot carry: controls but tab, newline and return; lone surrogates;
# U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    """Drop characters XML 1.0 cannot carry (collected text sometimes has them). One
    regular expression: a Python test per character of each entry's whole HTML cost a
    search feed 5–11 ms of its ~40 ms of CPU at 1M articles (benchmarks/README.md)."""
    return _NOT_XML.sub("", text)


def render_atom(
    meta: FeedMeta,
    entries: Sequence[FeedEntry],
    *,
    base_url: str,
    now: datetime,
    theme_labels: dict[str, str],
) -> bytes:
    root = etree.Element(f"{{{ATOM_NS}}}feed", nsmap={None: ATOM_NS})
    root.set("{http://www.w3.org/XML/1998/namespace}lang", "fr")
    _el(root, "id", meta.feed_id)
    _el(root, "title", meta.title)
    if meta.subtitle:
        _el(root, "subtitle", meta.subtitle)
    updated = max((e.updated for e in entries), default=now)
    _el(root, "updated", updated.isoformat())
    _el(root, "link", rel="self", type="application/atom+xml", href=meta.self_url)
    _el(root, "link", rel="alternate", type="text/html", href=meta.html_url)
    author = _el(root, "author")
    _el(author, "name", "veille")
    _el(root, "generator", "veille")
    archive = base_url.rstrip("/")
    for entry in entries[:MAX_ENTRIES]:
        hit = entry.hit
        node = _el(root, "entry")
        _el(node, "id", entry_id(base_url, hit.id))
        _el(node, "title", hit.title or "(sans titre)")
        _el(node, "updated", entry.updated.isoformat())
        _el(node, "published", hit.published_at.isoformat())
        _el(node, "link", rel="alternate", type="text/html", href=hit.url)
        _el(node, "link", rel="related", type="text/html", href=f"{archive}/articles/{hit.id}")
        who = _el(node, "author")
        _el(who, "name", entry.author or hit.source_name)
        for theme in hit.themes:
            _el(node, "category", term=theme, label=theme_labels.get(theme, theme))
        if hit.summary:
            _el(node, "summary", hit.summary)
        if entry.content_html:
            _el(node, "content", entry.content_html, type="html")
        source = _el(node, "source")
        _el(source, "title", hit.source_name)
    return atom_bytes(root)


def atom_bytes(root: etree._Element) -> bytes:
    """A feed document, declaring the stylesheet that shows it to a browser as a page."""
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        + f'<?xml-stylesheet type="text/xsl" href="{STYLESHEET}"?>\n'.encode()
        + bytes(etree.tostring(root, encoding="utf-8"))
    )
