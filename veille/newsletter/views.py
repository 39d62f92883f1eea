"""What the desk's composer shows of an edition, as plain data: its sections in order with
their items, its audit log in French words, and the period's kept articles not in it yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from veille.db import editions as edition_db
from veille.db.tables import AuditRow, EditionItemRow, EditionRow
from veille.frenchformat import date_time
from veille.sources import THEME_IDS

KEPT_SHOWN = 50
ACTION_LABELS = {
    "edition.approved": "approuvée",
    "edition.sending": "envoi commencé",
    "edition.sent": "envoyée",
    "edition.paused": "envoi suspendu",
    "edition.edit": "titre ou édito modifié",
    "edition.greeting": "formule d’appel modifiée",
    "edition.item.move": "article déplacé",
    "edition.item.edit": "textes d’un article modifiés",
    "edition.item.remove": "article retiré",
    "edition.item.add": "article ajouté",
    "edition.section.move": "rubrique déplacée",
    "edition.unschedule": "programmation annulée",
}


@dataclass(frozen=True)
class ItemView:
    id: int
    article_id: int | None
    title: str
    url: str
    source_name: str
    summary: str
    comment: str
    published: str
    first: bool
    last: bool


@dataclass(frozen=True)
class SectionView:
    theme: str
    label: str
    items: list[ItemView]
    first: bool
    last: bool


@dataclass(frozen=True)
class LogLine:
    at: str
    who: str
    what: str


@dataclass(frozen=True)
class KeptView:
    article_id: int
    title: str
    source_name: str
    theme: str


def sections_of(
    edition: EditionRow, items: list[EditionItemRow], labels: Mapping[str, str]
) -> list[SectionView]:
    """The sections in the edition's order, then any theme its items still carry that the
    order lacks (so no item is ever hidden), each with `first`/`last` for the move buttons."""
    order = [t for t in edition.section_order if t in THEME_IDS]
    order += sorted({i.theme for i in items} - set(order))
    out = []
    for index, theme in enumerate(order):
        mine = sorted((i for i in items if i.theme == theme), key=lambda i: (i.position, i.id))
        views = [
            ItemView(
                id=i.id,
                article_id=i.article_id,
                title=i.title,
                url=i.url,
                source_name=i.source_name,
                summary=i.summary,
                comment=i.comment,
                published=date_time(i.published_at),
                first=n == 0,
                last=n == len(mine) - 1,
            )
            for n, i in enumerate(mine)
        ]
        out.append(
            SectionView(theme, labels.get(theme, theme), views, index == 0, index == len(order) - 1)
        )
    return out


def log_line(row: AuditRow, labels: Mapping[str, str]) -> LogLine:
    """One audit row in the delegate's words: the log answers « who did what, when »."""
    detail: Mapping[str, Any] = row.detail or {}
    if row.action == "edition.draft":
        what = (
            "repassée en brouillon (modifiée après approbation)"
            if "from" in detail
            else f"brouillon créé ({detail.get('items', 0)} articles)"
        )
    elif row.action == "edition.schedule":
        at = detail.get("at")
        what = "envoi programmé" + (
            f" pour le {date_time(datetime.fromisoformat(at))}" if isinstance(at, str) else ""
        )
    elif row.action == "edition.test":
        what = f"envoi de test à {detail.get('to', '?')}"
    else:
        what = ACTION_LABELS.get(row.action, row.action)
        title = detail.get("title")
        if isinstance(title, str) and title:
            what += f" : « {title} »"
    return LogLine(date_time(row.at), row.actor, what)


def kept_to_add(session: Session, edition: EditionRow, present: set[int]) -> list[KeptView]:
    """The period's kept stories not in the edition yet, best first, one article each (its
    representative first): keeping a story keeps all its articles, and offering another
    article of a story the edition already carries would put the story in twice."""
    candidates = edition_db.candidates(session, edition.period_start, edition.period_end)
    carried = {c.story_id for c in candidates if c.article_id in present and c.story_id}
    kept = [c for c in candidates if c.kept and c.article_id not in present]
    kept.sort(key=lambda c: (not c.representative, -c.score, c.article_id))
    found, seen = [], set(carried)
    for c in kept:
        if c.story_id is not None and c.story_id in seen:
            continue
        if c.story_id is not None:
            seen.add(c.story_id)
        found.append(c)
    found.sort(key=lambda c: (-c.score, c.article_id))
    return [
        KeptView(c.article_id, c.title, c.source_name, next(iter(c.themes), ""))
        for c in found[:KEPT_SHOWN]
    ]
