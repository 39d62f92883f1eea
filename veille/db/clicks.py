"""The letters' click counters (`edition_clicks`): one row per (edition, item), bumped by
the `/r/…` redirect. No member, address or IP is ever stored here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from veille.db.counter_tables import EditionClickRow
from veille.db.tables import ArticleRow, EditionItemRow, EditionRow


@dataclass(frozen=True)
class ClickTarget:
    edition_id: int
    item_id: int
    url: str
    article_id: int | None


def target(session: Session, number: int, item_id: int) -> ClickTarget | None:
    """The item `item_id` of edition `number` (both must match: a token names the pair)."""
    row = session.execute(
        select(EditionItemRow.edition_id, EditionItemRow.url, EditionItemRow.article_id)
        .join(EditionRow, EditionRow.id == EditionItemRow.edition_id)
        .where(EditionItemRow.id == item_id, EditionRow.number == number)
    ).first()
    if row is None:
        return None
    return ClickTarget(int(row[0]), item_id, str(row[1] or ""), row[2])


def count_click(session: Session, edition_id: int, item_id: int) -> int:
    """One more click on the item; returns its new count. An UPDATE first (the usual
    case: one statement, row-locked); the first click of an item inserts, and a second
    first click racing it falls back to the UPDATE."""
    bump = (
        update(EditionClickRow)
        .where(EditionClickRow.edition_id == edition_id, EditionClickRow.item_id == item_id)
        .values(clicks=EditionClickRow.clicks + 1)
        .returning(EditionClickRow.clicks)
    )
    done = session.execute(bump).scalar()
    if done is not None:
        return int(done)
    try:
        with session.begin_nested():
            session.execute(
                insert(EditionClickRow).values(edition_id=edition_id, item_id=item_id, clicks=1)
            )
        return 1
    except IntegrityError:
        return int(session.execute(bump).scalar() or 0)


def clicks_of(session: Session, edition_id: int) -> dict[int, int]:
    """{item id: clicks} of one edition (items never clicked are absent)."""
    rows = session.execute(
        select(EditionClickRow.item_id, EditionClickRow.clicks).where(
            EditionClickRow.edition_id == edition_id
        )
    ).all()
    return {int(item_id): int(n) for item_id, n in rows if n}


def read_items_by_source(session: Session, source_ids: Sequence[int]) -> dict[int, int]:
    """{source id: letter items of its articles that members followed at least once}:
    what members read, as the value score's `editor` component counts it."""
    if not source_ids:
        return {}
    rows = session.execute(
        select(ArticleRow.source_id, func.count(func.distinct(EditionClickRow.item_id)))
        .join(EditionItemRow, EditionItemRow.id == EditionClickRow.item_id)
        .join(ArticleRow, ArticleRow.id == EditionItemRow.article_id)
        .where(ArticleRow.source_id.in_(list(source_ids)), EditionClickRow.clicks > 0)
        .group_by(ArticleRow.source_id)
    ).all()
    return {int(source_id): int(n) for source_id, n in rows}


def source_of_item(session: Session, item_id: int) -> int | None:
    return session.scalar(
        select(ArticleRow.source_id)
        .join(EditionItemRow, EditionItemRow.article_id == ArticleRow.id)
        .where(EditionItemRow.id == item_id)
    )
