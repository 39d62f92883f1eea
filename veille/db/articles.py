"""Queries on articles, their links to sources and their stories."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, select
from sqlalchemy.orm import Session, selectinload

from veille.db import fulltext
from veille.db.reads import read
from veille.db.tables import ArticleLinkRow, ArticleRow, ArticleThemeRow, SourceRow, StoryRow
from veille.text.urls import key_host


@dataclass(frozen=True)
class ArticleRecord:
    """Everything the pipeline stores for a new article."""

    url: str
    url_key: str
    original_url: str
    source_id: int
    guid: str | None
    title: str
    summary: str
    text: str
    html: str
    author: str | None
    language: str | None
    image: str | None
    published_at: datetime | None
    fetched_at: datetime
    partial: bool
    extract_note: str | None
    content_hash: str
    fingerprint: int | None
    index_words: str | None = None  # french.index_words(text), when already computed


@dataclass(frozen=True)
class KnownLink:
    article_id: int
    source_ids: frozenset[int]


def lookup_keys(session: Session, keys: Iterable[str]) -> dict[str, KnownLink]:
    """For each URL key already stored (as an article or as an alias link), its article
    and the sources it was seen through."""
    wanted = list(set(keys))
    found: dict[str, tuple[int, set[int]]] = {}
    # Core columns: the collector runs this for every listing and every batch of pages.
    links, articles = ArticleLinkRow.core().c, ArticleRow.core().c
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for key, article_id, source_id in session.execute(
            select(links.url_key, links.article_id, links.source_id).where(links.url_key.in_(chunk))
        ):
            found.setdefault(key, (article_id, set()))[1].add(source_id)
        for key, article_id in session.execute(
            select(articles.url_key, articles.id).where(articles.url_key.in_(chunk))
        ):
            found.setdefault(key, (article_id, set()))
    return {k: KnownLink(a, frozenset(s)) for k, (a, s) in found.items()}


def linked_keys(
    session: Session, source_ids: Iterable[int], keys: Iterable[str]
) -> set[tuple[int, str]]:
    """(source id, URL key) of the given keys already linked to one of the given sources:
    what a batch of sources' links must not repeat. One query per 500 keys, reading only
    those sources' links (an article relisted by many sources has many)."""
    ids, wanted = sorted(set(source_ids)), list(set(keys))
    out: set[tuple[int, str]] = set()
    if not ids:
        return out
    links = ArticleLinkRow.core().c
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        out.update(
            (int(s), str(k))
            for s, k in session.execute(
                select(links.source_id, links.url_key).where(
                    links.url_key.in_(chunk), links.source_id.in_(ids)
                )
            )
        )
    return out


def add_link(
    session: Session,
    *,
    article_id: int,
    source_id: int,
    url_key: str,
    guid: str | None,
    now: datetime,
) -> bool:
    """Record that `source_id` lists `article_id` under `url_key`; False if already known."""
    exists = session.scalar(
        select(ArticleLinkRow.id).where(
            ArticleLinkRow.source_id == source_id, ArticleLinkRow.url_key == url_key
        )
    )
    if exists is not None:
        return False
    session.add(
        ArticleLinkRow(
            article_id=article_id,
            source_id=source_id,
            url_key=url_key,
            guid=guid,
            first_seen_at=now,
        )
    )
    session.flush()
    return True


@dataclass
class LinkBatch:
    """Links of one source to articles, collected then written in one flush.

    `seen` holds the URL keys already linked to this source (in the store or in this batch),
    so a key is never linked twice (the unique constraint would abort the transaction).
    """

    source_id: int
    now: datetime
    seen: set[str] = field(default_factory=set)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, article_id: int, url_key: str, guid: str | None) -> bool:
        if url_key in self.seen:
            return False
        self.seen.add(url_key)
        self.rows.append(
            {
                "article_id": article_id,
                "source_id": self.source_id,
                "url_key": url_key,
                "guid": guid,
                "first_seen_at": self.now,
            }
        )
        return True

    def flush(self, session: Session) -> None:
        insert_links(session, self.rows)
        self.rows = []


