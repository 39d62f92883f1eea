"""Queries on the desk and the newsletter: curation edits, editions and their items,
deliveries, the audit log. Rules live in `veille.newsletter`; this module reads and writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal_column, select, update
from sqlalchemy.orm import Session

from veille.db.fulltext import DUPLICATE_BIT
from veille.db.records import Candidate
from veille.db.tables import (
    ArticleRow,
    ArticleThemeRow,
    AuditRow,
    CurationRow,
    DeliveryRow,
    EditionItemRow,
    EditionRow,
    MemberRow,
    SourceRow,
)
from veille.db.upsert import conflict_insert


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: object,
    at: datetime,
    detail: Mapping[str, Any] | None = None,
) -> None:
    session.add(
        AuditRow(
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            at=at,
            detail=dict(detail or {}),
        )
    )


def audit_of(session: Session, object_type: str, object_id: object) -> list[AuditRow]:
    return list(
        session.scalars(
            select(AuditRow)
            .where(AuditRow.object_type == object_type, AuditRow.object_id == str(object_id))
            .order_by(AuditRow.at, AuditRow.id)
        )
    )


def next_number(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(EditionRow.number), 0))) or 0) + 1


def latest(session: Session) -> EditionRow | None:
    return session.scalar(select(EditionRow).order_by(EditionRow.number.desc()).limit(1))


def by_number(session: Session, number: int) -> EditionRow | None:
    return session.scalar(select(EditionRow).where(EditionRow.number == number))


def list_editions(session: Session, statuses: Sequence[str] | None = None) -> list[EditionRow]:
    query = select(EditionRow).order_by(EditionRow.number.desc())
    if statuses:
        query = query.where(EditionRow.status.in_(list(statuses)))
    return list(session.scalars(query))


def items_of(session: Session, edition_id: int) -> list[EditionItemRow]:
    return list(
        session.scalars(
            select(EditionItemRow)
            .where(EditionItemRow.edition_id == edition_id)
            .order_by(EditionItemRow.theme, EditionItemRow.position, EditionItemRow.id)
        )
    )


def curation_of(session: Session, article_id: int) -> CurationRow | None:
    return session.get(CurationRow, article_id)


# `theme_mask` is not mapped on ArticleRow (migration 0003): the story bit, read as is.
_duplicate = literal_column("articles.theme_mask").op("&")(DUPLICATE_BIT)


def candidates(session: Session, start: datetime, end: datetime) -> list[Candidate]:
    """On-topic and off-topic articles of the period with the desk's decisions and edits."""
    when = func.coalesce(ArticleRow.published_at, ArticleRow.fetched_at)
    rows = session.execute(
        select(ArticleRow, SourceRow.key, SourceRow.name, CurationRow, _duplicate)
        .join(SourceRow, SourceRow.id == ArticleRow.source_id)
        .outerjoin(CurationRow, CurationRow.article_id == ArticleRow.id)
        .where(when >= start, when < end)
    ).all()
    ids = [row[0].id for row in rows]
    themes: dict[int, list[tuple[float, str]]] = {}
    for start_index in range(0, len(ids), 500):
        chunk = ids[start_index : start_index + 500]
        for theme_row in session.scalars(
            select(ArticleThemeRow).where(ArticleThemeRow.article_id.in_(chunk))
        ):
            themes.setdefault(theme_row.article_id, []).append(
                (theme_row.probability, theme_row.theme)
            )
    out = []
    for article, source_key, source_name, curation, duplicate in rows:
        ranked = tuple(t for _, t in sorted(themes.get(article.id, []), reverse=True))
        out.append(
            Candidate(
                article_id=article.id,
                title=(curation.title if curation and curation.title else article.title),
                url=article.url,
                source_key=source_key,
                source_name=source_name,
                story_id=article.story_id,
                themes=ranked,
                score=article.score or 0.0,
                kept=article.curation == "kept",
                discarded=article.curation == "discarded",
                starred=bool(curation and curation.starred),
                summary=(curation.summary if curation and curation.summary else ""),
                comment=(curation.comment if curation and curation.comment else ""),
                published_at=article.published_at or article.fetched_at,
                representative=not duplicate,
            )
        )
    return out


def delivery_counts(session: Session, edition_id: int) -> dict[str, int]:
    counts = {"pending": 0, "sending": 0, "sent": 0, "failed": 0, "skipped": 0}
    for status, count in session.execute(
        select(DeliveryRow.status, func.count())
        .where(DeliveryRow.edition_id == edition_id)
        .group_by(DeliveryRow.status)
    ):
        counts[str(status)] = int(count)
    return counts


def due_scheduled(session: Session, now: datetime) -> list[int]:
    """Numbers of the approved editions whose scheduled time has come."""
    return [
        int(n)
        for n in session.scalars(
            select(EditionRow.number)
            .where(
                EditionRow.status == "approved",
                EditionRow.scheduled_at.is_not(None),
                EditionRow.scheduled_at <= now,
            )
            .order_by(EditionRow.number)
        )
    ]


