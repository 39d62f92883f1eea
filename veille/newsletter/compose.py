"""Pure composition: the week's candidates → the items of an edition, by theme section.

When the delegate kept items, the edition is exactly those, one per story (their choice
wins over every limit). When nothing is kept yet, the draft takes the best on-topic items
by value score: at most `per_theme` per section, one article per story (the same news
covered by several sources appears once), at most `per_source` per source across the
edition — so a prolific source cannot fill the letter. Each article appears once, under
its most likely theme that still has room.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from veille.db.records import Candidate


@dataclass(frozen=True)
class Limits:
    per_theme: int = 5
    per_source: int = 2
    per_story: int = 1


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class PlannedItem:
    candidate: Candidate
    theme: str
    position: int


def compose(
    candidates: Iterable[Candidate],
    theme_order: Sequence[str],
    limits: Limits = DEFAULT_LIMITS,
) -> list[PlannedItem]:
    """Items in section order, positions counted within each section."""
    pool = [c for c in candidates if not c.discarded and c.themes]
    # A kept story gives one item: its representative (the delegate's pick when they kept it).
    kept = [c for c in pool if c.kept and c.representative]
    chosen = _kept_plan(kept, theme_order) if kept else _automatic_plan(pool, theme_order, limits)
    return _positions(chosen, theme_order)


def _rank(c: Candidate) -> tuple[bool, float, float, int]:
    stamp = c.published_at.timestamp() if c.published_at else 0.0
    return (not c.starred, -c.score, -stamp, c.article_id)


def _best_theme(c: Candidate, theme_order: Sequence[str]) -> str | None:
    return next((t for t in c.themes if t in theme_order), None)


def _kept_plan(kept: list[Candidate], theme_order: Sequence[str]) -> list[tuple[str, Candidate]]:
    plan = []
    for c in sorted(kept, key=_rank):
        theme = _best_theme(c, theme_order)
        if theme is not None:
            plan.append((theme, c))
    return plan


def _automatic_plan(
    pool: list[Candidate], theme_order: Sequence[str], limits: Limits
) -> list[tuple[str, Candidate]]:
    per_theme: dict[str, int] = {}
    per_source: dict[str, int] = {}
    per_story: dict[int, int] = {}
    plan = []
    for c in sorted(pool, key=_rank):
        if per_source.get(c.source_key, 0) >= limits.per_source:
            continue
        if c.story_id is not None and per_story.get(c.story_id, 0) >= limits.per_story:
            continue
        theme = next(
            (t for t in c.themes if t in theme_order and per_theme.get(t, 0) < limits.per_theme),
            None,
        )
        if theme is None:
            continue
        plan.append((theme, c))
        per_theme[theme] = per_theme.get(theme, 0) + 1
        per_source[c.source_key] = per_source.get(c.source_key, 0) + 1
        if c.story_id is not None:
            per_story[c.story_id] = per_story.get(c.story_id, 0) + 1
    return plan


def _positions(plan: list[tuple[str, Candidate]], theme_order: Sequence[str]) -> list[PlannedItem]:
    items: list[PlannedItem] = []
    for theme in theme_order:
        in_section = [c for t, c in plan if t == theme]
        items.extend(PlannedItem(c, theme, i) for i, c in enumerate(in_section))
    return items
