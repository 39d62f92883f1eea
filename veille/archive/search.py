"""Archive search: filters, full text, facets, pagination, streaming.

Semantics:
- several themes: OR (an article carrying any chosen theme); several sources: OR; the
  different filters combine with AND;
- period: on the publication date, or the fetch date when the source gave none
  (`articles.published_or_fetched`); `from`/`to` are whole days in Europe/Paris;
- full text: see `veille.archive.fulltext_query` (all words, "phrases", -exclusions);
- facet counts: each computed with its own filter left out, the others applied.

Speed: the total and both facets come from ONE grouped query, `(source_id, theme_mask) →
count` over a sample of the rows matching period + full text (at most sources × 8
groups); the theme and source filters are then applied in Python to those groups, so no
join and no per-row subquery (themes are bits on the article, kept by triggers).

Bounded counting: the sample stops at COUNT_CAP rows (PG_TEXT_CAP for a text search on
PostgreSQL). A word found in half of a 1M-article archive matches 550,000 rows; counting
them cost 0.3-2.5 s, counting the first 10,000 a few milliseconds. Beyond the cap pages say
« plus de 10 000 » (no theme or source filter) or « au moins N » (the sample's share with
the filters), facet counts are minimums, and the listing still goes on page after page. The
page query then walks the date (or score) index, testing each row, instead of sorting every
match: dense matches fill a page after a few dozen rows (`_driver`, `_access`,
`_sqlite_walk`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from itertools import islice
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    func,
    literal_column,
    select,
    text,
    true,
    tuple_,
)
from sqlalchemy.orm import Session

from veille.archive import fulltext_query
from veille.archive.query import ArchiveQuery
from veille.db import fulltext
from veille.db.fulltext import SEARCH, THEME_BITS
from veille.db.tables import ArticleLinkRow, ArticleRow, ArticleThemeRow, SourceRow
from veille.frenchformat import day_start

# Counts stop here: beyond, pages say « plus de 10 000 » and facets are lower bounds.
COUNT_CAP = 10_000
# SQLite walks the date index this many rows at a time for a common word (`_sqlite_walk`).
WALK_BATCH = 500
# PostgreSQL counts at most this many matches of a text search (see `_cap`), and goes
# through GIN for the page when it estimates fewer than PG_SCAN_ROWS (see `_driver`).
PG_TEXT_CAP = 1_000
PG_SCAN_ROWS = 20_000
# Feeds and exports, which show no count, only probe this far to choose their query plan.
PROBE_CAP = 1_000


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
    # False: the counts were taken over the first COUNT_CAP matches only, so each is a lower
    # bound (pages say so); True: exact.
    exact: bool = True


@dataclass(frozen=True)
class SearchResult:
    items: list[ArticleHit]
    # Exact, or when `total_exact` is False a lower bound: more than `total` match when
    # `over_cap`, at least `total` otherwise.
    total: int
    page: int
    per_page: int
    facets: Facets
    total_exact: bool = True
    over_cap: bool = False

    @property
    def pages(self) -> int:
        """Number of pages (a lower bound when the total is)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        # Past an inexact total, a listed page means the next one exists (`search` read
        # one row more to know).
        return self.page < self.pages if self.total_exact else bool(self.items)


@dataclass(frozen=True)
class _Plan:
    """A query turned into SQL pieces: the period and text shared by the counts, the
    theme and source filters added for the listed page."""

    period: tuple[ColumnElement[bool], ...]
    text: fulltext_query.TextQuery
    dialect: str
    theme_bits: int  # 0: no theme filter
    source_ids: frozenset[int] | None  # None: no source filter
    impossible: bool  # nothing can match (unknown sources, only stop words)

    @property
    def has_text(self) -> bool:
        return not self.text.empty

    @property
    def filtered(self) -> bool:
        """Whether theme or source filters narrow the base (period + text)."""
        return bool(self.theme_bits) or self.source_ids is not None

    def filters(self, *, narrow: bool) -> list[ColumnElement[bool]]:
        conds = list(self.period)
        if narrow and self.theme_bits:
            conds.append(SEARCH.c.theme_mask.op("&")(self.theme_bits) != 0)
        if narrow and self.source_ids is not None:
            conds.append(SEARCH.c.source_id.in_(sorted(self.source_ids)))
        return conds

    def where(self, *, narrow: bool, driver: str = fulltext_query.BY_INDEX) -> ColumnElement[bool]:
        conds = self.filters(narrow=narrow)
        if self.has_text:
            conds.append(fulltext_query.text_condition(self.dialect, self.text, driver=driver))
        return and_(true(), *conds)


