"""Queries of the retention rules: members to ask again (3-year rule) or to erase, and the
audit row an automatic erasure leaves. The rules themselves live in
`veille.members.reconsent`; this module only reads and writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from veille.db.tables import AuditRow, MemberRow

# `alerts`: an address confirmed for alerts only is personal data kept on a consent too.
SUBSCRIBED = ("active", "paused", "alerts")


def _last_sign_of_life() -> Any:
    return func.coalesce(MemberRow.last_activity_at, MemberRow.consent_at, MemberRow.created_at)


def to_ask(session: Session, silent_before: datetime, limit: int = 500) -> list[int]:
    """Subscribed members silent since before `silent_before` and not asked yet."""
    return list(
        session.scalars(
            select(MemberRow.id)
            .where(
                MemberRow.status.in_(SUBSCRIBED),
                MemberRow.reconsent_asked_at.is_(None),
                _last_sign_of_life() < silent_before,
            )
            .order_by(MemberRow.id)
            .limit(limit)
        )
    )


def to_erase(session: Session, asked_before: datetime) -> list[int]:
    """Subscribed members asked before `asked_before` who never answered (any action of
    theirs clears `reconsent_asked_at`)."""
    return list(
        session.scalars(
            select(MemberRow.id)
            .where(
                MemberRow.status.in_(SUBSCRIBED),
                MemberRow.reconsent_asked_at.is_not(None),
                MemberRow.reconsent_asked_at < asked_before,
            )
            .order_by(MemberRow.id)
        )
    )


def audit_erasure(session: Session, at: datetime, count: int) -> None:
    """One audit row per run, with no personal data: neither address nor member id (an id
    would point into old backups), only how many were erased and why."""
    session.add(
        AuditRow(
            at=at,
            actor="scheduler",
            action="members_erased_no_reconsent",
            object_type="member",
            object_id="-",
            detail={"count": count, "reason": "no answer to the re-consent mail within 30 days"},
        )
    )


def erasures_audited(session: Session) -> list[AuditRow]:
    return list(
        session.scalars(
            select(AuditRow)
            .where(AuditRow.action == "members_erased_no_reconsent")
            .order_by(AuditRow.at, AuditRow.id)
        )
    )
