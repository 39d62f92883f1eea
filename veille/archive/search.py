"""Archive search: filters, full text, facets, pagination, streaming.

Semantics:
- several themes: OR (an article carrying any chosen theme); several sources: OR; the
  different filters combine with AND;
- period: on the publication date, or the fetch date when the source gave none
  (`articles.published_or_fetched`); `from`/`to` are whole days in Europe/Paris;
- full text: see `veille.archive.fts` (all words, "phrases", -exclusions);
- facet counts: each computed with its own filter left out, the others applied.

Speed: the total and both facets come from ONE grouped query, `(source_id, theme_mask) →
count` over the period and full-text match (at most sources × 8 groups); the theme and
source filters are then applied in Python to those groups. So whatever the filters, a
request costs one index range scan for the counts plus one ordered index walk for the page,
with no join and no per-row subquery (themes are bits on the article, kept by triggers).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, select, true, tuple_
from sqlalchemy.orm import Session

from veille.archive import fts
from veille.archive.fts import SEARCH, THEME_BITS
from veille.archive.query import ArchiveQuery
from veille.db.tables import ArticleLinkRow, ArticleRow, ArticleThemeRow, SourceRow

PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class ArticleHit:
    id: int
    url: str
    title: str
    summary: str
    source_key: str
    source_name: str
    published_at: datetime  # publication date, or the fetch date when unknown
    themes: tuple[str, ...]
    score: float | None
    coverage: int  # distinct sources carrying the story
    partial: bool


@dataclass(frozen=True)
class Facets:
    themes: dict[str, int]
    sources: list[tuple[str, str, int]]  # key, name, count — most articles first


@dataclass(frozen=True)
class SearchResult:
    items: list[ArticleHit]
    total: int
    page: int
    per_page: int
    facets: Facets

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class _Plan:
    """A query turned into SQL pieces: `base` (period + full text) is shared by the counts;
    `narrow` adds the theme and source filters for the listed page."""

    base: ColumnElement[bool]
    theme_bits: int  # 0: no theme filter
    source_ids: frozenset[int] | None  # None: no source filter
    impossible: bool  # nothing can match (unknown sources, only stop words)

    @property
    def narrow(self) -> ColumnElement[bool]:
        cond = self.base
        if self.theme_bits:
            cond = and_(cond, SEARCH.c.theme_mask.op("&")(self.theme_bits) != 0)
        if self.source_ids is not None:
            cond = and_(cond, SEARCH.c.source_id.in_(sorted(self.source_ids)))
        return cond


def _day_start(day: Any) -> datetime:
    return datetime.combine(day, time(), PARIS)


def _plan(session: Session, query: ArchiveQuery) -> _Plan:
    dialect = session.get_bind().dialect.name
    conds: list[ColumnElement[bool]] = []
    when = SEARCH.c.published_or_fetched
    if query.date_from:
        conds.append(when >= _day_start(query.date_from))
    if query.date_to:
        conds.append(when < _day_start(query.date_to + timedelta(days=1)))
    impossible = False
    tq = fts.parse_text(query.q)
    if query.q.strip() and tq.empty:
        impossible = True  # only stop words or punctuation: nothing to look for
    elif not tq.empty:
        conds.append(fts.text_condition(dialect, tq))
    source_ids: frozenset[int] | None = None
    if query.sources:
        source_ids = frozenset(
            session.scalars(select(SourceRow.id).where(SourceRow.key.in_(query.sources)))
        )
        impossible = impossible or not source_ids
    theme_bits = fts.theme_mask(query.themes)
    if query.themes and not theme_bits:
        impossible = True
    base = and_(true(), *conds)
    return _Plan(base, theme_bits, source_ids, impossible)


def _counts(session: Session, plan: _Plan) -> list[tuple[int, int, int]]:
    """(source_id, theme_mask, count) for everything matching period + full text."""
    if plan.impossible:
        return []
    source: ColumnElement[Any] = SEARCH.c.source_id
    if session.get_bind().dialect.name == "sqlite":
        # Grouping on a bare source_id makes SQLite pick ix_articles_source_id for its order
        # and read every wide row (2-6 s at 1M articles); `+ 0` leaves it the covering
        # range on ix_articles_search_date (or _facts for full text).
        source = SEARCH.c.source_id + 0
    stmt = (
        select(source, SEARCH.c.theme_mask, func.count())
        .where(plan.base)
        .group_by(source, SEARCH.c.theme_mask)
    )
    return [(int(s), int(m), int(n)) for s, m, n in session.execute(stmt)]


def _tally(session: Session, plan: _Plan, groups: Sequence[tuple[int, int, int]]
           ) -> tuple[int, Facets]:
    """Total for all filters, and each facet with its own filter left out."""
    def source_ok(source_id: int) -> bool:
        return plan.source_ids is None or source_id in plan.source_ids

    def theme_ok(mask: int) -> bool:
        return not plan.theme_bits or bool(mask & plan.theme_bits)

    total = 0
    themes = dict.fromkeys(THEME_BITS, 0)
    by_source: dict[int, int] = {}
    for source_id, mask, n in groups:
        if source_ok(source_id):
            if theme_ok(mask):
                total += n
            for theme, bit in THEME_BITS.items():
                if mask & bit:
                    themes[theme] += n
        if theme_ok(mask):
            by_source[source_id] = by_source.get(source_id, 0) + n
    names = {
        i: (k, n)
        for i, k, n in session.execute(
            select(SourceRow.id, SourceRow.key, SourceRow.name).where(
                SourceRow.id.in_(sorted(by_source))
            )
        )
    } if by_source else {}
    sources = sorted(
        ((names[i][0], names[i][1], c) for i, c in by_source.items() if c and i in names),
        key=lambda item: (-item[2], item[0]),
    )
    return total, Facets(themes={t: n for t, n in themes.items() if n}, sources=sources)


def _order(session: Session, sort: str, *, has_text: bool = False) -> list[Any]:
    when: ColumnElement[Any] = SEARCH.c.published_or_fetched
    score: ColumnElement[Any] = SEARCH.c.score
    ident = SEARCH.c.id
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres and has_text:
        # PostgreSQL underestimates text matches and walks the date index testing every
        # row's tsvector (280 ms for a 256-match word at 1M articles). Ordering on an
        # expression sends it through the GIN index, then a top-N sort of the matches.
        when = when + literal_column("interval '0 s'")
        score = score + 0
    if sort == "score":
        # SQLite: DESC already puts NULL last; PostgreSQL needs it said.
        by_score = score.desc().nulls_last() if postgres else score.desc()
        return [by_score, when.desc(), ident.desc()]
    return [when.desc(), ident.desc()]


def _rows(session: Session, ids: Sequence[int]) -> list[Any]:
    """Full rows for `ids`, in that order."""
    if not ids:
        return []
    found = {
        row.id: (row, key, name)
        for row, key, name in session.execute(
            select(ArticleRow, SourceRow.key, SourceRow.name)
            .join(SourceRow, SourceRow.id == ArticleRow.source_id)
            .where(ArticleRow.id.in_(list(ids)))
        )
    }
    return [found[i] for i in ids if i in found]


def search(session: Session, query: ArchiveQuery) -> SearchResult:
    plan = _plan(session, query)
    total, facet_counts = _tally(session, plan, _counts(session, plan))
    ids: list[int] = []
    if total and query.offset < total:
        ids = list(
            session.scalars(
                select(SEARCH.c.id)
                .where(plan.narrow)
                .order_by(*_order(session, query.sort, has_text=bool(query.q.strip())))
                .offset(query.offset)
                .limit(query.per_page)
            )
        )
    return SearchResult(
        items=hits(session, _rows(session, ids)),
        total=total,
        page=query.page,
        per_page=query.per_page,
        facets=facet_counts,
    )


def hits(session: Session, rows: Any) -> list[ArticleHit]:
    """Cards for `(ArticleRow, source key, source name)` rows, in the given order."""
    rows = list(rows)
    article_ids = [row.id for row, _, _ in rows]
    themes: dict[int, list[str]] = {}
    if article_ids:
        for article_id, theme in session.execute(
            select(ArticleThemeRow.article_id, ArticleThemeRow.theme)
            .where(ArticleThemeRow.article_id.in_(article_ids))
            .order_by(ArticleThemeRow.theme)
        ):
            themes.setdefault(article_id, []).append(theme)
    stories = sorted({row.story_id for row, _, _ in rows if row.story_id is not None})
    coverage: dict[int, int] = {}
    if stories:
        coverage = {
            int(s): int(n)
            for s, n in session.execute(
                select(ArticleRow.story_id, func.count(func.distinct(ArticleLinkRow.source_id)))
                .join(ArticleLinkRow, ArticleLinkRow.article_id == ArticleRow.id)
                .where(ArticleRow.story_id.in_(stories))
                .group_by(ArticleRow.story_id)
            )
            if s is not None
        }
    return [
        ArticleHit(
            id=row.id, url=row.url, title=row.title, summary=row.summary,
            source_key=key, source_name=name,
            published_at=row.published_at or row.fetched_at,
            themes=tuple(themes.get(row.id, ())), score=row.score,
            coverage=max(1, coverage.get(row.story_id or -1, 1)), partial=row.partial,
        )
        for row, key, name in rows
    ]


def facets(session: Session, query: ArchiveQuery) -> Facets:
    plan = _plan(session, query)
    return _tally(session, plan, _counts(session, plan))[1]


def _keyset_batches(session: Session, stmt: Select[Any], keys: Sequence[Any],
                    batch: int) -> Iterator[Sequence[Any]]:
    """Rows of `stmt` (which selects id + `keys`, ordered by `keys` descending) in batches,
    each starting strictly after the previous one's last key: constant cost per batch."""
    last: tuple[Any, ...] | None = None
    while True:
        page = stmt
        if last is not None:
            page = page.where(tuple_(*keys) < tuple_(*last))
        rows = session.execute(page.limit(batch)).all()
        if not rows:
            return
        yield rows
        if len(rows) < batch:
            return
        last = tuple(rows[-1][1:])


