"""Queries on stored value scores: what classifying and scoring an article reads
(`to_score`), its new score written (`update_scores`), and the score components of a
story's articles rewritten when its coverage changes
(`veille.classify.service.rescore_coverage`).

Column reads and one executemany UPDATE, never whole ORM rows: a first cycle classifies
thousands of new articles and every relisting widens a story, thousands per batch; loading
whole article rows (text and HTML) and writing them back through the ORM's unit of work
made these the collector's slowest steps."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from veille.db import stories
from veille.db.fulltext import SEARCH, theme_mask
from veille.db.tables import ArticleRow

CHUNK = 500  # story ids per IN list

# The score and the themes' bits in one statement: `theme_mask` is not mapped by the ORM,
# `fulltext.SEARCH` maps it with the score columns.
_SCORE_AND_BITS = (
    update(SEARCH)
    .where(SEARCH.c.id == bindparam("b_id"))
    .values(
        score=bindparam("b_score"),
        score_components=bindparam("b_components"),
        theme_mask=SEARCH.c.theme_mask.op("|")(bindparam("b_bits")),
    )
)


@dataclass(frozen=True)
class ToScore:
    """The columns classifying and scoring an article read: not its HTML."""

    id: int
    title: str
    summary: str
    text: str
    language: str | None
    story_id: int | None
    source_id: int
    published_at: datetime | None
    fetched_at: datetime
    fingerprint: int | None


def to_score(session: Session, article_ids: Iterable[int]) -> list[ToScore]:
    """What `ToScore` holds of these articles, in no particular order (the session's
    pending changes are flushed first, as for any statement it executes)."""
    ids = sorted(set(article_ids))
    a = ArticleRow.core().c
    columns = (a.id, a.title, a.summary, a.text, a.language, a.story_id, a.source_id)
    out: list[ToScore] = []
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(*columns, a.published_at, a.fetched_at, a.fingerprint).where(
                a.id.in_(ids[start : start + CHUNK])
            )
        )
        out.extend(ToScore(**row._mapping) for row in rows)
    return out


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
        )


def update_scores(
    session: Session,
    changes: Sequence[tuple[int, float, dict[str, Any]]],
    *,
    refresh: bool = True,
    themes: Mapping[int, Iterable[str]] | None = None,
) -> None:
    """Write (article id, score, components) in one executemany UPDATE. Pending ORM changes
    are flushed first so they cannot overwrite it, and objects of these articles already in
    the session are expired, so nothing reads a stale score afterwards. `refresh=False`:
    the caller refreshes the stories' entries itself, once for all it changed.

    `themes`: the articles' theme names about to be inserted (`themes.insert_themes_of`),
    whose bits are set in the same write. SQLite rewrites a whole article row (text and
    HTML) for any change, and each theme row's trigger would otherwise rewrite it once more
    to set its bit (1,236 theme rows in a first cycle of 2,000 articles)."""
    if not changes:
        return
    if themes is not None:
        session.flush()
        session.execute(
            _SCORE_AND_BITS,
            [
                {
                    "b_id": article_id,
                    "b_score": score,
                    "b_components": components,
                    "b_bits": theme_mask(themes.get(article_id, ())),
                }
                for article_id, score, components in changes
            ],
        )
        _expire(session, {article_id for article_id, _, _ in changes})
    else:
        _update_by_id(
            session,
            {
                article_id: {"score": score, "score_components": components}
                for article_id, score, components in changes
            },
        )
    changed = {article_id for article_id, _, _ in changes}
    if refresh:
        stories.refresh_of_articles(session, changed)  # a new score may change a representative


def set_languages(session: Session, languages: Mapping[int, str]) -> None:
    """Store the language classification detected for articles whose feed and page gave
    none (one executemany UPDATE)."""
    if not languages:
        return
    _update_by_id(session, {ident: {"language": language} for ident, language in languages.items()})


def _update_by_id(session: Session, values: Mapping[int, Mapping[str, Any]]) -> None:
    """One executemany UPDATE of the same columns for many articles, by id. Pending ORM
    changes are flushed first so they cannot overwrite it, and the articles' objects in
    the session are expired so nothing reads a stale value afterwards."""
    columns = sorted(next(iter(values.values())))
    session.flush()
    session.execute(
        update(ArticleRow.core())
        .where(ArticleRow.core().c.id == bindparam("b_id"))
        .values({c: bindparam(f"b_{c}") for c in columns}),
        [{"b_id": ident, **{f"b_{c}": row[c] for c in columns}} for ident, row in values.items()],
    )
    _expire(session, set(values))


def _expire(session: Session, article_ids: set[int]) -> None:
    for obj in list(session.identity_map.values()):
        if isinstance(obj, ArticleRow) and obj.id in article_ids:
            session.expire(obj)
