"""The cycle's story index: which recent article a new one copies, or whose story it joins.

SimHash alone lets unrelated articles of the same topic through (docs/dedup.md), so a
SimHash pre-filter, widened to the articles sharing a name of the lead, picks candidates,
and `stories.same_story` decides on the exact cosine of their word counts, their names,
figures and dates. Both run once per new article against every recent one, in the
collector's main thread, so both are array operations: fingerprints in one `uint64` array
(XOR and popcount over all of them at once), word counts as sorted integer ids with their
counts (a candidate's dot product is a `searchsorted` away, and all candidates are summed
in one call). Word ids are the words' 64-bit hashes (`veille.text.fingerprint.hashed_counts`),
so the extraction workers build a new article's vector; the vector maths (`cosines`, exact
to the last bit) is `veille.text.fingerprint`, the index over recent articles is here.

numpy is imported on first use: a cycle in which no feed changed never matches anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from veille.collect import stories, storydays, storykeys
from veille.db import articles as article_db
from veille.text import digests
from veille.text.fingerprint import (
    HashedCounts,
    WordVector,
    cosines,
    empty_vector,
    from_signed64,
    hashed_counts,
    popcount,
    word_vector,
)
from veille.text.urls import key_host

if TYPE_CHECKING:
    import numpy as np

    from veille.collect.worker import StoryFacts


@dataclass(frozen=True)
class Part:
    """A digest's item (`digests.items`), compared as an article: its word vector, keys and
    words (what the story index looks candidates up by, as a title's)."""

    vector: WordVector
    keys: storykeys.StoryKeys
    words: frozenset[str]


# An article as `same_story` reads it: its publication, keys and word vector.
Side = tuple[datetime | None, storykeys.StoryKeys, WordVector]

# SimHash pre-filter before the exact text comparison. Same-story pairs measured 6–19 bits
# apart (docs/dedup.md); 20 keeps them all while letting far fewer unrelated articles
# through than stories.CANDIDATE_THRESHOLD (24), which on realistic text passed ~20 %.
PREFILTER_BITS = 20
# A lead name shared by more recent articles than this is a topic, not an event's key
# (« CNIL », « Albert »): it finds no candidates. Likewise a title word shared by more than
# WORD_CANDIDATES_MAX (« données », « portail »): only the rarer title words find some.
NAME_CANDIDATES_MAX = 200
WORD_CANDIDATES_MAX = 50


def _numpy() -> Any:
    import numpy

    return numpy


@dataclass
class StoryIndex:
    """Recent fingerprints, loaded once per cycle and grown as articles are stored.

    Word vectors are computed once per article and kept (recomputing them per comparison
    made matching quadratic in text work); candidates from earlier cycles get theirs from
    their stored text on first need.
    """

    items: list[article_db.Fingerprinted]
    _vectors: dict[int, WordVector] = field(default_factory=dict)
    _keys: dict[int, storykeys.StoryKeys] = field(default_factory=dict)
    _by_name: dict[str, list[int]] = field(default_factory=dict)  # lead name → positions
    _by_word: dict[str, list[int]] = field(default_factory=dict)  # title word → positions
    _copies: dict[tuple[str, str], article_db.Fingerprinted] = field(default_factory=dict)
    _parts: dict[int, list[Part]] = field(default_factory=dict)  # a digest's items
    _fingerprints: Any = None  # np.ndarray of uint64, capacity ≥ len(items)
    _last: tuple[str, WordVector] | None = None
    _last_keys: tuple[str, storykeys.StoryKeys] | None = None
    _last_parts: tuple[str, list[Part]] | None = None

    def __post_init__(self) -> None:
        self._index_copies()
        self._index_names()

    def _index_names(self) -> None:
        self._by_name, self._by_word = {}, {}
        for position, item in enumerate(self.items):
            self._index_lead(position, item.lead, item.host_key)

    def _index_lead(
        self, position: int, lead: str, host: str, story: StoryFacts | None = None
    ) -> None:
        """Index the item at `position` by its lead's names (else its site's) and its title
        words; from `story` when an extraction worker computed them."""
        if story is not None:
            names, words = story.index_names, story.index_words
        else:
            names = storykeys.lead_names(lead) or storykeys.site_names(host)
            words = storykeys.title_words(lead)
        # A digest is filed under each item's names and words too: its title (« La Lettre
        # Données & Communes n° 87 ») and first item say nothing of the others.
        for rubric, text in digests.items(lead.partition("\n")[2]):
            names = names | storykeys.lead_names(f"{rubric}\n{text}")
            words = words | storykeys.title_words(f"{rubric} {text}")
        for name in names:
            self._by_name.setdefault(name, []).append(position)
        for word in words:
            self._by_word.setdefault(word, []).append(position)

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
            self._keys.pop(item.article_id, None)
            self._parts.pop(item.article_id, None)
        self._index_copies()
        self._index_names()
        # `_fingerprints` beyond len(items) is spare capacity: nothing to undo there.

    def renumber(self, mark: int, articles: dict[int, int], stories_: dict[int, int]) -> None:
        """Give the items added since `mark` under provisional ids (`store_pages` inserts
        a batch at its end) their stored article and story ids."""
        for position in range(mark, len(self.items)):
            item = self.items[position]
            stored = replace(
                item,
                article_id=articles.get(item.article_id, item.article_id),
                story_id=stories_.get(item.story_id, item.story_id),
            )
            self.items[position] = stored
            if item.article_id in self._vectors:
                self._vectors[stored.article_id] = self._vectors.pop(item.article_id)
            if item.article_id in self._keys:
                self._keys[stored.article_id] = self._keys.pop(item.article_id)
            if item.article_id in self._parts:
                self._parts[stored.article_id] = self._parts.pop(item.article_id)
            key = (item.content_hash, item.host_key)
            if self._copies.get(key) is item:
                self._copies[key] = stored

    def _unsigned(self) -> np.ndarray:
        """The items' fingerprints as unsigned integers, filled in as items are added."""
        np = _numpy()
        n = len(self.items)
        if self._fingerprints is None:
            self._fingerprints = np.fromiter(
                (from_signed64(i.fingerprint) for i in self.items),
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
        self._fingerprints[n - 1] = from_signed64(fingerprint)

    def vector(self, title: str, text: str, counts: HashedCounts | None = None) -> WordVector:
        """The article's word vector (`stories.story_vector`); from `counts` when the caller
        has them (an extraction worker computed them with the fingerprint)."""
        if self._last is not None and self._last[0] is text:  # `match` then `add`
            return self._last[1]
        if counts is None:
            counts = hashed_counts(stories.story_vector(title, text))
        vector = word_vector(counts)
        self._last = (text, vector)
        return vector

    def keys(self, title: str, text: str, host: str) -> storykeys.StoryKeys:
        """The article's `storykeys.StoryKeys`, computed once for `match` then `add`."""
        if self._last_keys is not None and self._last_keys[0] is text:
            return self._last_keys[1]
        keys = storykeys.story_keys(title, text, host)
        self._last_keys = (text, keys)
        return keys

    def parts(self, title: str, text: str, host: str) -> list[Part]:
        """A digest's items with enough words (`stories.MIN_WORDS`) as `Part`s, [] for any
        other article; computed once for `match` then `add`."""
        if self._last_parts is not None and self._last_parts[0] is text:
            return self._last_parts[1]
        parts = [
            Part(
                word_vector(hashed_counts(stories.story_vector(rubric, body))),
                storykeys.story_keys(rubric, body, host),
                storykeys.title_words(f"{rubric} {body}"),
            )
            for rubric, body in digests.items(text)
            if stories.has_enough_text(f"{rubric} {body}")
        ]
        self._last_parts = (text, parts)
        return parts

    def _free_parts(self, item: article_db.Fingerprinted) -> list[Part]:
        """The items of a stored digest a new article may be compared with: all of them
        while the digest is alone in its story, none once another article joined it (then
        through one of its items or the whole): a digest belongs to one story, and two
        articles joining two of its items would pull two stories into one."""
        parts = self._parts.get(item.article_id)
        if not parts or any(
            other.story_id == item.story_id and other is not item for other in self.items
        ):
            return []
        return parts

    def _record_keys(
        self, record: article_db.ArticleRecord, story: StoryFacts | None
    ) -> storykeys.StoryKeys:
        """The record's keys: an extraction worker's when it computed them, else `keys`."""
        if story is not None:
            return story.keys
        return self.keys(record.title, record.text, key_host(record.url_key))

    def match(
        self,
        session: Session,
        record: article_db.ArticleRecord,
        counts: HashedCounts | None = None,
        story: StoryFacts | None = None,
    ) -> tuple[int | None, int | None]:
        """Return (article_id of an exact copy on the same site, story_id of a near copy).

        `counts`: the shingle counts of `record.text`, `story` its keys and title words,
        when already computed (by an extraction worker: `store.page_story`)."""
        if record.fingerprint is None:
            return None, None
        host = key_host(record.url_key)
        if record.content_hash:
            copy = self._copies.get((record.content_hash, host))
            if copy is not None and _same_page(record, copy):
                return copy.article_id, copy.story_id
        if not self.items:
            return None, None
        np = _numpy()
        distances = popcount(self._unsigned() ^ np.uint64(from_signed64(record.fingerprint)))
        close = set(np.flatnonzero(distances <= PREFILTER_BITS).tolist())
        keys = self._record_keys(record, story)
        mine_parts = self.parts(record.title, record.text, host)
        # The opening's names too: a trade weekly opens on a sentence of context and names
        # the body after it, a city's page opens on a question (`StoryKeys.opening`).
        names = keys.lead_names | keys.site | keys.opening
        words = story.title_words if story is not None else storykeys.title_words(record.title)
        words |= keys.headline  # a post's first sentence (« Fier de ce vote » says nothing)
        for part in mine_parts:  # a digest's items, each a lead of its own
            names |= part.keys.lead_names | part.keys.opening
            words |= part.words
        for name in names:
            positions = self._by_name.get(name, [])
            if len(positions) <= NAME_CANDIDATES_MAX:
                close.update(positions)
        for word in words:
            positions = self._by_word.get(word, [])
            if len(positions) <= WORD_CANDIDATES_MAX:
                close.update(positions)
        if not close:
            return None, None
        positions = np.fromiter(close, dtype=np.int64, count=len(close))
        near = positions[np.lexsort((positions, distances[positions]))].tolist()  # nearest first
        items = self.items
        missing = [items[i].article_id for i in near if items[i].article_id not in self._vectors]
        if missing:
            hosts = {items[i].article_id: items[i].host_key for i in near}
            for article_id, (title, text) in article_db.titled_texts_of(session, missing).items():
                self._vectors[article_id] = self.vector(title, text)
                self._keys[article_id] = storykeys.story_keys(title, text, hosts[article_id])
                parts = self.parts(title, text, hosts[article_id])
                if parts:
                    self._parts[article_id] = parts
        empty = empty_vector()
        others = [self._vectors.get(items[i].article_id, empty) for i in near]
        mine = self.vector(record.title, record.text, counts)
        similarities = cosines(mine, others)
        part_similarities = [cosines(part.vector, others) for part in mine_parts]
        new = (record.published_at, keys, mine)
        best: tuple[float, int] | None = None  # a digest's item that joined: the likest
        for k, (i, similarity) in enumerate(zip(near, similarities, strict=True)):
            item = items[i]
            other = (item.published_at, self._keys.get(item.article_id, storykeys.NO_KEYS))
            if _joins(new, (*other, others[k]), similarity):
                return None, item.story_id
            # A digest is several stories: each item is compared as an article, and the
            # digest joins the story its likest item joins (`digests`).
            pairs = [
                ((record.published_at, part.keys, part.vector), (*other, others[k]), cos[k])
                for part, cos in zip(mine_parts, part_similarities, strict=True)
            ]
            pairs += [
                (new, (item.published_at, part.keys, part.vector), cosines(part.vector, [mine])[0])
                for part in self._free_parts(item)
            ]
            for a, b, part_similarity in pairs:
                if (best is None or part_similarity > best[0]) and _joins(a, b, part_similarity):
                    best = (part_similarity, item.story_id)
        return None, best[1] if best is not None else None

    def add(
        self,
        article_id: int,
        story_id: int,
        record: article_db.ArticleRecord,
        counts: HashedCounts | None = None,
        story: StoryFacts | None = None,
    ) -> None:
        """Add a stored article; `counts` and `story` as for `match`."""
        if record.fingerprint is None:
            return
        self._vectors[article_id] = self.vector(record.title, record.text, counts)
        self._keys[article_id] = self._record_keys(record, story)
        parts = self.parts(record.title, record.text, key_host(record.url_key))
        if parts:
            self._parts[article_id] = parts
        item = article_db.Fingerprinted(
            article_id,
            story_id,
            record.source_id,
            record.fingerprint,
            record.content_hash,
            key_host(record.url_key),
            f"{record.title}\n{record.text[: article_db.LEAD_CHARS]}",
            record.published_at,
        )
        self.items.append(item)
        self._index_lead(len(self.items) - 1, item.lead, item.host_key, story)
        self._append_fingerprint(record.fingerprint)
        if item.content_hash:
            self._copies.setdefault((item.content_hash, item.host_key), item)


def _joins(new: Side, old: Side, similarity: float) -> bool:
    """Does the new article (or a digest's item) join the stored one's story?
    `same_story` accepts the most pairs at 0 hours apart, as a brief (`retold` only lowers
    its floor), as tied by one day (`day_tied` only lowers it too) and with the
    publications' distance unknown (it then reads 0): a pair it
    rejects so it rejects whatever the dates, so the dates are read only for the few that
    pass (~75 candidates an article on the benchmark, nearly all rejected, and under
    `LOWEST_SIMILARITY` without reading the keys; tests/test_storyindex.py checks it)."""
    if similarity < stories.LOWEST_SIMILARITY:
        return False
    (new_at, keys, mine), (old_at, other, theirs) = new, old
    if not stories.same_story(similarity, 0.0, keys, other, brief=True, one_day=True):
        return False
    apart = stories.hours_apart(new_at, keys, old_at, other)
    hours = stories.published_hours(new_at, old_at)
    brief = similarity >= stories.STORY_SIMILARITY and stories.retold(new_at, mine, old_at, theirs)
    brief = brief and not storydays.acted_later(new_at, keys, old_at, other)
    one_day = storydays.day_tied(new_at, keys, old_at, other)
    return stories.same_story(similarity, apart, keys, other, brief, hours, one_day)


def _same_page(record: article_db.ArticleRecord, copy: article_db.Fingerprinted) -> bool:
    """The same text on the same site is the same page, when the text says enough to tell
    pages apart. A feed that gives every item one generic description (« Toute l'actualité
    de la commune… », a lead repeated under each title) must not fold its items into one:
    for a text that short, the titles must agree too."""
    if stories.has_enough_text(record.text, stories.COPY_MIN_WORDS):
        return True
    title = copy.lead.split("\n", 1)[0]
    return " ".join(title.split()).casefold() == " ".join(record.title.split()).casefold()
