"""Leases on due sources: how several collectors (processes, machines) on one database share
the work without a coordinator of their own.

A collector *claims* the due sources nobody holds: one statement writes its owner id and
a lease expiry on them, and only the rows it changed are its. PostgreSQL picks them with
`FOR UPDATE SKIP LOCKED` (a row another collector is claiming at that instant is skipped,
not waited for) and the outer `WHERE` checks the lease again, so two claims never both win
a row; SQLite runs one writer at a time, and the same conditional `UPDATE` is its
guarantee. The owner renews its leases while its cycle runs and clears each one in the
transaction that stores the source's result (`release`). A collector that dies renews
nothing: its sources are free again when their lease expires, and the next claim takes them.

Plain queries with the clock passed in: the cycle decides nothing here, it asks for its
claim (`collect.pipeline.Cycle.start`).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from veille.db.sources import due_query
from veille.db.tables import SourceRow


def collector_id() -> str:
    """A fresh owner id, `host:pid:random`: unique across machines, pids and cycles, and
    readable in the table when an operator wonders who holds a source."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _free(now: datetime) -> ColumnElement[bool]:
    return or_(SourceRow.lease_until.is_(None), SourceRow.lease_until < now)


def claim_due(
    session: Session,
    owner: str,
    now: datetime,
    lease: timedelta,
    *,
    keys: Sequence[str] | None = None,
    force: bool = False,
    limit: int | None = None,
) -> list[SourceRow]:
    """Lease to `owner` the due sources (all matching ones with `force`) that no live
    lease holds, at most `limit`, soonest due first; returns the rows it leased."""
    candidates = due_query(now, keys=keys, force=force).where(_free(now))
    if limit is not None:
        candidates = candidates.limit(limit)
    ids = candidates.with_only_columns(SourceRow.id).with_for_update(skip_locked=True)
    claimed = session.execute(
        update(SourceRow)
        .where(SourceRow.id.in_(ids.scalar_subquery()), _free(now))
        .values(lease_owner=owner, lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return []
    return list(
        session.scalars(
            select(SourceRow)
            .where(SourceRow.lease_owner == owner)
            .order_by(SourceRow.next_fetch_at, SourceRow.id)
            .execution_options(populate_existing=True)
        )
    )


def renew(session: Session, owner: str, now: datetime, lease: timedelta) -> int:
    """Push back the expiry of every lease `owner` still holds; how many it holds."""
    result = session.execute(
        update(SourceRow)
        .where(SourceRow.lease_owner == owner)
        .values(lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def release(session: Session, owner: str, source_ids: Sequence[int] | None = None) -> int:
    """Clear `owner`'s leases on these sources (all of its leases when None): their result
    is stored, or the cycle gives them up. A lease that expired and went to another
    collector is not this owner's any more, and stays."""
    query = update(SourceRow).where(SourceRow.lease_owner == owner)
    if source_ids is not None:
        query = query.where(SourceRow.id.in_(list(source_ids)))
    result = session.execute(
        query.values(lease_owner=None, lease_until=None).execution_options(
            synchronize_session=False
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
