"""archive: one index for a source's articles by date (replaces the bare source_id index);
SQLite: the id range of each day's articles (`article_days`), kept by triggers

Revision ID: 0014ds
Revises: 0014s
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0014ds"
down_revision = "0014s"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A listing filtered by source and period (« tel média, tel thème, tel mois ») walked
    # the date index testing every row for the source: one row in 300 at 1M articles, so
    # thousands of rows read for a page of 20 (1.8 ms of SQLite for a recent month, ~10 ms
    # of CPU for the page query on the distinct-query benchmark). Led by the source, the
    # index seeks straight to that source's period; it also serves what the old one did
    # (the foreign key's cascades, a source's articles), so it replaces it instead of
    # adding a fifth index to every insert. Theme and score ride along: the page query and
    # the counting sample read no wide row (a covering index, like ix_articles_search_date).
    op.execute(
        "CREATE INDEX ix_articles_search_source ON articles "
        "(source_id, published_or_fetched, theme_mask, score)"
    )
    op.drop_index("ix_articles_source_id", table_name="articles")
    if op.get_bind().dialect.name == "sqlite":
        create_article_days()


# SQLite only. One row per UTC day of `published_or_fetched`: the smallest and largest id
# of the articles of that day, and how many there are. A search within a period holds
# FTS5 to the period's id range (`veille.archive.search_plan.period_ids`); reading that
# range from the date index cost up to 200,000 index rows a search (~25-30 ms of CPU at
# 1M articles), reading it here costs one row per day. The bounds only widen: an article
# deleted or moved to another day leaves them as they were, so they always contain every
# id of the day (a superset is all FTS5 needs: the period filter still applies), and the
# counts may run high by what was deleted or moved, which only errs towards no bound.
ARTICLE_DAYS_TRIGGERS = ("article_days_insert", "article_days_update", "article_days_delete")


def _count_in(ref: str) -> str:
    """The upsert adding article `ref` (new) to its day."""
    return (
        "INSERT INTO article_days (day, low_id, high_id, rows) "
        f"SELECT substr({ref}.published_or_fetched, 1, 10), {ref}.id, {ref}.id, 1 "
        f"WHERE {ref}.published_or_fetched IS NOT NULL "
        "ON CONFLICT (day) DO UPDATE SET low_id = min(low_id, excluded.low_id), "
        "high_id = max(high_id, excluded.high_id), rows = rows + 1;"
    )


def _count_out(ref: str) -> str:
    return (
        "UPDATE article_days SET rows = rows - 1 "
        f"WHERE {ref}.published_or_fetched IS NOT NULL "
        f"AND day = substr({ref}.published_or_fetched, 1, 10);"
    )


def create_article_days() -> None:
    """The table, filled from the existing rows, and its triggers (SQLite; also to call
    again after a batch migration recreates `articles`, which drops its triggers)."""
    op.execute(
        "CREATE TABLE IF NOT EXISTS article_days (day TEXT NOT NULL PRIMARY KEY, "
        "low_id INTEGER NOT NULL, high_id INTEGER NOT NULL, rows INTEGER NOT NULL) "
        "WITHOUT ROWID"
    )
    op.execute("DELETE FROM article_days")
    op.execute(
        "INSERT INTO article_days (day, low_id, high_id, rows) "
        "SELECT substr(published_or_fetched, 1, 10), min(id), max(id), count(*) "
        "FROM articles WHERE published_or_fetched IS NOT NULL GROUP BY 1"
    )
    for name in ARTICLE_DAYS_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute(
        "CREATE TRIGGER article_days_insert AFTER INSERT ON articles "
        f"BEGIN {_count_in('new')} END"
    )
    op.execute(
        "CREATE TRIGGER article_days_update AFTER UPDATE OF published_or_fetched ON articles "
        f"BEGIN {_count_out('old')} {_count_in('new')} END"
    )
    op.execute(
        f"CREATE TRIGGER article_days_delete AFTER DELETE ON articles BEGIN {_count_out('old')} END"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ARTICLE_DAYS_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS article_days")
    op.create_index("ix_articles_source_id", "articles", ["source_id"])
    op.drop_index("ix_articles_search_source", table_name="articles")
