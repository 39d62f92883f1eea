"""`articles.insert_articles`: a batch of new articles in three statements, with
provisional story numbers shared by the articles that join a story created in the batch,
on the real database (SQLite here; PostgreSQL through the `postgres` mark)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from veille.db import articles as article_db
from veille.db.tables import ArticleRow, SourceRow, StoryRow

NOW = datetime(2026, 12, 7, 5, 0, tzinfo=UTC)


def _record(source_id: int, slug: str, title: str) -> article_db.ArticleRecord:
    return article_db.ArticleRecord(
        url=f"https://ville.example/{slug}",
        url_key=f"ville.example/{slug}",
        original_url=f"https://ville.example/{slug}",
        source_id=source_id,
        guid=None,
        title=title,
        summary="",
        text=f"{title}. La commune publie ses données ouvertes.",
        html="<p>x</p>",
        author=None,
        language="fr",
        image=None,
        published_at=None,
        fetched_at=NOW,
        partial=False,
        extract_note=None,
        content_hash=slug,
        fingerprint=None,
    )


@pytest.mark.postgres
def test_a_batch_keeps_its_order_and_its_shared_stories(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        source = SourceRow(key="ville", name="Ville", url="https://ville.example/")
        session.add(source)
        session.flush()
        first_id, old_story = article_db.insert_article(
            session, _record(source.id, "ancien", "Budget voté"), None
        )
        rows = [
            (_record(source.id, "a", "Portail ouvert"), -1),  # opens a story
            (_record(source.id, "b", "Vélos en libre-service"), -2),  # opens another
            (_record(source.id, "c", "Portail ouvert, suite"), -1),  # joins the first
            (_record(source.id, "d", "Budget voté, détails"), old_story),  # a stored one
        ]
        ids, created = article_db.insert_articles(session, rows)
        assert len(set(ids)) == 4 and first_id not in ids
        assert sorted(created) == [-2, -1] and len(set(created.values())) == 2
        stored = dict(session.execute(select(ArticleRow.url_key, ArticleRow.story_id)).all())
        by_id = dict(session.execute(select(ArticleRow.id, ArticleRow.url_key)).all())
        assert [by_id[i] for i in ids] == [r.url_key for r, _ in rows]  # ids in rows' order
        assert stored["ville.example/a"] == stored["ville.example/c"] == created[-1]
        assert stored["ville.example/b"] == created[-2]
        assert stored["ville.example/d"] == stored["ville.example/ancien"] == old_story
        assert session.scalar(select(StoryRow.id).where(StoryRow.id == created[-2]))
        if session.get_bind().dialect.name == "sqlite":  # the FTS5 entries, by id
            found = session.execute(
                text("SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'velo'")
            ).scalars()
            assert list(found) == [ids[1]]
        assert article_db.insert_articles(session, []) == ([], {})
