"""The bundled demo site: real server on localhost, real HTTP, real feed parsing."""

from __future__ import annotations

import gzip
import itertools
import json
import re
import xml.etree.ElementTree as ET
from calendar import timegm
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import httpx
import pytest
import yaml

from veille.demo import demo_feeds_yaml, demo_manifest, demo_sources, start_demo_site
from veille.demo.catalog import THEME_IDS, DemoArticle
from veille.demo.site import DemoSite
from veille.text.fingerprint import text_similarity

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[1]
FEED_FORMATS = ("rss", "rss-summary", "rss-malformed", "atom")


@pytest.fixture(scope="module")
def site() -> Iterator[DemoSite]:
    with start_demo_site(now=NOW) as s:
        yield s


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def _links_of(site: DemoSite, client: httpx.Client, src_format: str, url: str) -> list[str]:
    """Article URLs a source exposes, read the way a collector would."""
    resp = client.get(url)
    assert resp.status_code == 200, url
    if src_format in FEED_FORMATS:
        parsed = feedparser.parse(resp.content)
        return [e.link for e in parsed.entries if e.get("link")]
    if src_format == "json":
        return [item["url"] for item in json.loads(resp.content)["items"]]
    if src_format == "sitemap":
        root = ET.fromstring(resp.content)
        ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
        return [
            loc.text or ""
            for loc in root.findall("s:url/s:loc", ns)
            if "/articles/" in (loc.text or "")
        ]
    assert src_format == "page"
    hrefs = re.findall(r'<h2><a href="([^"]+)"', resp.text)
    return [site.base_url + h for h in hrefs]


def _strip_query(url: str) -> str:
    return url.split("?", 1)[0]


def test_manifest_has_enough_varied_articles() -> None:
    arts = demo_manifest()
    originals = [a for a in arts if a.near_copy_of is None]
    assert len(originals) >= 150
    assert len({a.path for a in arts}) == len(arts)
    assert len({a.title for a in arts}) == len(arts)
    assert len({a.lede for a in arts}) == len(arts)
    counts = Counter(t for a in originals for t in (a.themes or ("off",)))
    share = {k: v / len(originals) for k, v in counts.items()}
    assert 0.28 <= share["open_data"] <= 0.42
    assert 0.20 <= share["ia"] <= 0.32
    assert 0.15 <= share["donnees_interet_general"] <= 0.28
    assert 0.20 <= share["off"] <= 0.32
    assert sum(1 for a in originals if len(a.themes) > 1) >= 8
    assert all(set(a.themes) <= set(THEME_IDS) for a in arts)
    assert all(3 <= len(a.paragraphs) <= 5 for a in arts)
    ages = [a.age_hours for a in arts]
    assert min(ages) < 12 and 7 * 24 * 7 < max(ages) <= 8 * 24 * 7


def _shingles(a: DemoArticle) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", " ".join((a.title, a.lede, *a.paragraphs)).lower())
    return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}


def test_near_copies_are_closer_than_any_two_distinct_articles() -> None:
    """The story clustering must be able to draw a line between the two groups."""
    arts = demo_manifest()
    sh = {a.path: _shingles(a) for a in arts}

    def jaccard(x: str, y: str) -> float:
        return len(sh[x] & sh[y]) / len(sh[x] | sh[y])

    copies = [(a.path, a.near_copy_of) for a in arts if a.near_copy_of]
    assert len(copies) >= 5
    copy_min = min(jaccard(a, b) for a, b in copies)
    distinct_max = max(
        jaccard(a.path, b.path)
        for a, b in itertools.combinations(arts, 2)
        if a.near_copy_of != b.path and b.near_copy_of != a.path
    )
    # Reworded copies keep about half their 5-word runs; distinct articles share almost none.
    assert copy_min >= 0.45
    assert distinct_max <= 0.1
    assert copy_min - distinct_max >= 0.3


def _body(a: DemoArticle) -> str:
    return " ".join(a.paragraphs)


