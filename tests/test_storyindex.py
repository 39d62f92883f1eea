"""The story index's array arithmetic gives exactly what the plain formulas give."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from tests.test_stories import STORIES
from veille.collect import stories
from veille.collect.storyindex import PREFILTER_BITS, StoryIndex, cosines
from veille.db.articles import ArticleRecord

TEXTS = [text for _, _, a, b in STORIES for text in (a, b)] + [
    "",
    "un seul mot",
    "données " * 40,
    "Les données ouvertes des communes, les données des régions et l'IA publique. " * 5,
]


def test_cosines_equal_text_similarity_to_the_last_bit() -> None:
    index = StoryIndex([])
    vectors = [index.vector(text) for text in TEXTS]
    for i, mine in enumerate(vectors):
        got = cosines(mine, vectors)
        want = [stories.text_similarity(TEXTS[i], other) for other in TEXTS]
        assert got == want


def _record(n: int, text: str) -> ArticleRecord:
    fp = stories.simhash(text)
    return ArticleRecord(
        url=f"https://site{n % 3}.example/{n}",
        url_key=f"site{n % 3}.example/{n}",
        original_url=f"https://site{n % 3}.example/{n}",
        source_id=n % 3 + 1,
        guid=None,
        title="",
        summary="",
        text=text,
        html="",
        author=None,
        language="fr",
        image=None,
        published_at=None,
        fetched_at=datetime.now(UTC),
        partial=False,
        extract_note=None,
        content_hash=f"h{n}",
        fingerprint=stories.to_signed64(fp),
    )


def _reference_story(fingerprint: int, text: str, stored: list[tuple[int, int, str]]) -> int | None:
    """The plain algorithm: nearest fingerprints first, first one confirmed on the texts."""
    near = sorted(
        (d, i)
        for i, (fp, _, _) in enumerate(stored)
        if (d := stories.hamming(fingerprint, fp)) <= PREFILTER_BITS
    )
    for _, i in near:
        if stories.text_similarity(text, stored[i][2]) >= stories.MIN_SIMILARITY:
            return stored[i][1]
    return None


def test_match_equals_the_plain_algorithm() -> None:
    """Every text of the story pairs, added one by one: the same stories are found."""
    index = StoryIndex([])
    stored: list[tuple[int, int, str]] = []
    joined = 0
    texts = TEXTS + [a + " Mise à jour." for a in TEXTS[:10]]
    for n, text in enumerate(texts):
        record = _record(n, text)
        copy, story = index.match(None, record)  # type: ignore[arg-type]
        assert copy is None  # content hashes all differ
        expected = (
            _reference_story(stories.from_signed64(record.fingerprint), text, stored)
            if record.fingerprint is not None
            else None
        )
        assert story == expected
        joined += story is not None
        story_id = story if story is not None else 1000 + n
        index.add(n, story_id, record)
        stored.append((stories.from_signed64(record.fingerprint or 0), story_id, text))
    assert joined >= len(STORIES)  # the second text of each pair joins the first


def test_index_grows_past_its_initial_capacity() -> None:
    index = StoryIndex([])
    base = "Les données ouvertes des communes et des régions, publiées chaque semaine " * 3
    for n in range(1500):
        record = _record(n, f"{base} numéro {n} {' '.join(itertools.repeat(str(n), n % 7))}")
        _, story = index.match(None, record)  # type: ignore[arg-type]
        index.add(n, story if story is not None else n, record)
    assert len(index.items) == 1500
    assert len({item.story_id for item in index.items}) < 1500  # near copies joined
