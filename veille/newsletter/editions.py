"""Editions and their life: draft (created each week, pre-filled), approved, sending, sent,
or paused; every change is checked against the allowed moves and logged with who and when.
The composer's edits of the content are `veille.newsletter.edits`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_date
from sqlalchemy.orm import Session

from veille.db import articles as article_db
from veille.db import editions as edition_db
from veille.db.tables import EditionItemRow, EditionRow
from veille.errors import VeilleError
from veille.frenchformat import PARIS
from veille.newsletter.compose import DEFAULT_LIMITS, Limits, compose
from veille.newsletter.summary import extractive_summary
from veille.sources import THEME_IDS

STATUSES = ("draft", "approved", "sending", "sent", "paused")
MOVES: dict[str, frozenset[str]] = {
    "draft": frozenset({"approved", "sending"}),  # `send` approves a draft on the way
    "approved": frozenset({"draft", "sending", "paused"}),
    "sending": frozenset({"sent", "paused"}),
    "paused": frozenset({"sending", "approved", "draft"}),
    "sent": frozenset(),
}
DEFAULT_PERIOD = timedelta(days=7)
STATUS_LABELS = {
    "draft": "brouillon",
    "approved": "approuvée",
    "sending": "en cours d’envoi",
    "sent": "envoyée",
    "paused": "en pause",
}


class EditionError(VeilleError):
    """An edition does not exist or cannot make the asked move (the message says why)."""


def get(session: Session, number: int) -> EditionRow:
    edition = edition_db.by_number(session, number)
    if edition is None:
        raise EditionError(f"L’édition n° {number} n’existe pas.")
    return edition


def audit(
    session: Session,
    edition: EditionRow,
    action: str,
    *,
    actor: str,
    now: datetime,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """One line of the edition's log (`edition.{action}`), which the composer shows."""
    edition_db.audit(
        session,
        actor=actor,
        action=f"edition.{action}",
        object_type="edition",
        object_id=edition.number,
        at=now,
        detail=detail,
    )


def set_status(
    session: Session, edition: EditionRow, to: str, *, actor: str, now: datetime, **detail: object
) -> None:
    if to == edition.status:
        return
    if to not in MOVES.get(edition.status, frozenset()):
        now_label = STATUS_LABELS.get(edition.status, edition.status)
        raise EditionError(
            f"L’édition n° {edition.number} est « {now_label} » :"
            f" elle ne peut pas passer à « {STATUS_LABELS.get(to, to)} »."
        )
    before = edition.status
    edition.status = to
    edition.version += 1
    if to == "approved" or (to == "sending" and edition.approved_at is None):
        edition.approved_at, edition.approved_by = now, actor
    if to == "sending" and edition.sending_started_at is None:
        edition.sending_started_at = now
    if to == "sent":
        edition.sent_at = now
    audit(session, edition, to, actor=actor, now=now, detail={"from": before, **detail})


def default_title(number: int, period_end: datetime) -> str:
    week = (period_end.astimezone(PARIS) - timedelta(days=6)).date()
    return (
        f"Lettre de veille n° {number} — semaine du {format_date(week, 'd MMMM y', locale='fr_FR')}"
    )


def create_draft(
    session: Session,
    *,
    now: datetime,
    actor: str = "scheduler",
    limits: Limits = DEFAULT_LIMITS,
    theme_order: Sequence[str] = THEME_IDS,
) -> EditionRow:
    """A new draft covering the time since the previous edition (or the last 7 days),
    pre-filled by `compose` with the kept items, else the best ones."""
    previous = edition_db.latest(session)
    start = previous.period_end if previous is not None else now - DEFAULT_PERIOD
    number = edition_db.next_number(session)
    edition = EditionRow(
        number=number,
        title=default_title(number, now),
        edito="",
        # the greeting is the newsletter's: set once, each draft copies the last one's
        greeting=previous.greeting if previous is not None else "Bonjour {prénom},",
        greeting_on=previous.greeting_on if previous is not None else True,
        status="draft",
        period_start=start,
        period_end=now,
        section_order=list(theme_order),
        created_at=now,
        created_by=actor,
        version=1,
    )
    session.add(edition)
    session.flush()
    planned = compose(edition_db.candidates(session, start, now), theme_order, limits)
    texts = article_db.texts_of(
        session, [p.candidate.article_id for p in planned if not p.candidate.summary]
    )
    for item in planned:
        c = item.candidate
        summary = c.summary or extractive_summary(c.title, texts.get(c.article_id, ""))
        session.add(
            EditionItemRow(
                edition_id=edition.id,
                article_id=c.article_id,
                theme=item.theme,
                position=item.position,
                title=c.title,
                url=c.url,
                source_name=c.source_name,
                summary=summary,
                comment=c.comment,
                published_at=c.published_at,
            )
        )
    edition_db.audit(
        session,
        actor=actor,
        action="edition.draft",
        object_type="edition",
        object_id=number,
        at=now,
        detail={"items": len(planned), "from_kept": any(p.candidate.kept for p in planned)},
    )
    session.flush()
    return edition


