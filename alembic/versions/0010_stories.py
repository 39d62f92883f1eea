"""stories as the unit the archive lists: representative bit, delegate's overrides

Written by hand (a bit in the hand-made `theme_mask`, see migration 0003).

- `articles.theme_mask` bit 256 (`veille.db.fulltext.DUPLICATE_BIT`): set on every member
  of a story except its representative. The archive lists one entry per story by
  filtering on it; it sits in the covering indexes of 0003 already, so the grouped archive
  costs one more bit test per row read, not a join or a window function per request.
  Backfilled here with the representative rule of `veille.db.stories` (best score, then
  earliest, then source weight, then lowest id).
- `stories.lead_article_id`: the member the delegate chose to represent the story (no
  foreign key: a stale id is ignored, the rule applies again).
- `articles.story_pinned`: the delegate placed this article in its story (took it out of
  another, or joined two stories); nothing automatic moves it again.

Revision ID: 0010s
Revises: 0008r
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0010s"
down_revision = "0008r"
branch_labels = None
depends_on = None

DUPLICATE_BIT = 256  # frozen copy of veille.db.fulltext.DUPLICATE_BIT


def upgrade() -> None:
    op.add_column("stories", sa.Column("lead_article_id", sa.Integer(), nullable=True))
    op.add_column(
        "articles",
        sa.Column("story_pinned", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(
        f"UPDATE articles SET theme_mask = theme_mask | {DUPLICATE_BIT} WHERE id IN ("
        "SELECT id FROM (SELECT a.id, ROW_NUMBER() OVER (PARTITION BY a.story_id ORDER BY "
        "(a.score IS NULL), a.score DESC, a.published_or_fetched, s.weight DESC, a.id) AS rn "
        "FROM articles a JOIN sources s ON s.id = a.source_id "
        "WHERE a.story_id IS NOT NULL) ranked WHERE rn > 1)"
    )


def downgrade() -> None:
    op.execute(
        f"UPDATE articles SET theme_mask = theme_mask & ~{DUPLICATE_BIT} "
        f"WHERE (theme_mask & {DUPLICATE_BIT}) != 0"
    )
    op.execute("ALTER TABLE articles DROP COLUMN story_pinned")
    op.execute("ALTER TABLE stories DROP COLUMN lead_article_id")
