"""`veille.db.reads.read`: the archive's reads on the session's connection keep what the
ORM's execution gave them — the same typed rows, the session's transaction, and a flush of
the session's pending changes first when it autoflushes."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from veille.db.reads import read
from veille.db.tables import SourceRow

pytestmark = pytest.mark.postgres  # the connection and its transaction are the driver's

_SOURCES = select(SourceRow.id, SourceRow.key, SourceRow.name, SourceRow.created_at).order_by(
    SourceRow.key
)


def _add(session: Session, key: str) -> None:
    session.add(SourceRow(key=key, name=key.upper(), url=f"https://{key}.example/"))


def test_read_gives_the_rows_the_session_gives(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        _add(session, "alpha")
        _add(session, "beta")
    with sessions() as session:
        through_orm = session.execute(_SOURCES).all()
        assert [tuple(r) for r in read(session, _SOURCES)] == [tuple(r) for r in through_orm]
        assert [r.key for r in read(session, _SOURCES.where(SourceRow.key == "beta"))] == ["beta"]
        assert through_orm[0].created_at.tzinfo is not None  # the column's own type, kept


def test_read_sees_what_the_session_has_not_flushed_yet(sessions: sessionmaker[Session]) -> None:
    """A read after `session.add` sees the row, as `Session.execute` would (autoflush);
    under `no_autoflush` it does not flush, as `Session.execute` would not."""
    with sessions() as session:
        _add(session, "pending")
        assert [r.key for r in read(session, _SOURCES)] == ["pending"]
        with session.no_autoflush:
            _add(session, "later")
            assert [r.key for r in read(session, _SOURCES)] == ["pending"]
        assert [r.key for r in read(session, _SOURCES)] == ["later", "pending"]
        session.rollback()
    with sessions() as session:
        assert read(session, _SOURCES).all() == []
