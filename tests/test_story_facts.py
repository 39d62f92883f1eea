"""The story index's facts of a new article (its keys, the lead's names, the title words),
its title and its summary are computed in the extraction worker; the writer must get from
them exactly what it would have computed from the stored record, and compute them itself
when they are not of that record (another title, another host, the feed's text kept)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import pytest

from tests.site_builder import article_html, make_pages
from veille.collect import storykeys
from veille.collect.store import build_record, page_story, page_vector
from veille.collect.storyindex import StoryIndex
from veille.collect.storypairs import load_pairs
from veille.collect.types import ParsedEntry
from veille.collect.worker import PageOutcome, extract_with_facts
from veille.db.articles import LEAD_CHARS, ArticleRecord

PAIRS = Path(__file__).parent / "data" / "story_pairs"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def _html(title: str, text: str, canonical: str | None, description: str = "") -> bytes:
    """A news page around a text: its paragraphs are its sentences, two by two."""
    sentences = text.split(". ")
    paragraphs = "".join(
        f"<p>{escape('. '.join(sentences[i : i + 2]))}</p>" for i in range(0, len(sentences), 2)
    )
    link = f'<link rel="canonical" href="{escape(canonical)}">' if canonical else ""
    if description:
        link += f'<meta name="description" content="{escape(description)}">'
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>{escape(title)} | Le Journal</title>{link}</head>
<body><nav><a href="/">Accueil</a></nav><main><article><h1>{escape(title)}</h1>
{paragraphs}</article></main><footer>© Le Journal</footer></body></html>""".encode()


def _pages() -> list[tuple[ParsedEntry, str, bytes]]:
    """(feed entry, URL after redirects, page) of real-looking articles: the story pairs'
    (names, figures, datelines, bylines), and the test site's. Some come with no feed title
    (the record's title is then the page's), a tracking parameter on the feed's link,
    another path after a redirect, no canonical link, a feed summary in HTML or a page
    description."""
    out = []
    articles = [a for p in load_pairs(sorted(PAIRS.glob("*.jsonl"))) for a in (p.a, p.b)]
    for n, article in enumerate(articles[:160]):
        base = f"https://www.{article.source}"
        link = f"{base}/actu/{n}?utm_source=rss" if n % 3 == 0 else f"{base}/actu/{n}"
        final = f"{base}/2026/actu-{n}" if n % 5 == 0 else link
        canonical = None if n % 7 == 0 else f"{base}/actu/{n}.html"
        title = "" if n % 11 == 0 else f"<b>{escape(article.title)}</b>"
        summary = f"<p>{escape(article.text[:120])} <i>(suite)</i></p>" if n % 2 else ""
        description = article.text[:200] if n % 4 == 1 else ""
        html = _html(article.title, article.text, canonical, description)
        entry = ParsedEntry(link, str(n), title, summary_html=summary, published_at=NOW)
        out.append((entry, final, html))
    base = "https://courrier-des-territoires.fr"
    for page in make_pages():
        link = f"{base}/articles/{page.slug}"
        entry = ParsedEntry(link, page.slug, page.title, published_at=NOW)
        out.append((entry, link, article_html(base, page)))
    return out


Stored = tuple[ParsedEntry, PageOutcome, ArticleRecord]


def _stored(entry: ParsedEntry, final: str, html: bytes, n: int) -> Stored:
    """What the worker sends and the record the writer makes of it."""
    assert entry.link is not None
    extracted, facts = extract_with_facts(
        html,
        url=final,
        encoding="utf-8",
        extensive_date=False,
        title=entry.title,
        link=entry.link,
        lead_chars=LEAD_CHARS,
        summary_html=entry.summary_html,
    )
    page = PageOutcome(final_url=final, extracted=extracted, facts=facts)
    return entry, page, build_record(entry, entry.link, page, source_id=1 + n % 4, now=NOW)


@pytest.fixture(scope="module")
def stored() -> list[Stored]:
    return [_stored(*page, n) for n, page in enumerate(_pages())]


def test_records_from_the_workers_facts_equal_the_writers(stored: list[Stored]) -> None:
    """The title and summary the worker gives are those the writer makes of the entry."""
    from_feed = 0
    for entry, page, record in stored:
        assert entry.link is not None
        assert page.facts is not None and page.facts.summary is not None
        alone = build_record(
            entry, entry.link, replace(page, facts=None), source_id=record.source_id, now=NOW
        )
        # The fingerprint too: the writer's own, for an article without the worker's facts,
        # follows the workers' rule (English read in French terms included).
        assert replace(record, index_words=None) == alone
        from_feed += "(suite)" in record.summary  # the feed's summary, as text
    assert 50 <= from_feed <= len(stored) - 50  # the others: the page's description or text


def test_worker_facts_equal_what_the_writer_computes(stored: list[Stored]) -> None:
    checked = 0
    for _, page, record in stored:
        if record.fingerprint is None:
            assert page.facts is None or page.facts.story is None
            continue
        story = page_story(page, record)
        assert story is not None, record.url
        host = record.url_key.split("/", 1)[0]
        assert story.keys == storykeys.story_keys(record.title, record.text, host)
        lead = f"{record.title}\n{record.text[:LEAD_CHARS]}"
        assert story.index_names == (storykeys.lead_names(lead) or storykeys.site_names(host))
        assert story.index_words == storykeys.title_words(lead)
        assert story.title_words == storykeys.title_words(record.title)
        checked += 1
    assert checked >= 150  # nearly every page says enough to join a story
    assert any(s.keys.lead_names for _, p, _ in stored if p.facts and (s := p.facts.story))


def test_an_index_fed_by_the_workers_decides_as_one_fed_by_the_writer(
    stored: list[Stored],
) -> None:
    """The same articles matched and added in the same order, with the worker's facts and
    without: the same copies and stories, the same index."""
    worker, writer = StoryIndex([]), StoryIndex([])
    decisions = []
    for n, (_, page, record) in enumerate(stored):
        counts, story = page_vector(page, record), page_story(page, record)
        by_worker = worker.match(None, record, counts, story)  # type: ignore[arg-type]
        by_writer = writer.match(None, record, counts)  # type: ignore[arg-type]
        assert by_worker == by_writer, record.url
        decisions.append(by_worker)
        copy, story_id = by_worker
        if copy is None:
            worker.add(n, story_id or n, record, counts, story)
            writer.add(n, story_id or n, record, counts)
    assert worker._by_name == writer._by_name
    assert worker._by_word == writer._by_word
    assert worker._keys == writer._keys
    # The pairs' « same story » halves meet: the comparison saw stories, not only singles.
    assert sum(story is not None for _, story in decisions) >= 10


def test_facts_of_another_title_host_or_text_are_not_used(stored: list[Stored]) -> None:
    page, record = next((p, r) for _, p, r in stored if r.fingerprint is not None)
    assert page_story(page, record) is not None
    assert page_story(page, replace(record, title=record.title + " (mis à jour)")) is None
    moved = replace(record, url_key="autre-site.fr" + record.url_key[record.url_key.find("/") :])
    assert page_story(page, moved) is None
    assert page_story(page, replace(record, partial=True)) is None  # the feed's text kept