def created_since(session: Session, when: datetime) -> list[int]:
    return [
        int(n)
        for n in session.scalars(
            select(EditionRow.number)
            .where(EditionRow.created_at >= when)
            .order_by(EditionRow.number)
        )
    ]


# --- deliveries (the sending engine, veille.newsletter.send) -------------------------------

DELIVERY_CHUNK = 1000  # rows per INSERT: well under SQLite's 32,766 bound parameters


def active_members(session: Session) -> list[tuple[int, str, list[str] | None]]:
    """(id, email, themes) of every member who may receive mail now."""
    rows = session.execute(
        select(MemberRow.id, MemberRow.email, MemberRow.themes)
        .where(MemberRow.status == "active")
        .order_by(MemberRow.id)
    )
    return [(int(i), str(e), t) for i, e, t in rows]


def delivery_member_ids(session: Session, edition_id: int) -> set[int]:
    return set(
        session.scalars(select(DeliveryRow.member_id).where(DeliveryRow.edition_id == edition_id))
    )


def insert_deliveries(session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert delivery rows; a row whose (edition, member) exists is left as it is (ON
    CONFLICT DO NOTHING), so two preparations racing each other cannot fail or duplicate.
    Returns how many rows were new."""
    statement = conflict_insert(session, DeliveryRow)
    inserted = 0
    for start in range(0, len(rows), DELIVERY_CHUNK):
        chunk = [dict(row) for row in rows[start : start + DELIVERY_CHUNK]]
        result = session.execute(
            statement.values(chunk).on_conflict_do_nothing(
                index_elements=["edition_id", "member_id"]
            )
        )
        inserted += max(0, int(getattr(result, "rowcount", 0) or 0))
    return inserted


def reset_interrupted(session: Session, edition_id: int, now: datetime, note: str) -> int:
    """Deliveries left `sending` by a run that died go back to `pending` (the caller holds
    the edition's send lock, so no live run owns them)."""
    result = session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.edition_id == edition_id, DeliveryRow.status == "sending")
        .values(status="pending", error=note, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def claim_deliveries(session: Session, edition_id: int, limit: int, now: datetime) -> list[int]:
    """Mark up to `limit` pending deliveries `sending` (attempts + 1) and return the ids this
    caller got. PostgreSQL skips rows another worker is claiming (FOR UPDATE SKIP LOCKED);
    on SQLite the write lock serialises claims; on both, the status condition of the UPDATE
    and its RETURNING decide who owns a row, so two claims never share one."""
    query = (
        select(DeliveryRow.id)
        .where(DeliveryRow.edition_id == edition_id, DeliveryRow.status == "pending")
        .order_by(DeliveryRow.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if not ids:
        return []
    claimed = session.scalars(
        update(DeliveryRow)
        .where(DeliveryRow.id.in_(ids), DeliveryRow.status == "pending")
        .values(status="sending", attempts=DeliveryRow.attempts + 1, updated_at=now)
        .returning(DeliveryRow.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(int(i) for i in claimed)


def claimed_with_members(
    session: Session, ids: Sequence[int]
) -> list[tuple[DeliveryRow, MemberRow]]:
    rows = session.execute(
        select(DeliveryRow, MemberRow)
        .join(MemberRow, MemberRow.id == DeliveryRow.member_id)
        .where(DeliveryRow.id.in_(list(ids)))
        .order_by(DeliveryRow.id)
    )
    return [(d, m) for d, m in rows]


def finish_delivery(
    session: Session,
    delivery_id: int,
    status: str,
    now: datetime,
    *,
    message_id: str | None = None,
    error: str | None = None,
) -> bool:
    """Finalise one claimed delivery (`sent`, `failed`, `skipped`); False when the row was
    no longer `sending` (nothing changed)."""
    values: dict[str, Any] = {"status": status, "updated_at": now, "error": error}
    if message_id is not None:
        values["message_id"] = message_id
    if status == "sent":
        values["sent_at"] = now
    result = session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id == delivery_id, DeliveryRow.status == "sending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def release_deliveries(
    session: Session,
    ids: Sequence[int],
    now: datetime,
    *,
    error: str | None = None,
    uncount: bool = False,
) -> None:
    """Claimed deliveries back to `pending`: `uncount` when they were never tried (the
    claim's attempt is taken back), `error` to say why a tried one waits."""
    if not ids:
        return
    values: dict[str, Any] = {"status": "pending", "updated_at": now}
    if uncount:
        values["attempts"] = DeliveryRow.attempts - 1
    if error is not None:
        values["error"] = error
    session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.id.in_(list(ids)), DeliveryRow.status == "sending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
