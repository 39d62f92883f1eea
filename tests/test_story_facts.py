"""The story index's facts of a new article (its keys, the lead's names, the title words)
are computed in the extraction worker; the writer must get from them exactly what it would
have computed from the stored record, and compute them itself when they are not of that
record (another title, another host, the feed's text kept)."""

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


def _html(title: str, text: str, canonical: str | None) -> bytes:
    """A news page around a text: its paragraphs are its sentences, two by two."""
    sentences = text.split(". ")
    paragraphs = "".join(
        f"<p>{escape('. '.join(sentences[i : i + 2]))}</p>" for i in range(0, len(sentences), 2)
    )
    link = f'<link rel="canonical" href="{escape(canonical)}">' if canonical else ""
    return f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>{escape(title)} | Le Journal</title>{link}</head>
<body><nav><a href="/">Accueil</a></nav><main><article><h1>{escape(title)}</h1>
{paragraphs}</article></main><footer>© Le Journal</footer></body></html>""".encode()


def _pages() -> list[tuple[str, str, str, bytes]]:
    """(feed title, feed link, URL after redirects, page) of real-looking articles: the
    story pairs' (names, figures, datelines, bylines), and the test site's. Some come with
    no feed title (the record's title is then the page's), a tracking parameter on the
    feed's link, another path after a redirect, or no canonical link."""
    out = []
    articles = [a for p in load_pairs(sorted(PAIRS.glob("*.jsonl"))) for a in (p.a, p.b)]
    for n, article in enumerate(articles[:160]):
        base = f"https://www.{article.source}"
        link = f"{base}/actu/{n}?utm_source=rss" if n % 3 == 0 else f"{base}/actu/{n}"
        final = f"{base}/2026/actu-{n}" if n % 5 == 0 else link
        canonical = None if n % 7 == 0 else f"{base}/actu/{n}.html"
        title = "" if n % 11 == 0 else article.title
        out.append((title, link, final, _html(article.title, article.text, canonical)))
    base = "https://courrier-des-territoires.fr"
    for page in make_pages():
        link = f"{base}/articles/{page.slug}"
        out.append((page.title, link, link, article_html(base, page)))
    return out


def _stored(
    title: str, link: str, final: str, html: bytes, n: int
) -> tuple[PageOutcome, ArticleRecord]:
    """What the worker sends and the record the writer makes of it."""
    extracted, facts = extract_with_facts(
        html,
        url=final,
        encoding="utf-8",
        extensive_date=False,
        title=title,
        link=link,
        lead_chars=LEAD_CHARS,
    )
    page = PageOutcome(final_url=final, extracted=extracted, facts=facts)
    entry = ParsedEntry(link=link, guid=str(n), title=title, published_at=NOW)
    return page, build_record(entry, link, page, source_id=1 + n % 4, now=NOW)


@pytest.fixture(scope="module")
def stored() -> list[tuple[PageOutcome, ArticleRecord]]:
    return [_stored(*page, n) for n, page in enumerate(_pages())]


def test_worker_facts_equal_what_the_writer_computes(
    stored: list[tuple[PageOutcome, ArticleRecord]],
) -> None:
    checked = 0
    for page, record in stored:
        if record.fingerprint is None:
            assert page.facts is None or page.facts.story is None
            continue
        story = page_story(page, record)
        assert story is not None, record.url
        host = record.url_key.split("/", 1)[0]
        assert story.keys == storykeys.story_keys(record.title, record.text, host)
        lead = f"{record.title}\n{record.text[:LEAD_CHARS]}"
        assert story.index_names == (storykeys.lead_names(lead) or storykeys.site_names(host))
        assert story.title_words == storykeys.title_words(record.title)
        checked += 1
    assert checked >= 150  # nearly every page says enough to join a story
    assert any(s.keys.lead_names for p, _ in stored if p.facts and (s := p.facts.story))


def test_an_index_fed_by_the_workers_decides_as_one_fed_by_the_writer(
    stored: list[tuple[PageOutcome, ArticleRecord]],
) -> None:
    """The same articles matched and added in the same order, with the worker's facts and
    without: the same copies and stories, the same index."""
    worker, writer = StoryIndex([]), StoryIndex([])
    decisions = []
    for n, (page, record) in enumerate(stored):
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


def test_facts_of_another_title_host_or_text_are_not_used(
    stored: list[tuple[PageOutcome, ArticleRecord]],
) -> None:
    page, record = next((p, r) for p, r in stored if r.fingerprint is not None)
    assert page_story(page, record) is not None
    assert page_story(page, replace(record, title=record.title + " (mis à jour)")) is None
    moved = replace(record, url_key="autre-site.fr" + record.url_key[record.url_key.find("/") :])
    assert page_story(page, moved) is None
    assert page_story(page, replace(record, partial=True)) is None  # the feed's text kept
