"""Which sources are due: the rule the claim (`db.leases`) and the nothing-due check
(`collect.due`) share, written on the Core table (`schema.SOURCES`) so that the check runs
on a plain connection, without importing the ORM (`db/schema.py` says why).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Connection, Select, func, select

from veille.db.schema import SOURCES

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_S = SOURCES.c


def due_filter(
    query: Select[Any], now: datetime, keys: Sequence[str] | None, force: bool
) -> Select[Any]:
    """Enabled sources of the config whose next fetch time has come (all of them with
    `force`, the listed ones with `keys`); a paused source is never due, whatever asks
    (see `db.source_pause`)."""
    query = query.where(_S.enabled.is_(True), _S.in_config.is_(True), _S.paused_at.is_(None))
    if keys:
        return query.where(_S.key.in_(keys))
    if not force:
        return query.where(_S.next_fetch_at.is_(None) | (_S.next_fetch_at <= now))
    return query


def lease_free(now: datetime) -> ColumnElement[bool]:
    """No live lease holds the source: none, or one that expired (a dead collector's)."""
    return _S.lease_until.is_(None) | (_S.lease_until < now)


def soonest_first(query: Select[Any]) -> Select[Any]:
    """Due sources in the order a collector takes them: soonest due first, then by id."""
    return query.order_by(_S.next_fetch_at, _S.id)


def count_due(
    bind: Session | Connection,
    now: datetime,
    *,
    keys: Sequence[str] | None = None,
    force: bool = False,
) -> int:
    """How many due sources no other collector holds (what a claim could take), without
    loading a row: a tick whose due sources are all leased elsewhere stays cheap."""
    return int(bind.scalar(count_due_query(now, keys, force)) or 0)


def count_due_query(now: datetime, keys: Sequence[str] | None, force: bool) -> Select[Any]:
    """The COUNT of `count_due`; `db/quick_due.py` holds its SQLite compilation for cron's
    nothing-due check (tests/test_quick_due.py compares the two)."""
    return due_filter(select(func.count()).select_from(SOURCES), now, keys, force).where(
        lease_free(now)
    )
