"""SQLite: FTS5's bm25 ranking computed here, over the matches' stored text and document
counts of each phrase kept per data version, for the searches where FTS5's own costs more.

FTS5's `bm25()` first counts, for every phrase of the query, the documents holding it (its
IDF): a walk of the phrase's whole doclist, once per statement, whatever the matches. « cnil
Saint-Ryvalbel » matches 655 articles of 1M, but « cnil » is in 484,076 of them: 25–30 ms of
a 40 ms search go to that count, every time the word is searched. The counts only change
when articles are stored, which moves the data version (`veille.db.data_version`) — so they
are kept per version here, with the index's totals they were read with.

The rest of bm25 needs, per match, each phrase's number of instances and the document's
length in tokens. The index's documents are our own tokens joined by single spaces
(`veille.db.fulltext.document`, tokenised by unicode61 on those spaces), so splitting the
stored text gives exactly FTS5's tokens; a document with anything else (written by another
path) sends the search back to FTS5. The formula and the order of its floating-point
operations are FTS5's own (`fts5Bm25Function`, SQLite's ext/fts5/fts5_aux.c): the scores
are the same doubles, so the order is the same (`tests/test_search_bm25.py` compares
them to the bit). Ties then go newest first, as the SQL does.

Reading and splitting the matches' text costs ~25–30 µs a match, against the walk's ~0.07 µs
per document of each phrase: this path is taken for at most OWN_MAX matches, when the
one-word phrases' documents outnumber the matches WALK_RATIO times (`worth_it`; on 98
ranked searches at 1M articles it lost below ~400 times, was about even from 600 to 900, won
from 1,100). A phrase seen for the first time in a data version is counted once (the walk
FTS5 would make).
"""

from __future__ import annotations

import math
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
    text,
    type_coerce,
)
from sqlalchemy.orm import Session

from veille.db import data_version, fulltext
from veille.db.fulltext import SEARCH
from veille.db.reads import read

if TYPE_CHECKING:
    from veille.archive.search_plan import Plan

K1, B = 1.2, 0.75  # FTS5's constants
OWN_MAX = 1_000
WALK_RATIO = 1_000
KEPT_PHRASES = 10_000  # document counts kept per process at most

CONTENT = Table(
    f"{fulltext.FTS_TABLE}_content", MetaData(), Column("id", Integer), Column("c0", Text)
)
_AVERAGES = text(f"SELECT block FROM {fulltext.FTS_TABLE}_data WHERE id = 1")
_COUNT = text(f"SELECT count(*) FROM {fulltext.FTS_TABLE} WHERE {fulltext.FTS_TABLE} MATCH :q")
_TOKENS_ONLY = re.compile(r"[a-z0-9 ]*")


@dataclass
class _Counts:
    """Documents per phrase, valid for one data version and the index totals read with it."""

    key: tuple[int, int, int]  # version, rows, tokens
    docs: dict[tuple[str, ...], int] = field(default_factory=dict)


_KEPT: weakref.WeakKeyDictionary[Any, _Counts] = weakref.WeakKeyDictionary()


def _varints(block: bytes) -> list[int]:
    """SQLite's varints (FTS5's averages record: rows, then tokens per column)."""
    out, i = [], 0
    while i < len(block):
        value = 0
        for j in range(9):
            byte = block[i]
            i += 1
            if j == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        out.append(value)
    return out


def _counts(session: Session) -> tuple[_Counts, int, int] | None:
    """The kept counts for this version and index (emptied when either moved), the index's
    rows and tokens; None without a data version."""
    version = data_version.current(session)
    block = read(session, _AVERAGES).scalar()
    if version is None or not block:
        return None
    rows, tokens = _varints(bytes(block))[:2]
    key = (version.number, rows, tokens)
    bind = session.get_bind()
    kept = _KEPT.get(bind)
    if kept is None or kept.key != key:
        kept = _KEPT[bind] = _Counts(key)
    return kept, rows, tokens


