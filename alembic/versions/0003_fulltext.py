"""archive search: full-text index, stored sort date, theme bits, search indexes

Written by hand: autogenerate knows nothing of FTS5, tsvector or triggers.

- `articles.published_or_fetched`: coalesce(published_at, fetched_at), so period filters
  and date order use a plain index: a STORED generated column on PostgreSQL, a column kept
  by triggers on SQLite.
- `articles.theme_mask`: one bit per theme, kept equal to the rows of `article_themes` by
  triggers, so theme filters and theme facet counts read the row (or an index) instead of
  joining.
- Covering indexes for the archive page (date order, score order) and, on
  SQLite, an id-led covering index so FTS hits are filtered without reading the wide rows.
- SQLite: FTS5 table `articles_fts(doc)`, filled here from existing rows with the
  normalised copy (veille.db.fulltext.document); a trigger removes entries with articles.
- PostgreSQL: `unaccent`, an IMMUTABLE wrapper `veille_unaccent` (unaccent() itself is
  only STABLE), and a stored generated `search_vector` with a GIN index.

Note for later SQLite batch migrations on `articles` or `article_themes`: recreating the
table drops its triggers; call `create_sqlite_triggers()` from this module again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Frozen copy of veille.db.fulltext.THEME_BITS at this revision.
THEME_BITS = {"open_data": 1, "ia": 2, "donnees_interet_general": 4}


def _bit(ref: str) -> str:
    cases = " ".join(f"WHEN '{theme}' THEN {bit}" for theme, bit in THEME_BITS.items())
    return f"(CASE {ref} {cases} ELSE 0 END)"


def create_sqlite_triggers() -> None:
    op.execute(
        "CREATE TRIGGER articles_when_insert AFTER INSERT ON articles "
        "WHEN new.published_or_fetched IS NOT coalesce(new.published_at, new.fetched_at) "
        "BEGIN UPDATE articles SET published_or_fetched = "
        "coalesce(new.published_at, new.fetched_at) WHERE id = new.id; END"
    )
    op.execute(
        "CREATE TRIGGER articles_when_update AFTER UPDATE OF published_at, fetched_at "
        "ON articles BEGIN UPDATE articles SET published_or_fetched = "
        "coalesce(new.published_at, new.fetched_at) WHERE id = new.id; END"
    )
    op.execute(
        "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN "
        "DELETE FROM articles_fts WHERE rowid = old.id; END"
    )
    add = (
        "UPDATE articles SET theme_mask = theme_mask | {b} "
        "WHERE id = new.article_id AND {b} != 0 AND (theme_mask & {b}) = 0;"
    ).format(b=_bit("new.theme"))
    remove = (
        "UPDATE articles SET theme_mask = theme_mask & ~{b} "
        "WHERE id = old.article_id AND (theme_mask & {b}) != 0;"
    ).format(b=_bit("old.theme"))
    op.execute(f"CREATE TRIGGER article_themes_mask_insert AFTER INSERT ON article_themes "
               f"BEGIN {add} END")
    op.execute(f"CREATE TRIGGER article_themes_mask_delete AFTER DELETE ON article_themes "
               f"BEGIN {remove} END")
    op.execute(f"CREATE TRIGGER article_themes_mask_update AFTER UPDATE ON article_themes "
               f"BEGIN {remove} {add} END")


def _create_indexes(dialect: str) -> None:
    op.execute(
        "CREATE INDEX ix_articles_search_date ON articles "
        "(published_or_fetched, theme_mask, source_id, score)"
    )
    if dialect == "postgresql":
        op.execute(
            "CREATE INDEX ix_articles_search_score ON articles "
            "(score DESC NULLS LAST, published_or_fetched DESC, id DESC) "
            "INCLUDE (theme_mask, source_id)"
        )
    else:
        # SQLite orders NULL first ascending, so a backward scan is DESC NULLS LAST.
        op.execute(
            "CREATE INDEX ix_articles_search_score ON articles "
            "(score, published_or_fetched, theme_mask, source_id)"
        )
        op.execute(
            "CREATE INDEX ix_articles_search_facts ON articles "
            "(id, published_or_fetched, theme_mask, source_id, score)"
        )


def _backfill_sqlite() -> None:
    from veille.db.fulltext import document

    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.exec_driver_sql(
            "SELECT id, title, summary, text FROM articles WHERE id > ? ORDER BY id LIMIT 2000",
            (last,),
        ).fetchall()
        if not rows:
            return
        conn.exec_driver_sql(
            "INSERT INTO articles_fts(rowid, doc) VALUES (?, ?)",
            [(i, document(t or "", s or "", x or "")) for i, t, s, x in rows],
        )
        last = rows[-1][0]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    backfill_mask = (
        "UPDATE articles SET theme_mask = coalesce((SELECT sum({b}) FROM article_themes "
        "WHERE article_themes.article_id = articles.id), 0)"
    ).format(b=_bit("article_themes.theme"))
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        op.execute(
            "CREATE OR REPLACE FUNCTION veille_unaccent(text) RETURNS text "
            "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS "
            "$$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$"
        )
        op.execute(
            "ALTER TABLE articles "
            "ADD COLUMN published_or_fetched timestamptz "
            "GENERATED ALWAYS AS (coalesce(published_at, fetched_at)) STORED, "
            "ADD COLUMN theme_mask integer NOT NULL DEFAULT 0, "
            "ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('french'::regconfig, veille_unaccent(coalesce(title, ''))), 'A')"
            " || to_tsvector('french'::regconfig, veille_unaccent(coalesce(summary, '') || ' ' "
            "|| coalesce(text, '')))) STORED"
        )
        op.execute(backfill_mask)
        op.execute(
            "CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)"
        )
        op.execute(
            f"""
            CREATE OR REPLACE FUNCTION veille_theme_mask() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP IN ('DELETE', 'UPDATE') THEN
                UPDATE articles SET theme_mask = theme_mask & ~{_bit("OLD.theme")}
                WHERE id = OLD.article_id AND (theme_mask & {_bit("OLD.theme")}) != 0;
              END IF;
              IF TG_OP IN ('INSERT', 'UPDATE') THEN
                UPDATE articles SET theme_mask = theme_mask | {_bit("NEW.theme")}
                WHERE id = NEW.article_id AND {_bit("NEW.theme")} != 0
                  AND (theme_mask & {_bit("NEW.theme")}) = 0;
              END IF;
              RETURN NULL;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER article_themes_mask AFTER INSERT OR UPDATE OR DELETE "
            "ON article_themes FOR EACH ROW EXECUTE FUNCTION veille_theme_mask()"
        )
    else:
        # A plain column kept by triggers: SQLite cannot ADD a STORED generated column, and
        # its planner does not treat an index holding a VIRTUAL one as covering (every
        # counted row would then be read from the wide table).
        op.execute("ALTER TABLE articles ADD COLUMN published_or_fetched DATETIME")
        op.execute("UPDATE articles SET published_or_fetched = coalesce(published_at, fetched_at)")
        op.execute("ALTER TABLE articles ADD COLUMN theme_mask INTEGER NOT NULL DEFAULT 0")
        op.execute(backfill_mask)
        # The table keeps its own copy of the normalised text: SQLite 3.40 has no
        # contentless_delete, and only a stored copy lets a plain trigger delete entries
        # (source deletions cascade to articles in SQL, out of Python's sight).
        op.execute(
            "CREATE VIRTUAL TABLE articles_fts USING fts5(doc, "
            "tokenize='unicode61 remove_diacritics 2', columnsize=0)"
        )
        _backfill_sqlite()
        create_sqlite_triggers()
    _create_indexes(dialect)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in (
        "ix_articles_search_date",
        "ix_articles_search_score",
        "ix_articles_search_facts",
        "ix_articles_search_vector",
    ):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS article_themes_mask ON article_themes")
        op.execute("DROP FUNCTION IF EXISTS veille_theme_mask()")
        op.execute(
            "ALTER TABLE articles DROP COLUMN search_vector, "
            "DROP COLUMN theme_mask, DROP COLUMN published_or_fetched"
        )
        op.execute("DROP FUNCTION IF EXISTS veille_unaccent(text)")
    else:
        for trigger in (
            "articles_when_insert",
            "articles_when_update",
            "articles_fts_delete",
            "article_themes_mask_insert",
            "article_themes_mask_delete",
            "article_themes_mask_update",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS articles_fts")
        op.execute("ALTER TABLE articles DROP COLUMN theme_mask")
        op.execute("ALTER TABLE articles DROP COLUMN published_or_fetched")
