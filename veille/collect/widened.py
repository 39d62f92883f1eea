"""The stories a cycle widened, rescored once when it ends.

A story's coverage (how many sources listed it) is part of each member's score. The
transactions of a cycle that widen stories (a source relisting an article, a page joining
a story) mark them (`db/coverage_marks.py`, in `store.PendingClassification.apply`)
instead of rewriting their articles' scores each time: a first cycle rewrote each
article's whole row ~6 times (~12,000 UPDATEs for 2,000 articles). `rescore_widened`, at
the cycle's end, takes every mark — this cycle's, and those a cycle killed before its end
left — and rescores each story once, in one transaction.

What can be seen meanwhile: until its cycle ends, a widened story's articles keep the
coverage (and score, and so the story's entry) they had before; new articles are scored
with the coverage their story has when they are stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from veille.db import coverage_marks
from veille.db.engine import transaction

log = logging.getLogger(__name__)


def rescore_marked(session: Session, story_ids: Sequence[int]) -> None:
    """Rescore the coverage of stories taken from their marks, in the caller's transaction,
    and choose their entries again: their scores as rescoring them at each widening would
    have left them, each article's row written at most once."""
    from veille.classify.service import rescore_coverage
    from veille.db import stories as story_db

    rescore_coverage(session, story_ids, refresh=False)
    story_db.refresh(session, story_ids)


def rescore_widened(sessions: Callable[[], Session], owner: str) -> None:
    """Take and rescore every marked story (one transaction). A cycle whose feeds brought
    nothing finds no mark and imports nothing more; if this fails, the marks stay for the
    next cycle's end."""
    try:
        with transaction(sessions) as session:
            if stories := coverage_marks.take(session):
                rescore_marked(session, stories)
    except Exception:
        log.exception("rescoring the stories widened by %s failed", owner)
