"""The stories a collection cycle widened whose articles' coverage is not rescored yet.

A story's coverage (how many sources listed it) is part of each member's score. In a first
cycle every source that relists an article widens its story, and rescoring at each of
those transactions rewrote each article's row ~6 times (~12,000 UPDATEs of whole rows,
text and HTML, for 2,000 articles). The transaction that widens a story marks it here
instead (`mark`), and the cycle rescores what is marked once, when it ends (`take`, in
`veille.collect.widened`). The marks are durable: a cycle killed between the
two leaves them, and the next cycle's end rescores them with its own.

Taking is one DELETE … RETURNING, before the counts are read in the same transaction: on
PostgreSQL a collector that marks a taken story meanwhile waits for that DELETE to commit
and then inserts its mark again, so no widening is left unmarked once its links commit.

Core only (no ORM): a cycle ends by taking the marks even when no feed changed.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete
from sqlalchemy.orm import Session

from veille.db.schema import COVERAGE_MARKS
from veille.db.upsert import conflict_insert

CHUNK = 500  # rows per INSERT (SQLite's bound parameters)


def mark(session: Session, story_ids: Iterable[int]) -> None:
    """Mark stories for rescoring, in the caller's transaction; a story marked already
    stays marked (ON CONFLICT DO NOTHING: two collectors may mark the same story)."""
    ids = sorted({int(s) for s in story_ids})
    if not ids:
        return
    statement = conflict_insert(session, COVERAGE_MARKS)
    for start in range(0, len(ids), CHUNK):
        rows = [{"story_id": s} for s in ids[start : start + CHUNK]]
        session.execute(statement.values(rows).on_conflict_do_nothing(index_elements=["story_id"]))


def take(session: Session) -> list[int]:
    """Every marked story, unmarked in the caller's transaction (which rescores them: if it
    fails, the marks come back with its rollback)."""
    result = session.execute(delete(COVERAGE_MARKS).returning(COVERAGE_MARKS.c.story_id))
    return sorted(int(s) for s in result.scalars())


def marked(session: Session) -> list[int]:
    """The marked stories, left marked (for tests and `veille` diagnostics)."""
    return sorted(int(s) for s in session.scalars(COVERAGE_MARKS.select()))
