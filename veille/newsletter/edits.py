"""The composer's edits of an edition's content: title and edito, an item's texts, the
order of items and sections, adding and removing items.

Content can change while the edition is a draft, approved (it then goes back to draft: what
was approved is no longer what would be sent) or paused (a stopped send: the members not
yet served get the corrected text). Every change bumps `version`, so a form loaded before
someone else's change is refused instead of silently overwriting it, and leaves an audit
row naming who did it. The life of an edition (statuses, approval, scheduling) is
`veille.newsletter.editions`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from veille.db import editions as edition_db
from veille.db.tables import ArticleRow, EditionItemRow, EditionRow
from veille.errors import ConflictError
from veille.newsletter import greeting
from veille.newsletter.editions import EditionError, audit, set_status
from veille.newsletter.summary import extractive_summary
from veille.sources import THEME_IDS

EDITABLE = frozenset({"draft", "approved", "paused"})
TITLE_MAX = 300
EDITO_MAX = 20_000
ITEM_TITLE_MAX = 500
ITEM_TEXT_MAX = 5_000
DIRECTIONS = ("up", "down")


def _check_editable(edition: EditionRow) -> None:
    if edition.status not in EDITABLE:
        state = {"sending": "en cours d’envoi", "sent": "déjà envoyée"}.get(
            edition.status, edition.status
        )
        raise EditionError(
            f"L’édition n° {edition.number} est {state} : elle ne peut plus être modifiée."
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
    audit(session, edition, action, actor=actor, now=now, detail=detail)
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
    base: tuple[str, str] | None = None,
) -> bool:
    """Title and edito from the composer's form; False when nothing changed.

    `base`: the title and edito the writer started from (the composer's autosave sends
    them). The edition's version moves with every change, an item's or a move too; with
    `base`, a moved version is a conflict only when the title or edito themselves changed
    since, so a delegate writing the edito is not stopped by another reordering items."""
    _check_editable(edition)
    unchanged_texts = base is not None and (
        " ".join(base[0].split()),
        base[1].replace("\r\n", "\n").strip(),
    ) == (edition.title, edition.edito)
    if expected_version != edition.version and not unchanged_texts:
        raise ConflictError(
            f"L’édition n° {edition.number} a été modifiée entre-temps (par un autre onglet ou "
            "une autre personne) : rechargez la page, vos changements n’ont pas été enregistrés."
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


def update_greeting(
    session: Session,
    edition: EditionRow,
    *,
    enabled: bool,
    wording: str,
    actor: str,
    now: datetime,
) -> bool:
    """The letter's greeting (on/off, wording with `{prénom}` / `{nom}`); later drafts copy
    it. False when nothing changed. No version check: one small field, last write wins."""
    _check_editable(edition)
    wording = greeting.clean(wording, enabled) or edition.greeting
    if (edition.greeting_on, edition.greeting) == (enabled, wording):
        return False
    edition.greeting_on, edition.greeting = enabled, wording
    _changed(
        session, edition, action="greeting", actor=actor, now=now, enabled=enabled, wording=wording
    )
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
        raise EditionError(f"Thème inconnu : « {theme} » (choisir parmi {', '.join(THEME_IDS)}).")
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
            raise EditionError(f"Direction inconnue : « {direction} » (up ou down).")
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
                f"L’article {article_id} n’a pas de thème : choisissez la rubrique où l’ajouter."
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
        raise EditionError(f"Direction inconnue : « {direction} » (up ou down).")
    order = list(edition.section_order)
    if theme not in order:
        raise EditionError(f"La rubrique « {theme} » ne fait pas partie de l’édition.")
    if not _step(order, order.index(theme), direction):
        return False
    edition.section_order = order  # a new list: the JSON column sees the change
    _changed(
        session, edition, action="section.move", actor=actor, now=now, theme=theme, order=order
    )
    return True
