"""« Ajouter un article » in the composer: the archive's search (its full-text syntax,
on-topic articles only, one per story, newest first) plus the articles of the sources whose
name matches, so a delegate finds an article by words of its title or by its source without
knowing any article number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from veille.archive.query import MAX_Q_CHARS, ArchiveQuery
from veille.archive.search import ArticleHit, search_page
from veille.db import sources as source_db
from veille.errors import VeilleError
from veille.frenchformat import day_date
from veille.newsletter.editions import EditionError
from veille.text.french import search_fold

SHOWN = 20


@dataclass(frozen=True)
class Found:
    article_id: int
    title: str
    source_name: str
    published_at: datetime
    date: str  # « 23 novembre 2026 »
    theme: str  # its first theme, the section it would go to ("" if none)
    present: bool  # already in the edition


def find_to_add(session: Session, q: str, present: set[int], limit: int = SHOWN) -> list[Found]:
    """Up to `limit` articles matching `q` by words (title, text) or by source name, newest
    first; a query the archive's search refuses is an EditionError with its French reason."""
    q = " ".join(q.split())
    if not q:
        return []
    if len(q) > MAX_Q_CHARS:
        raise EditionError(f"La recherche est limitée à {MAX_Q_CHARS} caractères.")
    folded = search_fold(q)
    keys = tuple(key for key, name in source_db.names(session) if folded in search_fold(name))
    found: dict[int, ArticleHit] = {}
    try:
        for query in [ArchiveQuery(q=q), *([ArchiveQuery(sources=keys)] if keys else [])]:
            for hit in search_page(session, query, page=1, per_page=limit):
                found.setdefault(hit.id, hit)
    except VeilleError as exc:
        raise EditionError(str(exc)) from exc
    ranked = sorted(found.values(), key=lambda h: (h.published_at, h.id), reverse=True)
    return [
        Found(
            article_id=h.id,
            title=h.title or h.url,
            source_name=h.source_name,
            published_at=h.published_at,
            date=day_date(h.published_at),
            theme=next(iter(h.themes), ""),
            present=h.id in present,
        )
        for h in ranked[:limit]
    ]
