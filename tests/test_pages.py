"""Listing pages, sitemaps and feed discovery on the project's own fixtures."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from veille.collect.pages import (
    candidate_feed_paths,
    discover_feeds,
    find_article_links,
    is_article_url,
    listing_entries,
    parse_sitemap,
)
from veille.errors import ConfigError, ParseError
from veille.sources import validate_selector

DATA = Path(__file__).parent / "data" / "pages"
PAGE_URL = "https://territoires.exemple.fr/actualites/"
NOW = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)


def _read(name: str) -> bytes:
    return (DATA / name).read_bytes()


def test_automatic_links_keep_same_site_articles_and_drop_boilerplate() -> None:
    links = find_article_links(_read("listing.html"), base_url=PAGE_URL)
    assert links == [
        "https://territoires.exemple.fr/actualites/2024/05/ouverture-des-donnees-de-mobilite",
        "https://www.territoires.exemple.fr/actualites/ia-et-collectivites-un-guide",
        "https://territoires.exemple.fr/actualites/dossiers/2024-04-30-socle-commun",
        "https://blog.territoires.exemple.fr/billets/budget-participatif-2024",
    ]


def test_limit() -> None:
    links = find_article_links(_read("listing.html"), base_url=PAGE_URL, limit=2)
    assert len(links) == 2


def test_selector_takes_anchors_inside_matched_elements() -> None:
    html = _read("listing.html")
    expected = [
        "https://territoires.exemple.fr/actualites/2024/05/ouverture-des-donnees-de-mobilite",
        "https://www.territoires.exemple.fr/actualites/ia-et-collectivites-un-guide",
        "https://territoires.exemple.fr/actualites/dossiers/2024-04-30-socle-commun",
    ]
    assert find_article_links(html, base_url=PAGE_URL, selector="article.card h2") == expected
    assert find_article_links(html, base_url=PAGE_URL, selector="h2 a") == expected
    # A selector is trusted: it may pick what the heuristics would drop.
    footer = find_article_links(html, base_url=PAGE_URL, selector="footer a")
    assert footer == ["https://territoires.exemple.fr/actualites/2024/01/voeux-de-la-presidente"]


def test_invalid_selector_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="CSS selector"):
        validate_selector("article[[")
    with pytest.raises(ConfigError):
        find_article_links(b"<p>x</p>", base_url=PAGE_URL, selector="a:::b")


def test_listing_entries_use_anchor_text_as_title() -> None:
    feed = listing_entries(_read("listing.html"), PAGE_URL)
    assert feed.format == "html"
    assert feed.title == "Actualités — Agence des territoires numériques"
    first = feed.entries[0]
    assert first.link.endswith("/ouverture-des-donnees-de-mobilite")  # type: ignore[union-attr]
    assert first.title == "Ouverture des données de mobilité"  # image link had no text
    assert [e.title for e in feed.entries][1] == "IA et collectivités : un guide"


def test_base_href_and_empty_pages() -> None:
    html = (
        b'<html><head><base href="https://cdn.exemple.fr/site/"></head><body><main>'
        b'<a href="articles/nouveau-portail-regional">x</a></main></body></html>'
    )
    links = find_article_links(html, base_url="https://cdn.exemple.fr/")
    assert links == ["https://cdn.exemple.fr/site/articles/nouveau-portail-regional"]
    assert find_article_links(b"", base_url=PAGE_URL) == []
    assert listing_entries(b"   ", PAGE_URL).entries == ()


@pytest.mark.parametrize(
    ("url", "article"),
    [
        ("https://ex.fr/2024/05/14/titre", True),
        ("https://ex.fr/un-titre-avec-des-tirets", True),
        ("https://ex.fr/billet123", True),
        ("https://ex.fr/blog/titre", True),
        ("https://ex.fr/?p=123", False),
        ("https://ex.fr/", False),
        ("https://ex.fr/blog", False),
        ("https://ex.fr/en/blog", False),
        ("https://ex.fr/tag/open-data", False),
        ("https://ex.fr/blog/page/2", False),
        ("https://ex.fr/fichiers/rapport-2024.pdf", False),
        ("https://ex.fr/blog/titre?page=2", False),
        ("https://ex.fr/politique-de-confidentialite", False),
    ],
)
def test_is_article_url(url: str, article: bool) -> None:
    assert is_article_url(url) is article


def test_discover_feeds_ranks_feed_types_and_comments_last() -> None:
    assert discover_feeds(_read("listing.html"), base_url=PAGE_URL) == [
        "https://territoires.exemple.fr/actualites/feed/",
        "https://territoires.exemple.fr/atom.xml",
        "https://territoires.exemple.fr/feed.json",
        "https://territoires.exemple.fr/comments/feed/",
    ]
    assert discover_feeds(b"<html><body>rien</body></html>", base_url=PAGE_URL) == []
    assert discover_feeds(b"", base_url=PAGE_URL) == []


def test_candidate_feed_paths() -> None:
    paths = candidate_feed_paths("https://ex.fr/blog?x=1")  # the path is a section
    assert paths[0] == "https://ex.fr/blog/feed"
    assert "https://ex.fr/feed" in paths and "https://ex.fr/rss.xml" in paths
    assert "https://ex.fr/atom.xml" in paths and "https://ex.fr/index.xml" in paths
    assert len(paths) == len(set(paths))
    root_only = candidate_feed_paths("https://ex.fr")
    assert root_only[:2] == ["https://ex.fr/feed", "https://ex.fr/rss.xml"]


def test_news_sitemap_keeps_recent_urls_newest_first() -> None:
    feed = parse_sitemap(
        _read("sitemap_news.xml"), base_url="https://presse.exemple.fr/sitemap.xml", now=NOW
    )
    assert feed.format == "sitemap"
    links = [e.link for e in feed.entries]
    assert links == [
        "https://presse.exemple.fr/2024/05/14/donnees-de-sante-et-collectivites",
        "https://presse.exemple.fr/2024/05/13/registre-des-algorithmes-publics",
        "https://presse.exemple.fr/a-propos-de-la-redaction",  # undated: kept, last
    ]
    news = feed.entries[1]
    assert news.title == "Registre des algorithmes publics : où en est-on ?"
    assert news.published_at == datetime(2024, 5, 13, 6, 0, tzinfo=UTC)
    assert news.image == "https://presse.exemple.fr/img/registre.jpg"
    assert feed.entries[0].published_at == datetime(2024, 5, 14, 17, 30, tzinfo=UTC)


def test_sitemap_age_and_limit_and_gzip() -> None:
    data = gzip.compress(_read("sitemap_news.xml"))
    feed = parse_sitemap(
        data, base_url="https://presse.exemple.fr/s.xml.gz", now=NOW, max_age_days=90, limit=3
    )
    assert len(feed.entries) == 3
    assert feed.entries[2].link == "https://presse.exemple.fr/2024/03/01/un-vieil-article"


def test_sitemap_index_lists_children_newest_first() -> None:
    feed = parse_sitemap(
        _read("sitemap_index.xml"), base_url="https://presse.exemple.fr/sitemap.xml", now=NOW
    )
    assert feed.format == "sitemapindex"
    assert [e.link for e in feed.entries] == [
        "https://presse.exemple.fr/sitemaps/2024-05.xml.gz",
        "https://presse.exemple.fr/sitemaps/2024-04.xml",
        "https://presse.exemple.fr/sitemaps/2024-03.xml",  # older than 7 days: still listed
        "https://presse.exemple.fr/sitemaps/pages.xml",
    ]


@pytest.mark.parametrize(
    "body",
    [b"", b"<html><body>x</body></html>", b"\x1f\x8b\x08corrupt", b"not xml at all"],
)
def test_non_sitemaps_raise_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_sitemap(body, base_url="https://ex.fr/sitemap.xml", now=NOW)


def test_sitemap_entities_are_not_expanded() -> None:
    data = (
        b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "' + b"x" * 1000 + b'">]>'
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://ex.fr/a-1-&a;&a;&a;</loc></url></urlset>"
    )
    feed = parse_sitemap(data, base_url="https://ex.fr/sitemap.xml", now=NOW)
    assert all(len(e.link or "") < 100 for e in feed.entries)


def test_sitemap_drops_home_and_section_pages() -> None:
    body = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <url><loc>https://presse.exemple.fr/</loc></url>
    <url><loc>https://presse.exemple.fr/territoires/</loc></url>
    <url><loc>https://presse.exemple.fr/territoires/la-commune-ouvre-ses-donnees</loc></url>
    <url><loc>https://presse.exemple.fr/qui-sommes-nous</loc></url>
    </urlset>"""
    feed = parse_sitemap(body, base_url="https://presse.exemple.fr/sitemap.xml", now=NOW)
    assert [e.link for e in feed.entries] == [
        "https://presse.exemple.fr/territoires/la-commune-ouvre-ses-donnees",
        "https://presse.exemple.fr/qui-sommes-nous",
    ]
