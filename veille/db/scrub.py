"""After an erasure, leave no copy of the erased rows in the database files.

With `secure_delete=ON` (set on every SQLite connection by `engine._sqlite_pragmas`) SQLite
overwrites deleted cells and freed pages with zeros, but in WAL mode the pages as they were
before the delete still sit in the `-wal` file (and the main file keeps its old copy until a
checkpoint). `PRAGMA wal_checkpoint(TRUNCATE)` copies the zeroed pages into the main file
and empties the `-wal` file. PostgreSQL keeps dead tuples until VACUUM: see
docs/operations.md (« Effacement »); nothing is done here for it.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)


def checkpoint(engine: Engine) -> bool:
    """Fold the WAL into the database file and truncate it; True when it fully did.

    Not inside a transaction: call it after the erasing transaction committed. A reader
    still running elsewhere can keep the checkpoint from completing (SQLite answers busy);
    that is logged and the next checkpoint (SQLite's own, or the next erasure) finishes it.
    """
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as conn:
        busy, _frames, _moved = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    if busy:
        log.warning("WAL checkpoint after an erasure was blocked by a reader; it will finish later")
    return not busy


def checkpoint_sessions(sessions: sessionmaker[Session]) -> bool:
    """`checkpoint` for the engine behind a session factory (what the web and jobs hold)."""
    engine = sessions.kw.get("bind")
    if not isinstance(engine, Engine):
        return True
    return checkpoint(engine)