def approve(session: Session, edition: EditionRow, *, actor: str, now: datetime) -> None:
    if edition.status == "approved":
        return
    if not edition_db.items_of(session, edition.id):
        raise EditionError(f"L’édition n° {edition.number} n’a aucun article : rien à approuver.")
    if edition.status not in ("draft", "paused"):
        raise EditionError(
            f"L’édition n° {edition.number} est {edition.status} : elle ne peut pas être approuvée."
        )
    set_status(session, edition, "approved", actor=actor, now=now)
    session.flush()


def schedule(
    session: Session, edition: EditionRow, when: datetime, *, actor: str, now: datetime
) -> None:
    """Approve (when needed) and send at `when`: the scheduler's minute tick does it."""
    if when.tzinfo is None:
        raise ValueError("schedule() needs an aware datetime")
    if when <= now:
        raise EditionError("La date d’envoi programmée doit être dans le futur.")
    approve(session, edition, actor=actor, now=now)
    edition.scheduled_at = when
    edition.version += 1
    detail = {"at": when.astimezone(PARIS).isoformat()}
    audit(session, edition, "schedule", actor=actor, now=now, detail=detail)
    session.flush()


def unschedule(session: Session, edition: EditionRow, *, actor: str, now: datetime) -> bool:
    if edition.scheduled_at is None:
        return False
    if edition.status != "approved":
        raise EditionError(
            f"L’édition n° {edition.number} est {edition.status} : sa programmation ne peut plus "
            "être annulée."
        )
    edition.scheduled_at = None
    edition.version += 1
    audit(session, edition, "unschedule", actor=actor, now=now)
    session.flush()
    return True


def start_sending(session: Session, edition: EditionRow, *, actor: str, now: datetime) -> None:
    """The bookkeeping of « send now » from the desk, done in the request: the edition goes
    `sending` (approved on the way), audited under the desk user. The send itself runs in
    another process (`veille.newsletter.worker`); should it never start or die, the
    scheduler's minute tick resumes every edition left `sending`."""
    if edition.status == "sent":
        raise EditionError("Cette édition est déjà envoyée.")
    if not edition_db.items_of(session, edition.id):
        raise EditionError(f"L’édition n° {edition.number} n’a aucun article : rien à envoyer.")
    set_status(session, edition, "sending", actor=actor, now=now)
    session.flush()


# --- the weekly draft -------------------------------------------------------------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekly_slot(now: datetime, day: str, at: str) -> datetime:
    """The latest `day` `at` (Paris time) not after `now`: the start of the current
    edition week, as the scheduler's cron sees it."""
    hour, minute = (int(part) for part in at.split(":"))
    local = now.astimezone(PARIS)
    slot = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    slot -= timedelta(days=(local.weekday() - WEEKDAYS.index(day)) % 7)
    if slot > local:
        slot -= timedelta(days=7)
    # Built as wall-clock time in Paris, then made exact (a DST change inside the week).
    return slot.replace(tzinfo=None).replace(tzinfo=PARIS)


def draft_for_week(
    session: Session, *, now: datetime, day: str, at: str, actor: str = "scheduler"
) -> EditionRow | None:
    """The week's draft, unless an edition was already created this week (the cron job
    ran, or the delegate made one by hand): then None."""
    if edition_db.created_since(session, weekly_slot(now, day, at)):
        return None
    return create_draft(session, now=now, actor=actor)
