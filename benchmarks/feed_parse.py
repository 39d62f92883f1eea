"""Feeds per second: feedparser vs the lxml fast path, on generated ~100 KB RSS and Atom feeds.

Run: python benchmarks/feed_parse.py
"""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

import feedparser

from veille.collect.feeds import parse_feed

PARA = "<p>Les données ouvertes des collectivités, publiées en open data, servent à tous. </p>"


def make_rss(n: int = 50) -> bytes:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    items = []
    for i in range(n):
        date = (start - timedelta(hours=i)).strftime("%a, %d %b %Y %H:%M:%S +0000")
        items.append(
            f"<item><title>Article numéro {i} sur l'open data</title>"
            f"<link>https://exemple.fr/actualites/2024/article-{i}?utm_source=rss</link>"
            f'<guid isPermaLink="false">id-{i}</guid><pubDate>{date}</pubDate>'
            f"<dc:creator>Rédaction</dc:creator>"
            f"<description><![CDATA[{PARA * 3}]]></description>"
            f"<content:encoded><![CDATA[{PARA * 14}]]></content:encoded></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        "<title>Exemple</title><link>https://exemple.fr/</link><ttl>60</ttl>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def make_atom(n: int = 50) -> bytes:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    entries = []
    for i in range(n):
        date = (start - timedelta(hours=i)).isoformat()
        entries.append(
            f"<entry><title>Article numéro {i}</title>"
            f'<link rel="alternate" type="text/html" href="/billets/2024/article-{i}"/>'
            f"<id>urn:uuid:{i:08d}</id><published>{date}</published><updated>{date}</updated>"
            f"<author><name>Rédaction</name></author>"
            f'<summary type="html"><![CDATA[{PARA * 3}]]></summary>'
            f'<content type="html"><![CDATA[{PARA * 14}]]></content></entry>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        '<title>Exemple</title><link href="https://exemple.fr/"/><id>urn:x</id>'
        "<updated>2024-05-01T00:00:00Z</updated>" + "".join(entries) + "</feed>"
    ).encode()


def rate(fn: object, doc: bytes, seconds: float = 2.0) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn(doc)  # type: ignore[operator]
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    for name, doc in (("RSS 2.0", make_rss()), ("Atom 1.0", make_atom())):
        fast = rate(lambda d: parse_feed(d, url="https://exemple.fr/feed"), doc)
        slow = rate(lambda d: feedparser.parse(io.BytesIO(d)), doc)
        print(
            f"{name}: {len(doc) / 1024:.0f} KB — parse_feed (fast path) {fast:.0f} feeds/s, "
            f"feedparser {slow:.1f} feeds/s, x{fast / slow:.0f}"
        )


if __name__ == "__main__":
    main()