def _plan(session: Session, query: ArchiveQuery) -> _Plan:
    dialect = session.get_bind().dialect.name
    period: list[ColumnElement[bool]] = []
    when = SEARCH.c.published_or_fetched
    if query.date_from:
        period.append(when >= day_start(query.date_from))
    if query.date_to:
        period.append(when < day_start(query.date_to + timedelta(days=1)))
    tq = fulltext_query.parse_text(query.q)
    impossible = bool(query.q.strip()) and tq.empty  # only stop words or punctuation
    source_ids: frozenset[int] | None = None
    if query.sources:
        source_ids = frozenset(
            session.scalars(select(SourceRow.id).where(SourceRow.key.in_(query.sources)))
        )
        impossible = impossible or not source_ids
    theme_bits = fulltext.theme_mask(query.themes)
    if query.themes and not theme_bits:
        impossible = True
    return _Plan(tuple(period), tq, dialect, theme_bits, source_ids, impossible)


def _matching(plan: _Plan, columns: Sequence[ColumnElement[Any]], *, narrow: bool) -> Select[Any]:
    """`columns` of the rows matching the plan, in whatever order is cheapest to produce,
    for counts with a LIMIT: on SQLite, FTS5 drives a join (its matches stream out, each
    looked up in the id-led covering index); elsewhere, the database's own choice."""
    match = fulltext_query.fts5_match(plan.text) if plan.dialect == "sqlite" else None
    if match is None:
        return (
            select(*columns)
            .select_from(SEARCH)
            .where(plan.where(narrow=narrow, driver=fulltext_query.BY_PLANNER))
        )
    return (
        select(*columns)
        .select_from(fulltext.FTS.join(SEARCH, SEARCH.c.id == fulltext.FTS.c.rowid))
        .where(match, *plan.filters(narrow=narrow))
    )


def _counts(session: Session, plan: _Plan, cap: int) -> tuple[list[tuple[int, int, int]], bool]:
    """(source_id, theme_mask, count) over the first `cap` rows matching period + full text,
    and whether more rows match (the counts are then lower bounds).

    Counting every match of a word found in half the archive costs a second at 1M articles;
    counting the first `cap` costs a few milliseconds, and nobody reads past « plus de
    10 000 »."""
    if plan.impossible:
        return [], False
    source: ColumnElement[Any] = SEARCH.c.source_id
    if plan.dialect == "sqlite":
        # A bare source_id lets SQLite pick ix_articles_source_id and read the wide rows;
        # `+ 0` leaves it a covering index (_date, _score or _facts).
        source = SEARCH.c.source_id + 0
    sample = (
        _matching(plan, [source.label("s"), SEARCH.c.theme_mask.label("m")], narrow=False)
        .limit(cap + 1)
        .subquery()
    )
    stmt = select(sample.c.s, sample.c.m, func.count()).group_by(sample.c.s, sample.c.m)
    groups = [(int(s), int(m), int(n)) for s, m, n in session.execute(stmt)]
    return groups, sum(n for _, _, n in groups) > cap


@contextmanager
def _planner_settings(session: Session, settings: Sequence[str]) -> Iterator[None]:
    """Turn planner options off for the statements run inside (`SET LOCAL`, then `RESET`)."""
    session.execute(text("; ".join(f"SET LOCAL {name} = 0" for name in settings)))
    try:
        yield
    finally:
        session.execute(text("; ".join(f"RESET {name}" for name in settings)))


