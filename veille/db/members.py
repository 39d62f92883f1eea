"""Queries on members and their event trail. The rules (who may move to which status,
what an import may change) live in `veille.members`; this module only reads and writes."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.orm import Session

from veille.db import alerts as alert_db
from veille.db import bounces as bounce_db
from veille.db.tables import MemberEventRow, MemberRow, MemberSessionRow

# bounced / complained: the address refused our mail or its owner reported it as spam
# (veille.members.bounces); only a new confirmation makes such a member active again.
# alerts: the address was confirmed through an alert (`veille.members.alerts`) and gets
# its alerts, not the newsletter (its owner never asked for it).
STATUSES = (
    "pending",
    "active",
    "paused",
    "unsubscribed",
    "bounced",
    "complained",
    "alerts",
)


def email_key(email: str) -> str:
    return email.strip().lower()


def new_salt() -> str:
    return secrets.token_hex(8)


def by_email(session: Session, email: str) -> MemberRow | None:
    return session.scalar(select(MemberRow).where(MemberRow.email_key == email_key(email)))


def by_id(session: Session, member_id: int) -> MemberRow | None:
    return session.get(MemberRow, member_id)


def add_event(
    session: Session,
    member: MemberRow,
    kind: str,
    at: datetime,
    detail: Mapping[str, Any] | None = None,
) -> None:
    if member.id is None:
        session.flush()
    session.add(MemberEventRow(member_id=member.id, kind=kind, at=at, detail=dict(detail or {})))


def events_of(session: Session, member_id: int) -> list[MemberEventRow]:
    return list(
        session.scalars(
            select(MemberEventRow)
            .where(MemberEventRow.member_id == member_id)
            .order_by(MemberEventRow.at, MemberEventRow.id)
        )
    )


@contextmanager
def bulk_lookups(session: Session) -> Iterator[None]:
    """For an import: make PostgreSQL look members up through the unique index.

    Within one import transaction the planner keeps the statistics of the table as it was
    (empty, for a first import), so it scans the whole growing table for every batch:
    quadratic, 124 s for 100,000 lines instead of ~10 s. Only index lookups, inserts and
    updates by id run under this setting."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SET LOCAL enable_seqscan = off"))
    try:
        yield
    finally:
        if postgres:
            session.execute(text("RESET enable_seqscan"))


def existing_by_key(session: Session, keys: Sequence[str]) -> dict[str, MemberRow]:
    if not keys:
        return {}
    rows = session.scalars(select(MemberRow).where(MemberRow.email_key.in_(list(keys))))
    return {row.email_key: row for row in rows}


def insert_many(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Plain multi-row insert (no ORM identity work): the import path of 100,000 lines."""
    if rows:
        session.execute(insert(MemberRow), [dict(r) for r in rows])


def update_many(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Bulk update by primary key; each mapping carries `id` and the changed columns."""
    if rows:
        session.execute(update(MemberRow), [dict(r) for r in rows])


@dataclass(frozen=True)
class MemberPage:
    items: list[MemberRow]
    total: int


def search(
    session: Session,
    *,
    text: str = "",
    status: str | None = None,
    inactive_before: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> MemberPage:
    """Members matching a text (email, name or organisation) and a status, newest first;
    `inactive_before` keeps those with no activity since then (re-consent candidates)."""
    query = select(MemberRow)
    if text.strip():
        like = f"%{text.strip().lower()}%"
        query = query.where(
            or_(
                MemberRow.email_key.like(like),
                func.lower(MemberRow.name).like(like),
                func.lower(MemberRow.organisation).like(like),
            )
        )
    if status:
        query = query.where(MemberRow.status == status)
    if inactive_before is not None:
        query = query.where(
            MemberRow.status.in_(("active", "paused")),
            func.coalesce(MemberRow.last_activity_at, MemberRow.consent_at, MemberRow.created_at)
            < inactive_before,
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(
        query.order_by(MemberRow.created_at.desc(), MemberRow.id.desc()).limit(limit).offset(offset)
    )
    return MemberPage(items=list(items), total=int(total))


def counts_by_status(session: Session) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in session.execute(
        select(MemberRow.status, func.count()).group_by(MemberRow.status)
    ):
        counts[str(status)] = int(count)
    return counts


def iter_all(session: Session, batch: int = 1000) -> Iterator[MemberRow]:
    """Every member by id, read in keyset batches so a large list is never all in memory."""
    last = 0
    while True:
        rows = list(
            session.scalars(
                select(MemberRow).where(MemberRow.id > last).order_by(MemberRow.id).limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        session.expunge_all()


def delete_member(session: Session, member: MemberRow) -> None:
    session.execute(delete(MemberEventRow).where(MemberEventRow.member_id == member.id))
    session.execute(delete(MemberSessionRow).where(MemberSessionRow.member_id == member.id))
    bounce_db.delete_of_members(session, [member.id])
    alert_db.delete_of_members(session, [member.id])
    session.delete(member)


def purge_pending(session: Session, created_before: datetime) -> int:
    """Delete subscriptions never confirmed since before the given time."""
    ids = list(
        session.scalars(
            select(MemberRow.id).where(
                MemberRow.status == "pending", MemberRow.created_at < created_before
            )
        )
    )
    if ids:
        session.execute(delete(MemberEventRow).where(MemberEventRow.member_id.in_(ids)))
        bounce_db.delete_of_members(session, ids)
        alert_db.delete_of_members(session, ids)
        session.execute(delete(MemberRow).where(MemberRow.id.in_(ids)))
    return len(ids)
