"""archive: one index for a source's editorial decisions, (source_id, curation)

Revision ID: 0014cu
Revises: 0014ds
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0014cu"
down_revision = "0014ds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The score's editor part counts a source's kept and discarded articles
    # (`veille.db.curation.decision_counts`), once per transaction of a collection cycle.
    # Without this index the count walked every article of the batch's sources through
    # `ix_articles_search_source` and read each wide row (text, HTML) for its state: 22 ms
    # a call at 2,000 articles, growing with the archive. Led by the source, then the
    # state, the count seeks the (source, kept) and (source, discarded) ranges of the
    # index alone: it costs the decisions it counts. A plain index, not a partial one:
    # SQLite uses a partial index only when the query spells the states as literals, and
    # the ORM binds them as parameters.
    op.create_index("ix_articles_source_curation", "articles", ["source_id", "curation"])


def downgrade() -> None:
    op.drop_index("ix_articles_source_curation", table_name="articles")
