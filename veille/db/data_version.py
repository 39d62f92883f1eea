"""The data version: one counter that moves whenever something the public archive shows
changes, so the web can answer `304 Not Modified` and reuse rendered answers until then.

The archive only changes when a collection cycle stores (articles, sources' health,
stories), the delegate decides (curations, labels, themes) or an edition moves (composed,
sent). Rather than asking each of those writers to remember a bump — and every future one
too — `watch(factory)` listens on the sessions a `sessionmaker` makes: any INSERT, UPDATE
or DELETE on a `WATCHED` table, through the unit of work or a Core statement, marks the
session, and its commit bumps the counter in the same transaction. A rolled-back write
bumps nothing. Writes the archive never shows (members, deliveries, desk sessions, the
audit log) are not watched, so the thousands of delivery updates of a send do not empty
the caches while its readers arrive.

Reading it is one primary-key SELECT (`current`). A database without the row (not yet
migrated) gives None, and the web then simply serves without caching.
"""

from __future__ import annotations

import itertools
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event, inspect, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from veille.db import reads
from veille.db.schema import DATA_VERSION

WATCHED = frozenset(
    {
        "sources",
        "stories",
        "articles",
        "article_links",
        "article_themes",
        "model_versions",
        "editor_labels",
        "curations",
        "editions",
        "edition_items",
    }
)
_FLAG = "veille_data_changed"
_MIGRATED: weakref.WeakSet[Any] = weakref.WeakSet()  # engines whose database has the table


@dataclass(frozen=True)
class DataVersion:
    number: int
    changed_at: datetime


_V = DATA_VERSION.c
_CURRENT = select(_V.version, _V.changed_at).where(_V.id == 1)


def current(session: Session) -> DataVersion | None:
    """The version now, or None when the table or its row is missing."""
    try:
        row = reads.read(session, _CURRENT).first()  # a listing asks it up to three times
    except SQLAlchemyError:
        session.rollback()
        return None
    return DataVersion(int(row[0]), row[1]) if row is not None else None


def read(engine: Engine) -> DataVersion | None:
    """`current` on a bare pooled connection: no Session to build, as the web asks it on
    every request of the public archive."""
    try:
        with engine.connect() as conn:
            row = conn.execute(_CURRENT).first()
    except SQLAlchemyError:
        return None
    return DataVersion(int(row[0]), row[1]) if row is not None else None


def bump(session: Session) -> None:
    """Move the version on, in the session's transaction (explicit writers, e.g. a bulk
    load through raw connections, call it; sessions from a watched factory need not)."""
    session.execute(
        update(DATA_VERSION)
        .where(_V.id == 1)
        .values(version=_V.version + 1, changed_at=datetime.now(UTC))
    )


def _table_name(statement: Any) -> str | None:
    table = getattr(statement, "table", None)
    return getattr(table, "name", None)


def _on_execute(state: ORMExecuteState) -> None:
    writes = state.is_insert or state.is_update or state.is_delete
    if writes and _table_name(state.statement) in WATCHED:
        state.session.info[_FLAG] = True


def _on_flush(session: Session, _context: Any) -> None:
    # `dirty` holds every object an attribute was set on, even to its old value (the
    # collection's source sync rewrites each row every tick): only net changes count.
    # Once marked, nothing is left to learn: a collection's transaction flushes hundreds
    # of times, and testing each dirty object every time cost more than the flushes.
    if session.info.get(_FLAG):
        return
    changed = itertools.chain(
        session.new,
        session.deleted,
        (obj for obj in session.dirty if session.is_modified(obj)),
    )
    if any(getattr(obj, "__tablename__", None) in WATCHED for obj in changed):
        session.info[_FLAG] = True


def _has_table(session: Session) -> bool:
    """Whether the database is migrated this far (a database at an older revision, being
    upgraded step by step, has no counter yet). Asked until the answer is yes, then known."""
    engine = session.get_bind()
    if engine in _MIGRATED:
        return True
    if inspect(session.connection()).has_table(DATA_VERSION.name):
        _MIGRATED.add(engine)
        return True
    return False


def _before_commit(session: Session) -> None:
    session.flush()  # the commit's own flush comes after this event: see its writes now
    if session.info.pop(_FLAG, False) and _has_table(session):
        bump(session)


def _forget(session: Session, *_args: Any) -> None:
    session.info.pop(_FLAG, None)


def watch(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Make every session of `factory` bump the version when it commits a watched write."""
    event.listen(factory, "do_orm_execute", _on_execute)
    event.listen(factory, "after_flush", _on_flush)
    event.listen(factory, "before_commit", _before_commit)
    event.listen(factory, "after_rollback", _forget)
    return factory
