"""The queries of the desk's home page (`desk/week.py` turns them into the week's work):
the draft and scheduled editions, the figures of the last edition that went out, and the
model's last training. Each answers with plain records, counted in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from veille.db.counter_tables import EditionClickRow
from veille.db.tables import (
    BounceRow,
    DeliveryRow,
    EditionRow,
    MemberEventRow,
    ModelVersionRow,
)


@dataclass(frozen=True)
class EditionState:
    number: int
    title: str
    status: str
    items: int
    scheduled_at: datetime | None
    version: int


@dataclass(frozen=True)
class EditionFigures:
    number: int
    title: str
    status: str
    sent_at: datetime | None
    delivered: int  # deliveries `sent`
    failed: int  # refused by the server at send time
    pending: int
    bounced: int  # came back later (hard or soft refusals)
    complaints: int
    unsubscribed: int  # members who unsubscribed since it went out
    clicks: int  # on its articles' links (`/r/`), all items together


@dataclass(frozen=True)
class Training:
    created_at: datetime
    training_size: int
    editor_labels: int
    macro_f1: float | None


def open_edition(session: Session) -> EditionState | None:
    """The edition being prepared: the newest draft or approved (scheduled or not)."""
    from veille.db.tables import EditionItemRow

    row = session.scalar(
        select(EditionRow)
        .where(EditionRow.status.in_(("draft", "approved", "paused")))
        .order_by(EditionRow.number.desc())
        .limit(1)
    )
    if row is None:
        return None
    items = session.scalar(
        select(func.count()).select_from(EditionItemRow).where(EditionItemRow.edition_id == row.id)
    )
    return EditionState(
        row.number, row.title, row.status, int(items or 0), row.scheduled_at, row.version
    )


def last_sent(session: Session) -> EditionFigures | None:
    """The newest edition that went out (sending or sent) and what became of it."""
    row = session.scalar(
        select(EditionRow)
        .where(EditionRow.status.in_(("sending", "sent")))
        .order_by(EditionRow.number.desc())
        .limit(1)
    )
    if row is None:
        return None
    by_status = {
        status: int(n)
        for status, n in session.execute(
            select(DeliveryRow.status, func.count())
            .where(DeliveryRow.edition_id == row.id)
            .group_by(DeliveryRow.status)
        ).all()
    }
    by_kind = {
        kind: int(n)
        for kind, n in session.execute(
            select(BounceRow.kind, func.count())
            .join(DeliveryRow, DeliveryRow.id == BounceRow.delivery_id)
            .where(DeliveryRow.edition_id == row.id)
            .group_by(BounceRow.kind)
        ).all()
    }
    went_out = row.sending_started_at or row.sent_at
    unsubscribed = 0
    if went_out is not None:
        unsubscribed = int(
            session.scalar(
                select(func.count())
                .select_from(MemberEventRow)
                .where(MemberEventRow.kind == "unsubscribe", MemberEventRow.at >= went_out)
            )
            or 0
        )
    return EditionFigures(
        number=row.number,
        title=row.title,
        status=row.status,
        sent_at=row.sent_at or row.sending_started_at,
        delivered=by_status.get("sent", 0),
        failed=by_status.get("failed", 0),
        pending=by_status.get("pending", 0) + by_status.get("sending", 0),
        bounced=by_kind.get("hard", 0) + by_kind.get("soft", 0),
        complaints=by_kind.get("complaint", 0),
        unsubscribed=unsubscribed,
        clicks=int(
            session.scalar(
                select(func.coalesce(func.sum(EditionClickRow.clicks), 0)).where(
                    EditionClickRow.edition_id == row.id
                )
            )
            or 0
        ),
    )


def last_training(session: Session) -> Training | None:
    """The active model's training (the newest active one)."""
    row = session.scalar(
        select(ModelVersionRow)
        .where(ModelVersionRow.active.is_(True))
        .order_by(ModelVersionRow.created_at.desc(), ModelVersionRow.id.desc())
        .limit(1)
    )
    if row is None:
        return None
    f1 = (row.metrics or {}).get("macro_f1")
    return Training(
        created_at=row.created_at,
        training_size=row.training_size,
        editor_labels=row.editor_labels,
        macro_f1=float(f1) if isinstance(f1, int | float) else None,
    )
