"""Widened stories are rescored once, when the cycle ends, from durable marks: a cycle
killed after its sources are stored but before its end leaves stale coverage and the
marks, and the next cycle's end rescores them. Against a real local HTTP server and a
real database (SQLite, and PostgreSQL in CI: the marks' INSERT … ON CONFLICT and
DELETE … RETURNING are written per dialect)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.hostile_server import HostileServer
from tests.site_builder import feeds_yaml, mount_site
from tests.stored_scores import expected_coverage, score_is_its_sum
from veille.collect.pipeline import CollectContext, Cycle, refresh_due
from veille.collect.pools import Pools
from veille.config import Settings
from veille.db import coverage_marks
from veille.db import stories as story_db
from veille.db.fulltext import ALL_THEMES, DUPLICATE_BIT, SEARCH, theme_mask
from veille.db.tables import ArticleRow, ArticleThemeRow
from veille.sources import load_feeds_config

pytestmark = pytest.mark.postgres


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


def _context(settings: Settings, sessions: sessionmaker[Session], base: str) -> CollectContext:
    settings.config_file.write_text(feeds_yaml(base), encoding="utf-8")
    return CollectContext(
        settings=settings, sessions=sessions, config=load_feeds_config(settings.config_file)
    )


def _coverage(session: Session) -> dict[int, tuple[str, str]]:
    """Each article's stored coverage « why », beside what its story's sources make it."""
    out: dict[int, tuple[str, str]] = {}
    for row in session.scalars(select(ArticleRow)):
        out[row.id] = (row.score_components["coverage"]["why"], expected_coverage(session, row))
        assert score_is_its_sum(row)
    return out


def _entries_right(session: Session) -> None:
    """Every story's entry bit is the one its members' stored scores choose."""
    a = SEARCH.c
    stories = {int(s) for s in session.scalars(select(a.story_id)) if s is not None}
    assert story_db.refresh(session, stories) == 0  # nothing to change
    for story in stories:
        members = session.execute(select(a.id, a.theme_mask).where(a.story_id == story)).all()
        assert sum(1 for _, mask in members if not (mask or 0) & DUPLICATE_BIT) == 1


def test_a_cycle_killed_before_its_end_is_rescored_by_the_next(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    mount_site(server)
    ctx = _context(settings, sessions, server.base_url)
    refresh_due(ctx, keys=["flux-a"])  # a whole cycle: flux-a's four articles, scored
    # The next cycle as `refresh_due` runs it, stopped where a kill after the last
    # source's transaction would stop it: everything committed but the end (`finish`).
    # flux-b and the listing page relist three of flux-a's articles: their stories widen.
    cycle = Cycle.start(ctx, keys=["flux-b", "annonces"], force=False, progress=None)
    with Pools(ctx.settings, ctx.fetcher, None) as pools:
        cycle.run(pools)
    cycle.give_back()
    with sessions() as session:
        marked = coverage_marks.marked(session)
        coverage = _coverage(session)
        stale = {a for a, (stored, expected) in coverage.items() if stored != expected}
        assert stale  # flux-a's widened articles keep the coverage they had
        stories = session.scalars(select(ArticleRow.story_id).where(ArticleRow.id.in_(stale)))
        assert set(stories) <= set(marked)

    again = refresh_due(ctx, force=True)  # relists what is linked: widens nothing itself
    assert again.new_articles == 0 and again.duplicates_merged == 0
    with sessions() as session:
        assert coverage_marks.marked(session) == []
        assert all(stored == expected for stored, expected in _coverage(session).values())
        _entries_right(session)


def test_a_whole_cycle_leaves_no_mark_and_right_scores(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    mount_site(server)
    summary = refresh_due(_context(settings, sessions, server.base_url))
    assert summary.duplicates_merged == 3
    with sessions() as session:
        assert coverage_marks.marked(session) == []
        coverage = _coverage(session)
        assert any(stored.startswith("couvert par") for stored, _ in coverage.values())
        assert all(stored == expected for stored, expected in coverage.values())
        _entries_right(session)
        # The themes' bits, written with the scores: each article's are its themes'.
        themes: dict[int, set[str]] = {}
        for article_id, theme in session.execute(
            select(ArticleThemeRow.article_id, ArticleThemeRow.theme)
        ):
            themes.setdefault(article_id, set()).add(theme)
        assert themes  # the site's articles are about open data
        for article_id, mask in session.execute(select(SEARCH.c.id, SEARCH.c.theme_mask)):
            assert (mask or 0) & ALL_THEMES == theme_mask(themes.get(article_id, ()))


def test_marks_are_kept_once_and_taken_in_one_statement(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        coverage_marks.mark(session, [3, 1, 2])
        coverage_marks.mark(session, [2, 3, 4])  # a story marked twice stays one mark
    with sessions() as session:
        assert coverage_marks.take(session) == [1, 2, 3, 4]
        session.rollback()  # a rescoring that fails gives the marks back
    with sessions() as session, session.begin():
        assert coverage_marks.take(session) == [1, 2, 3, 4]
    with sessions() as session:
        assert coverage_marks.marked(session) == []
