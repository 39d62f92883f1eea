"""Which feeds.yaml the sources table was last synced from, so a collector that reads the
same file again skips parsing and syncing it.

Parsing feeds.yaml (YAML, then validating every source) and comparing it with the table
was ~20 % of the CPU of a cycle in which every feed answers 304 (500 sources), and all of
a cron `veille collect` with nothing due but the interpreter and its imports; the file
rarely changes between two cycles. The row holds the digest of the bytes (and of the
veille version, whose rules made the table from them) that the last sync wrote. Every sync
writes it: a sync from a file the caller did not digest (the desk, `veille sources list`)
clears it, so the table is never taken for the copy of a file it no longer mirrors.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Integer, String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from veille import __version__
from veille.db.tables import Base, UTCDateTime


class FeedsSyncRow(Base):
    """One row: the digest of the feeds.yaml the sources table mirrors, or None when the
    last sync came from a file nobody digested. Mapped here, beside its only queries
    (`veille/db/__init__.py` imports this module, so the table is in `Base.metadata`)."""

    __tablename__ = "feeds_sync"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str | None] = mapped_column(String(64), nullable=True)
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


def digest_of(raw: bytes) -> str:
    """The digest of a feeds file's bytes, read by this version of veille (a new version
    may read the same bytes into other rows: it syncs once again)."""
    return hashlib.sha256(f"veille {__version__}\n".encode() + raw).hexdigest()


_ROW = FeedsSyncRow.core()


def synced_digest(session: Session) -> str | None:
    """The digest of the file the table was last synced from, if that sync gave one."""
    return session.scalar(select(FeedsSyncRow.digest).where(FeedsSyncRow.id == 1))


def remember(session: Session, digest: str | None, now: datetime) -> None:
    """Record the sync that the session's transaction just made (with it, or not at all).
    Writes only when the digest changes: the scheduler syncs every minute."""
    found = session.execute(select(FeedsSyncRow.digest).where(FeedsSyncRow.id == 1)).first()
    if found is None:
        if digest is not None:
            session.execute(_ROW.insert().values(id=1, digest=digest, synced_at=now))
    elif found[0] != digest:
        session.execute(
            update(FeedsSyncRow).where(FeedsSyncRow.id == 1).values(digest=digest, synced_at=now)
        )
