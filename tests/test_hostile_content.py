"""Hostile content in sources that answer well (issue 12): markup nested 100,000 deep,
tracking pixels and remote images, absurd publication dates. Each goes through a real
collection cycle against the local hostile server, then the archive served by uvicorn."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import serve
from tests.hostile_server import HostileServer, static
from veille.collect.pipeline import CollectContext, refresh_due
from veille.config import Settings
from veille.db.tables import ArticleRow
from veille.sources import load_feeds_config

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DEPTH = 100_000
DEEP_SENTENCE = "Cette phrase est cachée tout au fond de cent mille niveaux imbriqués."
LEAD = (
    "La communauté de communes publie ses délibérations en données ouvertes, avec les "
    "budgets, les subventions et les marchés publics, chaque trimestre, au format CSV."
)
PAGE_LEAD = (
    "Le département ouvre un atelier sur l'intelligence artificielle dans les services "
    "publics : agents, élus et habitants débattront des usages, des risques et des garde-fous."
)
RSS = "application/rss+xml; charset=utf-8"


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


def collect(settings: Settings, sessions: sessionmaker[Session], sources: dict[str, str]) -> None:
    lines = "".join(f'  - {{key: {k}, name: {k}, url: "{u}"}}\n' for k, u in sources.items())
    settings.config_file.write_text(f"sources:\n{lines}", encoding="utf-8")
    ctx = CollectContext(
        settings=settings,
        sessions=sessions,
        config=load_feeds_config(settings.config_file),
        clock=lambda: NOW,
    )
    summary = refresh_due(ctx, force=True)
    assert all(r.status == "ok" for r in summary.sources), summary.sources


def rss(items: list[tuple[str, str, str]]) -> bytes:
    """(link, pubDate, HTML content) → an RSS 2.0 feed."""
    entries = "".join(
        f"<item><title>Article {n}</title><link>{escape(link)}</link><guid>g{n}</guid>"
        f"<pubDate>{date}</pubDate><description>{escape(content)}</description></item>"
        for n, (link, date, content) in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Flux</title>'
        f"<link>http://example.test/</link>{entries}</channel></rss>"
    ).encode()


def stored(sessions: sessionmaker[Session]) -> dict[str, ArticleRow]:
    with sessions() as session:
        return {row.original_url: row for row in session.scalars(select(ArticleRow))}


def deep(inner: str, lead: str = LEAD) -> str:
    return f"<p>{lead}</p>" + "<div>" * DEPTH + f"<p>{inner}</p>" + "</div>" * DEPTH


# --------------------------------------------------------------------------- nesting


def test_deep_nesting_is_collected_fast_keeps_its_text_and_serves_fast(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    # A feed item whose page is missing (its own HTML is stored), and a page nested as deep.
    feed_item = server.url("/missing/deep")  # 404: the feed's content is kept
    page_item = server.url("/articles/deep")
    page = f"<!doctype html><html lang='fr'><body><main><article>{deep(DEEP_SENTENCE, PAGE_LEAD)}"
    server.route("/articles/deep", static(page.encode(), content_type="text/html; charset=utf-8"))
    date = format_datetime(NOW - timedelta(hours=2))
    server.route(
        "/deep.xml",
        static(rss([(feed_item, date, deep(DEEP_SENTENCE))]), content_type=RSS),
    )
    server.route("/deep-page.xml", static(rss([(page_item, date, LEAD)]), content_type=RSS))

    # A first cycle pays imports and the theme model's loading: not measured.
    collect(settings, sessions, {"warm-up": server.url("/ok.xml")})
    cpu = time.process_time()
    collect(settings, sessions, {"deep": server.url("/deep.xml")})
    cpu = time.process_time() - cpu
    # Measured at 53 s before nesting was bounded; linear now (~0.5 s on a slow CI core).
    assert cpu < 2.0, cpu
    # The page is extracted in the process pool: bound it by wall time.
    started = time.monotonic()
    collect(settings, sessions, {"deep-page": server.url("/deep-page.xml")})
    assert time.monotonic() - started < 10

    rows = stored(sessions)
    for url in (feed_item, page_item):
        row = rows[url]
        assert DEEP_SENTENCE in row.text, url
        assert DEEP_SENTENCE in row.html, url
        assert row.html.count("<div>") <= 100
    assert rows[feed_item].partial and not rows[page_item].partial

    from veille.web.app import create_app

    with serve(create_app(settings, clock=lambda: NOW)) as base, httpx.Client() as client:
        client.get(f"{base}/articles/{rows[feed_item].id}", timeout=30)  # warm-up
        for url in (feed_item, page_item):
            timings = []
            for _ in range(5):
                started = time.perf_counter()
                response = client.get(f"{base}/articles/{rows[url].id}", timeout=30)
                timings.append(time.perf_counter() - started)
                assert response.status_code == 200
                assert DEEP_SENTENCE in response.text
            assert statistics.median(timings) < 0.1, timings
        atom = client.get(f"{base}/feeds/search.atom", timeout=30)
        assert atom.status_code == 200 and escape(DEEP_SENTENCE) in atom.text


# --------------------------------------------------------------------------- images

TRACKERS = (
    "https://stats.wordpress.com/b.gif?v=noscript",
    "http://feeds.feedburner.com/~r/exemple/~4/AbCdEf",
    "https://pixel.wp.com/g.gif?blog=1",
    "https://ad.doubleclick.net/ddm/ad/123.png",
    "https://mail.example.org/track/open?id=42",
    "https://cdn.example.org/img/spacer-photo.png",  # declared 1×1 below
    "https://cdn.example.org/img/invisible.png",  # styled 1px below
)
PHOTO = "https://photos.example.org/2026/mairie%20de%20Lyon.jpg"


def test_trackers_are_removed_and_images_become_links(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    content = (
        f"<p>{LEAD}</p>"
        f'<p><img src="{TRACKERS[0]}" alt=""><img src="{TRACKERS[1]}" height="1" width="1">'
        f'<img src="{TRACKERS[2]}"><img src="{TRACKERS[3]}"><img src="{TRACKERS[4]}">'
        f'<img src="{TRACKERS[5]}" width="1" height="1">'
        f'<img src="{TRACKERS[6]}" style="width:1px;height:1px;border:0"></p>'
        f'<figure><img src="{PHOTO}" alt="La mairie"><figcaption>La mairie</figcaption></figure>'
        '<p><img src="/images/plan-du-quartier.png"></p>'
    )
    item = server.url("/missing/images")
    date = format_datetime(NOW - timedelta(hours=1))
    server.route("/images.xml", static(rss([(item, date, content)]), content_type=RSS))
    collect(settings, sessions, {"images": server.url("/images.xml")})

    html = stored(sessions)[item].html
    assert "<img" not in html
    for tracker in TRACKERS:
        assert escape(tracker) not in html and tracker.split("?")[0] not in html, tracker
    assert f'<a href="{PHOTO}" rel="noopener noreferrer nofollow">Image : La mairie</a>' in html
    assert "Image : plan-du-quartier.png</a>" in html
    assert LEAD in html

    from veille.web.app import create_app

    with serve(create_app(settings, clock=lambda: NOW)) as base:
        response = httpx.get(f"{base}/articles/{stored(sessions)[item].id}", timeout=30)
    assert response.status_code == 200
    assert "<img" not in response.text.split("<main", 1)[1]
    assert "Image : La mairie" in response.text
    csp = response.headers["content-security-policy"]
    img_src = next(d for d in csp.split(";") if d.strip().startswith("img-src")).split()
    assert "https:" not in img_src and "http:" not in img_src and "*" not in img_src


# --------------------------------------------------------------------------- dates

# (label, date): the plausible ones are kept, the others fall back to the fetch time.
DATES = {
    "an-1": (datetime(1, 1, 1, 12, tzinfo=UTC), False),
    "1989": (datetime(1989, 12, 31, 12, tzinfo=UTC), False),
    "2999": (datetime(2999, 1, 1, 12, tzinfo=UTC), False),
    "apres-demain": (NOW + timedelta(days=3), False),
    "normale": (NOW - timedelta(days=2), True),
}


def rfc822(when: datetime) -> str:
    return f"{when:%a, %d %b} {when.year:04d} {when:%H:%M:%S} +0000"


def iso(when: datetime) -> str:
    if when.year == 1:
        return "0001-01-01T00:30:00+01:00"  # before year 1 in UTC: overflows a naive reader
    return f"{when.year:04d}-{when:%m-%dT%H:%M:%S}+00:00"


def dated_feeds(base: str) -> dict[str, tuple[bytes, str]]:
    """The same five items as RSS 2.0, Atom 1.0 and JSON Feed 1.1."""

    def link(kind: str, label: str) -> str:
        return f"{base}/missing/{kind}/{label}"

    rss_items = "".join(
        f"<item><title>RSS {label}</title><link>{link('rss', label)}</link>"
        f"<pubDate>{rfc822(when)}</pubDate><description>{LEAD}</description></item>"
        for label, (when, _) in DATES.items()
    )
    atom_items = "".join(
        f"<entry><title>Atom {label}</title><id>urn:{label}</id>"
        f'<link href="{link("atom", label)}"/><published>{iso(when)}</published>'
        f"<updated>{iso(when)}</updated><summary>{LEAD}</summary></entry>"
        for label, (when, _) in DATES.items()
    )
    json_items = [
        {
            "id": label,
            "url": link("json", label),
            "title": f"JSON {label}",
            "content_text": LEAD,
            "date_published": iso(when),
        }
        for label, (when, _) in DATES.items()
    ]
    return {
        "rss": (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>R</title>'
            f"<link>{base}/</link>{rss_items}</channel></rss>".encode(),
            RSS,
        ),
        "atom": (
            f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>A</title><id>urn:a</id><updated>{iso(NOW)}</updated>{atom_items}</feed>".encode(),
            "application/atom+xml; charset=utf-8",
        ),
        "json": (
            json.dumps(
                {"version": "https://jsonfeed.org/version/1.1", "title": "J", "items": json_items}
            ).encode(),
            "application/feed+json",
        ),
    }


def test_implausible_dates_fall_back_to_the_fetch_time(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    sources = {}
    for kind, (body, content_type) in dated_feeds(server.base_url).items():
        server.route(f"/{kind}.feed", static(body, content_type=content_type))
        sources[kind] = server.url(f"/{kind}.feed")
    collect(settings, sessions, sources)

    rows = stored(sessions)
    for kind in ("rss", "atom", "json"):
        for label, (when, kept) in DATES.items():
            row = rows[f"{server.base_url}/missing/{kind}/{label}"]
            published = row.published_at.replace(tzinfo=UTC) if row.published_at else None
            shown = published or row.fetched_at.replace(tzinfo=UTC)
            assert shown == (when if kept else NOW), (kind, label, row.published_at)
