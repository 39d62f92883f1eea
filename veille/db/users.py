"""Queries on desk accounts (`users`) and their server-side sessions (`desk_sessions`).

Session ids stored here are SHA-256 digests of the cookie value: the caller hashes, so this
module never sees a usable cookie.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from veille.db.tables import DeskSessionRow, UserRow


def insert_user(
    session: Session,
    *,
    email: str,
    email_key: str,
    role: str,
    password_hash: str | None,
    now: datetime,
) -> UserRow:
    row = UserRow(
        email=email,
        email_key=email_key,
        role=role,
        password_hash=password_hash,
        active=True,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def user_by_email(session: Session, email_key: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.email_key == email_key))


def user_by_id(session: Session, user_id: int) -> UserRow | None:
    return session.get(UserRow, user_id)


def replace_password_hash(
    session: Session, user_id: int, old_hash: str | None, new_hash: str
) -> bool:
    """Compare-and-set: True only if the hash was still `old_hash`, so two uses of one setup
    link racing each other cannot both succeed."""
    current = (
        UserRow.password_hash.is_(None) if old_hash is None else UserRow.password_hash == old_hash
    )
    result = session.execute(
        update(UserRow)
        .where(UserRow.id == user_id, current)
        .values(password_hash=new_hash)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def set_password_hash(session: Session, user_id: int, new_hash: str) -> None:
    """Unconditional (rehash on login with stronger parameters)."""
    session.execute(
        update(UserRow)
        .where(UserRow.id == user_id)
        .values(password_hash=new_hash)
        .execution_options(synchronize_session=False)
    )


def record_login(session: Session, user_id: int, now: datetime) -> None:
    session.execute(
        update(UserRow)
        .where(UserRow.id == user_id)
        .values(last_login_at=now)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class ValidSession:
    """A live session and the account it belongs to (active accounts only)."""

    id: str
    user_id: int
    email: str
    role: str
    csrf: str
    last_seen_at: datetime
    expires_at: datetime


def create_session(
    session: Session,
    *,
    session_id: str,
    user_id: int,
    csrf: str,
    now: datetime,
    expires_at: datetime,
) -> None:
    session.add(
        DeskSessionRow(
            id=session_id,
            user_id=user_id,
            csrf=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
        )
    )
    session.flush()


def valid_session(session: Session, session_id: str, now: datetime) -> ValidSession | None:
    """The session if it exists, has not expired and its account is active."""
    row = session.execute(
        select(DeskSessionRow, UserRow)
        .join(UserRow, UserRow.id == DeskSessionRow.user_id)
        .where(
            DeskSessionRow.id == session_id,
            DeskSessionRow.expires_at > now,
            UserRow.active.is_(True),
        )
    ).first()
    if row is None:
        return None
    desk, user = row
    return ValidSession(
        id=desk.id,
        user_id=user.id,
        email=user.email,
        role=user.role,
        csrf=desk.csrf,
        last_seen_at=desk.last_seen_at,
        expires_at=desk.expires_at,
    )


def touch_session(session: Session, session_id: str, now: datetime, expires_at: datetime) -> None:
    session.execute(
        update(DeskSessionRow)
        .where(DeskSessionRow.id == session_id)
        .values(last_seen_at=now, expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )


def delete_session(session: Session, session_id: str) -> None:
    session.execute(
        delete(DeskSessionRow)
        .where(DeskSessionRow.id == session_id)
        .execution_options(synchronize_session=False)
    )


def delete_user_sessions(session: Session, user_id: int) -> int:
    result = session.execute(
        delete(DeskSessionRow)
        .where(DeskSessionRow.user_id == user_id)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def purge_expired_sessions(session: Session, now: datetime) -> int:
    result = session.execute(
        delete(DeskSessionRow)
        .where(DeskSessionRow.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
