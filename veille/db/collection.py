"""Queries of the collection cycle's own bookkeeping: the source rows of a batch, a
source's failure, the cycle's summary. The orchestrator (`collect/pipeline.py`) owns the
transactions; these only run in them.

A cycle in which every feed answered 304 only records itself here (`record_cycle`, Core on
`schema.CYCLES`): the mapped classes come with the first changed listing or failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import insert, select

from veille.db.schema import CYCLES

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from veille.db.tables import SourceRow


def load_source_rows(session: Session, source_ids: Sequence[int]) -> Sequence[SourceRow]:
    """The rows of a batch of sources in one query, so that the store step's `session.get`
    finds them in the identity map. The map holds weak references: the caller keeps the
    returned rows until the commit."""
    from veille.db.tables import SourceRow

    return session.scalars(select(SourceRow).where(SourceRow.id.in_(source_ids))).all()


def record_source_failure(session: Session, source_id: int, error: str, now: datetime) -> None:
    """Mark a source failed without touching its validators, so the next cycle fetches it
    in full; it is due again after its interval."""
    from veille.db.tables import SourceRow

    row = session.get(SourceRow, source_id)
    if row is not None:
        row.last_status = "error"
        row.last_error = error
        row.last_fetched_at = now
        row.consecutive_failures += 1
        row.next_fetch_at = now + timedelta(minutes=row.interval)


def record_cycle(
    session: Session, started_at: datetime, finished_at: datetime, summary: dict[str, object]
) -> None:
    """Keep the cycle's figures for `veille sources list` and operations (logs rotate)."""
    session.execute(
        insert(CYCLES).values(started_at=started_at, finished_at=finished_at, summary=summary)
    )