def iter_matching(session: Session, query: ArchiveQuery, *, limit: int | None = None,
                  batch: int = 1000) -> Iterator[ArticleHit]:
    """Every match in the query's order (newest first, or best score first), streamed with
    keyset pagination: a 1M-row export holds one batch in memory and each batch is one
    index range, never an OFFSET."""
    plan = _plan(session, query)
    if plan.impossible or (limit is not None and limit <= 0):
        return
    when, ident, score = SEARCH.c.published_or_fetched, SEARCH.c.id, SEARCH.c.score
    if query.sort == "score":
        phases = [
            (and_(plan.narrow, score.is_not(None)), [score, when, ident]),
            (and_(plan.narrow, score.is_(None)), [when, ident]),
        ]
    else:
        phases = [(plan.narrow, [when, ident])]
    done = 0
    for cond, keys in phases:
        stmt = select(ident, *keys).where(cond).order_by(*(k.desc() for k in keys))
        size = batch if limit is None else max(1, min(batch, limit - done))
        for rows in _keyset_batches(session, stmt, keys, size):
            ids = [r[0] for r in rows]
            if limit is not None:
                ids = ids[: limit - done]
            for hit in hits(session, _rows(session, ids)):
                yield hit
                done += 1
            if limit is not None and done >= limit:
                return


def search_page(session: Session, query: ArchiveQuery, *, page: int,
                per_page: int) -> list[ArticleHit]:
    """One page of items without counting (for callers that do not show totals)."""
    plan = _plan(session, query)
    if plan.impossible:
        return []
    q = replace(query, page=page, per_page=per_page)
    ids = list(
        session.scalars(
            select(SEARCH.c.id).where(plan.narrow).order_by(*_order(session, q.sort))
            .offset(q.offset).limit(q.per_page)
        )
    )
    return hits(session, _rows(session, ids))
