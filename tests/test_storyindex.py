"""The story index's array arithmetic gives exactly what the plain formulas give."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime
from pathlib import Path

from tests.test_stories import STORIES
from veille.collect import stories, storykeys
from veille.collect.storyindex import PREFILTER_BITS, StoryIndex
from veille.collect.storypairs import load_pairs
from veille.db.articles import ArticleRecord
from veille.text.fingerprint import (
    cosines,
    from_signed64,
    hamming,
    hashed_counts,
    shingles,
    simhash,
    text_similarity,
    to_signed64,
    word_vector,
)

PAIRS = Path(__file__).parent / "data" / "story_pairs"
TEXTS = [text for _, _, a, b in STORIES for text in (a, b)] + [
    "",
    "un seul mot",
    "données " * 40,
    "Les données ouvertes des communes, les données des régions et l'IA publique. " * 5,
]


def test_cosines_equal_text_similarity_to_the_last_bit() -> None:
    index = StoryIndex([])
    vectors = [word_vector(hashed_counts(shingles(text))) for text in TEXTS]
    for i, mine in enumerate(vectors):
        got = cosines(mine, vectors)
        want = [text_similarity(TEXTS[i], other) for other in TEXTS]
        assert got == want
    assert index.vector("", TEXTS[0]).ids.tolist() == sorted(
        hashed_counts(stories.story_vector("", TEXTS[0]))[0].tolist()
    )


def _record(
    n: int, text: str, *, site: int | None = None, copy_of: int | None = None
) -> ArticleRecord:
    fp = simhash(text)
    site = n % 3 if site is None else site
    return ArticleRecord(
        url=f"https://site{site}.example/{n}",
        url_key=f"site{site}.example/{n}",
        original_url=f"https://site{site}.example/{n}",
        source_id=site + 1,
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
        content_hash=f"h{n if copy_of is None else copy_of}",
        fingerprint=to_signed64(fp),
    )


def _cosine(a: str, b: str) -> float:
    va, vb = stories.story_vector("", a), stories.story_vector("", b)
    dot = sum(n * vb[k] for k, n in va.items())
    norm = math.sqrt(sum(n * n for n in va.values()) * sum(n * n for n in vb.values()))
    return dot / norm if norm else 0.0


def _reference_story(fingerprint: int, text: str, stored: list[tuple[int, int, str]]) -> int | None:
    """The plain algorithm: candidates within the SimHash pre-filter or sharing a lead name,
    nearest fingerprints first, the first one `stories.same_story` confirms."""
    keys = storykeys.story_keys("", text)
    near = sorted(
        (d, i)
        for i, (fp, _, other) in enumerate(stored)
        if (d := hamming(fingerprint, fp)) <= PREFILTER_BITS
        or keys.lead_names & storykeys.lead_names(f"\n{other}")
    )
    for _, i in near:
        other_keys = storykeys.story_keys("", stored[i][2])
        if stories.same_story(_cosine(text, stored[i][2]), 0.0, keys, other_keys):
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
            _reference_story(from_signed64(record.fingerprint), text, stored)
            if record.fingerprint is not None
            else None
        )
        assert story == expected
        joined += story is not None
        story_id = story if story is not None else 1000 + n
        index.add(n, story_id, record)
        stored.append((from_signed64(record.fingerprint or 0), story_id, text))
    assert joined >= len(STORIES)  # the second text of each pair joins the first


def test_index_grows_past_its_initial_capacity() -> None:
    index = StoryIndex([])
    base = "Les données ouvertes des communes et des régions, publiées chaque semaine " * 3
    for n in range(1500):
        record = _record(n, f"{base} {' '.join(itertools.repeat('édition', n % 7))}")
        _, story = index.match(None, record)  # type: ignore[arg-type]
        index.add(n, story if story is not None else n, record)
    assert len(index.items) == 1500
    assert len({item.story_id for item in index.items}) < 1500  # near copies joined


def test_rollback_forgets_what_was_added() -> None:
    """A failed transaction rolls the index back: what it added is no candidate any more."""

    def text(k: int) -> str:
        return " ".join(f"mot{(k * 7 + i) % 97} donnees{i % 13}" for i in range(60))

    index = StoryIndex([])
    index.add(1, 10, _record(1, text(1), site=0))
    mark = index.mark()
    index.add(2, 20, _record(2, text(2), site=0))
    index.add(3, 30, _record(3, text(3), site=0))
    index.rollback(mark)
    assert [i.article_id for i in index.items] == [1]
    # Exact copies are found by content hash and site: the rolled-back ones are gone.
    copy_of_1, copy_of_2 = (_record(9, text(k), site=0, copy_of=k) for k in (1, 2))
    assert index.match(None, copy_of_1)[0] == 1  # type: ignore[arg-type]
    assert index.match(None, copy_of_2)[0] is None  # type: ignore[arg-type]
    index.add(2, 21, _record(2, text(2), site=0))
    assert index.match(None, copy_of_2) == (2, 21)  # type: ignore[arg-type]


def test_worker_vectors_equal_vectors_built_from_the_text() -> None:
    """The extraction workers send hashed counts; the index builds the same vector."""
    for text in TEXTS:
        from_text = StoryIndex([]).vector("Un titre", text)
        facts = stories.fingerprint("Un titre", text)
        hashed = hashed_counts(facts[1] if facts else stories.story_vector("Un titre", text))
        from_worker = StoryIndex([]).vector("Un titre", text, hashed)
        assert from_text.ids.tolist() == from_worker.ids.tolist()
        assert from_text.counts.tolist() == from_worker.counts.tolist()
        assert from_text.norm2 == from_worker.norm2 == sum(n * n for n in hashed[1])
        assert from_text.ids.tolist() == sorted(from_text.ids.tolist())


def test_a_pair_rejected_at_no_distance_is_rejected_at_any() -> None:
    """`StoryIndex.match` reads a candidate's dates only when `same_story` accepts the pair
    at 0 hours apart as a brief with the publications' distance unknown: it relies on the
    required cosine being least at 0 hours, on `brief` only lowering it and on a day apart
    ending the same-day tie. Checked on every flag combination and on the story pairs'
    real keys (with their sites), over distances up to a later event's, brief or not, each
    publication distance."""
    hours = [0.0, 1.0, 12.0, 23.9, 24.0, 30.0, 48.0, 72.0, 96.0, 119.0, 120.0, 500.0]
    hours.append(stories.LATER_EVENT)
    for flags in itertools.product([False, True], repeat=5):
        least = stories.required_similarity(0.0, *flags)
        assert all(stories.required_similarity(h, *flags) >= least for h in hours)
    pairs = load_pairs(sorted(PAIRS.glob("*.jsonl")))
    keys = [
        (
            storykeys.story_keys(p.a.title, p.a.text, p.a.source),
            storykeys.story_keys(p.b.title, p.b.text, p.b.source),
        )
        for p in pairs
    ]
    published: list[float | None] = [None, 0.0, 12.0, 30.0, 100.0]
    accepted = briefs = 0
    for (a, b), similarity in itertools.product(keys, [0.17, 0.2, 0.3, 0.45, 0.6, 0.8, 0.95]):
        at_zero = stories.same_story(similarity, 0.0, a, b, brief=True)
        for h, brief, apart in itertools.product(hours, [False, True], published):
            if stories.same_story(similarity, h, a, b, brief, apart):
                accepted += 1
                briefs += brief and not stories.same_story(similarity, h, a, b, False, apart)
                assert at_zero
    assert accepted > len(pairs)  # the check saw accepted pairs, not only rejections
    assert briefs > 0  # and pairs only a brief's floor accepts
