"""SQLite page queries of listings without words (a theme, source or period listing, the
JSON API), built once per shape of plan: `search._page_ids` runs `bound_page`'s statement
with the plan's own values.

Apart from `veille.archive.search_plan` (the filters as SQL and the access paths it builds
from) as `search_counts.counts_statement` is for the counts: building the page query and
deriving its cache key cost ~0.45 ms of CPU a listing at 1M articles, against ~0.17 ms to
run it (benchmarks/README.md, round 26).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Integer, Select, bindparam, select

from veille.archive import fulltext_query
from veille.archive.search_plan import Plan, order, period_values, shape_plan
from veille.db.fulltext import SEARCH


class PageShape(NamedTuple):
    """What a SQLite page query without words depends on, its values apart (`page_statement`)."""

    start: bool
    end: bool
    theme_bits: int
    off_topic: bool
    sources: bool
    grouped: bool
    sort: str


@lru_cache(maxsize=256)
def page_statement(shape: PageShape) -> Select[Any]:
    """The page query of a SQLite plan without words (a theme, source or period listing,
    the JSON API) of `shape`: the one `search._page_ids` builds from a plan's values, built
    once, its values — the period's bounds, the source ids, the offset and the page's size —
    bound at each call (`bound_page`)."""
    plan = shape_plan(
        start=shape.start,
        end=shape.end,
        text=False,
        theme_bits=shape.theme_bits,
        sources=shape.sources,
        off_topic=shape.off_topic,
        grouped=shape.grouped,
    )
    return (
        select(SEARCH.c.id)
        .where(plan.where(narrow=True))
        .order_by(*order(plan, shape.sort, fulltext_query.BY_INDEX))
        .offset(bindparam("page_offset", type_=Integer))
        .limit(bindparam("page_limit", type_=Integer))
    )


def bound_page(
    plan: Plan, sort: str, offset: int, limit: int
) -> tuple[Select[Any], dict[str, Any]] | None:
    """SQLite, a plan without words: its page query built once for its shape
    (`page_statement`) and this plan's values for it; None otherwise (words choose their
    own access path; PostgreSQL's planner settings go with each statement)."""
    if plan.dialect != "sqlite" or plan.has_text:
        return None
    shape = PageShape(
        plan.start is not None,
        plan.end is not None,
        plan.theme_bits,
        plan.off_topic,
        plan.source_ids is not None,
        plan.grouped,
        sort,
    )
    params: dict[str, Any] = {"page_offset": offset, "page_limit": limit, **period_values(plan)}
    if plan.source_ids is not None:
        params["source_ids"] = sorted(plan.source_ids)
    return page_statement(shape), params
