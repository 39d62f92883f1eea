"""The cycle's story index: which recent article a new one copies, or whose story it joins.

SimHash alone lets unrelated articles of the same topic through (docs/dedup.md), so a loose
SimHash pre-filter picks candidates and the exact cosine of the texts' word counts confirms
the match. Both run once per new article against every recent one, in the collector's main
thread, so both are array operations: fingerprints in one `uint64` array (XOR and popcount
over all of them at once), word counts as sorted integer ids with their counts (a
candidate's dot product is a `searchsorted` away, and all candidates are summed in one
call). Word ids are the words' 64-bit hashes (`stories.hashed_counts`), so the extraction
workers build a new article's vector. Counts are integers, so the dot products are exact:
the cosines are the ones `stories.text_similarity` computes, to the last bit (barring a
64-bit hash collision between two words, ~1e-10).

numpy is imported on first use: a cycle in which no feed changed never matches anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from veille.collect import stories
from veille.db import articles as article_db

if TYPE_CHECKING:
    import numpy as np

# SimHash pre-filter before the exact text comparison. Same-story pairs measured 6–19 bits
# apart (docs/dedup.md); 20 keeps them all while letting far fewer unrelated articles
# through than stories.CANDIDATE_THRESHOLD (24), which on realistic text passed ~20 %.
PREFILTER_BITS = 20


@dataclass(frozen=True)
class WordVector:
    """A text's word counts: word hashes in increasing order, their counts, squared norm."""

    ids: np.ndarray
    counts: np.ndarray
    norm2: int


def _numpy() -> Any:
    import numpy

    return numpy


def _popcount(values: np.ndarray) -> np.ndarray:
    np = _numpy()
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(values)
    as_bytes = values.view(np.uint8).reshape(-1, 8)  # pragma: no cover - numpy 1.x
    return np.unpackbits(as_bytes, axis=1).sum(axis=1)  # pragma: no cover


def cosines(mine: WordVector, others: list[WordVector]) -> list[float]:
    """`stories.text_similarity` of one text against several, from their word vectors."""
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


@dataclass
class StoryIndex:
    """Recent fingerprints, loaded once per cycle and grown as articles are stored.

    Word vectors are computed once per article and kept (recomputing them per comparison
    made matching quadratic in text work); candidates from earlier cycles get theirs from
    their stored text on first need.
    """

    items: list[article_db.Fingerprinted]
    _vectors: dict[int, WordVector] = field(default_factory=dict)
    _copies: dict[tuple[str, str], article_db.Fingerprinted] = field(default_factory=dict)
    _fingerprints: Any = None  # np.ndarray of uint64, capacity ≥ len(items)
    _last: tuple[str, WordVector] | None = None

    def __post_init__(self) -> None:
        self._index_copies()

    def _index_copies(self) -> None:
        """Exact copies are looked up by (content hash, site); the first stored wins."""
        self._copies = {}
        for item in self.items:
            if item.content_hash:
                self._copies.setdefault((item.content_hash, item.host_key), item)

    def mark(self) -> int:
        """A point `rollback` can return to when the transaction that grew the index fails."""
        return len(self.items)

    def rollback(self, mark: int) -> None:
        dropped, self.items = self.items[mark:], self.items[:mark]
        for item in dropped:
            self._vectors.pop(item.article_id, None)
        self._index_copies()
        # `_fingerprints` beyond len(items) is spare capacity: nothing to undo there.

    def _unsigned(self) -> np.ndarray:
        """The items' fingerprints as unsigned integers, filled in as items are added."""
        np = _numpy()
        n = len(self.items)
        if self._fingerprints is None:
            self._fingerprints = np.fromiter(
                (stories.from_signed64(i.fingerprint) for i in self.items),
                dtype=np.uint64,
                count=n,
            )
        return self._fingerprints[:n]

    def _append_fingerprint(self, fingerprint: int) -> None:
        if self._fingerprints is None:
            return  # built from `items` on first use
        np = _numpy()
        n = len(self.items)  # the new item is appended already
        if n > len(self._fingerprints):
            grown = np.zeros(max(1024, 2 * n), dtype=np.uint64)
            grown[: n - 1] = self._fingerprints[: n - 1]
            self._fingerprints = grown
        self._fingerprints[n - 1] = stories.from_signed64(fingerprint)

    def vector(self, text: str, counts: stories.HashedCounts | None = None) -> WordVector:
        """The text's word vector; from `counts` when the caller has them (an extraction
        worker computed them with the fingerprint)."""
        if self._last is not None and self._last[0] is text:  # `match` then `add`
            return self._last[1]
        np = _numpy()
        if counts is None:
            counts = stories.hashed_counts(stories.shingles(text))
        hashes, values = counts
        ids = np.frombuffer(hashes, dtype=np.uint64)
        ns = np.frombuffer(values, dtype=np.int64)
        vector = WordVector(ids, ns, int(ns @ ns))
        self._last = (text, vector)
        return vector

    def match(
        self,
        session: Session,
        record: article_db.ArticleRecord,
        counts: stories.HashedCounts | None = None,
    ) -> tuple[int | None, int | None]:
        """Return (article_id of an exact copy on the same site, story_id of a near copy).

        `counts`: the shingle counts of `record.text`, when already computed."""
        if record.fingerprint is None:
            return None, None
        host = record.url_key.split("/", 1)[0]
        if record.content_hash:
            copy = self._copies.get((record.content_hash, host))
            if copy is not None:
                return copy.article_id, copy.story_id
        if not self.items:
            return None, None
        np = _numpy()
        distances = _popcount(
            self._unsigned() ^ np.uint64(stories.from_signed64(record.fingerprint))
        )
        close = np.flatnonzero(distances <= PREFILTER_BITS)
        if not len(close):
            return None, None
        near = close[np.argsort(distances[close], kind="stable")].tolist()  # nearest first
        items = self.items
        missing = [items[i].article_id for i in near if items[i].article_id not in self._vectors]
        if missing:
            for article_id, text in article_db.texts_of(session, missing).items():
                self._vectors[article_id] = self.vector(text)
        empty = WordVector(np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64), 0)
        others = [self._vectors.get(items[i].article_id, empty) for i in near]
        similarities = cosines(self.vector(record.text, counts), others)
        for i, similarity in zip(near, similarities, strict=True):
            if similarity >= stories.MIN_SIMILARITY:
                return None, items[i].story_id
        return None, None

    def add(
        self,
        article_id: int,
        story_id: int,
        record: article_db.ArticleRecord,
        counts: stories.HashedCounts | None = None,
    ) -> None:
        if record.fingerprint is None:
            return
        self._vectors[article_id] = self.vector(record.text, counts)
        item = article_db.Fingerprinted(
            article_id,
            story_id,
            record.source_id,
            record.fingerprint,
            record.content_hash,
            record.url_key.split("/", 1)[0],
        )
        self.items.append(item)
        self._append_fingerprint(record.fingerprint)
        if item.content_hash:
            self._copies.setdefault((item.content_hash, item.host_key), item)
