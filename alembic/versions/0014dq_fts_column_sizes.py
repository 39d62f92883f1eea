"""archive: SQLite's full-text table stores each document's length (FTS5 `columnsize`)

Revision ID: 0014dq
Revises: 0014cu
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0014dq"
down_revision = "0014cu"
branch_labels = None
depends_on = None

_TOKENIZE = "tokenize='unicode61 remove_diacritics 2'"


def upgrade() -> None:
    # Ranking by relevance (`search_plan.relevance_ids`, FTS5's bm25) needs each match's
    # length in tokens. Created with `columnsize=0` (0003), the table kept no lengths, so
    # bm25 read and re-tokenised every match's text: 440 ms to rank a word found 60,000
    # times in 100,000 articles, 90 ms with the lengths stored (`%_docsize`, one small row
    # per article) — the same scores to the last bit and the same order over all 60,511
    # matches, since both count the tokens the same tokenizer makes. Its cost: ~2 % more
    # time to index a document, ~10 bytes an article.
    _rebuild("")


def downgrade() -> None:
    _rebuild(", columnsize=0")


def _rebuild(options: str) -> None:
    """Re-create `articles_fts` with `options`, its documents copied over (FTS5 options
    are fixed at creation), and the triggers that write to it as they were."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return  # PostgreSQL ranks with ts_rank over its own tsvector column
    triggers = bind.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%articles_fts%'"
    ).fetchall()
    op.execute(f"CREATE VIRTUAL TABLE articles_fts_next USING fts5(doc, {_TOKENIZE}{options})")
    op.execute("INSERT INTO articles_fts_next(rowid, doc) SELECT rowid, doc FROM articles_fts")
    # A rename checks every trigger's SQL: those naming the old table go first.
    for name, _ in triggers:
        op.execute(f'DROP TRIGGER "{name}"')
    op.execute("DROP TABLE articles_fts")
    op.execute("ALTER TABLE articles_fts_next RENAME TO articles_fts")
    for _, sql in triggers:
        op.execute(sql)
