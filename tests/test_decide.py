"""The pure update decision, without database or network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from veille.collect.decide import Known, decide, entry_keys, keyed
from veille.collect.types import ParsedEntry
from veille.text.urls import url_key

T0 = datetime(2026, 11, 20, 12, tzinfo=UTC)


def entry(link: str | None, guid: str | None = None, age_h: int | None = None) -> ParsedEntry:
    return ParsedEntry(
        link=link,
        guid=guid,
        title=link or "sans lien",
        published_at=T0 - timedelta(hours=age_h) if age_h is not None else None,
    )


def test_new_relisted_skipped_and_repeated() -> None:
    known = {
        url_key("https://a.example/known"): Known(article_id=7, linked_to_source=True),
        url_key("https://b.example/other"): Known(article_id=9, linked_to_source=False),
    }
    entries = [
        entry("https://a.example/new"),
        entry("https://a.example/known"),
        entry("https://b.example/other?utm_source=rss"),
        entry("https://a.example/new?utm_medium=email"),  # same article, tracking params
        entry(None, guid="tag:a.example,2026:1"),
    ]
    d = decide(entries, known=known, key_of=url_key, max_new=10)
    assert [n.link for n in d.new] == ["https://a.example/new"]
    assert [(r.article_id, r.url_key) for r in d.relisted] == [
        (9, url_key("https://b.example/other"))
    ]
    assert (d.skipped, d.repeated, d.without_link) == (1, 1, 1)
    assert d.warnings and "1 entries without a usable link" in d.warnings[0]


def test_changing_guids_do_not_make_new_articles() -> None:
    known = {url_key("https://a.example/x"): Known(article_id=1, linked_to_source=True)}
    first = decide(
        [entry("https://a.example/x", guid="g-1")], known=known, key_of=url_key, max_new=5
    )
    second = decide(
        [entry("https://a.example/x", guid="g-2")], known=known, key_of=url_key, max_new=5
    )
    assert first.new == second.new == ()
    assert first.skipped == second.skipped == 1


def test_cap_keeps_most_recent_and_defers_the_rest() -> None:
    entries = [entry(f"https://a.example/{i}", age_h=i) for i in (5, 1, 9, 3)]
    entries.append(entry("https://a.example/undated"))
    d = decide(entries, known={}, key_of=url_key, max_new=2)
    assert [n.link for n in d.new] == ["https://a.example/1", "https://a.example/3"]
    assert d.deferred == 3


def test_unparseable_link_counts_as_without_link() -> None:
    bad = ["http://[::1", "mailto:redaction@example.org", "/relative/only", "javascript:void(0)"]
    d = decide([entry(link) for link in bad], known={}, key_of=url_key, max_new=5)
    assert d.without_link == 4 and d.new == ()


def test_keys_computed_once_decide_the_same() -> None:
    """`entry_keys` + `keyed` (the pipeline: one key per link, shared with the store's
    lookup) decide what `url_key` itself decides, bad links included."""
    links = [
        "https://www.a.example/x?utm_source=rss",
        "https://a.example/x",
        "http://[::1",
        "mailto:redaction@example.org",
        "/relative/only",
        "https://b.example/y#top",
        "https://b.example/known",
        None,
    ]
    entries = [entry(link, age_h=i) for i, link in enumerate(links)]
    keys = entry_keys(entries, url_key)
    assert keys["https://a.example/x"] == url_key("https://a.example/x")
    known = {url_key("https://b.example/known"): Known(article_id=3, linked_to_source=False)}
    for cap in (1, 10):
        once = decide(entries, known=known, key_of=keyed(keys), max_new=cap)
        assert once == decide(entries, known=known, key_of=url_key, max_new=cap)
    # a link whose key could not be made is a link without a key: `decide` skips it
    missing = decide([entry("https://c.example/z")], known={}, key_of=keyed({}), max_new=5)
    assert missing.without_link == 1 and missing.new == ()