def insert_links(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `LinkBatch` rows (of one source or several) in one statement."""
    if rows:
        session.execute(insert(ArticleLinkRow.core()), list(rows))


# Core statements: the collector inserts thousands of articles per cycle from the main
# thread, its bottleneck. A batch of rows goes in one multi-row INSERT … RETURNING
# (SQLAlchemy's "insertmanyvalues", SQLite ≥ 3.35 and PostgreSQL), its ids in the rows'
# order: per row, a statement costs ~10x a row of a multi-row one.
_INSERT_STORIES = insert(StoryRow.core()).returning(
    StoryRow.core().c.id, sort_by_parameter_order=True
)
_INSERT_ARTICLES = insert(ArticleRow.core()).returning(
    ArticleRow.core().c.id, sort_by_parameter_order=True
)


def _article_values(record: ArticleRecord, story_id: int) -> dict[str, Any]:
    return {
        "url": record.url,
        "url_key": record.url_key,
        "original_url": record.original_url,
        "source_id": record.source_id,
        "guid": record.guid,
        "title": record.title,
        "summary": record.summary,
        "text": record.text,
        "html": record.html,
        "author": record.author,
        "language": record.language,
        "image": record.image,
        "published_at": record.published_at,
        "fetched_at": record.fetched_at,
        "partial": record.partial,
        "extract_note": record.extract_note,
        "content_hash": record.content_hash,
        "fingerprint": record.fingerprint,
        "story_id": story_id,
        "score_components": {},
    }


def insert_articles(
    session: Session, rows: Sequence[tuple[ArticleRecord, int]]
) -> tuple[list[int], dict[int, int]]:
    """Store new articles in three statements (stories, articles, their full-text entries).

    Each row is (record, story id): a stored story's id, or a provisional negative number
    naming a story to create, shared by the rows that join it (the collector groups a
    batch's articles before any of them has an id). Returns the articles' ids in the rows'
    order and the created stories' ids by their provisional numbers.
    """
    if not rows:
        return [], {}
    first_of: dict[int, datetime] = {}  # a created story's date: its first article's
    for record, story in rows:
        if story < 0:
            first_of.setdefault(story, record.fetched_at)
    to_create = list(first_of)
    created: dict[int, int] = {}
    if to_create:
        params = [{"created_at": first_of[s]} for s in to_create]
        ids = session.execute(_INSERT_STORIES, params).scalars().all()
        created = dict(zip(to_create, (int(i) for i in ids), strict=True))
    params = [_article_values(r, created.get(s, s)) for r, s in rows]
    article_ids = [int(i) for i in session.execute(_INSERT_ARTICLES, params).scalars().all()]
    fulltext.index_new(
        session,
        (
            (article_id, r.title, r.summary, r.text, r.index_words)
            for article_id, (r, _) in zip(article_ids, rows, strict=True)
        ),
    )
    return article_ids, created


def insert_article(
    session: Session, record: ArticleRecord, story_id: int | None
) -> tuple[int, int]:
    """Store a new article, in a new story unless one is given; (article id, story id)."""
    ids, created = insert_articles(session, [(record, -1 if story_id is None else story_id)])
    return ids[0], (created[-1] if story_id is None else story_id)


@dataclass(frozen=True)
class Fingerprinted:
    article_id: int
    story_id: int
    source_id: int
    fingerprint: int
    content_hash: str
    host_key: str
    lead: str = ""  # title and start of text: the story index finds candidates by its names
    published_at: datetime | None = None


# The start of a text that holds its first sentence (the lead), for `recent_fingerprints`.
LEAD_CHARS = 400


def recent_fingerprints(session: Session, since: datetime) -> list[Fingerprinted]:
    """Articles fetched since `since`, the candidates a new article may be a copy of."""
    rows = session.execute(
        select(
            ArticleRow.id,
            ArticleRow.story_id,
            ArticleRow.source_id,
            ArticleRow.fingerprint,
            ArticleRow.content_hash,
            ArticleRow.url_key,
            ArticleRow.title,
            func.substr(ArticleRow.text, 1, LEAD_CHARS),
            ArticleRow.published_at,
        ).where(ArticleRow.fetched_at >= since, ArticleRow.fingerprint.is_not(None))
    )
    return [
        Fingerprinted(a, s or 0, src, fp, h or "", key_host(key), f"{t}\n{x}", p)
        for a, s, src, fp, h, key, t, x, p in rows
        if fp is not None
    ]


def titled_texts_of(session: Session, article_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """(title, text) of each article: what story matching compares."""
    if not article_ids:
        return {}
    rows = session.execute(
        select(ArticleRow.id, ArticleRow.title, ArticleRow.text).where(
            ArticleRow.id.in_(article_ids)
        )
    )
    return {int(i): (str(t or ""), str(x or "")) for i, t, x in rows}


def texts_of(session: Session, article_ids: Sequence[int]) -> dict[int, str]:
    if not article_ids:
        return {}
    return dict(
        (int(i), str(t))
        for i, t in session.execute(
            select(ArticleRow.id, ArticleRow.text).where(ArticleRow.id.in_(article_ids))
        )
    )


def story_ids_of(session: Session, article_ids: Sequence[int]) -> list[int]:
    if not article_ids:
        return []
    return sorted(
        {
            int(s)
            for s in session.scalars(
                select(ArticleRow.story_id).where(ArticleRow.id.in_(list(article_ids)))
            )
            if s is not None
        }
    )


def story_source_counts(session: Session, story_ids: Sequence[int]) -> dict[int, int]:
    """Distinct sources per story, counting every source that listed one of its articles."""
    if not story_ids:
        return {}
    rows = session.execute(
        select(ArticleRow.story_id, func.count(func.distinct(ArticleLinkRow.source_id)))
        .join(ArticleLinkRow, ArticleLinkRow.article_id == ArticleRow.id)
        .where(ArticleRow.story_id.in_(list(story_ids)))
        .group_by(ArticleRow.story_id)
    )
    return {int(s): int(n) for s, n in rows if s is not None}


def count_articles(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(ArticleRow)) or 0)


def latest_articles(session: Session, limit: int = 50) -> list[ArticleRow]:
    return list(
        session.scalars(
            select(ArticleRow)
            .options(selectinload(ArticleRow.source), selectinload(ArticleRow.themes))
            .order_by(func.coalesce(ArticleRow.published_at, ArticleRow.fetched_at).desc())
            .limit(limit)
        )
    )


def export_record(
    row: ArticleRow | Row[Any], source_key: str, themes: Sequence[str]
) -> dict[str, Any]:
    """The exported form of one stored article (`veille export`, web exports, the API): an
    ORM row, or a row of `EXPORTED`'s columns (`exported_rows`)."""
    return {
        "id": row.id,
        "url": row.url,
        "title": row.title,
        "source": source_key,
        "published_at": (row.published_at or row.fetched_at).isoformat(),
        "fetched_at": row.fetched_at.isoformat(),
        "themes": list(themes),
        "score": row.score,
        "author": row.author,
        "language": row.language,
        "story_id": row.story_id,
        "partial": row.partial,
        "summary": row.summary,
        "text": row.text,
    }


def iter_export(
    session: Session,
    *,
    theme: str | None = None,
    since: datetime | None = None,
    batch: int = 1000,
) -> Iterator[dict[str, Any]]:
    """Stream articles as plain dicts, oldest first, without loading them all."""
    query = (
        select(ArticleRow, SourceRow.key)
        .join(SourceRow, SourceRow.id == ArticleRow.source_id)
        .order_by(ArticleRow.id)
    )
    if theme:
        query = query.where(
            ArticleRow.id.in_(
                select(ArticleThemeRow.article_id).where(ArticleThemeRow.theme == theme)
            )
        )
    if since:
        query = query.where(func.coalesce(ArticleRow.published_at, ArticleRow.fetched_at) >= since)
    last_id = 0
    while True:
        rows = session.execute(query.where(ArticleRow.id > last_id).limit(batch)).all()
        if not rows:
            return
        ids = [row.id for row, _ in rows]
        themes: dict[int, list[str]] = {}
        for article_id, theme_id in session.execute(
            select(ArticleThemeRow.article_id, ArticleThemeRow.theme)
            .where(ArticleThemeRow.article_id.in_(ids))
            .order_by(ArticleThemeRow.theme)
        ):
            themes.setdefault(article_id, []).append(theme_id)
        for row, source_key in rows:
            yield export_record(row, source_key, themes.get(row.id, []))
        last_id = rows[-1][0].id
        session.expunge_all()


def article(session: Session, article_id: int) -> ArticleRow | None:
    return session.get(ArticleRow, article_id)


def articles_by_id(session: Session, article_ids: Sequence[int]) -> list[ArticleRow]:
    """The rows of these articles, in no particular order."""
    return list(session.scalars(select(ArticleRow).where(ArticleRow.id.in_(list(article_ids)))))


# The columns `export_record` reads, for the JSON API's page and web exports: not the
# article's HTML (the widest column), nor an ORM object per row. Built once, its ids bound.
EXPORTED = select(
    ArticleRow.id,
    ArticleRow.url,
    ArticleRow.title,
    ArticleRow.published_at,
    ArticleRow.fetched_at,
    ArticleRow.score,
    ArticleRow.author,
    ArticleRow.language,
    ArticleRow.story_id,
    ArticleRow.partial,
    ArticleRow.summary,
    ArticleRow.text,
).where(ArticleRow.id.in_(bindparam("ids", expanding=True)))
# What an Atom entry adds to a search hit (`veille.archive.feeds_out.feed_entries`).
FEED_EXTRAS = select(
    ArticleRow.id, ArticleRow.html, ArticleRow.updated_at, ArticleRow.author
).where(ArticleRow.id.in_(bindparam("ids", expanding=True)))


def rows_by_id(session: Session, stmt: Any, article_ids: Sequence[int]) -> dict[int, Row[Any]]:
    """`stmt` (`EXPORTED`, `FEED_EXTRAS`) for these articles, by id."""
    if not article_ids:
        return {}
    return {row.id: row for row in read(session, stmt, {"ids": list(article_ids)})}
