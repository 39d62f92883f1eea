"""The delivery ledger of an edition: one row per active member, written before any SMTP
call so that a send can always tell who is served and who is not; and where an edition
stands, read from that ledger (`veille edition status`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from veille.db import bounces as bounce_db
from veille.db import editions as edition_db
from veille.db.tables import EditionRow
from veille.newsletter.clicks import clicks_summary
from veille.newsletter.editions import get


@dataclass(frozen=True)
class Prepared:
    pending: int  # new rows to send
    skipped: int  # new rows for members with no item in their themes


def item_themes(session: Session, edition: EditionRow) -> set[str]:
    return {item.theme for item in edition_db.items_of(session, edition.id)}


def prepare_deliveries(session: Session, edition: EditionRow, now: datetime) -> Prepared:
    """One delivery per active member not yet listed: `pending`, or `skipped` when none of
    the edition's sections is in their themes. Idempotent (unique edition × member)."""
    themes = item_themes(session, edition)
    known = edition_db.delivery_member_ids(session, edition.id)
    rows = []
    skipped = 0
    for member_id, email, member_themes in edition_db.active_members(session):
        if member_id in known:
            continue
        chosen = set(member_themes) if member_themes else None
        matches = bool(themes) and (chosen is None or bool(chosen & themes))
        skipped += not matches
        rows.append(
            {
                "edition_id": edition.id,
                "member_id": member_id,
                "email": email,
                "status": "pending" if matches else "skipped",
                "attempts": 0,
                "error": None if matches else "no item in the member's themes",
                "created_at": now,
                "updated_at": now,
            }
        )
    edition_db.insert_deliveries(session, rows)
    return Prepared(pending=len(rows) - skipped, skipped=skipped)


def edition_status(session: Session, number: int) -> dict[str, Any]:
    """The edition's status, delivery counts and times, as JSON-ready data."""
    edition = get(session, number)
    counts = edition_db.delivery_counts(session, edition.id)

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "number": edition.number,
        "title": edition.title,
        "status": edition.status,
        **counts,
        "remaining": counts["pending"] + counts["sending"],
        "total": sum(counts.values()),
        **bounce_db.edition_counts(session, edition.id),
        "created_at": iso(edition.created_at),
        "approved_at": iso(edition.approved_at),
        "approved_by": edition.approved_by,
        "scheduled_at": iso(edition.scheduled_at),
        "sending_started_at": iso(edition.sending_started_at),
        "sent_at": iso(edition.sent_at),
        "clicks": clicks_summary(session, edition.id),
    }


def seconds_left(status: dict[str, Any], now: datetime, rate: float) -> int | None:
    """How long the rest of a send should take: the pace measured since it started when
    some messages went, else the configured `rate` (messages per second); None when
    nothing is left or there is no way to tell."""
    remaining = int(status["remaining"])
    if remaining <= 0 or status["status"] not in ("sending", "approved"):
        return None
    started = status.get("sending_started_at")
    done = int(status["sent"]) + int(status["failed"])
    if started and done:
        elapsed = (now - datetime.fromisoformat(started)).total_seconds()
        if elapsed > 0:
            return max(1, round(elapsed / done * remaining))
    if rate > 0:
        return max(1, round(remaining / rate))
    return None
