"""Archive search: filters, full text, facets, pagination, streaming.

Semantics:
- several themes: OR (an article carrying any chosen theme); several sources: OR; the
  different filters combine with AND;
- period: on the publication date, or the fetch date when the source gave none
  (`articles.published_or_fetched`); `from`/`to` are whole days in Europe/Paris;
- full text: see `veille.archive.fulltext_query` (all words, "phrases", -exclusions);
- facet counts: each computed with its own filter left out, the others applied.

Speed: the total and both facets come from ONE query over a sample of the rows matching
period + full text, with the theme and story conditions summed in SQL and the source
facet's rows counted per source (`search_counts.Counts`); the source filter is then
applied in Python to those counts, so no join and no per-row subquery (themes are bits on
the article, kept by triggers).

Bounded counting: the sample stops at COUNT_CAP rows (PG_TEXT_CAP for a text search on
PostgreSQL). A word found in half of a 1M-article archive matches 550,000 rows; counting
them cost 0.3-2.5 s, counting the first 10,000 a few milliseconds. Beyond the cap pages say
« plus de 10 000 » (no theme or source filter) or « au moins N » (the sample's share with
the filters), facet counts are minimums, and the listing still goes on page after page. The
page query then walks the date (or score) index, testing each row, instead of sorting every
match: dense matches fill a page after a few dozen rows (`veille.archive.search_plan`:
`driver_for`, `access`, `sqlite_walk`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from itertools import islice
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    func,
    select,
)
from sqlalchemy.orm import Session

from veille.archive import page_query, search_counts, search_plan, source_table
from veille.archive.query import ArchiveQuery
from veille.db import stories as story_db
from veille.db.fulltext import SEARCH, THEME_BITS
from veille.db.reads import read
from veille.db.stories import Other
from veille.db.tables import ArticleLinkRow, ArticleRow, ArticleThemeRow, SourceRow

# Counts stop here: beyond, pages say « plus de 10 000 » and facets are lower bounds.
COUNT_CAP = 10_000
# SQLite walks the date index this many rows at a time for a common word (`sqlite_walk`).
WALK_BATCH = 500
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
    story_id: int | None = None
    # The story's other articles (« aussi couvert par »), oldest first.
    also: tuple[Other, ...] = ()

    @property
    def also_sources(self) -> int:
        """How many other sources carry the story (« aussi couvert par N sources »)."""
        return len({o.source_key for o in self.also if o.source_key != self.source_key})


@dataclass(frozen=True)
class Facets:
    themes: dict[str, int]
    sources: list[tuple[str, str, int]]  # key, name, count — most articles first
    # False: the counts were taken over the first COUNT_CAP matches only, so each is a lower
    # bound (pages say so); True: exact.
    exact: bool = True
    off_topic: int = 0  # articles (stories) no theme claims: « Hors thèmes (N) »


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
    # The order the page is really in: `pertinence` falls back to `date` when there are
    # too many matches to rank (`search_plan.relevance_ids`).
    sort: str = "date"

    @property
    def pages(self) -> int:
        """Number of pages (a lower bound when the total is)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self) -> bool:
        # Past an inexact total, a listed page means the next one exists (`search` read
        # one row more to know).
        return self.page < self.pages if self.total_exact else bool(self.items)


def _tally(
    session: Session, plan: search_plan.Plan, found: search_counts.Counts
) -> tuple[int, Facets]:
    """Total for all filters, and each facet with its own filter left out."""
    total = sum(
        n for i, n in found.matched.items() if plan.source_ids is None or i in plan.source_ids
    )
    names = source_table.names(session, found.matched) if found.matched else {}
    sources = sorted(
        ((names[i][0], names[i][1], c) for i, c in found.matched.items() if i in names),
        key=lambda item: (-item[2], item[0]),
    )
    themes = dict(zip(THEME_BITS, found.themes, strict=True))
    return total, Facets(
        themes={t: n for t, n in themes.items() if n}, sources=sources, off_topic=found.off_topic
    )


