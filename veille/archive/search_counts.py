"""The counts of an archive search: the capped counting sample (`counts`, `listed_total`,
`count_upto`) and the plan streams choose from a count (`probe_driver`).

Apart from `veille.archive.search_plan` (the filters as SQL and the access paths, which
these read) so that each stays a module one can read through.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.orm import Session

from veille.archive import fulltext_query, search_plan
from veille.archive.search_plan import Plan, driver_for, matching
from veille.db import fulltext
from veille.db.fulltext import SEARCH
from veille.db.reads import read

# PostgreSQL counts at most this many matches of a text search (see `count_cap`).
PG_TEXT_CAP = 1_000
# SQLite, streams (feeds, exports): past this many FTS5 matches a search walks the date
# index instead of sorting its matches (`probe_driver`), as listings do past their sample.
FTS5_DENSE = 10_000


def _sample(plan: Plan, cap: int) -> Any:
    """The counting sample: source (`s`) and theme mask (`m`) of the first `cap + 1` rows
    matching period + full text (the cap a named parameter, `limit`: see
    `counts_statement`)."""
    source: ColumnElement[Any] = SEARCH.c.source_id
    if plan.dialect == "sqlite":
        # A bare source_id lets SQLite pick ix_articles_search_source for a GROUP BY,
        # reading every source's rows; `+ 0` leaves it the index the period or full text
        # chose (_date, _score or _facts).
        source = SEARCH.c.source_id + 0
    return (
        matching(plan, [source.label("s"), SEARCH.c.theme_mask.label("m")], narrow=False)
        .limit(bindparam("limit", cap + 1, type_=Integer))
        .subquery()
    )


@dataclass(frozen=True)
class Counts:
    """What the total and the facets need, over the counting sample (`counts`)."""

    sampled: int  # rows read: at most cap + 1, more than cap meaning more rows match
    # Per source: listed rows passing the theme filter (the source facet, and the total
    # for the sources the filter keeps). Sources without one are left out.
    matched: dict[int, int]
    # Listed rows of each theme (THEME_BITS order), then without a theme, among the rows
    # the source filter keeps (the theme facet).
    themes: tuple[int, ...]
    off_topic: int


def counts(session: Session, plan: Plan, cap: int) -> tuple[Counts, bool]:
    """Over the first `cap` rows matching period + full text: what the total and the
    facets need (`Counts`), and whether more rows match (the counts are then lower
    bounds).

    Counting every match of a word found in half the archive costs a second at 1M articles;
    counting the first `cap` costs a few milliseconds, and nobody reads past « plus de
    10 000 ». SQLite (`_sqlite_counts`) takes the sums in one pass over the sample, without
    grouping; PostgreSQL groups by source (its hash aggregate does not sort)."""
    if plan.impossible:
        return Counts(0, {}, (0,) * len(fulltext.THEME_BITS), 0), False
    found = (
        _sqlite_counts(session, plan, cap)
        if plan.dialect == "sqlite"
        else _grouped(session, plan, cap)
    )
    return found, found.sampled > cap


def _sums(plan: Plan, sample: Any) -> list[ColumnElement[Any]]:
    """The theme facet's sums over `sample`: listed rows the source filter keeps, of each
    theme, then without one."""
    mask = sample.c.m
    kept = _kept(plan, sample)

    def tally(cond: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((and_(*kept, cond), 1), else_=0))

    return [
        *(tally(mask.op("&")(bit) != 0) for bit in fulltext.THEME_BITS.values()),
        tally(mask.op("&")(fulltext.ALL_THEMES) == 0),
    ]


def _sqlite_counts(session: Session, plan: Plan, cap: int) -> Counts:
    """SQLite: one row for the whole sample — its size, the theme sums, and the source of
    every row the source facet counts as one string (`group_concat`), counted in Python.

    SQLite groups by sorting: grouped by source, the sample's up to 10,001 rows went
    through a sorter carrying six sums (8.0 ms of SQLite for a theme × period listing at
    1M articles, besides ~300 rows to convert); one ungrouped pass with the same sums and
    the sources as text costs 4.7 ms, `Counter` over the ids ~0.5 ms.

    The statement is built once per shape of plan (`counts_statement`), its values bound
    at each call."""
    bound = bound_counts(plan, cap)
    row = read(session, *bound).one() if bound else read(session, _built(plan, cap)).one()
    sampled, *themes, off, sources = row
    matched = Counter(sources.split(",")) if sources else Counter[str]()
    return Counts(
        int(sampled),
        {int(k): n for k, n in matched.items()},
        tuple(int(t or 0) for t in themes),
        int(off or 0),
    )


def _grouped(session: Session, plan: Plan, cap: int) -> Counts:
    """PostgreSQL: the sample grouped by source (a hash aggregate), the theme sums in each
    group, folded into `Counts`."""
    sample = _sample(plan, cap)
    facet = _source_facet(plan, sample.c.m)
    stmt = select(
        sample.c.s, func.count(), func.sum(case((facet, 1), else_=0)), *_sums(plan, sample)
    ).group_by(sample.c.s)
    sampled, matched, themes = 0, {}, [0] * (len(fulltext.THEME_BITS) + 1)
    for source, rows, ok, *sums in read(session, stmt):
        sampled += int(rows)
        if ok:
            matched[int(source)] = int(ok)
        themes = [a + int(b or 0) for a, b in zip(themes, sums, strict=True)]
    return Counts(sampled, matched, tuple(themes[:-1]), themes[-1])


def _listed(plan: Plan, mask: ColumnElement[Any]) -> ColumnElement[bool]:
    """Whether a sampled row is listed: one entry per story unless `group=none`."""
    return (mask.op("&")(fulltext.DUPLICATE_BIT) == 0) if plan.grouped else true()


def _kept(plan: Plan, sample: Any) -> list[ColumnElement[bool]]:
    """The conditions a sampled row meets to count for the theme facet: listed, and of a
    chosen source when the listing is filtered by source (the ids a named parameter,
    `sources`: see `counts_statement`)."""
    kept = [_listed(plan, sample.c.m)]
    if plan.source_ids is not None:
        ids: Any = bindparam("sources", sorted(plan.source_ids), expanding=True)
        kept.append(sample.c.s.in_(ids))
    return kept


def _source_facet(plan: Plan, mask: ColumnElement[Any]) -> ColumnElement[bool]:
    """Whether a sampled row counts for the source facet: listed, of the chosen themes
    (whatever its source: the facet offers the other sources)."""
    return and_(_listed(plan, mask), plan.theme_condition(mask))


def listed_total(session: Session, plan: Plan, cap: int) -> tuple[int, bool]:
    """`counts` for a caller that shows the total only (the JSON API): over the same
    first `cap + 1` rows, the rows every filter keeps, and whether more rows match.

    The same sample and the same conditions as the `Counts` sums, so the same total, but
    no grouping by source (a sort of up to 10,001 rows) and one sum instead of six: 4.8
    against 8.3 ms of SQLite for a theme × period listing at 1M articles."""
    if plan.impossible:
        return 0, False
    bound = bound_counts(plan, cap, total_only=True)
    found = read(session, *bound) if bound else read(session, _built(plan, cap, True))
    rows, listed = found.one()
    return int(listed or 0), int(rows) > cap


def _built(plan: Plan, cap: int, total_only: bool = False) -> Select[Any]:
    """The counting statement of `plan` with its values (`_sqlite_counts`' row, or
    `listed_total`'s two sums with `total_only`): the one builder of both, which
    `counts_statement` calls once per shape with placeholder values."""
    sample = _sample(plan, cap)
    columns: list[ColumnElement[Any]] = [func.count()]
    if total_only:
        kept = [plan.theme_condition(sample.c.m), *_kept(plan, sample)]
        columns.append(func.sum(case((and_(*kept), 1), else_=0)))
    else:
        facet = _source_facet(plan, sample.c.m)
        columns += [*_sums(plan, sample), func.group_concat(case((facet, sample.c.s)))]
    return select(*columns)


class Shape(NamedTuple):
    """What a SQLite counting statement's SQL depends on, its values apart: the statement
    is built once per shape (`counts_statement`)."""

    start: bool
    end: bool
    text: bool  # FTS5 drives the sample (a required word)
    id_range: bool
    theme_bits: int
    off_topic: bool
    sources: bool
    grouped: bool
    total_only: bool  # `listed_total`'s two sums, not `_sqlite_counts`' row


def bound_counts(
    plan: Plan, cap: int, *, total_only: bool = False
) -> tuple[Select[Any], dict[str, Any]] | None:
    """SQLite: the counting statement of `plan` built once for its shape, and this plan's
    values for it; None elsewhere, or for a search with no required word (its text
    condition is built as it comes).

    Building the statement — a dozen CASE sums over a subquery — and deriving its cache
    key cost more Python than SQLite spent counting (~3 ms against ~5 ms of SQLite for a
    theme × period listing at 1M articles); the same statement object, reused, keeps its
    cache key and compiled form, and only the values change."""
    if plan.dialect != "sqlite":
        return None
    match = fulltext_query.fts5_query(plan.text)
    if plan.has_text and match is None:
        return None
    shape = Shape(
        plan.start is not None,
        plan.end is not None,
        match is not None,
        match is not None and plan.id_range is not None,
        plan.theme_bits,
        plan.off_topic,
        plan.source_ids is not None,
        plan.grouped,
        total_only,
    )
    params: dict[str, Any] = {"limit": cap + 1, **search_plan.period_values(plan)}
    if match is not None:
        params["fts_match"] = match
    if shape.id_range and plan.id_range is not None:
        params["id_low"], params["id_high"] = plan.id_range
    if plan.source_ids is not None:
        params["sources"] = sorted(plan.source_ids)
    return counts_statement(shape), params


@lru_cache(maxsize=512)
def counts_statement(shape: Shape) -> Select[Any]:
    """The statement `_sqlite_counts` (or `listed_total`) runs for plans of `shape`: the
    one `_built` builds for a plan of that shape, whose values — the period's bounds, the
    FTS5 expression, the id range, the source ids, the cap: all named parameters — each
    call replaces with its own (`bound_counts`;
    `test_bound_counts_are_the_counts_built_from_values` compares them)."""
    plan = search_plan.shape_plan(
        start=shape.start,
        end=shape.end,
        text=shape.text,
        theme_bits=shape.theme_bits,
        sources=shape.sources,
        off_topic=shape.off_topic,
        grouped=shape.grouped,
        id_range=shape.id_range,
    )
    return _built(plan, 0, shape.total_only)


def count_cap(plan: Plan, cap: int) -> int:
    """How many rows matching period + text the counts read; see `search`."""
    if plan.dialect == "postgresql" and plan.has_text:
        # Each row read costs PostgreSQL 2-15 µs at 1M articles (its tsvector de-TOASTed
        # for a sequential scan, or a heap page for a GIN bitmap, whose own build costs
        # 0.4 µs per match: 90 ms for a word in a fifth of the archive): count less.
        return min(cap, PG_TEXT_CAP)
    return cap


def count_upto(session: Session, plan: Plan, cap: int) -> int:
    """Rows matching every filter, counted up to `cap + 1`."""
    if plan.impossible:
        return 0
    sample = matching(plan, [literal_column("1").label("one")], narrow=True)
    return int(
        read(session, select(func.count()).select_from(sample.limit(cap + 1).subquery())).scalar()
        or 0
    )


def fts5_more_than(session: Session, plan: Plan, cap: int) -> bool | None:
    """SQLite: whether FTS5 alone finds more than `cap` matches of the plan's words (within
    its period's id range, when it has one); None when the search has no required word.
    FTS5 reads its doclists only, without looking each match up in `articles`."""
    match = plan.fts5_match()
    if match is None:
        return None
    found = select(fulltext.FTS.c.rowid).where(match).limit(cap + 1).subquery()
    return int(read(session, select(func.count()).select_from(found)).scalar() or 0) > cap


def probe_driver(session: Session, plan: Plan, cap: int) -> str:
    """`driver_for` for callers that do not count (feeds, exports).

    SQLite: FTS5's own count up to FTS5_DENSE, the line listings draw with their
    10,000-row sample — fewer matches are read through FTS5 and sorted, more are walked
    in date order (`sqlite_walk`). Its count may exceed the period's (the id range holds
    the period's ids and some others): a choice of plan, never of rows. With PROBE_CAP's
    1,000 instead, a place name found 1,000–10,000 times in 1M articles walked thousands
    of date-index rows in batches for a feed of 20 (60–90 ms a search feed, the probe's
    join of 1,001 rows included). Elsewhere: one capped count, `cap` rows."""
    if not plan.has_text:
        return fulltext_query.BY_INDEX
    if plan.dialect == "sqlite":
        dense = fts5_more_than(session, plan, FTS5_DENSE)
        if dense is not None:
            return driver_for(session, plan, base_capped=dense)
    base = replace(
        plan, theme_bits=fulltext.ALL_THEMES, off_topic=True, source_ids=None, grouped=False
    )
    cap = count_cap(plan, cap)
    return driver_for(session, plan, base_capped=count_upto(session, base, cap) > cap)


def sqlite_sparse_page(session: Session, plan: Plan, limit: int) -> list[int] | None:
    """SQLite, a search with a required word (`Plan.fts5_match`): a stream's first `limit`
    ids newest first when FTS5 finds at most FTS5_DENSE matches — the page `probe_driver`'s
    BY_INDEX gives — and the probe's count, in one statement; None when more match (the
    caller then walks the date index, as `driver_for` with `base_capped` chooses).

    The probe and the page query each evaluated the same MATCH (a search feed at 1M
    articles: ~5 ms of FTS5 each); here the matches are read once into a CTE that both the
    count and the page read (used twice, SQLite materialises it). Materialising costs a
    dense word ~4–5 ms more than the probe's bare count (measured at 1M articles): a search
    feed is a query one subscribes to, most often a name found a few hundred times. Same
    rows, same order as the stream: `test_sparse_feed_page_is_the_probed_page`."""
    match = plan.fts5_match()
    assert plan.dialect == "sqlite" and match is not None
    found = (
        select(fulltext.FTS.c.rowid.label("id"))
        .where(match)
        .limit(bindparam("probe_limit", FTS5_DENSE + 1, type_=Integer))
        .cte("fts_hits")
    )
    # Past FTS5_DENSE matches the page is not read (an empty list, not 10,001 lookups).
    count = select(func.count()).select_from(found).scalar_subquery()
    listed = select(found.c.id).where(count <= FTS5_DENSE)
    when, ident = SEARCH.c.published_or_fetched, SEARCH.c.id
    page = (
        select(ident.label("id"), when.label("at"))
        .where(ident.in_(listed), *plan.filters(narrow=True))
        .order_by(when.desc(), ident.desc())
        .limit(bindparam("page_limit", limit, type_=Integer))
        .subquery()
    )
    total = select(func.count().label("n")).select_from(found).subquery()
    stmt = (
        select(total.c.n, page.c.id)
        .select_from(total.outerjoin(page, true()))
        .order_by(page.c.at.desc(), page.c.id.desc())
    )
    rows = read(session, stmt).all()
    if int(rows[0][0]) > FTS5_DENSE:
        return None
    return [int(i) for _, i in rows if i is not None]
