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
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, select, update

from veille.db.due import due_filter, lease_free, soonest_first
from veille.db.schema import SOURCES

if TYPE_CHECKING:  # a cycle of 304s claims, saves and releases without mapping a class
    from sqlalchemy.orm import Session

_S = SOURCES.c

# What a cycle reads of the sources it claims (`collect.worker.SourceState`): a claimed
# source is leased to it, so these stay as read until it saves the source's result.
CLAIMED_COLUMNS = (
    _S.id,
    _S.key,
    _S.url,
    _S.kind,
    _S.selector,
    _S.interval,
    _S.etag,
    _S.last_modified,
    _S.consecutive_failures,
)


def collector_id() -> str:
    """A fresh owner id, `host:pid:random`: unique across machines, pids and cycles, and
    readable in the table when an operator wonders who holds a source."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def claim_due(
    session: Session | Connection,
    owner: str,
    now: datetime,
    lease: timedelta,
    *,
    keys: Sequence[str] | None = None,
    force: bool = False,
    limit: int | None = None,
) -> list[Row[Any]]:
    """Lease to `owner` the due sources (all matching ones with `force`) that no live
    lease holds, at most `limit`, soonest due first; returns the rows it leased, with the
    `CLAIMED_COLUMNS`. On a session or a plain connection (`veille collect`'s claim: no
    ORM imported before its first request)."""
    candidates = soonest_first(due_filter(select(_S.id), now, keys, force).where(lease_free(now)))
    if limit is not None:
        candidates = candidates.limit(limit)
    ids = candidates.with_for_update(skip_locked=True)
    claimed = session.execute(
        update(SOURCES)
        .where(_S.id.in_(ids.scalar_subquery()), lease_free(now))
        .values(lease_owner=owner, lease_until=now + lease)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return []
    return list(
        session.execute(soonest_first(select(*CLAIMED_COLUMNS).where(_S.lease_owner == owner)))
    )


def renew(session: Session, owner: str, now: datetime, lease: timedelta) -> int:
    """Push back the expiry of every lease `owner` still holds; how many it holds."""
    result = session.execute(
        update(SOURCES).where(_S.lease_owner == owner).values(lease_until=now + lease)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def release(session: Session, owner: str, source_ids: Sequence[int] | None = None) -> int:
    """Clear `owner`'s leases on these sources (all of its leases when None): their result
    is stored, or the cycle gives them up. A lease that expired and went to another
    collector is not this owner's any more, and stays."""
    query = update(SOURCES).where(_S.lease_owner == owner)
    if source_ids is not None:
        query = query.where(_S.id.in_(list(source_ids)))
    result = session.execute(query.values(lease_owner=None, lease_until=None))
    return int(result.rowcount)  # type: ignore[attr-defined]
