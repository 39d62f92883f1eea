"""Bulk loading of articles: imports, migrations from another tool, and the benchmark.

The row-at-a-time ORM path (`articles.insert_article`) costs a few hundred microseconds per
article; loading an archive of a million takes this path instead: ids assigned up front,
`executemany` on SQLite (one transaction per chunk) and `COPY` on PostgreSQL, the full-text
index written in the same transaction, the theme bits computed here rather than by the
per-row triggers (which then find nothing to change).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import Engine

from veille.archive import fts

_COLUMNS = (
    "id", "url", "url_key", "original_url", "source_id", "guid", "title", "summary", "text",
    "html", "author", "language", "image", "published_at", "fetched_at", "updated_at",
    "partial", "extract_note", "content_hash", "fingerprint", "story_id", "score",
    "score_components", "curation", "theme_mask",
)
_SQLITE_COLUMNS = (*_COLUMNS, "published_or_fetched")  # a generated column on PostgreSQL


@dataclass(frozen=True)
class BulkArticle:
    url: str
    source_id: int
    title: str
    summary: str
    text: str
    fetched_at: datetime
    published_at: datetime | None = None
    html: str = ""
    url_key: str = ""  # defaults to the URL without its scheme
    author: str | None = None
    language: str | None = "fr"
    score: float | None = None
    themes: dict[str, float] = field(default_factory=dict)  # theme → probability
    content_hash: str = ""


def _chunks(rows: Iterable[BulkArticle], size: int) -> Iterator[list[BulkArticle]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _sqlite_time(value: datetime | None) -> str | None:
    # The format SQLAlchemy's SQLite DateTime writes, so string comparisons agree.
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _values(a: BulkArticle, ident: int, stamp: Any) -> tuple[Any, ...]:
    return (
        ident, a.url, a.url_key or a.url.split("://", 1)[-1], a.url, a.source_id, None,
        a.title, a.summary, a.text, a.html, a.author, a.language, None,
        stamp(a.published_at), stamp(a.fetched_at), None, False, None, a.content_hash, None,
        None, a.score, "{}", "new", fts.theme_mask(a.themes),
    )


def bulk_insert_articles(engine: Engine, rows: Iterable[BulkArticle], *,
                         chunk: int = 20_000) -> int:
    """Insert `rows` (a generator is fine: memory holds one chunk) and index them for search.
    Returns the number inserted. URLs must be new: a duplicate aborts the current chunk."""
    if engine.dialect.name == "postgresql":
        return _postgres(engine, rows, chunk)
    return _sqlite(engine, rows, chunk)


def _sqlite(engine: Engine, rows: Iterable[BulkArticle], chunk: int) -> int:
    raw = engine.raw_connection()
    try:
        dbapi: Any = raw.driver_connection
        cur = dbapi.cursor()
        old_cache = cur.execute("PRAGMA cache_size").fetchone()[0]
        cur.execute("PRAGMA cache_size = -262144")  # 256 MiB: index pages stay in memory
        next_id = (cur.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0]) + 1
        insert = (
            f"INSERT INTO articles ({', '.join(_SQLITE_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _SQLITE_COLUMNS)})"
        )
        done = 0
        for part in _chunks(rows, chunk):
            ids = range(next_id, next_id + len(part))
            cur.execute("BEGIN")
            cur.executemany(insert, (
                (*_values(a, i, _sqlite_time), _sqlite_time(a.published_at or a.fetched_at))
                for a, i in zip(part, ids, strict=True)
            ))
            cur.executemany(
                "INSERT INTO article_themes (article_id, theme, probability, origin) "
                "VALUES (?, ?, ?, 'model')",
                ((i, t, p) for a, i in zip(part, ids, strict=True) for t, p in a.themes.items()),
            )
            fts.index_rows(cur, ((i, a.title, a.summary, a.text)
                                 for a, i in zip(part, ids, strict=True)))
            cur.execute("COMMIT")
            next_id += len(part)
            done += len(part)
        cur.execute("PRAGMA optimize")
        cur.execute(f"PRAGMA cache_size = {int(old_cache)}")  # the connection returns to a pool
        return done
    finally:
        raw.close()


def _postgres(engine: Engine, rows: Iterable[BulkArticle], chunk: int) -> int:
    raw = engine.raw_connection()
    try:
        conn: Any = raw.driver_connection
        conn.rollback()
        conn.autocommit = True  # each `conn.transaction()` below is then a real transaction
        with conn.cursor() as cur:
            cur.execute("SELECT nextval(pg_get_serial_sequence('articles', 'id'))")
            first = int(cur.fetchone()[0])
        done = 0
        for part in _chunks(rows, chunk):
            with conn.transaction(), conn.cursor() as cur:
                # Reserve ids for this chunk so themes can refer to them without a round trip.
                cur.execute(
                    "SELECT setval(pg_get_serial_sequence('articles', 'id'), %s)",
                    (first + done + len(part) - 1,),
                )
                with cur.copy(f"COPY articles ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
                    for offset, a in enumerate(part):
                        copy.write_row(_values(a, first + done + offset, lambda v: v))
                with cur.copy(
                    "COPY article_themes (article_id, theme, probability, origin) FROM STDIN"
                ) as copy:
                    for offset, a in enumerate(part):
                        for theme, probability in a.themes.items():
                            copy.write_row((first + done + offset, theme, probability, "model"))
            done += len(part)
        with conn.cursor() as cur:
            # Sets the visibility map, so counts are index-only scans from the start.
            cur.execute("VACUUM (ANALYZE) articles")
            cur.execute("VACUUM (ANALYZE) article_themes")
        conn.autocommit = False
        return done
    finally:
        raw.close()
