"""The data version moves with every committed write the archive shows, and only then:
not on reads, not on a rolled-back write, not on members' rows (a send's thousands of
delivery updates must not empty the caches while its readers arrive)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, update
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import NOW, populate
from veille.db import data_version
from veille.db.tables import ArticleRow, MemberRow, SourceRow

pytestmark = pytest.mark.postgres  # behaviour depends on the database: CI reruns it on PostgreSQL


def version(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        found = data_version.current(session)
    assert found is not None
    return found.number


def test_watched_writes_bump_once_per_commit(sessions: sessionmaker[Session]) -> None:
    start = version(sessions)
    stored = populate(sessions)  # sources, articles, links, themes: one transaction
    assert version(sessions) == start + 1
    with sessions.begin() as session:  # a Core UPDATE
        session.execute(update(ArticleRow).values(score=1.0))
    assert version(sessions) == start + 2
    with sessions.begin() as session:  # the unit of work
        row = session.get(ArticleRow, stored.ids["lyon"])
        assert row is not None
        row.title = "Nouveau titre"
    assert version(sessions) == start + 3
    with sessions.begin() as session:  # reads only
        session.get(ArticleRow, stored.ids["lyon"])
    assert version(sessions) == start + 3
    with sessions.begin() as session:  # a value set to what it was: no net change
        row = session.get(ArticleRow, stored.ids["lyon"])
        assert row is not None
        row.title = "Nouveau titre"
    assert version(sessions) == start + 3


def test_rolled_back_and_unwatched_writes_do_not_bump(sessions: sessionmaker[Session]) -> None:
    start = version(sessions)
    with pytest.raises(RuntimeError), sessions.begin() as session:
        session.execute(insert(SourceRow.core()).values(key="a", name="A", url="https://a.fr/"))
        raise RuntimeError("abandon")
    with sessions.begin() as session:
        session.add(MemberRow(email="m@x.fr", email_key="m@x.fr", token_salt="s", created_at=NOW))
    assert version(sessions) == start
    with sessions() as session:
        assert data_version.current(session) is not None
