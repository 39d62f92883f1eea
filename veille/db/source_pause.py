"""Paused sources: the ones that failed `collect.httpcache.PAUSE_AFTER_FAILURES` times in a
row (the collector sets `paused_at`, `due_sources` skips them) and resuming them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from veille.db.tables import SourceRow


@dataclass(frozen=True)
class PausedSource:
    key: str
    name: str
    url: str
    paused_at: datetime
    consecutive_failures: int
    last_error: str | None


def paused(session: Session) -> list[PausedSource]:
    """Paused sources still in feeds.yaml, oldest pause first (what the desk lists)."""
    rows = session.scalars(
        select(SourceRow)
        .where(SourceRow.paused_at.is_not(None), SourceRow.in_config.is_(True))
        .order_by(SourceRow.paused_at, SourceRow.key)
    )
    return [
        PausedSource(
            key=r.key,
            name=r.name,
            url=r.url,
            paused_at=r.paused_at,  # type: ignore[arg-type]  # not None: filtered above
            consecutive_failures=r.consecutive_failures,
            last_error=r.last_error,
        )
        for r in rows
    ]


def resume(session: Session, key: str, now: datetime) -> bool | None:
    """Make a paused source due now with a clean failure count. True when it was paused,
    False when it was not, None when no source has that key."""
    row = session.scalar(select(SourceRow).where(SourceRow.key == key))
    if row is None:
        return None
    was_paused = row.paused_at is not None
    row.paused_at = None
    row.consecutive_failures = 0
    row.next_fetch_at = now
    return was_paused
