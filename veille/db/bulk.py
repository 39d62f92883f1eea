"""Bulk loading of articles: imports, migrations from another tool, and the benchmark.

The row-at-a-time ORM path (`articles.insert_article`) costs a few hundred microseconds per
article; loading an archive of a million takes this path instead: ids assigned up front,
`executemany` on SQLite (one transaction per chunk) and `COPY` on PostgreSQL (two
connections at once), the full-text index written in the same transaction, the theme bits
computed here rather than by the per-row triggers (which then find nothing to change).
"""

from __future__ import annotations

import queue
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import Engine

from veille.db import fulltext

_COLUMNS = (
    "id",
    "url",
    "url_key",
    "original_url",
    "source_id",
    "guid",
    "title",
    "summary",
    "text",
    "html",
    "author",
    "language",
    "image",
    "published_at",
    "fetched_at",
    "updated_at",
    "partial",
    "extract_note",
    "content_hash",
    "fingerprint",
    "story_id",
    "score",
    "score_components",
    "curation",
    "theme_mask",
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
        ident,
        a.url,
        a.url_key or a.url.split("://", 1)[-1],
        a.url,
        a.source_id,
        None,
        a.title,
        a.summary,
        a.text,
        a.html,
        a.author,
        a.language,
        None,
        stamp(a.published_at),
        stamp(a.fetched_at),
        None,
        False,
        None,
        a.content_hash,
        None,
        None,
        a.score,
        "{}",
        "new",
        fulltext.theme_mask(a.themes),
    )


def bulk_insert_articles(
    engine: Engine, rows: Iterable[BulkArticle], *, chunk: int = 20_000
) -> int:
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
        # 1 GiB: at 1M articles the eleven indexes of `articles` (url_key, score and source
        # ones take inserts all over) outgrow 256 MiB and every chunk re-read them.
        cur.execute("PRAGMA cache_size = -1048576")
        next_id = (cur.execute("SELECT coalesce(max(id), 0) FROM articles").fetchone()[0]) + 1
        insert = (
            f"INSERT INTO articles ({', '.join(_SQLITE_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _SQLITE_COLUMNS)})"
        )
        done = 0
        for part in _chunks(rows, chunk):
            ids = range(next_id, next_id + len(part))
            cur.execute("BEGIN")
            cur.executemany(
                insert,
                (
                    (*_values(a, i, _sqlite_time), _sqlite_time(a.published_at or a.fetched_at))
                    for a, i in zip(part, ids, strict=True)
                ),
            )
            cur.executemany(
                "INSERT INTO article_themes (article_id, theme, probability, origin) "
                "VALUES (?, ?, ?, 'model')",
                ((i, t, p) for a, i in zip(part, ids, strict=True) for t, p in a.themes.items()),
            )
            fulltext.index_rows(
                cur, ((i, a.title, a.summary, a.text) for a, i in zip(part, ids, strict=True))
            )
            cur.execute("COMMIT")
            next_id += len(part)
            done += len(part)
        cur.execute("PRAGMA optimize")
        cur.execute(f"PRAGMA cache_size = {int(old_cache)}")  # the connection returns to a pool
        return done
    finally:
        raw.close()


def _postgres(engine: Engine, rows: Iterable[BulkArticle], chunk: int) -> int:
    """COPY on two connections at once: the server computes each row's tsvector (French
    stemming of 1-2 KB) and GIN entries, which keeps one backend at 100 % of a core while
    Python waits; a second backend on the second core nearly halves the load. Ids are
    reserved from the sequence up front, chunk by chunk, by this thread."""
    size = min(chunk, 5_000)  # smaller chunks keep both backends busy to the end
    with engine.connect() as conn:
        first = int(
            conn.exec_driver_sql(
                "SELECT nextval(pg_get_serial_sequence('articles', 'id'))"
            ).scalar_one()
        )
        conn.commit()
    raws = [engine.raw_connection() for _ in range(_PG_WORKERS)]
    free: queue.SimpleQueue[Any] = queue.SimpleQueue()
    for raw in raws:
        dbapi: Any = raw.driver_connection
        dbapi.rollback()
        dbapi.autocommit = True  # each `transaction()` below is then a real transaction
        free.put(dbapi)
    done = 0
    try:
        with ThreadPoolExecutor(_PG_WORKERS) as pool:
            pending: list[Future[int]] = []
            for part in _chunks(rows, size):
                ident = first + done
                done += len(part)
                with engine.connect() as conn:
                    conn.exec_driver_sql(
                        "SELECT setval(pg_get_serial_sequence('articles', 'id'), %s)",
                        (first + done - 1,),
                    )
                    conn.commit()
                pending = _reap(pending)
                while len(pending) >= 2 * _PG_WORKERS:  # memory: a few chunks in flight
                    wait(pending, return_when=FIRST_COMPLETED)
                    pending = _reap(pending)
                pending.append(pool.submit(_copy_chunk, free, part, ident))
            for future in pending:
                future.result()  # re-raises a failed chunk's error
        conn_any: Any = free.get()
        with conn_any.cursor() as cur:
            # Sets the visibility map, so counts are index-only scans from the start.
            cur.execute("VACUUM (ANALYZE) articles")
            cur.execute("VACUUM (ANALYZE) article_themes")
        free.put(conn_any)
        return done
    finally:
        for raw in raws:
            dbapi = raw.driver_connection
            if dbapi is not None:
                dbapi.autocommit = False
            raw.close()


_PG_WORKERS = 2


def _reap(pending: list[Future[int]]) -> list[Future[int]]:
    """The chunks still running; a failed one raises here, stopping the load."""
    running = []
    for future in pending:
        if future.done():
            future.result()
        else:
            running.append(future)
    return running


def _copy_chunk(free: queue.SimpleQueue[Any], part: list[BulkArticle], first: int) -> int:
    conn = free.get()
    try:
        with conn.transaction(), conn.cursor() as cur:
            with cur.copy(f"COPY articles ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
                for offset, a in enumerate(part):
                    copy.write_row(_values(a, first + offset, lambda v: v))
            with cur.copy(
                "COPY article_themes (article_id, theme, probability, origin) FROM STDIN"
            ) as copy:
                for offset, a in enumerate(part):
                    for theme, probability in a.themes.items():
                        copy.write_row((first + offset, theme, probability, "model"))
        return len(part)
    finally:
        free.put(conn)
