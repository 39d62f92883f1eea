"""Plain records the store returns to the layers above, kept free of SQLAlchemy so pure
code (the newsletter's composition) can take them without importing the store's engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Candidate:
    article_id: int
    title: str
    url: str
    source_key: str
    source_name: str
    story_id: int | None
    themes: tuple[str, ...]  # most likely first; empty = off-topic
    score: float
    kept: bool = False
    discarded: bool = False
    starred: bool = False
    summary: str = ""
    comment: str = ""
    published_at: datetime | None = None
    # Its story's representative (veille.db.stories): the one kept item of a story.
    representative: bool = True