def _documents(session: Session, kept: _Counts, phrase: tuple[str, ...]) -> int:
    if phrase not in kept.docs:
        if len(kept.docs) >= KEPT_PHRASES:
            kept.docs.clear()  # a long-lived version searched for many words: start again
        expression = '"' + " ".join(phrase) + '"'  # tokens are [a-z0-9]+: never syntax
        kept.docs[phrase] = int(read(session, _COUNT, {"q": expression}).scalar_one())
    return kept.docs[phrase]


def worth_it(documents: list[int], matches: int) -> bool:
    """Whether ranking here costs less than FTS5's walk of every phrase's doclist."""
    return 0 < matches <= OWN_MAX and sum(documents) > WALK_RATIO * matches


def _instances(tokens: list[str], phrase: tuple[str, ...]) -> int:
    """FTS5's instances of `phrase`: every position it starts at, overlaps included."""
    if len(phrase) == 1:
        return tokens.count(phrase[0])
    first, size = phrase[0], len(phrase)
    wanted = list(phrase)
    return sum(
        1 for i, token in enumerate(tokens) if token == first and tokens[i : i + size] == wanted
    )


def scores(
    session: Session,
    plan: Plan,
    conditions: Sequence[ColumnElement[bool]],
    matches: int | None = None,
) -> list[tuple[int, float, str]] | None:
    """(id, bm25, date as stored) of every row joined from FTS5 under `conditions` (the
    ranked page's: `search_plan.ranked_match` and the plan's filters), in no order; None
    when FTS5 should rank (`matches`, the count already known, says whether it is worth
    it; None: always here) or a document is not plain tokens or a date not text."""
    phrases = [tokens for _, tokens in plan.text.include]
    if not phrases or (matches is not None and not 0 < matches <= OWN_MAX):
        return None
    found = _counts(session)
    if found is None:
        return None
    kept, rows, total = found
    if matches is not None:
        # Decided on the one-word phrases: counting one costs what FTS5's walk of it would
        # (~0.07 µs a document), counting a longer one (« Saint-Ryvalbel ») up to ten times
        # more — counted only once this path is chosen, so never walked twice.
        words = [_documents(session, kept, p) for p in phrases if len(p) == 1]
        if not worth_it(words, matches):
            return None
    documents = [_documents(session, kept, p) for p in phrases]
    idf = []
    for hits in documents:
        value = math.log((rows - hits + 0.5) / (hits + 0.5))
        idf.append(value if value > 0.0 else 1e-6)
    avgdl = float(total) / float(rows)
    stmt = (
        select(SEARCH.c.id, type_coerce(SEARCH.c.published_or_fetched, String), CONTENT.c.c0)
        .select_from(
            fulltext.FTS.join(SEARCH, SEARCH.c.id == fulltext.FTS.c.rowid).join(
                CONTENT, CONTENT.c.id == fulltext.FTS.c.rowid
            )
        )
        .where(*conditions)
    )
    out = []
    for ident, day, doc in read(session, stmt):
        if not isinstance(doc, str) or not isinstance(day, str) or not _TOKENS_ONLY.fullmatch(doc):
            return None  # SQLite orders the dates it stores: text ones only are compared here
        tokens = doc.split()
        length = float(len(tokens))
        score = 0.0
        for phrase, weight in zip(phrases, idf, strict=True):
            freq = float(_instances(tokens, phrase))
            score += weight * ((freq * (K1 + 1.0)) / (freq + K1 * (1 - B + B * length / avgdl)))
        out.append((int(ident), -1.0 * score, day))
    return out


def ranked_ids(
    session: Session,
    plan: Plan,
    conditions: Sequence[ColumnElement[bool]],
    page: tuple[int, int],
    matches: int | None,
) -> list[int] | None:
    """The `page` (offset, limit) of the rows `scores` ranks, in FTS5's bm25 order then
    newest first (ORDER BY bm25, date DESC, id DESC); None when FTS5 should rank them."""
    scored = scores(session, plan, conditions, matches)
    if scored is None:
        return None
    # Newest first, then a stable sort on the score keeps that order among equal scores.
    ordered = sorted(scored, key=lambda row: (row[2], row[0]), reverse=True)
    ordered.sort(key=lambda row: row[1])
    offset, limit = page
    return [ident for ident, _, _ in ordered[offset : offset + limit]]
