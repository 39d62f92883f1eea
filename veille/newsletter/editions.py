"""Editions and their life: draft (created each week, pre-filled), approved, sending, sent,
or paused; every change is checked against the allowed moves and logged with who and when.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_date
from sqlalchemy.orm import Session

from veille.db import articles as article_db
from veille.db import editions as edition_db
from veille.db.tables import ArticleRow, EditionItemRow, EditionRow
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


def _audit(
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
            f"L’édition n° {edition.number} est « {now_label} » :"
            f" elle ne peut pas passer à « {STATUS_LABELS.get(to, to)} »."
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
    _audit(session, edition, to, actor=actor, now=now, detail={"from": before, **detail})


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


# --- the composer's edits ---------------------------------------------------------------
#
# An edition's content can change while it is a draft, approved (it then goes back to draft:
# what was approved is no longer what would be sent) or paused (a stopped send: the members
# not yet served get the corrected text). Every change bumps `version`, so a form loaded
# before someone else's change is refused instead of silently overwriting it, and leaves an
# audit row naming who did it.

EDITABLE = frozenset({"draft", "approved", "paused"})
TITLE_MAX = 300
EDITO_MAX = 20_000
ITEM_TITLE_MAX = 500
ITEM_TEXT_MAX = 5_000
DIRECTIONS = ("up", "down")


class ConflictError(EditionError):
    """The edition changed since the form was loaded (another desk, another tab)."""


def _check_editable(edition: EditionRow) -> None:
    if edition.status not in EDITABLE:
        state = {"sending": "en cours d’envoi", "sent": "déjà envoyée"}.get(
            edition.status, edition.status
        )
        raise EditionError(
            f"L’édition n° {edition.number} est {state} : elle ne peut plus être modifiée."
        )


def _changed(
    session: Session,
    edition: EditionRow,
    *,
    action: str,
    actor: str,
    now: datetime,
    **detail: object,
) -> None:
    """Record one content change: back to draft when it was approved, version bumped,
    audited."""
    if edition.status == "approved":
        unscheduled = edition.scheduled_at
        edition.scheduled_at = None
        set_status(
            session,
            edition,
            "draft",
            actor=actor,
            now=now,
            reason=action,
            unscheduled=unscheduled.isoformat() if unscheduled else None,
        )
    edition.version += 1
    _audit(session, edition, action, actor=actor, now=now, detail=detail)
    session.flush()


def update_edition(
    session: Session,
    edition: EditionRow,
    *,
    title: str,
    edito: str,
    expected_version: int,
    actor: str,
    now: datetime,
) -> bool:
    """Title and edito from the composer's form; False when nothing changed."""
    _check_editable(edition)
    if expected_version != edition.version:
        raise ConflictError(
            f"L’édition n° {edition.number} a été modifiée entre-temps (par un autre onglet ou "
            "une autre personne) : rechargez la page, vos changements n’ont pas été enregistrés."
        )
    title = " ".join(title.split())
    edito = edito.replace("\r\n", "\n").strip()
    if not title:
        raise EditionError("Le titre de l’édition ne peut pas être vide.")
    if len(title) > TITLE_MAX:
        raise EditionError(f"Le titre de l’édition dépasse {TITLE_MAX} caractères.")
    if len(edito) > EDITO_MAX:
        raise EditionError(f"L’édito dépasse {EDITO_MAX} caractères.")
    fields = [
        name
        for name, old, new in (("title", edition.title, title), ("edito", edition.edito, edito))
        if old != new
    ]
    if not fields:
        return False
    edition.title, edition.edito = title, edito
    _changed(session, edition, action="edit", actor=actor, now=now, fields=fields)
    return True


def _items(session: Session, edition: EditionRow) -> list[EditionItemRow]:
    return edition_db.items_of(session, edition.id)


def _item(session: Session, edition: EditionRow, item_id: int) -> EditionItemRow:
    item = session.get(EditionItemRow, item_id)
    if item is None or item.edition_id != edition.id:
        raise EditionError(
            f"L’article {item_id} ne fait pas partie de l’édition n° {edition.number}."
        )
    return item