def test_bodies_are_distinct_except_near_copies() -> None:
    """The collector's own story measure must keep unrelated articles apart.

    Stories are confirmed at `text_similarity` >= 0.5 (docs/dedup.md); 0.35 leaves a margin
    for the title and boilerplate the collector adds, and near-copies stay well above it.
    """
    arts = demo_manifest()
    originals = [a for a in arts if a.near_copy_of is None]
    assert len(originals) >= 150
    # Each original has its own text: no paragraph is shared between two of them.
    paragraph_owners = Counter(p for a in originals for p in set(a.paragraphs))
    assert max(paragraph_owners.values()) == 1
    bodies = {a.path: _body(a) for a in arts}
    copy_pairs = {(a.path, a.near_copy_of) for a in arts if a.near_copy_of}
    copy_pairs |= {(y, x) for x, y in copy_pairs}
    assert len(copy_pairs) == 12
    too_close = [
        (a.slug, b.slug, round(sim, 3))
        for a, b in itertools.combinations(arts, 2)
        if (a.path, b.path) not in copy_pairs
        and (sim := text_similarity(bodies[a.path], bodies[b.path])) >= 0.35
    ]
    assert too_close == []
    for x, y in copy_pairs:
        assert text_similarity(bodies[x], bodies[y]) >= 0.6, (x, y)
        assert bodies[x] != bodies[y], x  # reworded, not an exact copy


def test_every_source_serves_its_articles(site: DemoSite, client: httpx.Client) -> None:
    sources = [s for s in demo_sources() if s.format != "broken"]
    assert len(sources) >= 10
    assert {s.format for s in sources} >= {"rss", "rss-summary", "atom", "json", "page", "sitemap"}
    by_path = {a.path: a for a in demo_manifest()}
    seen: set[str] = set()
    for src in sources:
        links = _links_of(site, client, src.format, site.url(src.feed_path))
        expected = {a.path for a in by_path.values() if src.key in a.listed_in}
        got = {urlsplit(u).path for u in links}
        assert got == expected, src.key
        seen |= got
    assert seen == set(by_path)
    assert len({p for p in seen if by_path[p].near_copy_of is None}) >= 150


def test_relisted_articles_carry_tracking_parameters(site: DemoSite, client: httpx.Client) -> None:
    tracked = [a for a in demo_manifest() if a.tracked_in]
    assert len(tracked) >= 5
    fmt = {s.key: s for s in demo_sources()}
    for a in tracked:
        for key in a.tracked_in:
            links = _links_of(site, client, fmt[key].format, site.url(fmt[key].feed_path))
            mine = [u for u in links if _strip_query(u) == site.url(a.path)]
            assert len(mine) == 1 and "utm_source=" in mine[0], (a.slug, key)
        own = fmt[a.source]
        own_links = _links_of(site, client, own.format, site.url(own.feed_path))
        assert site.url(a.path) in own_links


def test_feed_variants(site: DemoSite, client: httpx.Client) -> None:
    by_format = {s.format: s for s in demo_sources()}
    summary = feedparser.parse(client.get(site.url(by_format["rss-summary"].feed_path)).content)
    assert summary.entries and all("content" not in e for e in summary.entries)
    full = feedparser.parse(client.get(site.url(by_format["rss"].feed_path)).content)
    assert all(len(e.content[0].value) > 300 for e in full.entries)
    atom = feedparser.parse(client.get(site.url(by_format["atom"].feed_path)).content)
    assert atom.version == "atom10" and len(atom.entries) >= 10
    bad = feedparser.parse(client.get(site.url(by_format["rss-malformed"].feed_path)).content)
    assert bad.bozo and len([e for e in bad.entries if e.get("link")]) >= 10
    jf = client.get(site.url(by_format["json"].feed_path))
    assert jf.headers["content-type"].startswith("application/feed+json")
    assert json.loads(jf.content)["version"] == "https://jsonfeed.org/version/1.1"


def test_broken_source_answers_500(site: DemoSite, client: httpx.Client) -> None:
    broken = [s for s in demo_sources() if s.format == "broken"]
    assert broken
    for _ in range(3):
        assert client.get(site.url(broken[0].feed_path)).status_code == 500


def test_every_article_page_is_complete(site: DemoSite, client: httpx.Client) -> None:
    for a in demo_manifest():
        resp = client.get(site.url(a.path))
        assert resp.status_code == 200, a.path
        html = resp.text
        assert f'<link rel="canonical" href="{site.url(a.path)}">' in html
        assert "<article>" in html and "<h1>" in html and "<footer" in html and "<aside" in html
        assert all(f"<p>{escape(p)}</p>" in html for p in a.paragraphs)
    tracked = next(a for a in demo_manifest() if a.tracked_in)
    page = client.get(site.url(tracked.path) + "?utm_source=rss&utm_medium=flux")
    assert page.status_code == 200 and site.url(tracked.path) in page.text


