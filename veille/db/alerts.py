"""Queries on members' alerts. The rules (who may create, confirm or receive one) live in
`veille.members.alerts`, the sending in `veille.newsletter.alerts`; this module only reads
and writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from veille.db.schema import UTCDateTime, utcnow
from veille.db.tables import ArticleRow, Base, MemberRow

# Members whose confirmed alerts are mailed: subscribed and not suspended (`paused`), or
# confirmed for alerts only. Bounced, complained and unsubscribed members get none.
RECEIVING = ("active", "alerts")


class AlertRow(Base):
    """A member's saved archive filter, mailed when new articles match it.

    `filter` is the canonical query string the archive's own parser reads back
    (`veille.archive.alert_filter`). `last_article_id` is the watermark: the largest
    article id the alert has already been run over, so each run mails the matches above
    it; it moves in the same commit as `last_run_at`, after the SMTP server accepted the
    mail. `token_salt` signs the alert's own links (confirm, one-click unsubscribe), so
    deleting the alert kills them. Erased with the member."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    filter: Mapped[str] = mapped_column(String(2000))
    frequency: Mapped[str] = mapped_column(String(8))  # daily | weekly
    token_salt: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_article_id: Mapped[int] = mapped_column(Integer, default=0)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    sent_count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_alerts_member_id", "member_id"),)


def by_id(session: Session, alert_id: int) -> AlertRow | None:
    return session.get(AlertRow, alert_id)


def of_member(session: Session, member_id: int) -> list[AlertRow]:
    return list(
        session.scalars(
            select(AlertRow).where(AlertRow.member_id == member_id).order_by(AlertRow.id)
        )
    )


def by_member(session: Session) -> dict[int, list[AlertRow]]:
    """Every alert, by member id (the members' export)."""
    found: dict[int, list[AlertRow]] = {}
    for alert in session.scalars(select(AlertRow).order_by(AlertRow.member_id, AlertRow.id)):
        found.setdefault(alert.member_id, []).append(alert)
    return found


def latest_article_id(session: Session) -> int:
    """The watermark a new alert starts from: it mails only what is collected after it."""
    return int(session.scalar(select(func.max(ArticleRow.id))) or 0)


def sendable(session: Session, frequency: str) -> list[tuple[int, datetime | None]]:
    """(alert id, last run) of the confirmed, running alerts of `frequency` whose member
    receives alerts, oldest first."""
    rows = session.execute(
        select(AlertRow.id, AlertRow.last_run_at)
        .join(MemberRow, MemberRow.id == AlertRow.member_id)
        .where(
            AlertRow.frequency == frequency,
            AlertRow.confirmed_at.is_not(None),
            AlertRow.paused_at.is_(None),
            MemberRow.status.in_(RECEIVING),
        )
        .order_by(AlertRow.id)
    )
    return [(int(i), at) for i, at in rows]


def delete_of_members(session: Session, member_ids: Sequence[int]) -> None:
    if member_ids:
        session.execute(delete(AlertRow).where(AlertRow.member_id.in_(list(member_ids))))


def purge_unconfirmed(session: Session, created_before: datetime) -> int:
    """Delete alerts never confirmed since before the given time (their links expired)."""
    ids = list(
        session.scalars(
            select(AlertRow.id).where(
                AlertRow.confirmed_at.is_(None), AlertRow.created_at < created_before
            )
        )
    )
    if ids:
        session.execute(delete(AlertRow).where(AlertRow.id.in_(ids)))
    return len(ids)