@contextmanager
def _access(session: Session, plan: _Plan, driver: str) -> Iterator[None]:
    """PostgreSQL: hold the planner to the access path `driver` chose for a page query.

    Its estimates are right but its costs are not: it does not price reading and
    decompressing each row's TOASTed tsvector. Left alone it sorted a parallel sequential
    scan of the whole table for a place name found 1,154 times (2.5 s at 1M articles,
    63 ms through GIN) and for a phrase found in 17 % of the articles (3.3 s; a plain walk
    of the date index: 56 ms, a parallel walk reads 40 times more rows). BY_INDEX: GIN
    bitmap only. BY_SCAN: no bitmap (so no GIN) and no parallel workers, leaving the walk
    of the date or score index. `SET LOCAL` for the statement, then `RESET`."""
    settings: tuple[str, ...] = ()
    if plan.dialect == "postgresql" and plan.has_text:
        if driver == fulltext_query.BY_SCAN:
            settings = ("enable_seqscan", "enable_bitmapscan", "max_parallel_workers_per_gather")
        elif driver == fulltext_query.BY_INDEX and plan.text.include:
            settings = ("enable_seqscan", "enable_indexscan")
    if not settings:
        yield
        return
    with _planner_settings(session, settings):
        yield


def _cap(plan: _Plan, cap: int) -> int:
    """How many rows matching period + text the counts read; see `search`."""
    if plan.dialect == "postgresql" and plan.has_text:
        # Each row read costs PostgreSQL 2-15 µs at 1M articles (its tsvector de-TOASTed
        # for a sequential scan, or a heap page for a GIN bitmap, whose own build costs
        # 0.4 µs per match: 90 ms for a word in a fifth of the archive): count less.
        return min(cap, PG_TEXT_CAP)
    return cap


def _count_upto(session: Session, plan: _Plan, cap: int) -> int:
    """Rows matching every filter, counted up to `cap + 1`."""
    if plan.impossible:
        return 0
    sample = _matching(plan, [literal_column("1").label("one")], narrow=True)
    return int(
        session.scalar(select(func.count()).select_from(sample.limit(cap + 1).subquery())) or 0
    )


def _tally(
    session: Session, plan: _Plan, groups: Sequence[tuple[int, int, int]]
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
    names = (
        {
            i: (k, n)
            for i, k, n in session.execute(
                select(SourceRow.id, SourceRow.key, SourceRow.name).where(
                    SourceRow.id.in_(sorted(by_source))
                )
            )
        }
        if by_source
        else {}
    )
    sources = sorted(
        ((names[i][0], names[i][1], c) for i, c in by_source.items() if c and i in names),
        key=lambda item: (-item[2], item[0]),
    )
    return total, Facets(themes={t: n for t, n in themes.items() if n}, sources=sources)


def _driver(session: Session, plan: _Plan, *, base_capped: bool) -> str:
    """How the page query meets the full-text condition, from what the counts found.

    Few text matches (period included): from the full-text index, then sorted. More than
    the cap: dense enough that walking the date (or score) index and testing each row
    fills a page after a few dozen rows, since a theme keeps at least a sixth of them. A
    source filter may keep far fewer: the database's planner weighs its index then.
    PostgreSQL counts only PG_TEXT_CAP matches, so between that and a dense word its own
    estimate (a planning, no execution) decides."""
    if not base_capped:
        return fulltext_query.BY_INDEX
    if plan.source_ids is not None:
        return fulltext_query.BY_PLANNER
    dense = (
        plan.dialect != "postgresql"
        or not plan.text.include
        or _pg_estimate(session, plan) >= PG_SCAN_ROWS
    )
    return fulltext_query.BY_SCAN if dense else fulltext_query.BY_INDEX


def _pg_estimate(session: Session, plan: _Plan) -> float:
    """PostgreSQL's estimate of the rows matching period + the least frequent required word
    (its tsvector statistics know the frequent words, the ones that matter here)."""
    estimates = []
    for word in fulltext_query.pg_word_conditions(plan.text):
        where = and_(true(), *plan.filters(narrow=False), word)
        stmt: Select[Any] = select(literal_column("1")).select_from(SEARCH).where(where)
        compiled = stmt.compile(bind=session.get_bind())
        found = (
            session.connection()
            .exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params)
            .scalar_one()
        )
        estimates.append(float(found[0]["Plan"]["Plan Rows"]))
    return min(estimates, default=0.0)


def _probe_driver(session: Session, plan: _Plan, cap: int) -> str:
    """`_driver` for callers that do not count (feeds, exports): one capped count."""
    if not plan.has_text:
        return fulltext_query.BY_INDEX
    base = replace(plan, theme_bits=0, source_ids=None)
    cap = _cap(plan, cap)
    return _driver(session, plan, base_capped=_count_upto(session, base, cap) > cap)