# What a card shows of an article (`hits`): not its text nor its HTML, the widest columns.
_CARD = (
    ArticleRow.id,
    ArticleRow.url,
    ArticleRow.title,
    ArticleRow.summary,
    ArticleRow.published_at,
    ArticleRow.fetched_at,
    ArticleRow.score,
    ArticleRow.partial,
    ArticleRow.story_id,
)


# `_rows` and `hits`' statements, built once (their values bound): building them anew
# cost more Python than SQLite spent answering them, a page of 20 cards at a time.
_CARDS = (
    select(*_CARD, SourceRow.key.label("source_key"), SourceRow.name.label("source_name"))
    .join(SourceRow, SourceRow.id == ArticleRow.source_id)
    .where(ArticleRow.id.in_(bindparam("ids", expanding=True)))
)
_THEMES = (
    select(ArticleThemeRow.article_id, ArticleThemeRow.theme)
    .where(ArticleThemeRow.article_id.in_(bindparam("ids", expanding=True)))
    .order_by(ArticleThemeRow.theme)
)
# The distinct sources carrying each story of a page (`hits`' coverage), built once too.
_COVERAGE = (
    select(ArticleRow.story_id, func.count(func.distinct(ArticleLinkRow.source_id)))
    .join(ArticleLinkRow, ArticleLinkRow.article_id == ArticleRow.id)
    .where(ArticleRow.story_id.in_(bindparam("stories", expanding=True)))
    .group_by(ArticleRow.story_id)
)


def _rows(session: Session, ids: Sequence[int]) -> list[Any]:
    """`(card columns, source key, source name)` for `ids`, in that order: the columns
    `hits` reads, as plain rows — loading whole ORM objects read each article's text and
    HTML for a card that shows neither."""
    if not ids:
        return []
    found = {
        row.id: (row, row.source_key, row.source_name)
        for row in read(session, _CARDS, {"ids": list(ids)})
    }
    return [found[i] for i in ids if i in found]


def _page_ids(
    session: Session,
    plan: search_plan.Plan,
    query: ArchiveQuery,
    driver: str,
    *,
    extra: int = 0,
    ranked: bool = False,
    matches: int | None = None,
) -> list[int]:
    if ranked:
        return search_plan.relevance_ids(
            session, plan, query.offset, query.per_page + extra, matches
        )
    if search_plan.walks_fts5(plan, query.sort, driver):
        need = query.offset + query.per_page + extra
        walk = search_plan.sqlite_walk(session, plan, max(WALK_BATCH, 2 * need))
        return list(islice(walk, query.offset, need))
    bound = page_query.bound_page(plan, query.sort, query.offset, query.per_page + extra)
    if bound is not None:
        return list(read(session, *bound).scalars())
    stmt = (
        select(SEARCH.c.id)
        .where(plan.where(narrow=True, driver=driver))
        .order_by(*search_plan.order(plan, query.sort, driver))
        .offset(query.offset)
        .limit(query.per_page + extra)
    )
    with search_plan.access(session, plan, driver):
        return list(read(session, stmt).scalars())


def search(
    session: Session, query: ArchiveQuery, *, cap: int | None = None, with_facets: bool = True
) -> SearchResult:
    """One page of matches, the total and the facets; counts stop at `cap` (COUNT_CAP by
    default; see `SearchResult.total_exact` and `Facets.exact`). `with_facets=False` (the JSON
    API, which shows none): empty facets and the same total, counted without them
    (`search_counts.listed_total`).

    All counts come from one sample: the first `cap + 1` rows matching period + full text
    (fewer on PostgreSQL for a text search, see `search_counts.count_cap`), in whatever order
    is cheapest. Whatever the size of the match set, a request reads at most that many rows for its
    counts. Beyond, the facets are lower bounds, and so is the total with a theme or source
    filter (the sample's share of it: « au moins »); without one, « plus de » the cap.
    Measured at 1M articles: reading 30,000 rows instead of 10,000 to push filtered totals
    past the cap cost 70-300 ms more on SQLite.
    """
    cap = COUNT_CAP if cap is None else cap
    plan = search_plan.plan_of(session, query)
    cap = search_counts.count_cap(plan, cap)
    if with_facets:
        found, base_capped = search_counts.counts(session, plan, cap)
        total, facet_counts = _tally(session, plan, found)
    else:
        total, base_capped = search_counts.listed_total(session, plan, cap)
        facet_counts = Facets(themes={}, sources=[])
    exact, over_cap = not base_capped, False
    if base_capped:
        facet_counts = replace(facet_counts, exact=False)
        over_cap = total > cap
        total = min(total, cap)
    ids: list[int] = []
    ranked = query.sort == "pertinence" and search_plan.ranks(plan) and not base_capped
    sort = query.sort if query.sort != "pertinence" or ranked else "date"
    if not exact or query.offset < total:
        driver = search_plan.driver_for(session, plan, base_capped=base_capped)
        # Without an exact total, one more row says whether a next page exists.
        ids = _page_ids(
            session,
            plan,
            replace(query, sort=sort),
            driver,
            extra=0 if exact else 1,
            ranked=ranked,
            matches=total,  # exact when ranked: the rows the ranking orders
        )
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
        sort=sort,
    )


