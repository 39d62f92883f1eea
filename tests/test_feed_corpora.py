"""The parsing stage against third-party corpora: nothing but ParseError ever escapes.

The corpora are read in place from the repository's sibling `shared/corpora` folder.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from veille.collect import fastfeed, feeds
from veille.collect.feeds import parse_feed
from veille.errors import ParseError

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
FEEDPARSER = CORPORA / "feedparser"
FEEDVALIDATOR = CORPORA / "feedvalidator"
NOW = datetime(2030, 1, 1, tzinfo=UTC)  # every corpus date stays in the past

pytestmark = pytest.mark.skipif(
    not (FEEDPARSER.is_dir() and FEEDVALIDATOR.is_dir()),
    reason="third-party corpora absent: ../shared/corpora/{feedparser,feedvalidator} not found",
)


def _documents(root: Path) -> list[Path]:
    skip = {"LICENSE", "expectations.json"}
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name not in skip)


def _feedparser(data: bytes) -> feedparser.FeedParserDict:
    return feedparser.parse(io.BytesIO(data), resolve_relative_uris=False, sanitize_html=False)


def test_every_corpus_file_parses_or_raises_parse_error() -> None:
    docs = _documents(FEEDPARSER) + _documents(FEEDVALIDATOR)
    assert len(docs) > 4000
    parsed = refused = 0
    for path in docs:
        try:
            feed = parse_feed(path.read_bytes(), url=f"http://127.0.0.1:8097/{path.name}", now=NOW)
        except ParseError as exc:
            assert str(exc), path
            refused += 1
        else:
            assert isinstance(feed.entries, tuple)
            for entry in feed.entries:
                assert entry.link is None or entry.link.startswith(("http://", "https://"))
                assert entry.published_at is None or entry.published_at.tzinfo is not None
            parsed += 1
    # Most of both corpora are feeds; OPML, KML, OpenSearch and CDF documents are not.
    assert parsed > 3800, (parsed, refused)


def test_valid_feedvalidator_documents_parse_without_warning() -> None:
    meta = json.loads((FEEDVALIDATOR / "expectations.json").read_text())
    valid = [
        e["file"]
        for e in meta["entries"]
        if e["absent"]
        and e["message"] == "Error"
        and e["file"].split("/")[0] in {"atom", "rss", "rss11", "rss20"}
    ]
    assert len(valid) > 100
    for name in valid:
        data = (FEEDVALIDATOR / name).read_bytes()
        reference = _feedparser(data)
        feed = parse_feed(data, url="http://example.org/feed", now=NOW)  # no ParseError
        if not reference.bozo:
            assert feed.warning is None, (name, feed.warning)
        assert len(feed.entries) == len(reference.entries), name


def test_wellformed_feedparser_files_have_feedparsers_entry_count() -> None:
    for path in _documents(FEEDPARSER / "wellformed"):
        data = path.read_bytes()
        reference = _feedparser(data)
        try:
            feed = parse_feed(data, url="http://example.org/feed", now=NOW)
        except ParseError:
            assert not reference.entries, path  # only non-feeds may be refused
            continue
        assert len(feed.entries) == len(reference.entries), path


def _key(feed: feeds.ParsedFeed) -> list[tuple[object, ...]]:
    return [(e.link, e.title, e.guid, e.published_at) for e in feed.entries]


@pytest.mark.parametrize("corpus", ["feedparser/wellformed", "feedvalidator"])
def test_fast_path_reads_like_feedparser(corpus: str) -> None:
    """Where the fast path accepts a document, entries match the feedparser path exactly."""
    accepted = 0
    for path in _documents(CORPORA / corpus):
        data = path.read_bytes()
        raw = fastfeed.read(data)
        if raw is None:
            continue
        reference = _feedparser(data)
        if reference.bozo:
            continue  # lxml and expat disagree on a few edge cases; feedparser is then moot
        accepted += 1
        url = "http://example.org/feed"
        fast = feeds._finish(raw, url=url, now=NOW)
        slow = feeds._finish(feeds._read_with_feedparser(data, None), url=url, now=NOW)
        assert (fast.title, fast.link, _key(fast)) == (slow.title, slow.link, _key(slow)), path
    assert accepted > 300
