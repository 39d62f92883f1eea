"""Which feeds.yaml the sources table was last synced from, so a collector that reads the
same file again skips parsing and syncing it.

Parsing feeds.yaml (YAML, then validating every source) and comparing it with the table
was ~20 % of the CPU of a cycle in which every feed answers 304 (500 sources), and all of
a cron `veille collect` with nothing due but the interpreter and its imports; the file
rarely changes between two cycles. The row holds the digest of the bytes (and of the
veille version, whose rules made the table from them: `configfile.digest_of`) that the
last sync wrote. Every sync writes it: a sync from a file the caller did not digest (the
desk, `veille sources list`) clears it, so the table is never taken for the copy of a file
it no longer mirrors.
The table is `schema.FEEDS_SYNC`, read and written here with Core only (cron's nothing-due
check on SQLite reads it through `db/quick_due.py`, its compiled copy).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select, update

from veille.db.schema import FEEDS_SYNC

if TYPE_CHECKING:  # the ORM is not imported by a nothing-due check (`db/schema.py`)
    from sqlalchemy.orm import Session


_DIGEST = select(FEEDS_SYNC.c.digest).where(FEEDS_SYNC.c.id == 1)


def synced_digest(bind: Session | Connection) -> str | None:
    """The digest of the file the table was last synced from, if that sync gave one: on a
    session, or on a plain connection (`collect.due.due_if_synced`, which imports no ORM)."""
    return bind.scalar(_DIGEST)


def remember(session: Session, digest: str | None, now: datetime) -> None:
    """Record the sync that the session's transaction just made (with it, or not at all).
    Writes only when the digest changes: the scheduler syncs every minute."""
    found = session.execute(_DIGEST).first()
    if found is None:
        if digest is not None:
            session.execute(FEEDS_SYNC.insert().values(id=1, digest=digest, synced_at=now))
    elif found[0] != digest:
        session.execute(
            update(FEEDS_SYNC).where(FEEDS_SYNC.c.id == 1).values(digest=digest, synced_at=now)
        )
