"""SQLite's ranking computed in Python (`veille.archive.bm25`) gives every match FTS5's own
bm25 score to the bit, hence the same page order, and steps aside when it cannot."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import func, literal_column, select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.test_search import T0, _add, _q
from veille.archive import bm25, search_plan
from veille.archive.search import search
from veille.db import fulltext
from veille.db.fulltext import SEARCH
from veille.db.tables import SourceRow

VOCABULARY = ["vote", "budget", "tramway", "données", "écoles", "Lyon", "conseil", "municipal"]
QUERIES = [
    "tramway",
    "budget Lyon",
    "données tramway écoles",
    '"conseil municipal" budget',
    '"vote vote"',  # overlapping instances: « vote vote vote » holds two
    '"vote vote" -Lyon',
    "Lyon Lyon budget",  # the same phrase twice
]


def _corpus(session: Session, count: int = 90) -> None:
    session.add(SourceRow(key="etalab", name="Etalab", url="https://etalab.example/"))
    session.flush()
    rng = random.Random(7)
    for n in range(count):
        words = [rng.choice(VOCABULARY) for _ in range(rng.randint(1, 40))]
        if n % 4 == 0:
            words += ["vote"] * rng.randint(2, 4)
        body = " ".join(words) + "."
        title = f"Séance {n % 6} : {rng.choice(VOCABULARY)}"
        _add(session, f"bm25-{n}", title, body, days=n % 25)  # days repeat: date ties


def _fts5(session: Session, plan: search_plan.Plan) -> list[tuple[int, float]]:
    """FTS5's own scores of the ranked rows, in its order."""
    score = func.bm25(literal_column(fulltext.FTS_TABLE))
    stmt = (
        select(SEARCH.c.id, score)
        .select_from(fulltext.FTS.join(SEARCH, SEARCH.c.id == fulltext.FTS.c.rowid))
        .where(search_plan.ranked_match(plan), *plan.filters(narrow=True))
        .order_by(score, SEARCH.c.published_or_fetched.desc(), SEARCH.c.id.desc())
    )
    return [(int(i), float(s)) for i, s in session.execute(stmt)]


@pytest.fixture
def corpus(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions() as session, session.begin():
        _corpus(session)
    with sessions() as session:
        if session.get_bind().dialect.name != "sqlite":
            pytest.skip("FTS5's bm25 is SQLite's")
    return sessions


def test_python_bm25_is_fts5s_to_the_bit_and_orders_pages_alike(
    corpus: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    with corpus() as session:
        ranked_here = 0
        for q in QUERIES:
            for period in ({}, {"date_from": (T0 - timedelta(days=12)).date()}):
                plan = search_plan.plan_of(session, _q(q=q, **period))
                want = _fts5(session, plan)
                assert len(want) >= 3, q
                conditions = [search_plan.ranked_match(plan), *plan.filters(narrow=True)]
                scored = bm25.scores(session, plan, conditions)
                assert scored is not None
                assert sorted((i, s) for i, s, _ in scored) == sorted(want), q  # to the bit
                pages = [
                    bm25.ranked_ids(session, plan, conditions, (offset, 7), None)
                    for offset in range(0, len(want), 7)
                ]
                assert [i for page in pages for i in page or []] == [i for i, _ in want], q
                ranked_here += 1
        assert ranked_here == 2 * len(QUERIES)
        # Through `search`, ranked here whatever the counts (WALK_RATIO 0): FTS5's pages.
        monkeypatch.setattr(bm25, "WALK_RATIO", 0)
        here: list[list[int] | None] = []
        ranked_ids = bm25.ranked_ids
        monkeypatch.setattr(
            bm25, "ranked_ids", lambda *a: here.append(ranked_ids(*a)) or here[-1]
        )
        for q in QUERIES:
            page = search(session, _q(q=q, sort="pertinence", per_page=10))
            assert page.sort == "pertinence"
            plan = search_plan.plan_of(session, _q(q=q))
            assert [h.id for h in page.items] == [i for i, _ in _fts5(session, plan)[:10]]
        # Decided on one-word phrases: a search of longer ones alone stays FTS5's.
        assert [page is not None for page in here] == [not q.startswith('"vote') for q in QUERIES]


def test_document_counts_follow_new_articles_and_odd_documents_go_back_to_fts5(
    corpus: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bm25, "WALK_RATIO", 0)
    plan_of = lambda session: search_plan.plan_of(session, _q(q="funiculaire tramway"))  # noqa: E731
    with corpus() as session:
        plan = plan_of(session)
        conditions = [search_plan.ranked_match(plan), *plan.filters(narrow=True)]
        assert bm25.scores(session, plan, conditions) == []  # « funiculaire » counted: 0
    with corpus() as session, session.begin():  # the counts kept for the old version go
        for n in range(30):
            body = "Le funiculaire passe. " * (n % 3 + 1) + "Le tramway aussi."
            _add(session, f"new-{n}", "Le funiculaire", body, days=1)
    with corpus() as session:
        plan = plan_of(session)
        conditions = [search_plan.ranked_match(plan), *plan.filters(narrow=True)]
        scored = bm25.scores(session, plan, conditions)
        assert scored is not None
        assert sorted((i, s) for i, s, _ in scored) == sorted(_fts5(session, plan))
        assert len(scored) == 30
    with corpus() as session, session.begin():
        # A document written by another path than ours (capitals, punctuation).
        first = _fts5(session, plan)[0][0]
        session.execute(
            text(f"UPDATE {fulltext.FTS_TABLE} SET doc = :doc WHERE rowid = :i"),
            {"doc": "funiculair tramway, Tramway.", "i": first},
        )
    with corpus() as session:
        plan = plan_of(session)
        conditions = [search_plan.ranked_match(plan), *plan.filters(narrow=True)]
        assert bm25.scores(session, plan, conditions) is None
        assert bm25.ranked_ids(session, plan, conditions, (0, 10), None) is None
        ids = search_plan.relevance_ids(session, plan, 0, 10, matches=1)
        assert ids == [i for i, _ in _fts5(session, plan)[:10]]


def test_fts5_ranks_when_reading_the_matches_would_cost_more() -> None:
    assert bm25.worth_it([500_000, 900], 300)
    assert not bm25.worth_it([2_000], 1_900)  # a place alone: its own walk is short
    assert not bm25.worth_it([900_000], bm25.OWN_MAX + 1)
    assert not bm25.worth_it([900_000], 0)
