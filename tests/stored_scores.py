"""What an article's stored coverage should say, read from the links themselves (not from
the code that wrote it), for the tests that check rescoring."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from veille.db.tables import ArticleLinkRow, ArticleRow


def expected_coverage(session: Session, row: ArticleRow) -> str:
    """« une seule source » or « couvert par N sources »: the distinct sources linking any
    article of the row's story."""
    n = len(
        set(
            session.scalars(
                select(ArticleLinkRow.source_id)
                .join(ArticleRow, ArticleRow.id == ArticleLinkRow.article_id)
                .where(ArticleRow.story_id == row.story_id)
            )
        )
    )
    return "une seule source" if n <= 1 else f"couvert par {n} sources"


def score_is_its_sum(row: ArticleRow) -> bool:
    return bool(row.score == round(sum(c["points"] for c in row.score_components.values()), 1))