def _order(plan: _Plan, sort: str, driver: str) -> list[Any]:
    when: ColumnElement[Any] = SEARCH.c.published_or_fetched
    score: ColumnElement[Any] = SEARCH.c.score
    ident = SEARCH.c.id
    postgres = plan.dialect == "postgresql"
    if postgres and plan.has_text and driver == fulltext_query.BY_INDEX:
        # Few matches, but PostgreSQL may underestimate them and walk the date index testing
        # every row's tsvector (280 ms for a 256-match word at 1M articles). Ordering on an
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


def _sqlite_walk(session: Session, plan: _Plan, batch: int) -> Iterator[int]:
    """SQLite, BY_SCAN, newest first: matching ids, from the date index in batches, each
    batch checked against FTS5 over its id range only.

    The alternatives cost more for a word in half the archive: `IN (list)` builds the
    whole match list first (250-300 ms at 1M articles), a correlated FTS5 probe per row
    costs 20-700 µs (0.6 s and 3 s for page 20). Ids follow collection order, so a batch
    of recent rows spans a narrow id range; were they scattered, each batch would read
    the doclists whole, no worse than `IN`."""
    when, ident = SEARCH.c.published_or_fetched, SEARCH.c.id
    stmt = (
        select(ident, when, ident)  # id, then the keyset keys
        .where(and_(true(), *plan.filters(narrow=True)))
        .order_by(when.desc(), ident.desc())
    )
    for rows in _keyset_batches(session, stmt, [when, ident], batch):
        ids = [int(r[0]) for r in rows]
        found, keep = fulltext_query.fts5_rowids_between(session, plan.text, min(ids), max(ids))
        yield from (i for i in ids if (i in found) == keep)


def _walks_fts5(plan: _Plan, sort: str, driver: str) -> bool:
    return (
        plan.dialect == "sqlite"
        and plan.has_text
        and driver == fulltext_query.BY_SCAN
        and sort == "date"
    )


def _page_ids(
    session: Session, plan: _Plan, query: ArchiveQuery, driver: str, *, extra: int = 0
) -> list[int]:
    if _walks_fts5(plan, query.sort, driver):
        need = query.offset + query.per_page + extra
        walk = _sqlite_walk(session, plan, max(WALK_BATCH, 2 * need))
        return list(islice(walk, query.offset, need))
    stmt = (
        select(SEARCH.c.id)
        .where(plan.where(narrow=True, driver=driver))
        .order_by(*_order(plan, query.sort, driver))
        .offset(query.offset)
        .limit(query.per_page + extra)
    )
    with _access(session, plan, driver):
        return list(session.scalars(stmt))


def search(session: Session, query: ArchiveQuery, *, cap: int | None = None) -> SearchResult:
    """One page of matches, the total and the facets; counts stop at `cap` (COUNT_CAP by
    default; see `SearchResult.total_exact` and `Facets.exact`).

    All counts come from one sample: the first `cap + 1` rows matching period + full text
    (fewer on PostgreSQL for a text search, see `_cap`), in whatever order is cheapest.
    Whatever the size of the match set, a request reads at most that many rows for its
    counts. Beyond, the facets are lower bounds, and so is the total with a theme or source
    filter (the sample's share of it: « au moins »); without one, « plus de » the cap.
    Measured at 1M articles: reading 30,000 rows instead of 10,000 to push filtered totals
    past the cap cost 70-300 ms more on SQLite.
    """
    cap = COUNT_CAP if cap is None else cap
    plan = _plan(session, query)
    cap = _cap(plan, cap)
    groups, base_capped = _counts(session, plan, cap)
    total, facet_counts = _tally(session, plan, groups)
    exact, over_cap = not base_capped, False
    if base_capped:
        facet_counts = replace(facet_counts, exact=False)
        over_cap = total > cap
        total = min(total, cap)
    ids: list[int] = []
    if not exact or query.offset < total:
        driver = _driver(session, plan, base_capped=base_capped)
        # Without an exact total, one more row says whether a next page exists.
        ids = _page_ids(session, plan, query, driver, extra=0 if exact else 1)
    if not exact and ids:
        # The page itself may tell more than the sample: more than this far when the
        # extra row came, exactly this far when it did not.
        if len(ids) > query.per_page:
            ids = ids[: query.per_page]
            if query.offset + len(ids) >= total:
                total, over_cap = query.offset + len(ids), True
        else:
            total, exact, over_cap = query.offset + len(ids), True, False
    elif not exact and query.offset == 0:
        total, exact = 0, True  # the first page is empty: nothing matches
    return SearchResult(
        items=hits(session, _rows(session, ids)),
        total=total,
        page=query.page,
        per_page=query.per_page,
        facets=facet_counts,
        total_exact=exact,
        over_cap=over_cap,
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
            id=row.id,
            url=row.url,
            title=row.title,
            summary=row.summary,
            source_key=key,
            source_name=name,
            published_at=row.published_at or row.fetched_at,
            themes=tuple(themes.get(row.id, ())),
            score=row.score,
            coverage=max(1, coverage.get(row.story_id or -1, 1)),
            partial=row.partial,
        )
        for row, key, name in rows
    ]