def test_page_source_has_boilerplate_and_selector(site: DemoSite, client: httpx.Client) -> None:
    src = next(s for s in demo_sources() if s.format == "page")
    html = client.get(site.url(src.feed_path)).text
    all_links = re.findall(r'href="([^"]+)"', html)
    articles = [h for h in all_links if "/articles/" in h]
    assert len(all_links) - len(articles) >= 8  # nav, footer, service pages
    assert src.selector == "ul.liste-actus h2 a"
    assert client.get(site.url(f"/{src.prefix}/qui-sommes-nous.html")).status_code == 200


def test_sitemap_is_valid_and_recent(site: DemoSite, client: httpx.Client) -> None:
    src = next(s for s in demo_sources() if s.format == "sitemap")
    root = ET.fromstring(client.get(site.url(src.feed_path)).content)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    lastmods = [datetime.fromisoformat(x.text or "") for x in root.findall("s:url/s:lastmod", ns)]
    assert len(lastmods) >= 10
    assert all(NOW - timedelta(weeks=9) <= d <= NOW for d in lastmods)
    assert max(lastmods) >= NOW - timedelta(days=2)


def test_index_robots_and_autodiscovery(site: DemoSite, client: httpx.Client) -> None:
    robots = client.get(site.url("/robots.txt"))
    assert robots.status_code == 200 and "Allow: /" in robots.text and "Sitemap:" in robots.text
    index = client.get(site.url("/")).text
    found = re.search(
        r'<link rel="alternate" type="application/rss\+xml"[^>]*href="([^"]+)"', index
    )
    assert found is not None
    assert feedparser.parse(client.get(found.group(1)).content).entries
    atom_src = next(s for s in demo_sources() if s.format == "atom")
    home = client.get(site.url(atom_src.home_path)).text
    assert 'type="application/atom+xml"' in home
    assert client.get(site.url("/nulle-part.html")).status_code == 404


def test_conditional_get_and_gzip(site: DemoSite, client: httpx.Client) -> None:
    url = site.url(next(s for s in demo_sources() if s.format == "rss").feed_path)
    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    since = client.get(url, headers={"If-Modified-Since": first.headers["last-modified"]})
    assert since.status_code == 304
    raw = httpx.get(url, headers={"Accept-Encoding": "gzip"}).headers
    assert raw["content-encoding"] == "gzip"
    with httpx.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as resp:
        assert gzip.decompress(b"".join(resp.iter_raw())) == first.content


def test_dates_follow_now(client: httpx.Client) -> None:
    later = NOW + timedelta(days=30)
    with start_demo_site(now=later) as s:
        parsed = feedparser.parse(client.get(s.url("/fil-donnees/rss.xml")).content)
    newest = max(datetime.fromtimestamp(timegm(e.published_parsed), UTC) for e in parsed.entries)
    assert later - timedelta(days=1) <= newest <= later


def test_demo_feeds_yaml_lists_every_source(site: DemoSite) -> None:
    doc = yaml.safe_load(demo_feeds_yaml(site.base_url))
    assert [t["id"] for t in doc["themes"]] == list(THEME_IDS)
    keys = [s["key"] for s in doc["sources"]]
    assert len(keys) == len(set(keys)) == len(demo_sources())
    kinds = Counter(s["kind"] for s in doc["sources"])
    assert kinds["page"] == 1 and kinds["sitemap"] == 1 and kinds["feed"] >= 9
    page = next(s for s in doc["sources"] if s["kind"] == "page")
    assert page["selector"]
    assert all(s["url"].startswith(site.base_url + "/") for s in doc["sources"])
    assert len({s["weight"] for s in doc["sources"]}) >= 4


def test_root_feeds_yaml_is_real_and_shares_the_themes() -> None:
    root = REPO / "feeds.yaml"
    if not root.exists():
        pytest.skip("feeds.yaml is not at the repository root (installed package only)")
    doc = yaml.safe_load(root.read_text(encoding="utf-8"))
    demo = yaml.safe_load(demo_feeds_yaml("http://127.0.0.1:1"))
    assert doc["themes"] == demo["themes"]
    for theme in doc["themes"]:
        assert 15 <= len(theme["keywords"]) <= 30
        assert all(k == k.lower() for k in theme["keywords"])
    sources = doc["sources"]
    assert len(sources) >= 40
    keys = [s["key"] for s in sources]
    assert len(keys) == len(set(keys))
    for s in sources:
        assert re.fullmatch(r"[a-z0-9-]+", s["key"])
        assert s["kind"] in ("feed", "page", "sitemap")
        assert s["url"].startswith("https://")
        assert 0 <= s.get("weight", 1.0) <= 5
        assert "selector" not in s or s["kind"] == "page"
