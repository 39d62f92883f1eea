"""Near-duplicate detection: the same story syndicated or reworded across sources.

A 64-bit SimHash over word shingles of the folded text (`veille.text.fingerprint`); two
articles belong to the same story when their fingerprints differ by at most
`DEFAULT_THRESHOLD` bits. Method, shingle size and thresholds were chosen on the pairs in
tests/data/stories/ (see docs/dedup.md); this module owns those story rules.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from veille.text.fingerprint import hamming, simhash_of_counts, text_similarity, word_shingles
from veille.text.french import story_words

DEFAULT_THRESHOLD = 20
# Two-stage variant: a looser SimHash pre-filter, then the exact cosine of the texts.
CANDIDATE_THRESHOLD = 24
MIN_SIMILARITY = 0.5
# Fewer words than this and the fingerprint is noise: such texts never join a story.
MIN_WORDS = 20


def fingerprint(title: str, text: str) -> tuple[int, Counter[str]] | None:
    """`simhash(f"{title}\n{text}")` and the text's shingle counts (the story index's
    vector, see `fingerprint.hashed_counts`), from one pass over the words; None when
    `has_enough_text(text)` is false.

    The extraction workers call it, so the main thread neither re-reads the words nor
    recomputes the vector of a new article.
    """
    body = story_words(text)
    if len(body) < MIN_WORDS:
        return None
    return simhash_of_counts(word_shingles(story_words(title) + body)), word_shingles(body)


def has_enough_text(text: str) -> bool:
    """Short texts (a title, a teaser) give fingerprints too noisy to group stories."""
    return len(story_words(text)) >= MIN_WORDS


def assign_story(
    fp: int, candidates: Sequence[tuple[int, int]], threshold: int = DEFAULT_THRESHOLD
) -> int | None:
    """Story id of the nearest candidate `(story_id, fingerprint)` within `threshold` bits.

    Ties go to the first candidate, so callers list the preferred (e.g. oldest) first.
    Fingerprints may be given signed or unsigned.
    """
    best: tuple[int, int] | None = None
    for story_id, other in candidates:
        distance = hamming(fp, other)
        if distance <= threshold and (best is None or distance < best[0]):
            best = (distance, story_id)
    return best[1] if best else None


def assign_story_confirmed(
    fp: int,
    text: str,
    candidates: Sequence[tuple[int, int, str]],
    threshold: int = CANDIDATE_THRESHOLD,
    min_similarity: float = MIN_SIMILARITY,
) -> int | None:
    """Like `assign_story`, but a SimHash match must be confirmed on the texts.

    A 64-bit SimHash of a few hundred words is noisy (±4 bits), so unrelated articles can
    land within `DEFAULT_THRESHOLD`; when the caller has the candidates' texts
    (`(story_id, fingerprint, text)`), this pre-filters loosely and confirms exactly.
    """
    near = sorted(
        ((hamming(fp, other), i) for i, (_, other, _) in enumerate(candidates)),
    )
    for distance, i in near:
        if distance > threshold:
            break
        story_id, _, other_text = candidates[i]
        if text_similarity(text, other_text) >= min_similarity:
            return story_id
    return None