def _section(items: Sequence[EditionItemRow], theme: str) -> list[EditionItemRow]:
    return sorted((i for i in items if i.theme == theme), key=lambda i: (i.position, i.id))


def _renumber(section: Sequence[EditionItemRow]) -> None:
    for position, item in enumerate(section):
        item.position = position


def _known_theme(edition: EditionRow, theme: str) -> None:
    if theme not in THEME_IDS:
        raise EditionError(f"Thème inconnu : « {theme} » (choisir parmi {', '.join(THEME_IDS)}).")
    if theme not in edition.section_order:
        edition.section_order = [*edition.section_order, theme]


def _step(seq: list[Any], index: int, direction: str) -> bool:
    """Move `seq[index]` one place `up` or `down`, in place; False when it is already at
    that end (nothing moved)."""
    new_index = index - 1 if direction == "up" else index + 1
    if not 0 <= new_index < len(seq):
        return False
    seq.insert(new_index, seq.pop(index))
    return True


def move_item(
    session: Session,
    edition: EditionRow,
    item_id: int,
    *,
    direction: str | None = None,
    position: int | None = None,
    theme: str | None = None,
    actor: str,
    now: datetime,
) -> bool:
    """One step up or down within its section (`direction`), or to `position` (0 = first)
    of its section or of another theme's (`theme`, for drag and drop). False when the item
    is already there."""
    _check_editable(edition)
    item = _item(session, edition, item_id)
    items = _items(session, edition)
    source = _section(items, item.theme)
    target_theme = theme or item.theme
    _known_theme(edition, target_theme)
    if direction is not None:
        if direction not in DIRECTIONS:
            raise EditionError(f"Direction inconnue : « {direction} » (up ou down).")
        if not _step(source, source.index(item), direction):
            return False
        _renumber(source)
    else:
        if position is None:
            raise EditionError("Indiquez une direction ou une position.")
        target = source if target_theme == item.theme else _section(items, target_theme)
        before = [i.id for i in source]
        source.remove(item)
        target.insert(max(0, min(position, len(target))), item)
        if target is source and [i.id for i in source] == before:
            return False
        item.theme = target_theme
        _renumber(source)
        _renumber(target)
    _changed(
        session,
        edition,
        action="item.move",
        actor=actor,
        now=now,
        item=item.id,
        article=item.article_id,
        theme=item.theme,
        position=item.position,
    )
    return True


def set_item_texts(
    session: Session,
    edition: EditionRow,
    item_id: int,
    *,
    title: str,
    summary: str,
    comment: str,
    actor: str,
    now: datetime,
) -> bool:
    """The item's texts as the newsletter shows them (the desk's curation is left alone:
    this is how the article reads in this edition)."""
    _check_editable(edition)
    item = _item(session, edition, item_id)
    title = " ".join(title.split())
    summary = summary.replace("\r\n", "\n").strip()
    comment = comment.replace("\r\n", "\n").strip()
    if not title:
        raise EditionError(f"Le titre de l’article {item_id} ne peut pas être vide.")
    if len(title) > ITEM_TITLE_MAX:
        raise EditionError(f"Le titre de l’article {item_id} dépasse {ITEM_TITLE_MAX} caractères.")
    for name, value in (("résumé", summary), ("commentaire", comment)):
        if len(value) > ITEM_TEXT_MAX:
            raise EditionError(
                f"Le {name} de l’article {item_id} dépasse {ITEM_TEXT_MAX} caractères."
            )
    fields = [
        name
        for name, old, new in (
            ("title", item.title, title),
            ("summary", item.summary, summary),
            ("comment", item.comment, comment),
        )
        if old != new
    ]
    if not fields:
        return False
    item.title, item.summary, item.comment = title, summary, comment
    _changed(
        session,
        edition,
        action="item.edit",
        actor=actor,
        now=now,
        item=item.id,
        article=item.article_id,
        fields=fields,
    )
    return True