def hits(session: Session, rows: Any) -> list[ArticleHit]:
    """Cards for `(card columns, source key, source name)` rows (`_rows`), in the given
    order."""
    rows = list(rows)
    article_ids = [row.id for row, _, _ in rows]
    themes: dict[int, list[str]] = {}
    if article_ids:
        for article_id, theme in read(session, _THEMES, {"ids": article_ids}):
            themes.setdefault(article_id, []).append(theme)
    stories = sorted({row.story_id for row, _, _ in rows if row.story_id is not None})
    coverage: dict[int, int] = {}
    if stories:
        coverage = {
            int(s): int(n)
            for s, n in read(session, _COVERAGE, {"stories": stories})
            if s is not None
        }
    members = story_db.others(session, stories)
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
            story_id=row.story_id,
            also=tuple(o for o in members.get(row.story_id or -1, ()) if o.id != row.id),
        )
        for row, key, name in rows
    ]


def facets(session: Session, query: ArchiveQuery, *, cap: int | None = None) -> Facets:
    plan = search_plan.plan_of(session, query)
    found, capped = search_counts.counts(
        session, plan, search_counts.count_cap(plan, COUNT_CAP if cap is None else cap)
    )
    tallied = _tally(session, plan, found)[1]
    return replace(tallied, exact=False) if capped else tallied


def iter_matching(
    session: Session, query: ArchiveQuery, *, limit: int | None = None, batch: int = 1000
) -> Iterator[ArticleHit]:
    """Every match in the query's order (newest first, or best score first), streamed with
    keyset pagination: a 1M-row export holds one batch in memory and each batch is one
    index range, never an OFFSET. Relevance has no keyset: a stream (feed, export) is
    newest first."""
    if query.sort == "pertinence":
        query = replace(query, sort="date")
    plan = search_plan.plan_of(session, query)
    if plan.impossible or (limit is not None and limit <= 0):
        return
    probes_fts5 = plan.dialect == "sqlite" and plan.fts5_match() is not None
    if probes_fts5 and query.sort == "date" and limit is not None and limit <= batch:
        # A feed: its probe and its one page in one statement (`sqlite_sparse_page`).
        first = search_counts.sqlite_sparse_page(session, plan, limit)
        if first is not None:
            yield from hits(session, _rows(session, first))
            return
        driver = search_plan.driver_for(session, plan, base_capped=True)
    else:
        driver = search_counts.probe_driver(session, plan, PROBE_CAP)
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
    if search_plan.walks_fts5(plan, query.sort, driver):
        walk = search_plan.sqlite_walk(
            session, plan, batch if limit is None else max(WALK_BATCH, limit)
        )
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
        settings = partial(search_plan.access, session, plan, driver)
        for rows in search_plan.keyset_batches(session, stmt, keys, size, settings):
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
    plan = search_plan.plan_of(session, query)
    if plan.impossible:
        return []
    q = replace(query, page=page, per_page=per_page)
    if q.sort == "pertinence":
        q = replace(q, sort="date")
    driver = search_counts.probe_driver(session, plan, PROBE_CAP)
    return hits(session, _rows(session, _page_ids(session, plan, q, driver)))
