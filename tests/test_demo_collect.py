"""One real collection cycle over the bundled demo site, checked against its manifest.

The demo declares what a correct collector must end with: every listed article stored once,
relisted ones linked to every source that lists them, reworded near-copies in their
original's story and nothing else grouped. This runs the project's own orchestrator
(`refresh_due`) against the demo served on localhost, into a fresh database.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from veille.collect.pipeline import CollectContext, CycleSummary, refresh_due
from veille.config import Settings, get_settings
from veille.db.engine import make_engine, session_factory, upgrade
from veille.db.tables import ArticleLinkRow, ArticleRow, SourceRow
from veille.demo import demo_feeds_yaml, demo_manifest, demo_sources, start_demo_site
from veille.demo.catalog import DemoArticle
from veille.sources import load_feeds_config

# A fixed hour, shared by the site (article dates) and the collector's clock (the sitemap's
# 7-day window, future-date checks), so the expected set does not depend on when tests run.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SITEMAP_WINDOW = timedelta(days=7)


@dataclass
class Collected:
    base_url: str
    summary: CycleSummary
    # canonical path -> (article id, story id, keys of the sources linked to it)
    stored: dict[str, tuple[int, int | None, set[str]]]
    by_id_count: int
    statuses: dict[str, str | None]


def _expected(arts: list[DemoArticle]) -> dict[str, DemoArticle]:
    """Articles a correct cycle stores: all listed ones, but a sitemap only yields a week."""
    formats = {s.key: s.format for s in demo_sources()}
    cutoff_hours = SITEMAP_WINDOW.total_seconds() / 3600
    out: dict[str, DemoArticle] = {}
    for a in arts:
        for key in a.listed_in:
            if formats[key] == "sitemap" and a.age_hours > cutoff_hours:
                continue
            out[a.path] = a
    return out


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collected]:
    """One cycle for the whole module (it fetches ~170 documents); same settings as the
    `settings` fixture of conftest.py, on a SQLite file of this module's own."""
    tmp = tmp_path_factory.mktemp("demo-collect")
    settings = get_settings(
        database_url=f"sqlite:///{tmp / 'demo.db'}",
        config_file=tmp / "feeds.yaml",
        allow_private_networks=True,
        per_host_delay=0.0,
        per_host_concurrency=4,
        fetch_timeout=10.0,
        extract_workers=1,
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    sessions = session_factory(engine)
    try:
        yield _collect(settings, sessions)
    finally:
        engine.dispose()


def _collect(settings: Settings, sessions: sessionmaker[Session]) -> Collected:
    with start_demo_site(now=NOW) as site:
        settings.config_file.write_text(demo_feeds_yaml(site.base_url), encoding="utf-8")
        ctx = CollectContext(
            settings=settings, sessions=sessions, config=load_feeds_config(settings.config_file)
        )
        ctx.clock = lambda: NOW
        summary = refresh_due(ctx)
        with sessions() as session:
            keys = {r.id: r.key for r in session.scalars(select(SourceRow))}
            statuses = {r.key: r.last_status for r in session.scalars(select(SourceRow))}
            links: dict[int, set[str]] = defaultdict(set)
            for link in session.scalars(select(ArticleLinkRow)):
                links[link.article_id].add(keys[link.source_id])
            rows = session.scalars(select(ArticleRow)).all()
            prefix = site.base_url.rstrip("/")
            stored: dict[str, tuple[int, int | None, set[str]]] = {}
            for r in rows:
                assert r.url.startswith(prefix), r.url
                path = r.url[len(prefix) :]
                assert path not in stored, f"{path} stored twice"
                stored[path] = (r.id, r.story_id, links[r.id] | {keys[r.source_id]})
        return Collected(site.base_url, summary, stored, len(rows), statuses)


def test_demo_cycle_stores_every_listed_article_once(collected: Collected) -> None:
    arts = demo_manifest()
    expected = _expected(arts)
    # The sitemap window really cuts something (11 of the sitemap's 15 articles).
    assert len(arts) - len(expected) == 11
    stored_articles = {p for p in collected.stored if "/articles/" in p}
    assert stored_articles == set(expected)
    assert collected.summary.duplicates_merged == sum(len(a.tracked_in) for a in expected.values())


def test_demo_cycle_stores_nothing_but_articles(collected: Collected) -> None:
    """The news sitemap also lists the section's front page (no <news:news> block); a
    collector must not store a listing page as an article."""
    others = sorted(p for p in collected.stored if "/articles/" not in p)
    assert others == []
    assert collected.summary.new_articles == len(_expected(demo_manifest()))


def test_demo_relisted_articles_are_single_and_linked_to_both_sources(
    collected: Collected,
) -> None:
    tracked = [a for a in demo_manifest() if a.tracked_in]
    assert len(tracked) >= 5
    for a in tracked:
        assert a.path in collected.stored, a.slug
        _, _, sources = collected.stored[a.path]
        assert sources == set(a.listed_in), a.slug


def test_demo_stories_group_only_near_copies(collected: Collected) -> None:
    arts = demo_manifest()
    stored = collected.stored
    copies = [(a.path, a.near_copy_of) for a in arts if a.near_copy_of and a.path in stored]
    both = [(c, o) for c, o in copies if o in stored]
    # Five pairs are both collected; the sixth original is older than the sitemap's week.
    assert len(both) >= 5
    for copy_path, orig_path in both:
        assert stored[copy_path][1] is not None
        assert stored[copy_path][1] == stored[orig_path][1], (copy_path, orig_path)
    allowed = {frozenset(p) for p in both}
    by_story: dict[int | None, list[str]] = defaultdict(list)
    for path, (_, story, _) in stored.items():
        by_story[story].append(path)
    assert None not in by_story  # every demo article has enough text to get a story
    wrongly_grouped = [
        (x, y)
        for paths in by_story.values()
        for x, y in itertools.combinations(sorted(paths), 2)
        if frozenset((x, y)) not in allowed
    ]
    assert wrongly_grouped == []
    assert len(by_story) == len(stored) - len(both)


def test_demo_broken_source_is_in_error(collected: Collected) -> None:
    broken = [s.key for s in demo_sources() if s.format == "broken"]
    assert broken
    for key in broken:
        assert collected.statuses[key] == "error"
    healthy = [s.key for s in demo_sources() if s.format != "broken"]
    assert all(collected.statuses[k] == "ok" for k in healthy), collected.statuses
