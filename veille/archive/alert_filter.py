"""An archive filter kept as a member's alert: its canonical query string, the name it is
offered under, and the articles that are new for it.

The archive's own parser (`veille.archive.query`) reads and writes the filter, so an alert
means exactly what the archive page and its Atom feed mean. An alert keeps the themes
(`none` included), the sources and the words; not the period (an alert is about what is
new), the sort or the page. It lists one entry per story, with the archive's on-topic rule
(no theme asked: on-topic articles only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from urllib.parse import parse_qs, urlencode

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from veille.archive import fulltext_query, search_plan
from veille.archive.query import NO_THEME, ArchiveQuery, QueryError, parse_query, to_params
from veille.archive.search import ArticleHit, _rows, hits
from veille.db.fulltext import SEARCH

MAX_FILTER_CHARS = 2000  # the column's size; a real filter is a few dozen characters


def alert_query(query: ArchiveQuery) -> ArchiveQuery:
    """What an alert keeps of a search, on the archive's defaults for the rest (the sort
    too: an alert mails what is new, and its stored filter must not name an order)."""
    kept = ArchiveQuery(themes=query.themes, sources=query.sources, q=query.q)
    return replace(kept, sort=kept.default_sort)


def canonical(query: ArchiveQuery) -> str:
    """The alert's filter as a query string: the same filter always gives the same text,
    so an alert asked twice is recognised."""
    return urlencode(to_params(alert_query(query)))


def parse_filter(filter_qs: str, *, today: date) -> ArchiveQuery:
    """A stored or submitted filter back to a query (QueryError when it is not one)."""
    if len(filter_qs) > MAX_FILTER_CHARS:
        raise QueryError("Ce filtre est trop long pour une alerte.")
    return alert_query(parse_query(parse_qs(filter_qs), today=today))


def default_name(
    query: ArchiveQuery, labels: Mapping[str, str], source_names: Mapping[str, str]
) -> str:
    """« Intelligence artificielle · « portail » »: themes, sources, then the words."""
    parts = [
        ", ".join(labels.get(t, "Hors thèmes" if t == NO_THEME else t) for t in query.themes),
        ", ".join(source_names.get(s, s) for s in query.sources),
        f"« {query.q} »" if query.q else "",
    ]
    return " · ".join(p for p in parts if p) or "Toute l’archive"


def new_matches(
    session: Session, query: ArchiveQuery, *, after_id: int, upto_id: int, limit: int
) -> list[ArticleHit]:
    """The new stories matching `query` among the articles stored after `after_id` and up
    to `upto_id`, newest first, at most `limit`.

    Article ids grow with each article stored, so the range is « collected since the last
    run », whatever publication date a source gives; it is a primary-key range, cheap on
    both backends however large the archive. A story that already had an article by then
    is not new: its new article may have become its representative, and mailing it again
    would repeat the news (the check is one lookup on `ix_articles_story_id` per row)."""
    plan = search_plan.plan_of(session, replace(alert_query(query), group=True))
    if plan.impossible or upto_id <= after_id or limit <= 0:
        return []
    earlier = SEARCH.alias("earlier")
    earlier_in_story = select(earlier.c.id).where(
        earlier.c.story_id == SEARCH.c.story_id, earlier.c.id <= after_id
    )
    stmt = (
        select(SEARCH.c.id)
        .where(
            plan.where(narrow=True, driver=fulltext_query.BY_PLANNER),
            SEARCH.c.id > after_id,
            SEARCH.c.id <= upto_id,
            or_(SEARCH.c.story_id.is_(None), ~exists(earlier_in_story)),
        )
        .order_by(SEARCH.c.published_or_fetched.desc(), SEARCH.c.id.desc())
        .limit(limit)
    )
    return hits(session, _rows(session, list(session.scalars(stmt))))
