"""Text fingerprints: SimHash, 64-bit word hashes, word vectors and their cosines, and the
content hash of exact copies.

Pure maths over `french.story_words`; what counts as "the same story" (thresholds, minimum
length, assignment) is `veille.collect.stories`. The values are stored (a SimHash in one SQL
BIGINT, hence `to_signed64` / `from_signed64`; the content hash as hex), so they must stay
the same across processes, runs and versions: hashes are blake2b/SHA-1, never `hash()`.
"""

from __future__ import annotations

import functools
import hashlib
import math
import operator
import unicodedata
from array import array
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from veille.text.french import story_words

if TYPE_CHECKING:
    import numpy as np

# Words per shingle, chosen on the pairs in tests/data/stories/ (docs/dedup.md).
SHINGLE_SIZE = 1
_MASK64 = (1 << 64) - 1


def shingles(text: str, size: int = SHINGLE_SIZE) -> Counter[str]:
    return word_shingles(story_words(text), size)


def word_shingles(toks: list[str], size: int = SHINGLE_SIZE) -> Counter[str]:
    """Counts of the runs of `size` consecutive words (all of them when fewer)."""
    if size == 1:  # the words themselves (`SHINGLE_SIZE`), counted in C
        return Counter(toks)
    if len(toks) < size:
        return Counter([" ".join(toks)]) if toks else Counter()
    return Counter(" ".join(toks[i : i + size]) for i in range(len(toks) - size + 1))


@functools.lru_cache(maxsize=65536)
def hash64(token: str) -> int:
    """Unsigned 64-bit hash of a word or shingle, stable across processes and runs."""
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "big")


# --------------------------------------------------------------------------- SimHash

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
    h = hash64(shingle)
    out = 0
    for i in range(8):
        out |= _BYTE_SPREAD[h >> (8 * i) & 0xFF] << (_LANE * 8 * i)
    return out


def simhash(text: str, size: int = SHINGLE_SIZE) -> int:
    """64-bit SimHash (unsigned) of the text's word shingles, weighted by their counts."""
    return simhash_of_counts(shingles(text, size))


def simhash_of_counts(counts: Counter[str]) -> int:
    """SimHash of shingle counts the caller already has (one pass over the words)."""
    # Summed in C (`sum` of `map`): the Python loop over ~500 distinct words was a third
    # of the cost; the same exact integers.
    lanes = sum(map(operator.mul, map(_spread, counts), counts.values()))
    total = sum(counts.values())
    fp = 0
    for bit in range(64):
        if 2 * (lanes >> (_LANE * bit) & _LANE_MASK) > total:
            fp |= 1 << bit
    return fp


def hamming(a: int, b: int) -> int:
    """Bits that differ; signed and unsigned spellings of a fingerprint compare equal."""
    return ((a ^ b) & _MASK64).bit_count()


def to_signed64(value: int) -> int:
    """Unsigned 64-bit fingerprint → the signed value a BIGINT column stores."""
    value &= _MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


def from_signed64(value: int) -> int:
    return value & _MASK64


# --------------------------------------------------------------------------- word vectors

# A text's shingle counts keyed by the shingles' 64-bit hashes, in increasing hash order:
# (hashes, counts) as unsigned / signed 64-bit arrays, which pickle compactly (the
# extraction workers send them) and become numpy arrays without a copy (`WordVector`).
HashedCounts = tuple["array[int]", "array[int]"]


def hashed_counts(counts: Counter[str]) -> HashedCounts:
    """`counts` with each shingle replaced by its 64-bit hash. Two shingles share a hash
    with a probability of ~1e-10 for a 100,000-word vocabulary; the cosines computed from
    these are then those of the words themselves."""
    pairs = sorted(zip(map(hash64, counts), counts.values(), strict=True))
    hashes, values = zip(*pairs, strict=True) if pairs else ((), ())  # unzipped in C
    return array("Q", hashes), array("q", values)


def text_similarity(a: str, b: str) -> float:
    """Cosine of the two texts' word counts: what SimHash estimates, without its noise."""
    ca, cb = shingles(a), shingles(b)
    if not ca or not cb:
        return 0.0
    dot = sum(n * cb[k] for k, n in ca.items() if k in cb)
    norm = math.sqrt(sum(n * n for n in ca.values()) * sum(n * n for n in cb.values()))
    return dot / norm


@dataclass(frozen=True)
class WordVector:
    """A text's word counts: word hashes in increasing order, their counts, squared norm."""

    ids: np.ndarray
    counts: np.ndarray
    norm2: int


def _numpy() -> Any:
    # Imported on first use: a collection cycle in which no feed changed never compares.
    import numpy

    return numpy


def word_vector(counts: HashedCounts) -> WordVector:
    """The vector of hashed counts, sharing their memory."""
    np = _numpy()
    hashes, values = counts
    ids = np.frombuffer(hashes, dtype=np.uint64)
    ns = np.frombuffer(values, dtype=np.int64)
    return WordVector(ids, ns, int(ns @ ns))


def empty_vector() -> WordVector:
    np = _numpy()
    return WordVector(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64), 0)


def popcount(values: np.ndarray) -> np.ndarray:
    """Set bits of each `uint64`: the Hamming distances of XORed fingerprints at once."""
    np = _numpy()
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(values)
    as_bytes = values.view(np.uint8).reshape(-1, 8)  # pragma: no cover - numpy 1.x
    return np.unpackbits(as_bytes, axis=1).sum(axis=1)  # pragma: no cover


def cosines(mine: WordVector, others: list[WordVector]) -> list[float]:
    """`text_similarity` of one text against several, from their word vectors.

    Counts are integers, so the dot products are exact: the cosines are the ones
    `text_similarity` computes, to the last bit (barring a 64-bit hash collision)."""
    if not others:
        return []
    np = _numpy()
    lengths = [len(o.ids) for o in others]
    if not len(mine.ids) or not sum(lengths):
        return [0.0] * len(others)
    ids = np.concatenate([o.ids for o in others])
    counts = np.concatenate([o.counts for o in others])
    at = np.searchsorted(mine.ids, ids)
    at[at == len(mine.ids)] = 0
    products = np.where(mine.ids[at] == ids, mine.counts[at] * counts, 0)
    owner = np.repeat(np.arange(len(others)), lengths)
    dots = np.bincount(owner, weights=products, minlength=len(others))  # exact: < 2**53
    return [
        float(dot) / math.sqrt(mine.norm2 * other.norm2) if other.norm2 else 0.0
        for dot, other in zip(dots.tolist(), others, strict=True)
    ]


def contained(small: WordVector, large: WordVector) -> float:
    """The share of `small`'s words (counted) that `large` has too: how much of a brief
    a long text tells (`collect.stories.retold`)."""
    np = _numpy()
    total = int(small.counts.sum())
    if not total or not len(large.ids):
        return 0.0
    _, mine, theirs = np.intersect1d(small.ids, large.ids, assume_unique=True, return_indices=True)
    return int(np.minimum(small.counts[mine], large.counts[theirs]).sum()) / total


# --------------------------------------------------------------------------- exact copies


def normalise_text(text: str) -> str:
    r"""Case, Unicode form and whitespace folded: what "the same text" means for us.

    Runs of whitespace become one space and the ends are trimmed by `str.split` and
    `join`: the same characters as the regular expression `\s+` it replaces (both are
    `str.isspace`, checked for every code point in tests/test_clean.py), a third cheaper."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def content_fingerprint(text: str) -> str:
    """SHA-1 of the normalised text: equal for exact copies whatever their markup."""
    return hashlib.sha1(normalise_text(text).encode("utf-8")).hexdigest()
