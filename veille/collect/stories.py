"""Near-duplicate detection: the same story syndicated or reworded across sources.

A 64-bit SimHash over word shingles of the folded text; two articles belong to the same
story when their fingerprints differ by at most `DEFAULT_THRESHOLD` bits. Method, shingle
size and threshold were chosen on the pairs in tests/data/stories/ (see docs/dedup.md).
The fingerprint fits one SQL BIGINT, hence `to_signed64` / `from_signed64`.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import unicodedata
from array import array
from collections import Counter
from collections.abc import Sequence

SHINGLE_SIZE = 1
DEFAULT_THRESHOLD = 20
# Two-stage variant: a looser SimHash pre-filter, then the exact cosine of the texts.
CANDIDATE_THRESHOLD = 24
MIN_SIMILARITY = 0.5
# Fewer words than this and the fingerprint is noise: such texts never join a story.
MIN_WORDS = 20

_MASK64 = (1 << 64) - 1
_WORD = re.compile(r"[a-z0-9]+")
# Words so frequent in French news that they only add noise shared by unrelated articles.
# fmt: off
_STOPWORDS = frozenset((
    "a", "au", "aux", "avec", "ce", "ces", "cet", "cette", "d", "dans", "de", "des", "du",
    "elle", "en", "est", "et", "il", "ils", "l", "la", "le", "les", "leur", "leurs", "lui",
    "n", "ne", "nous", "on", "ont", "ou", "par", "pas", "plus", "pour", "qu", "que", "qui",
    "s", "sa", "se", "ses", "son", "sont", "sur", "un", "une", "y",
    "the", "of", "and", "to", "in", "is", "for", "on", "with",
))
# fmt: on


# Combining marks of the scripts news arrive in (Latin, Greek, Cyrillic diacritics and the
# combining blocks): one C-level pass instead of a per-character Python filter.
_MARKS = re.compile(
    "[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)


def fold(text: str) -> str:
    """Lower case without accents, so "Données" and "donnees" are one word."""
    return _MARKS.sub("", unicodedata.normalize("NFKD", text.casefold()))


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(fold(text)) if w not in _STOPWORDS]


def shingles(text: str, size: int = SHINGLE_SIZE) -> Counter[str]:
    return _shingles(words(text), size)


def _shingles(toks: list[str], size: int = SHINGLE_SIZE) -> Counter[str]:
    if len(toks) < size:
        return Counter([" ".join(toks)]) if toks else Counter()
    return Counter(" ".join(toks[i : i + size]) for i in range(len(toks) - size + 1))


@functools.lru_cache(maxsize=65536)
def _hash64(token: str) -> int:
    # Stable across processes and runs, unlike hash().
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "big")


# A text's shingle counts keyed by the shingles' 64-bit hashes, in increasing hash order:
# (hashes, counts) as unsigned / signed 64-bit arrays, which pickle compactly and become
# numpy arrays without a copy (collect/storyindex.py).
HashedCounts = tuple["array[int]", "array[int]"]


def hashed_counts(counts: Counter[str]) -> HashedCounts:
    """`counts` with each shingle replaced by its 64-bit hash. Two shingles share a hash
    with a probability of ~1e-10 for a 100,000-word vocabulary; the cosines computed from
    these are then those of the words themselves."""
    pairs = sorted((_hash64(shingle), n) for shingle, n in counts.items())
    return array("Q", [h for h, _ in pairs]), array("q", [n for _, n in pairs])


# SimHash sums, for each of the 64 bits, +count or -count of every shingle. The sums are
# accumulated in one big integer instead: each shingle's hash is "spread" into 64 lanes of
# `_LANE` bits (lane i holds the hash's bit i), so adding `spread * count` counts, in every
# lane at once, the occurrences of shingles with that bit set. A bit's SimHash weight is
# then `set - (total - set)`. Exact integer arithmetic: the same fingerprint as the
# bit-by-bit loop, ~5x faster (it runs once per new article).
_LANE = 40  # a lane holds up to 2**40 - 1 occurrences: more words than any body we accept
_LANE_MASK = (1 << _LANE) - 1
_BYTE_SPREAD = tuple(sum(1 << (_LANE * i) for i in range(8) if b >> i & 1) for b in range(256))


@functools.lru_cache(maxsize=8192)
def _spread(shingle: str) -> int:
    h = _hash64(shingle)
    out = 0
    for i in range(8):
        out |= _BYTE_SPREAD[h >> (8 * i) & 0xFF] << (_LANE * 8 * i)
    return out


def simhash(text: str, size: int = SHINGLE_SIZE) -> int:
    """64-bit SimHash (unsigned) of the text's word shingles, weighted by their counts."""
    return _simhash(shingles(text, size))


def fingerprint(title: str, text: str) -> tuple[int, Counter[str]] | None:
    """`simhash(f"{title}\n{text}")` and the text's shingle counts (the story index's
    vector, see `hashed_counts`), from one pass over the words; None when
    `has_enough_text(text)` is false.

    The extraction workers call it, so the main thread neither re-reads the words nor
    recomputes the vector of a new article.
    """
    body = words(text)
    if len(body) < MIN_WORDS:
        return None
    return _simhash(_shingles(words(title) + body)), _shingles(body)


def _simhash(counts: Counter[str]) -> int:
    total = 0
    lanes = 0
    for shingle, count in counts.items():
        lanes += _spread(shingle) * count
        total += count
    fp = 0
    for bit in range(64):
        if 2 * (lanes >> (_LANE * bit) & _LANE_MASK) > total:
            fp |= 1 << bit
    return fp


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & _MASK64).bit_count()


def to_signed64(value: int) -> int:
    """Unsigned 64-bit fingerprint → the signed value a BIGINT column stores."""
    value &= _MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


def from_signed64(value: int) -> int:
    return value & _MASK64


def has_enough_text(text: str) -> bool:
    """Short texts (a title, a teaser) give fingerprints too noisy to group stories."""
    return len(words(text)) >= MIN_WORDS


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


def text_similarity(a: str, b: str) -> float:
    """Cosine of the two texts' word counts: what SimHash estimates, without its noise."""
    ca, cb = shingles(a), shingles(b)
    if not ca or not cb:
        return 0.0
    dot = sum(n * cb[k] for k, n in ca.items() if k in cb)
    norm = math.sqrt(sum(n * n for n in ca.values()) * sum(n * n for n in cb.values()))
    return dot / norm


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
