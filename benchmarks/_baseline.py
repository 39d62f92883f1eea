"""The naive scripts `benchmarks/collect.py` compares the project with, each run in its own
process (`python benchmarks/_baseline.py naive|canon SEED PORT SHAPE SAMPLE`), printing its
timings as JSON.

* `naive`: `feedparser.parse(url)` for each feed, then `trafilatura.fetch_url` +
  `trafilatura.extract` for each entry URL not seen before **as an exact string** (5,878
  pages for the 2,000 articles of the full web: feeds relist each other with tracking
  parameters).
* `canon`: the same script, except that it canonicalises each link the way a careful
  script would with the standard library (tracking parameters `utm_*`, `xtor`, `fbclid`,
  `gclid` dropped, fragment dropped, host lower-cased) before deduplicating: it fetches
  each of the 2,000 articles once. The honest comparison for the project, which does that
  and more (rel=canonical, stories).

Both second cycles pass the feeds' ETag/Last-Modified to feedparser (304s) and skip the URLs
already seen. With SAMPLE > 0, only SAMPLE feeds and SAMPLE pages are timed and the totals
are extrapolated (the output says so).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _site

TRACKING = ("utm_", "xtor", "fbclid", "gclid")


def canonical(url: str) -> str:
    """What a careful script does with urllib.parse: no tracking parameters, no fragment."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if not k.lower().startswith(TRACKING)]
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, urlencode(query), ""))


def run(kind: str, seed: int, port: int, shape: str, sample: int) -> dict[str, Any]:
    import feedparser
    import trafilatura

    # trafilatura >= 2.3 refuses non-public addresses by default: the benchmark's sites live
    # on 127.0.0.2-101, so its SSRF protection is switched off for this script only.
    from trafilatura.settings import use_config

    p = _site.plan(seed, port, _site.SHAPES[shape])
    key = canonical if kind == "canon" else (lambda u: u)
    feed_urls = [p.feed_url(f) for f in p.feeds]
    n_feeds = len(feed_urls) if sample == 0 else min(sample, len(feed_urls))
    out: dict[str, Any] = {"kind": kind, "sampled": sample != 0}

    started = time.monotonic()
    links: list[str] = []
    validators: dict[str, tuple[str | None, str | None]] = {}
    for url in feed_urls[:n_feeds]:
        parsed = feedparser.parse(url)
        validators[url] = (parsed.get("etag"), parsed.get("modified"))
        links.extend(e.link for e in parsed.entries if e.get("link"))
    feeds_seconds = time.monotonic() - started

    # In sample mode the full plan says how many distinct URLs all the feeds hold.
    if sample:
        links = [p.article_url(i, q) for f in p.feeds for i, q in f.entries]
    distinct = list({key(u): u for u in links})
    n_pages = len(distinct) if sample == 0 else min(sample, len(distinct))
    step = max(1, len(distinct) // n_pages)
    chosen = distinct[::step][:n_pages]
    config = use_config()
    config.set("DEFAULT", "SSRF_PROTECTION", "off")
    started = time.monotonic()
    extracted = 0
    for url in chosen:
        html = trafilatura.fetch_url(url, config=config)
        if html and trafilatura.extract(html, url=url):
            extracted += 1
    if extracted < len(chosen) * 0.9:
        raise SystemExit(f"baseline extracted only {extracted} of {len(chosen)} pages")
    pages_seconds = time.monotonic() - started

    total_feeds, total_pages = len(feed_urls), len(distinct)
    out.update(
        feeds_timed=n_feeds,
        pages_timed=len(chosen),
        pages_extracted=extracted,
        distinct_urls=total_pages,
        feeds_seconds=feeds_seconds * total_feeds / n_feeds,
        pages_seconds=pages_seconds * total_pages / max(1, len(chosen)),
        seconds_per_feed=feeds_seconds / n_feeds,
        seconds_per_page=pages_seconds / max(1, len(chosen)),
    )
    out["first_cycle_seconds"] = out["feeds_seconds"] + out["pages_seconds"]

    started = time.monotonic()
    not_modified = 0
    for url in feed_urls[:n_feeds]:
        etag, modified = validators[url]
        parsed = feedparser.parse(url, etag=etag, modified=modified)
        not_modified += int(parsed.get("status") == 304)
        # seen URLs are skipped: nothing else to do when the feed did not change
    second = time.monotonic() - started
    out["second_cycle_not_modified"] = not_modified
    out["second_cycle_seconds"] = second * total_feeds / n_feeds
    return out


if __name__ == "__main__":
    kind, seed, port, shape, sample = sys.argv[1:6]
    print(json.dumps(run(kind, int(seed), int(port), shape, int(sample))))
