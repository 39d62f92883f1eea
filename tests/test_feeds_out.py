"""Atom feeds of the archive, fetched from a real server and parsed by feedparser; and the
pure Atom writer on awkward input."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import feedparser
import pytest
from lxml import etree
from lxml import html as lxml_html
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import NOW, SEEDS, Site, populate, running_archive, serve
from veille.archive import feeds_out
from veille.archive.search import ArticleHit
from veille.config import Settings

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def site(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[Site]:
    public = settings.model_copy(update={"base_url": "https://veille.example.org"})
    with running_archive(public, sessions) as running:
        yield running


def parse(site: Site, path: str) -> feedparser.FeedParserDict:
    response = site.get(path)
    assert response.status_code == 200, path
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def test_theme_feed_is_valid_atom_with_stable_ids(site: Site) -> None:
    feed = parse(site, "/feeds/ia.atom")
    assert feed.feed.title == "veille — Intelligence artificielle"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links["self"] == "https://veille.example.org/feeds/ia.atom"
    assert links["alternate"] == "https://veille.example.org/?theme=ia"
    assert feed.feed.updated == "2026-11-21T07:00:00+00:00"
    assert len(feed.entries) == 2
    entry = next(e for e in feed.entries if "collectivités" in e.title)
    assert entry.id == f"tag:veille.example.org,2026:article:{site.ids['ia']}"
    assert entry.updated and entry.published
    rels = {(link.rel, link.href) for link in entry.links}
    assert ("alternate", "https://labo.example.fr/articles/ia") in rels
    assert ("related", f"https://veille.example.org/articles/{site.ids['ia']}") in rels
    assert [t.term for t in entry.tags] == ["ia"]
    # Same ids on the next fetch.
    again = parse(site, "/feeds/ia.atom")
    assert [e.id for e in again.entries] == [e.id for e in feed.entries]


def test_feed_content_is_sanitised_html(site: Site) -> None:
    raw = site.get("/feeds/ia.atom").content
    root = etree.fromstring(raw)
    hostile = next(
        e
        for e in root.iter(f"{ATOM}entry")
        if e.findtext(f"{ATOM}id").endswith(f":article:{site.ids['piege']}")
    )
    content = hostile.find(f"{ATOM}content")
    assert content is not None and content.get("type") == "html"
    html = content.text or ""
    assert "Texte sûr." in html
    for bad in ("<script", "onerror", "onclick", "javascript:"):
        assert bad not in html.lower(), bad
    # The title is text: the hostile markup is carried escaped, never as elements.
    assert hostile.findtext(f"{ATOM}title").startswith('<script>alert("titre")')


def test_search_feed_keeps_the_filters(site: Site) -> None:
    feed = parse(site, "/feeds/search.atom?theme=open_data&q=lyon&group=none")
    titles = sorted(e.title for e in feed.entries)
    assert titles == [
        "La métropole de Lyon ouvre son portail de données",
        "Lyon : un portail open data pour les réutilisateurs",
    ]
    # By default one entry per story: its representative.
    feed = parse(site, "/feeds/search.atom?theme=open_data&q=lyon")
    assert [e.title for e in feed.entries] == ["La métropole de Lyon ouvre son portail de données"]
    links = {link.rel: link.href for link in feed.feed.links}
    assert links["self"] == "https://veille.example.org/feeds/search.atom?theme=open_data&q=lyon"
    assert links["alternate"] == "https://veille.example.org/?theme=open_data&q=lyon"
    assert feed.feed.id.startswith("tag:veille.example.org,2026:search:")
    empty = parse(site, "/feeds/search.atom?q=zzzinexistant")
    assert empty.entries == [] and empty.feed.updated


def test_unknown_theme_and_bad_filters(site: Site) -> None:
    assert site.get("/feeds/cuisine.atom").status_code == 404
    assert site.get("/feeds/search.atom?page=-1").status_code == 400
    assert site.get("/feeds/search.atom?theme=cuisine").status_code == 400


def test_feed_holds_at_most_50_entries(settings: Settings, sessions: sessionmaker[Session]) -> None:
    from veille.web.app import create_app

    many = [replace(SEEDS[0], key=f"n{i}", age_hours=i + 1, also_listed_by=()) for i in range(60)]
    populate(sessions, many)
    with serve(create_app(settings, clock=lambda: NOW)) as base_url:
        feed = feedparser.parse(base_url + "/feeds/open_data.atom")
    assert not feed.bozo
    assert len(feed.entries) == 50
    assert len({e.id for e in feed.entries}) == 50


def hit(article_id: int, title: str) -> ArticleHit:
    return ArticleHit(
        id=article_id,
        url=f"https://exemple.fr/{article_id}",
        title=title,
        summary="résumé",
        source_key="s",
        source_name="Source",
        published_at=NOW - timedelta(days=1),
        themes=("ia",),
        score=None,
        coverage=1,
        partial=False,
    )


def test_render_atom_drops_characters_xml_cannot_carry() -> None:
    entry = feeds_out.FeedEntry(
        hit=hit(7, "Titre\x00 avec\x0b contrôle \ufffe"),
        content_html="<p>ok\x1f</p>",
        updated=NOW,
        author=None,
    )
    meta = feeds_out.FeedMeta(
        title="t", feed_id="tag:x,2026:t", self_url="https://x/f", html_url="https://x/"
    )
    body = feeds_out.render_atom(
        meta, [entry], base_url="https://x", now=NOW, theme_labels={"ia": "IA"}
    )
    feed = feedparser.parse(body)
    assert not feed.bozo
    assert feed.entries[0].title == "Titre avec contrôle"
    assert feed.entries[0].id == "tag:x,2026:article:7"
    assert feed.entries[0].tags[0].label == "IA"


def test_xml_safe_keeps_exactly_what_xml_can_carry() -> None:
    """Every code point, one by one: kept when XML 1.0's Char production allows it (tab,
    newline, return, U+0020–U+D7FF, U+E000–U+FFFD, U+10000 and above), dropped otherwise
    (other controls, lone surrogates, U+FFFE, U+FFFF) — and lxml accepts what is kept."""
    everything = "".join(map(chr, range(0x110000)))
    kept = feeds_out._xml_safe(everything)
    allowed = [
        c
        for c in everything
        if c in "\t\n\r"
        or "\x20" <= c <= "\ud7ff"
        or "\ue000" <= c <= "\ufffd"
        or c >= "\U00010000"
    ]
    assert kept == "".join(allowed)
    assert len(kept) == 0x110000 - (0x20 - 3) - 0x800 - 2
    etree.Element("x").text = kept  # lxml raises on a character XML refuses


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("path", "title"),
    [
        ("/feeds/ia.atom", "veille — Intelligence artificielle"),
        (
            "/feeds/search.atom?theme=open_data&q=portail",
            "veille — Open data · recherche « portail »",
        ),
        (
            "/feeds/search.atom?theme=open_data&theme=ia&source=gazette&period=semaine",
            "veille — Open data, Intelligence artificielle · La Gazette numérique · cette semaine",
        ),
        ("/feeds/search.atom", "veille — toute l'archive"),
        ("/feeds/editions.atom", None),
    ],
)
def test_every_feed_declares_its_stylesheet_and_is_named_after_its_filter(
    site: Site, path: str, title: str | None
) -> None:
    response = site.get(path)
    assert response.status_code == 200
    head = response.content[:200].decode()
    assert head.splitlines()[1] == '<?xml-stylesheet type="text/xsl" href="/static/feed.xsl"?>'
    if title is not None:
        assert feedparser.parse(response.content).feed.title == title
    # A browser navigating to the feed gets the stylesheet's French page, made on the
    # server; caches are told the answer varies with Accept.
    page = site.get(path, headers={"Accept": BROWSER_ACCEPT})
    assert page.headers["content-type"].startswith("text/html")
    assert "accept" in page.headers["vary"].lower()
    assert "accept" in response.headers["vary"].lower()
    doc = lxml_html.fromstring(page.content)
    assert doc.get("lang") == "fr"
    assert doc.cssselect("h2")[0].text_content() == "Suivre ce flux"
    self_url = feedparser.parse(response.content).feed.links[0].href
    assert doc.cssselect("code.feed-url")[0].text_content() == self_url
    if title is not None:
        assert doc.cssselect("h1")[0].text_content() == title
    # Entries are dated as the archive dates them (« 7 décembre 2026 »), not 07/12/2026.
    entries = feedparser.parse(response.content).entries
    if entries:
        published = entries[0].published_parsed
        months = "janvier février mars avril mai juin juillet août septembre octobre novembre"
        month = [*months.split(), "décembre"][published.tm_mon - 1]
        day = f"{published.tm_mday} {month} {published.tm_year}"
        assert day in doc.cssselect(".feed-entries li")[0].text_content()
        assert not re.search(r"\b\d{2}/\d{2}/\d{4}\b", doc.text_content())


def test_the_feed_stylesheet_is_served_as_xslt(site: Site) -> None:
    response = site.get("/static/feed.xsl")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xslt+xml")
    root = etree.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/1999/XSL/Transform}stylesheet"
    # The stylesheet really turns a feed into the French page: run it here with libxslt.
    feed = etree.fromstring(site.get("/feeds/ia.atom").content)
    page = str(etree.XSLT(root)(feed))
    assert "Suivre ce flux" in page and "veille — Intelligence artificielle" in page
    assert "https://veille.example.org/feeds/ia.atom" in page
    assert "L'intelligence artificielle au service des collectivités" in page
