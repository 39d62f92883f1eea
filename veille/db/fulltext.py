"""The full-text index of `articles`, per backend: its table mapping, its writes and what
schema comparisons must ignore. Query translation (a French search → FTS5 MATCH / tsquery)
is `veille.archive.fulltext_query`; this half sits in the store because every article write
must keep the index in step.

SQLite: an FTS5 table `articles_fts(doc)` (rowid = article id) holding a *normalised copy*
of title + summary + text: folded (no accents), elisions split, stop words dropped, each word
lightly stemmed (plural/feminine), so "donnée", "données" and "donnees" are one token. The
copy is written from Python (`index_article`, the bulk path); a trigger deletes it with the
article. A normalised copy beats prefix queries: "données*" cannot find "donnée", and a
stemmed query is one term lookup instead of a prefix range.

PostgreSQL: a stored generated column `articles.search_vector` =
to_tsvector('french', veille_unaccent(title || summary || text)) under a GIN index, so the
database maintains the index itself.

The search columns added by migration 0003 are described by `SEARCH` (its own MetaData, so
the ORM mapping of `articles` stays as it is), with the score columns written beside the
theme bits (`veille.db.scores.update_scores`): one Core view of `articles` for what the
ORM does not map.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import JSON, Column, Float, Integer, MetaData, Table, text
from sqlalchemy.orm import Session

from veille.db.schema import UTCDateTime
from veille.text.french import index_words
from veille.text.french import search_tokens as tokens

# Theme bits of `articles.theme_mask` (maintained by triggers on article_themes). Frozen:
# a new theme takes the next free bit in a migration that also updates the triggers.
THEME_BITS: dict[str, int] = {"open_data": 1, "ia": 2, "donnees_interet_general": 4}
ALL_THEMES = sum(THEME_BITS.values())
# Not a theme: set on every member of a story but its representative (migration 0010s,
# kept by `veille.db.stories`). In `theme_mask` because every covering index of 0003
# holds that column, so "one entry per story" is a bit test on rows already read.
DUPLICATE_BIT = 256

FTS_TABLE = "articles_fts"

SEARCH = Table(
    "articles",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("source_id", Integer),
    Column("story_id", Integer),
    Column("published_or_fetched", UTCDateTime),
    Column("theme_mask", Integer),
    Column("score", Float),
    Column("score_components", JSON),
)

FTS = Table(FTS_TABLE, MetaData(), Column("rowid", Integer, primary_key=True))


def document(title: str, summary: str, text_: str, text_words: str | None = None) -> str:
    """The normalised copy indexed for one article. `text_words`: `index_words(text_)`,
    when already computed (the extraction workers do it for new articles)."""
    if text_words is None:
        return " ".join(tokens(f"{title}\n{summary}\n{text_}"))
    return " ".join(filter(None, (index_words(f"{title}\n{summary}"), text_words)))


def index_article(
    session: Session,
    article_id: int,
    title: str,
    summary: str,
    text_: str,
    *,
    new: bool = False,
    text_words: str | None = None,
) -> None:
    """Write (or rewrite) one article's entry in the SQLite index; PostgreSQL needs nothing.
    `new`: the article was just inserted, so there is no entry to delete first."""
    if session.get_bind().dialect.name != "sqlite":
        return
    if not new:
        session.execute(text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"), {"id": article_id})
    session.execute(
        text(f"INSERT INTO {FTS_TABLE}(rowid, doc) VALUES (:id, :doc)"),
        {"id": article_id, "doc": document(title, summary, text_, text_words)},
    )


def index_new(session: Session, rows: Iterable[tuple[int, str, str, str, str | None]]) -> None:
    """`index_article` for new articles, in one statement: rows of (id, title, summary,
    text, its `index_words` or None)."""
    if session.get_bind().dialect.name != "sqlite":
        return
    params = [{"id": i, "doc": document(t, s, x, words)} for i, t, s, x, words in rows]
    if params:
        session.execute(text(f"INSERT INTO {FTS_TABLE}(rowid, doc) VALUES (:id, :doc)"), params)


def index_rows(dbapi_cursor: Any, rows: Iterable[tuple[int, str, str, str]]) -> None:
    """Bulk variant on a raw sqlite3 cursor: rows of (id, title, summary, text)."""
    dbapi_cursor.executemany(
        f"INSERT INTO {FTS_TABLE}(rowid, doc) VALUES (?, ?)",
        ((i, document(t, s, x)) for i, t, s, x in rows),
    )


def theme_mask(themes: Iterable[str]) -> int:
    mask = 0
    for theme in themes:
        mask |= THEME_BITS.get(theme, 0)
    return mask


# Names the schema comparison must ignore: FTS5 tables and their shadow tables, SQLite's
# `article_days` (the id range of each day's articles, kept by triggers: 0014ds), the search
# columns and indexes of migrations 0003 and 0014ds (described here, not in the ORM mapping).
SEARCH_COLUMNS = frozenset({"published_or_fetched", "theme_mask", "search_vector"})
SEARCH_INDEXES = frozenset(
    {
        "ix_articles_search_date",
        "ix_articles_search_score",
        "ix_articles_search_facts",
        "ix_articles_search_source",
        "ix_articles_search_vector",
    }
)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """For Alembic's `include_name`: hide the full-text objects from schema comparisons."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(FTS_TABLE) and name != "article_days"
    if type_ == "column" and parent_names.get("table_name") == "articles":
        return name not in SEARCH_COLUMNS
    if type_ == "index":
        return name not in SEARCH_INDEXES
    return True