def remove_item(
    session: Session, edition: EditionRow, item_id: int, *, actor: str, now: datetime
) -> None:
    _check_editable(edition)
    item = _item(session, edition, item_id)
    theme, article_id, title = item.theme, item.article_id, item.title
    session.delete(item)
    session.flush()
    _renumber(_section(_items(session, edition), theme))
    _changed(
        session,
        edition,
        action="item.remove",
        actor=actor,
        now=now,
        item=item_id,
        article=article_id,
        title=title[:200],
    )


def add_item(
    session: Session,
    edition: EditionRow,
    article_id: int,
    theme: str | None = None,
    *,
    actor: str,
    now: datetime,
) -> EditionItemRow:
    """The article at the end of `theme`'s section (by default its most likely theme), with
    the desk's title, summary and comment, or an automatic summary."""
    _check_editable(edition)
    article = session.get(ArticleRow, article_id)
    if article is None:
        raise EditionError(f"L’article {article_id} n’existe pas dans l’archive.")
    if any(i.article_id == article_id for i in _items(session, edition)):
        raise EditionError(f"L’article {article_id} est déjà dans l’édition n° {edition.number}.")
    if theme is None:
        ranked = sorted(article.themes, key=lambda t: -t.probability)
        theme = next((t.theme for t in ranked if t.theme in THEME_IDS), None)
        if theme is None:
            raise EditionError(
                f"L’article {article_id} n’a pas de thème : choisissez la rubrique où l’ajouter."
            )
    _known_theme(edition, theme)
    curation = edition_db.curation_of(session, article_id)
    title = (curation.title if curation and curation.title else article.title) or article.url
    summary = (curation.summary if curation and curation.summary else "") or (
        extractive_summary(title, article.text or article.summary)
    )
    item = EditionItemRow(
        edition_id=edition.id,
        article_id=article_id,
        theme=theme,
        position=len(_section(_items(session, edition), theme)),
        title=title,
        url=article.url,
        source_name=article.source.name if article.source is not None else "",
        summary=summary,
        comment=(curation.comment if curation and curation.comment else "") or "",
        published_at=article.published_at or article.fetched_at,
    )
    session.add(item)
    session.flush()
    _changed(
        session,
        edition,
        action="item.add",
        actor=actor,
        now=now,
        item=item.id,
        article=article_id,
        theme=theme,
    )
    return item


def move_section(
    session: Session,
    edition: EditionRow,
    theme: str,
    direction: str,
    *,
    actor: str,
    now: datetime,
) -> bool:
    _check_editable(edition)
    if direction not in DIRECTIONS:
        raise EditionError(f"Direction inconnue : « {direction} » (up ou down).")
    order = list(edition.section_order)
    if theme not in order:
        raise EditionError(f"La rubrique « {theme} » ne fait pas partie de l’édition.")
    if not _step(order, order.index(theme), direction):
        return False
    edition.section_order = order  # a new list: the JSON column sees the change
    _changed(
        session, edition, action="section.move", actor=actor, now=now, theme=theme, order=order
    )
    return True


def approve(session: Session, edition: EditionRow, *, actor: str, now: datetime) -> None:
    if edition.status == "approved":
        return
    if not _items(session, edition):
        raise EditionError(f"L’édition n° {edition.number} n’a aucun article : rien à approuver.")
    if edition.status not in ("draft", "paused"):
        raise EditionError(
            f"L’édition n° {edition.number} est {edition.status} : elle ne peut pas être approuvée."
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
    _audit(session, edition, "schedule", actor=actor, now=now, detail=detail)
    session.flush()


def unschedule(session: Session, edition: EditionRow, *, actor: str, now: datetime) -> bool:
    if edition.scheduled_at is None:
        return False
    if edition.status != "approved":
        raise EditionError(
            f"L’édition n° {edition.number} est {edition.status} : sa programmation ne peut plus "
            "être annulée."
        )
    edition.scheduled_at = None
    edition.version += 1
    _audit(session, edition, "unschedule", actor=actor, now=now)
    session.flush()
    return True


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
