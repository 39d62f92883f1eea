"""Rows that only count: the archive's data version and the clicks per edition item (their
own module because `tables.py` is at its size limit)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from veille.db.schema import DATA_VERSION
from veille.db.tables import Base


class EditionClickRow(Base):
    """How many times the link of one item of one edition was followed from the letters
    (`/r/…`): a counter per (edition, item), never a member, an address or an IP — no
    personal data, so no consent to ask (docs/desk.md, « Ce que lisent les membres »)."""

    __tablename__ = "edition_clicks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("edition_items.id", ondelete="CASCADE"))
    clicks: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("edition_id", "item_id", name="uq_edition_clicks_edition_item"),
    )


class DataVersionRow(Base):
    """One row counting the writes the public archive shows (`veille.db.data_version`):
    the web's ETags and response cache are keyed on it."""

    __tablename__ = "data_version"  # what data_version.watch reads of a changed row
    __table__ = DATA_VERSION  # Core in `db/schema.py`: bumped by sessions that map nothing

    id: Mapped[int]
    version: Mapped[int]
    changed_at: Mapped[datetime]
