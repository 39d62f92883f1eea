"""Queries on stored value scores: reading and rewriting the score components of a
story's articles when its coverage changes (`veille.classify.service.rescore_coverage`).

Column reads and one executemany UPDATE, never whole ORM rows: in a first cycle every
relisting widens a story, thousands per batch, and loading whole article rows (text and
HTML) through the ORM made this the collector's slowest step."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from veille.db import stories
from veille.db.tables import ArticleRow

CHUNK = 500  # story ids per IN list


def story_components(
    session: Session, story_ids: Sequence[int]
) -> Iterator[tuple[int, int | None, dict[str, Any] | None]]:
    """(article id, story id, stored score components) of the stories' articles."""
    articles = ArticleRow.core().c
    for start in range(0, len(story_ids), CHUNK):
        chunk = list(story_ids[start : start + CHUNK])
        yield from session.execute(
            select(articles.id, articles.story_id, articles.score_components).where(
                articles.story_id.in_(chunk)
            )
        ).tuples()


def update_scores(session: Session, changes: Sequence[tuple[int, float, dict[str, Any]]]) -> None:
    """Write (article id, score, components) in one executemany UPDATE. Pending ORM changes
    are flushed first so they cannot overwrite it, and objects of these articles already in
    the session are expired, so nothing reads a stale score afterwards."""
    if not changes:
        return
    articles = ArticleRow.core().c
    session.flush()
    session.execute(
        update(ArticleRow.core())
        .where(articles.id == bindparam("b_id"))
        .values(score=bindparam("b_score"), score_components=bindparam("b_components")),
        [
            {"b_id": article_id, "b_components": components, "b_score": score}
            for article_id, score, components in changes
        ],
    )
    changed = {article_id for article_id, _, _ in changes}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, ArticleRow) and obj.id in changed:
            session.expire(obj)
    stories.refresh_of_articles(session, changed)  # a new score may change a representative
