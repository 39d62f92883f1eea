"""Read models for the archive pages that search does not cover: one article with its
story, and the weekly volume per source. Plain data out, so templates never touch the ORM."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import and_, bindparam, case, func, select
from sqlalchemy.orm import Session

from veille.db.reads import read
from veille.db.tables import ArticleLinkRow, ArticleRow, ArticleThemeRow, SourceRow

# SQLite keeps 64-bit signed integers: a longer id can only be absent (and would overflow).
MAX_ID_DIGITS = 18


@dataclass(frozen=True)
class StoryItem:
    id: int
    title: str
    url: str
    source_name: str
    published_at: datetime


@dataclass(frozen=True)
class ThemeTag:
    theme: str
    probability: float
    origin: str  # model | rule | editor


@dataclass(frozen=True)
class ArticleDetail:
    id: int
    url: str
    title: str
    summary: str
    text: str
    html: str
    author: str | None
    language: str | None
    source_key: str
    source_name: str
    published_at: datetime
    fetched_at: datetime
    partial: bool
    themes: tuple[ThemeTag, ...]
    score: float | None
    components: dict[str, Any]
    story: tuple[StoryItem, ...]  # the story's other articles
    other_sources: tuple[str, ...]  # names of the other sources that carried the story


def parse_article_id(raw: str) -> int | None:
    """An id from the URL path, or None when it cannot name a stored article."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > MAX_ID_DIGITS:
        return None
    return int(raw)


# `article_detail`'s statements, built once (their values bound): an article page is a
# quarter of a crowd's distinct requests, and loading the ORM object with its source and
# themes (`selectinload`: three statements, an identity map, a statement built anew each
# time) cost more Python than SQLite spent answering.
_ARTICLE = (
    select(
        ArticleRow.id,
        ArticleRow.url,
        ArticleRow.title,
        ArticleRow.summary,
        ArticleRow.text,
        ArticleRow.html,
        ArticleRow.author,
        ArticleRow.language,
        ArticleRow.source_id,
        ArticleRow.published_at,
        ArticleRow.fetched_at,
        ArticleRow.partial,
        ArticleRow.score,
        ArticleRow.score_components,
        ArticleRow.story_id,
        SourceRow.key.label("source_key"),
        SourceRow.name.label("source_name"),
    )
    .join(SourceRow, SourceRow.id == ArticleRow.source_id)
    .where(ArticleRow.id == bindparam("id"))
)
_THEMES = select(ArticleThemeRow.theme, ArticleThemeRow.probability, ArticleThemeRow.origin).where(
    ArticleThemeRow.article_id == bindparam("id")
)
# The columns a story item shows: whole rows read each sibling's text and HTML.
_SIBLINGS = (
    select(
        ArticleRow.id,
        ArticleRow.title,
        ArticleRow.url,
        ArticleRow.published_at,
        ArticleRow.fetched_at,
        SourceRow.name.label("source_name"),
    )
    .join(SourceRow, SourceRow.id == ArticleRow.source_id)
    .where(ArticleRow.story_id == bindparam("story"), ArticleRow.id != bindparam("id"))
    .order_by(func.coalesce(ArticleRow.published_at, ArticleRow.fetched_at).desc())
    .limit(50)
)
_STORY_SOURCES = (
    select(SourceRow.id, SourceRow.name)
    .join(ArticleLinkRow, ArticleLinkRow.source_id == SourceRow.id)
    .join(ArticleRow, ArticleRow.id == ArticleLinkRow.article_id)
    .where(ArticleRow.story_id == bindparam("story"))
    .distinct()
)


def article_detail(session: Session, article_id: int) -> ArticleDetail | None:
    row = read(session, _ARTICLE, {"id": article_id}).first()
    if row is None:
        return None
    themes = read(session, _THEMES, {"id": article_id}).all()
    story: list[StoryItem] = []
    other_sources: dict[int, str] = {}
    if row.story_id is not None:
        values = {"story": row.story_id, "id": row.id}
        for sibling in read(session, _SIBLINGS, values):
            story.append(
                StoryItem(
                    id=sibling.id,
                    title=sibling.title,
                    url=sibling.url,
                    source_name=sibling.source_name,
                    published_at=sibling.published_at or sibling.fetched_at,
                )
            )
        for source_id, name in read(session, _STORY_SOURCES, {"story": row.story_id}):
            if source_id != row.source_id:
                other_sources[int(source_id)] = str(name)
    return ArticleDetail(
        id=row.id,
        url=row.url,
        title=row.title,
        summary=row.summary,
        text=row.text,
        html=row.html,
        author=row.author,
        language=row.language,
        source_key=row.source_key,
        source_name=row.source_name,
        published_at=row.published_at or row.fetched_at,
        fetched_at=row.fetched_at,
        partial=row.partial,
        themes=tuple(ThemeTag(t.theme, t.probability, t.origin) for t in sorted(themes)),
        score=row.score,
        components=dict(row.score_components or {}),
        story=tuple(story),
        other_sources=tuple(sorted(other_sources.values())),
    )


def week_starts(today: date, weeks: int) -> list[date]:
    """Mondays of the last `weeks` weeks, oldest first, the current week last."""
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def weekly_counts(session: Session, starts: list[date]) -> dict[str, list[int]]:
    """Articles per source key and week (one aggregate query, portable SQL)."""
    if not starts:
        return {}
    bounds = [datetime.combine(d, time(), UTC) for d in starts]
    bounds.append(bounds[-1] + timedelta(weeks=1))
    when = func.coalesce(ArticleRow.published_at, ArticleRow.fetched_at)
    columns = [
        func.sum(case((and_(when >= lo, when < hi), 1), else_=0)) for lo, hi in pairwise(bounds)
    ]
    rows = session.execute(
        select(SourceRow.key, *columns)
        .join(ArticleRow, ArticleRow.source_id == SourceRow.id)
        .where(when >= bounds[0], when < bounds[-1])
        .group_by(SourceRow.key)
    )
    return {str(key): [int(v or 0) for v in values] for key, *values in rows}
