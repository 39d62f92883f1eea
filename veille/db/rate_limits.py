"""Attempt counters in the database, so that a rate limit holds across web processes and
machines (`veille.web.ratelimit.SharedRateLimiter` reads them as a sliding window).

Each attempt adds one to the row of its (scope, key, time bucket): an upsert (`INSERT … ON
CONFLICT DO UPDATE`, the same on PostgreSQL and SQLite), so concurrent attempts from any
process add up. Keys are stored hashed: the table holds counts, not who asked. Rows older
than the longest window are purged as attempts come in (`purge`).

Counting then adding is only a limit if no other attempt on the same key slips in between:
`exclusive` makes the transaction that does both the only one doing it for its keys — a
transaction-scoped advisory lock per (scope, key) on PostgreSQL (other keys go on in
parallel), the database's write lock on SQLite (`BEGIN IMMEDIATE`: the next counter waits
for the commit, and reads the count it made).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Index, Integer, String, delete, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from veille.db.schema import UTCDateTime
from veille.db.tables import Base
from veille.db.upsert import conflict_insert


class RateHitRow(Base):
    """Attempts counted against a hashed key in one time bucket. Mapped here, beside the
    only queries that use it (`db/tables.py` imports this module at its end, so the table
    is in `Base.metadata` whatever imports `db.tables` first)."""

    __tablename__ = "rate_hits"

    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_rate_hits_bucket", "bucket"),)


RATE_SPACE = 0x76657274  # "vert": the advisory-lock namespace of rate counters


def exclusive(session: Session, keys: Sequence[tuple[str, str]]) -> None:
    """Hold, until the session's transaction ends, the right to count and add on these
    (scope, key) pairs. The first statement of a transaction: on SQLite it opens it."""
    if session.get_bind().dialect.name == "postgresql":
        # Sorted, so two transactions locking overlapping keys never wait on each other.
        for name in sorted({f"{scope}\n{hashed(key)}" for scope, key in keys}):
            session.execute(
                text("SELECT pg_advisory_xact_lock(:space, hashtext(:name))"),
                {"space": RATE_SPACE, "name": name},
            )
    else:
        # pysqlite begins a transaction only before a write, after the count would be read:
        # this begins it first, with the write lock (busy_timeout waits for a holder).
        session.execute(text("BEGIN IMMEDIATE"))


def hashed(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


def bucket_start(now: datetime, width: float) -> datetime:
    return datetime.fromtimestamp(now.timestamp() // width * width, UTC)


def add(session: Session, scope: str, keys: Sequence[str], now: datetime, width: float) -> None:
    """Count one attempt against each key, in the bucket (`width` seconds) holding `now`."""
    if not keys:
        return
    rows = [
        {"scope": scope, "key": hashed(k), "bucket": bucket_start(now, width), "count": 1}
        for k in dict.fromkeys(keys)
    ]
    stmt = conflict_insert(session, RateHitRow).values(rows)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["scope", "key", "bucket"],
            set_={"count": RateHitRow.count + stmt.excluded["count"]},
        )
    )


def buckets(session: Session, scope: str, key: str, since: datetime) -> list[tuple[datetime, int]]:
    """(bucket start, attempts) of the key's buckets that started after `since`, oldest
    first."""
    return [
        (start, int(count))
        for start, count in session.execute(
            select(RateHitRow.bucket, RateHitRow.count)
            .where(
                RateHitRow.scope == scope,
                RateHitRow.key == hashed(key),
                RateHitRow.bucket > since,
            )
            .order_by(RateHitRow.bucket)
        )
    ]


def take_back(session: Session, scope: str, key: str, at: datetime, width: float) -> None:
    """Uncount one attempt counted at `at` (a reserved try that turned out right)."""
    session.execute(
        update(RateHitRow)
        .where(
            RateHitRow.scope == scope,
            RateHitRow.key == hashed(key),
            RateHitRow.bucket == bucket_start(at, width),
            RateHitRow.count > 0,
        )
        .values(count=RateHitRow.count - 1)
    )


def reset(session: Session, scope: str, key: str) -> None:
    session.execute(
        delete(RateHitRow).where(RateHitRow.scope == scope, RateHitRow.key == hashed(key))
    )


def purge(session: Session, scope: str, before: datetime) -> int:
    """Delete the scope's buckets that started before `before` (its window is past them)."""
    result = session.execute(
        delete(RateHitRow).where(RateHitRow.scope == scope, RateHitRow.bucket < before)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
