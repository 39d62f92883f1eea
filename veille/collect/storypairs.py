"""Story grouping measured on pairs written for the project (tests/data/story_pairs/).

Each pair is two articles and the truth: the same event told by two sources, or two
different events on one topic (docs/dedup.md, « Measured on pairs »). The decision is the
collector's own: the earlier article is stored in a `StoryIndex` as a new article of that
cycle would be, with the fingerprint and word vector the extraction workers compute
(`stories.fingerprint`), and the later one is matched against it with `StoryIndex.match`,
the call `store.store_pages` makes. The collector's candidates are the articles fetched in
the last `STORY_WINDOW`; here an article is taken as fetched when it was published, so an
earlier article more than `STORY_WINDOW` older is no candidate.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from veille.collect import stories
from veille.collect.store import STORY_WINDOW
from veille.collect.storyindex import StoryIndex
from veille.db.articles import ArticleRecord
from veille.errors import UserError
from veille.text.fingerprint import content_fingerprint, hashed_counts, to_signed64


@dataclass(frozen=True)
class PairArticle:
    """What a feed gives of an article and what the grouping reads: title, text, source
    (the site: exact copies are only merged on one site), publication date."""

    title: str
    text: str
    source: str
    published: datetime


@dataclass(frozen=True)
class StoryPair:
    id: str
    same: bool
    a: PairArticle
    b: PairArticle
    note: str


@dataclass(frozen=True)
class PairScores:
    """Precision and recall of « same story », and the pairs decided wrongly."""

    pairs: int
    same: int
    true_positives: int
    false_positives: list[StoryPair]  # different stories grouped: the costly error
    false_negatives: list[StoryPair]  # one story left as two entries

    @property
    def precision(self) -> float:
        grouped = self.true_positives + len(self.false_positives)
        return self.true_positives / grouped if grouped else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.same if self.same else 1.0


def _article(raw: object, where: str) -> PairArticle:
    if not isinstance(raw, dict):
        raise UserError(f"{where} : article attendu (objet JSON)")
    try:
        published = datetime.fromisoformat(str(raw["published"]))
        title, text, source = str(raw["title"]), str(raw["text"]), str(raw["source"])
    except (KeyError, ValueError) as exc:
        raise UserError(f"{where} : champ manquant ou invalide ({exc})") from exc
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    return PairArticle(title, text, source, published)


def load_pairs(paths: Iterable[Path]) -> list[StoryPair]:
    """The pairs of the JSONL files, one per line; a bad line names its file and line."""
    pairs: list[StoryPair] = []
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path.name}, ligne {n}"
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(f"{where} : JSON invalide ({exc.msg})") from exc
            if not isinstance(raw, dict) or not isinstance(raw.get("same"), bool):
                raise UserError(f"{where} : « same » (true ou false) attendu")
            pairs.append(
                StoryPair(
                    str(raw.get("id", where)),
                    raw["same"],
                    _article(raw.get("a"), f"{where}, a"),
                    _article(raw.get("b"), f"{where}, b"),
                    str(raw.get("note", "")),
                )
            )
    return pairs


def record_of(n: int, article: PairArticle) -> tuple[ArticleRecord, Counter[str] | None]:
    """The record `store.build_record` makes of a page, with the workers' text facts."""
    facts = stories.fingerprint(article.title, article.text)
    url = f"https://{article.source}/{n}"
    record = ArticleRecord(
        url=url,
        url_key=url.split("://", 1)[1],
        original_url=url,
        source_id=n,
        guid=None,
        title=article.title,
        summary=article.text,
        text=article.text,
        html="",
        author=None,
        language="fr",
        image=None,
        published_at=article.published,
        fetched_at=article.published,
        partial=False,
        extract_note=None,
        content_hash=content_fingerprint(article.text),
        fingerprint=to_signed64(facts[0]) if facts else None,
    )
    return record, facts[1] if facts else None


def grouped(pair: StoryPair) -> bool:
    """Does the collector put the later article of the pair in the earlier one's story?"""
    first, second = sorted((pair.a, pair.b), key=lambda a: a.published)
    if second.published - first.published > STORY_WINDOW:
        return False  # the earlier one left the window of candidates
    index = StoryIndex([])
    record, counts = record_of(1, first)
    if record.fingerprint is not None:
        index.add(1, 1, record, hashed_counts(counts) if counts is not None else None)
    record, counts = record_of(2, second)
    copy, story = index.match(
        None,  # type: ignore[arg-type]  # every candidate's vector is in the index
        record,
        hashed_counts(counts) if counts is not None else None,
    )
    return copy == 1 or story == 1


def score(pairs: Sequence[StoryPair]) -> PairScores:
    tp = 0
    fps: list[StoryPair] = []
    fns: list[StoryPair] = []
    for pair in pairs:
        decided = grouped(pair)
        if decided and pair.same:
            tp += 1
        elif decided:
            fps.append(pair)
        elif pair.same:
            fns.append(pair)
    return PairScores(len(pairs), sum(p.same for p in pairs), tp, fps, fns)