def facets(session: Session, query: ArchiveQuery, *, cap: int | None = None) -> Facets:
    plan = _plan(session, query)
    groups, capped = _counts(session, plan, _cap(plan, COUNT_CAP if cap is None else cap))
    found = _tally(session, plan, groups)[1]
    return replace(found, exact=False) if capped else found


def _keyset_batches(
    session: Session,
    stmt: Select[Any],
    keys: Sequence[Any],
    batch: int,
    settings: Callable[[], AbstractContextManager[None]] = nullcontext,
) -> Iterator[Sequence[Any]]:
    """Rows of `stmt` (which selects id + `keys`, ordered by `keys` descending) in batches,
    each starting strictly after the previous one's last key: constant cost per batch."""
    last: tuple[Any, ...] | None = None
    while True:
        page = stmt
        if last is not None:
            page = page.where(tuple_(*keys) < tuple_(*last))
        with settings():
            rows = session.execute(page.limit(batch)).all()
        if not rows:
            return
        yield rows
        if len(rows) < batch:
            return
        last = tuple(rows[-1][1:])


def iter_matching(
    session: Session, query: ArchiveQuery, *, limit: int | None = None, batch: int = 1000
) -> Iterator[ArticleHit]:
    """Every match in the query's order (newest first, or best score first), streamed with
    keyset pagination: a 1M-row export holds one batch in memory and each batch is one
    index range, never an OFFSET."""
    plan = _plan(session, query)
    if plan.impossible or (limit is not None and limit <= 0):
        return
    driver = _probe_driver(session, plan, PROBE_CAP)
    where = plan.where(narrow=True, driver=driver)
    when, ident, score = SEARCH.c.published_or_fetched, SEARCH.c.id, SEARCH.c.score
    if query.sort == "score":
        phases = [
            (and_(where, score.is_not(None)), [score, when, ident]),
            (and_(where, score.is_(None)), [when, ident]),
        ]
    else:
        phases = [(where, [when, ident])]
    done = 0
    if _walks_fts5(plan, query.sort, driver):
        walk = _sqlite_walk(session, plan, batch if limit is None else max(WALK_BATCH, limit))
        while chunk := list(islice(walk, batch if limit is None else limit - done)):
            for hit in hits(session, _rows(session, chunk)):
                yield hit
                done += 1
            if limit is not None and done >= limit:
                return
        return
    for cond, keys in phases:
        stmt = select(ident, *keys).where(cond).order_by(*(k.desc() for k in keys))
        size = batch if limit is None else max(1, min(batch, limit - done))
        settings = partial(_access, session, plan, driver)
        for rows in _keyset_batches(session, stmt, keys, size, settings):
            ids = [r[0] for r in rows]
            if limit is not None:
                ids = ids[: limit - done]
            for hit in hits(session, _rows(session, ids)):
                yield hit
                done += 1
            if limit is not None and done >= limit:
                return


def search_page(
    session: Session, query: ArchiveQuery, *, page: int, per_page: int
) -> list[ArticleHit]:
    """One page of items without counting (for callers that do not show totals)."""
    plan = _plan(session, query)
    if plan.impossible:
        return []
    q = replace(query, page=page, per_page=per_page)
    return hits(
        session,
        _rows(session, _page_ids(session, plan, q, _probe_driver(session, plan, PROBE_CAP))),
    )
