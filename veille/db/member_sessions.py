"""Queries on members' archive sessions (`member_sessions`). Only digests are stored: the
web layer hashes the cookie before asking, so a leaked table opens nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from veille.db.tables import MemberRow, MemberSessionRow


def create(
    session: Session, *, session_id: str, member_id: int, now: datetime, expires_at: datetime
) -> None:
    session.add(
        MemberSessionRow(id=session_id, member_id=member_id, created_at=now, expires_at=expires_at)
    )


def member_of(session: Session, session_id: str, now: datetime) -> MemberRow | None:
    """The member of an unexpired session, else None."""
    return session.scalar(
        select(MemberRow)
        .join(MemberSessionRow, MemberSessionRow.member_id == MemberRow.id)
        .where(MemberSessionRow.id == session_id, MemberSessionRow.expires_at > now)
    )


def delete_session(session: Session, session_id: str) -> None:
    session.execute(delete(MemberSessionRow).where(MemberSessionRow.id == session_id))


def purge_expired(session: Session, now: datetime) -> None:
    session.execute(delete(MemberSessionRow).where(MemberSessionRow.expires_at <= now))
