"""Queries on bounce events. The rules (which event changes which status) live in
`veille.members.bounces`; this module only reads and writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from veille.db.tables import BounceRow, DeliveryRow, EditionRow

KINDS = ("hard", "soft", "complaint")


def add(
    session: Session,
    *,
    member_id: int,
    delivery_id: int | None,
    kind: str,
    source: str,
    status_code: str | None,
    diagnostic: str,
    at: datetime,
    report_key: str | None = None,
) -> BounceRow:
    if kind not in KINDS:
        raise ValueError(f"unknown bounce kind {kind!r}")
    row = BounceRow(
        member_id=member_id,
        delivery_id=delivery_id,
        kind=kind,
        source=source,
        status_code=(status_code or None) and status_code[:16],
        diagnostic=diagnostic[:2000],
        received_at=at,
        report_key=report_key or None,
    )
    session.add(row)
    session.flush()
    return row


def delivery_of(session: Session, edition_number: int, member_id: int) -> DeliveryRow | None:
    """The delivery a VERP token names (None when the edition or the row is gone)."""
    return session.scalar(
        select(DeliveryRow)
        .join(EditionRow, EditionRow.id == DeliveryRow.edition_id)
        .where(EditionRow.number == edition_number, DeliveryRow.member_id == member_id)
    )


def exists(session: Session, delivery_id: int | None, kind: str, status_code: str | None) -> bool:
    """Already recorded: the same report read twice, or a repeated delay warning."""
    if delivery_id is None:
        return False
    query = select(BounceRow.id).where(BounceRow.delivery_id == delivery_id, BounceRow.kind == kind)
    if status_code:
        query = query.where(BounceRow.status_code == status_code[:16])
    return session.scalar(query.limit(1)) is not None


def report_seen(session: Session, member_id: int, report_key: str) -> bool:
    """This very report mail was applied already (read again after a crash)."""
    query = select(BounceRow.id).where(
        BounceRow.member_id == member_id, BounceRow.report_key == report_key
    )
    return session.scalar(query.limit(1)) is not None


def count_since(session: Session, member_id: int, kind: str, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                BounceRow.member_id == member_id,
                BounceRow.kind == kind,
                BounceRow.received_at >= since,
            )
        )
        or 0
    )


def of_member(session: Session, member_id: int) -> list[BounceRow]:
    return list(
        session.scalars(
            select(BounceRow)
            .where(BounceRow.member_id == member_id)
            .order_by(BounceRow.received_at, BounceRow.id)
        )
    )


def latest_kinds(session: Session, member_ids: Sequence[int]) -> dict[int, str]:
    """The kind of each member's latest bounce event (the reason shown beside a status)."""
    if not member_ids:
        return {}
    latest = (
        select(BounceRow.member_id, func.max(BounceRow.id).label("last"))
        .where(BounceRow.member_id.in_(list(member_ids)))
        .group_by(BounceRow.member_id)
        .subquery()
    )
    rows = session.execute(
        select(BounceRow.member_id, BounceRow.kind).join(latest, BounceRow.id == latest.c.last)
    )
    return {int(member_id): str(kind) for member_id, kind in rows}


def edition_counts(session: Session, edition_id: int) -> dict[str, int]:
    """Deliveries of an edition that came back, by kind (each delivery counted once)."""
    counts = {"bounced": 0, "soft_bounces": 0, "complaints": 0}
    names = {"hard": "bounced", "soft": "soft_bounces", "complaint": "complaints"}
    for kind, count in session.execute(
        select(BounceRow.kind, func.count(func.distinct(BounceRow.delivery_id)))
        .join(DeliveryRow, DeliveryRow.id == BounceRow.delivery_id)
        .where(DeliveryRow.edition_id == edition_id)
        .group_by(BounceRow.kind)
    ):
        counts[names[str(kind)]] = int(count)
    return counts


def delete_of_members(session: Session, member_ids: Sequence[int]) -> None:
    if member_ids:
        session.execute(delete(BounceRow).where(BounceRow.member_id.in_(list(member_ids))))
