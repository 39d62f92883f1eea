"""The counts of an archive search: the capped counting sample (`counts`, `listed_total`,
`count_upto`) and the plan streams choose from a count (`probe_driver`).

Apart from `veille.archive.search_plan` (the filters as SQL and the access paths, which
these read) so that each stays a module one can read through.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal_column, select, true
from sqlalchemy.orm import Session

from veille.archive import fulltext_query
from veille.archive.search_plan import Plan, driver_for, matching
from veille.db import fulltext
from veille.db.fulltext import SEARCH

# PostgreSQL counts at most this many matches of a text search (see `count_cap`).
PG_TEXT_CAP = 1_000
# SQLite, streams (feeds, exports): past this many FTS5 matches a search walks the date
# index instead of sorting its matches (`probe_driver`), as listings do past their sample.
FTS5_DENSE = 10_000


def _sample(plan: Plan, cap: int) -> Any:
    """The counting sample: source (`s`) and theme mask (`m`) of the first `cap + 1` rows
    matching period + full text."""
    source: ColumnElement[Any] = SEARCH.c.source_id
    if plan.dialect == "sqlite":
        # A bare source_id lets SQLite pick ix_articles_search_source for a GROUP BY,
        # reading every source's rows; `+ 0` leaves it the index the period or full text
        # chose (_date, _score or _facts).
        source = SEARCH.c.source_id + 0
    return (
        matching(plan, [source.label("s"), SEARCH.c.theme_mask.label("m")], narrow=False)
        .limit(cap + 1)
        .subquery()
    )


# One row of `counts`: source_id, rows sampled, listed rows passing the theme filter, listed
# rows of each theme (THEME_BITS order), listed rows without a theme.
Tally = tuple[int, int, int, tuple[int, ...], int]


def counts(session: Session, plan: Plan, cap: int) -> tuple[list[Tally], bool]:
    """Per source, over the first `cap` rows matching period + full text: what the total
    and the facets need (`Tally`), and whether more rows match (the counts are then lower
    bounds).

    Counting every match of a word found in half the archive costs a second at 1M articles;
    counting the first `cap` costs a few milliseconds, and nobody reads past « plus de
    10 000 ». The theme and story sums are taken in SQL, one row per source: grouping by
    (source, theme_mask) instead sent ~1,600 rows a request to Python at 1M articles (a
    fifth of a listing's CPU, measured under the distinct-query load)."""
    if plan.impossible:
        return [], False
    sample = _sample(plan, cap)
    mask = sample.c.m
    listed = _listed(plan, mask)

    def tally(*conds: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((and_(listed, *conds), 1), else_=0))

    stmt = select(
        sample.c.s,
        func.count(),
        tally(plan.theme_condition(mask)),
        *(tally(mask.op("&")(bit) != 0) for bit in fulltext.THEME_BITS.values()),
        tally(mask.op("&")(fulltext.ALL_THEMES) == 0),
    ).group_by(sample.c.s)
    groups = [
        (int(s), int(n), int(ok), tuple(int(t) for t in themes), int(off))
        for s, n, ok, *themes, off in session.execute(stmt)
    ]
    return groups, sum(g[1] for g in groups) > cap


def _listed(plan: Plan, mask: ColumnElement[Any]) -> ColumnElement[bool]:
    """Whether a sampled row is listed: one entry per story unless `group=none`."""
    return (mask.op("&")(fulltext.DUPLICATE_BIT) == 0) if plan.grouped else true()


def listed_total(session: Session, plan: Plan, cap: int) -> tuple[int, bool]:
    """`counts` for a caller that shows the total only (the JSON API): over the same
    first `cap + 1` rows, the rows every filter keeps, and whether more rows match.

    The same sample and the same conditions as the `Tally` sums, so the same total, but
    no grouping by source (a sort of up to 10,001 rows) and one sum instead of six: 4.8
    against 8.3 ms of SQLite for a theme × period listing at 1M articles."""
    if plan.impossible:
        return 0, False
    sample = _sample(plan, cap)
    mask = sample.c.m
    kept = [plan.theme_condition(mask), _listed(plan, mask)]
    if plan.source_ids is not None:
        kept.append(sample.c.s.in_(sorted(plan.source_ids)))
    rows, listed = session.execute(
        select(func.count(), func.sum(case((and_(*kept), 1), else_=0)))
    ).one()
    return int(listed or 0), int(rows) > cap


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
        session.scalar(select(func.count()).select_from(sample.limit(cap + 1).subquery())) or 0
    )


def fts5_more_than(session: Session, plan: Plan, cap: int) -> bool | None:
    """SQLite: whether FTS5 alone finds more than `cap` matches of the plan's words (within
    its period's id range, when it has one); None when the search has no required word.
    FTS5 reads its doclists only, without looking each match up in `articles`."""
    match = plan.fts5_match()
    if match is None:
        return None
    found = select(fulltext.FTS.c.rowid).where(match).limit(cap + 1).subquery()
    return int(session.scalar(select(func.count()).select_from(found)) or 0) > cap


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
