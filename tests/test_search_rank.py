"""SQLite's ranked pages (`search_plan.relevance_ids`): bm25 over the required phrases only,
the exclusions kept as the rows' condition, gives every match the score — to the bit — and
the place the single MATCH of the whole expression gave it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session, sessionmaker

from tests.test_search import T0, _add, _q
from veille.archive import search_plan
from veille.archive.search import search
from veille.db import fulltext
from veille.db.fulltext import SEARCH
from veille.db.tables import SourceRow

WORDS = ["tramway", "budget", "données", "vélo", "écoles", "Lyon"]


def _articles(session: Session) -> None:
    """Sixty articles mixing the words at several counts and lengths (ties included)."""
    session.add(SourceRow(key="etalab", name="Etalab", url="https://etalab.example/"))
    session.flush()
    for n in range(60):
        words = [WORDS[(n * k) % len(WORDS)] for k in range(1, 2 + n % 7)]
        filler = " ".join(["Le conseil a délibéré en séance publique."] * (n % 5))
        body = f"{' '.join(words)}. {filler} Les données du tramway de Lyon." * (1 + n % 3)
        _add(session, f"rank-{n}", f"Article {n % 9} : {words[0]}", body, days=n % 40)


def _scored(session: Session, plan: search_plan.Plan, match: Any) -> list[tuple[int, float]]:
    """Every match in ranked order with its bm25 score, under FTS5 condition `match`."""
    score = func.bm25(literal_column(fulltext.FTS_TABLE))
    stmt = (
        select(SEARCH.c.id, score)
        .select_from(fulltext.FTS.join(SEARCH, SEARCH.c.id == fulltext.FTS.c.rowid))
        .where(match, *plan.filters(narrow=True))
        .order_by(score, SEARCH.c.published_or_fetched.desc(), SEARCH.c.id.desc())
    )
    return [(int(i), float(s)) for i, s in session.execute(stmt)]


@pytest.mark.parametrize(
    "q",
    [
        "tramway -budget",
        "données Lyon -vélo -écoles",
        '"données du tramway" -budget',
        "tramway budget",  # no exclusion: the one MATCH, as before
    ],
)
def test_ranking_without_the_excluded_phrases_keeps_every_score_and_place(
    sessions: sessionmaker[Session], q: str
) -> None:
    with sessions() as session, session.begin():
        _articles(session)
    with sessions() as session:
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("FTS5's bm25 is SQLite's")
        for period in ({}, {"date_from": (T0 - timedelta(days=20)).date()}):
            plan = search_plan.plan_of(session, _q(q=q, **period))
            whole = plan.fts5_match()
            assert whole is not None
            before = _scored(session, plan, whole)
            after = _scored(session, plan, search_plan.ranked_match(plan))
            assert len(before) > 5, q
            assert (plan.id_range is not None) == bool(period)  # FTS5 held to its ids
            assert after == before, q  # same rows, same order, same scores to the bit
            if "-" in q:  # the rank is another MATCH than the rows'
                assert search_plan.ranked_match(plan) is not whole
            ids = search_plan.relevance_ids(session, plan, 0, 1_000)
            assert ids == [i for i, _ in before]
            page = search(session, _q(q=q, sort="pertinence", per_page=10, **period))
            assert page.sort == "pertinence"
            assert [h.id for h in page.items] == [i for i, _ in before[:10]]
