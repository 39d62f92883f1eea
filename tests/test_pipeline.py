"""The collection pipeline end to end, against a real local HTTP server and a real
database (SQLite, and PostgreSQL in CI)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.hostile_server import HostileServer, static
from tests.site_builder import Page, article_html, feeds_yaml, make_pages, mount_site, rss
from tests.stored_scores import expected_coverage, score_is_its_sum
from veille.collect.pipeline import CollectContext, refresh_due
from veille.config import Settings
from veille.db.tables import ArticleLinkRow, ArticleRow, SourceRow
from veille.sources import load_feeds_config

pytestmark = pytest.mark.postgres  # behaviour depends on the database: CI reruns it on PostgreSQL


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


def context(
    settings: Settings, sessions: sessionmaker[Session], config: Path, clock: datetime | None = None
) -> CollectContext:
    ctx = CollectContext(settings=settings, sessions=sessions, config=load_feeds_config(config))
    if clock is not None:
        ctx.clock = lambda: clock
    return ctx


def write_config(settings: Settings, text: str) -> Path:
    settings.config_file.write_text(text, encoding="utf-8")
    return settings.config_file


def test_first_cycle_stores_each_article_once(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    pages = mount_site(server)
    config = write_config(settings, feeds_yaml(server.base_url))
    summary = refresh_due(context(settings, sessions, config))

    data = summary.as_dict()
    assert (data["sources_ok"], data["sources_failed"]) == (3, 0)
    assert data["new_articles"] == len(pages)  # 6 distinct pages behind 9 listings
    assert data["duplicates_merged"] == 3  # 2 relisted by flux-b, 1 by the listing page
    with sessions() as session:
        rows = session.scalars(select(ArticleRow).order_by(ArticleRow.url)).all()
        assert sorted(r.url for r in rows) == sorted(
            f"{server.base_url}/articles/{p.slug}" for p in pages
        )
        first = next(r for r in rows if r.url.endswith("sujet-1"))
        assert not first.partial
        assert "métropole" in first.text or "délibération" in first.text
        assert "Mentions légales" not in first.text and "À lire aussi" not in first.text
        assert "<script" not in first.html
        assert first.published_at is not None
        assert first.title == pages[1].title
        # Listed by flux-a and flux-b (with tracking parameters): one article, two sources.
        sources = session.scalars(
            select(SourceRow.key)
            .join(ArticleLinkRow, ArticleLinkRow.source_id == SourceRow.id)
            .where(ArticleLinkRow.article_id == first.id)
        ).all()
        assert set(sources) == {"flux-a", "flux-b"}
        # Sources that widened a story rescored its articles: coverage counts the story's
        # distinct sources, and the score is the sum of its components.
        for row in rows:
            assert row.score_components["coverage"]["why"] == expected_coverage(session, row)
            assert score_is_its_sum(row)
        assert "couvert par" in first.score_components["coverage"]["why"]
        src_a = session.scalar(select(SourceRow).where(SourceRow.key == "flux-a"))
        assert src_a is not None
        assert src_a.last_status == "ok" and src_a.consecutive_failures == 0
        assert src_a.last_new_article_at is not None
        # <ttl>120</ttl> is honoured: not due again for two hours.
        assert src_a.next_fetch_at is not None and src_a.last_fetched_at is not None
        assert src_a.next_fetch_at - src_a.last_fetched_at >= timedelta(minutes=120)


def test_second_cycle_adds_nothing_and_skips_article_pages(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    mount_site(server)
    config = write_config(settings, feeds_yaml(server.base_url))
    refresh_due(context(settings, sessions, config))
    server.reset_counters()
    again = refresh_due(context(settings, sessions, config), force=True)
    assert again.new_articles == 0 and again.duplicates_merged == 0
    assert not any(path.startswith("/articles/") for path in server.hits)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ArticleRow)) == 6


def test_due_times_are_respected(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    mount_site(server)
    config = write_config(settings, feeds_yaml(server.base_url))
    refresh_due(context(settings, sessions, config))
    nothing_due = refresh_due(context(settings, sessions, config))
    assert nothing_due.sources == []
    later = datetime.now(UTC) + timedelta(days=2)
    all_due = refresh_due(context(settings, sessions, config, clock=later))
    assert len(all_due.sources) == 3


def test_failed_article_page_keeps_feed_content(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    base = server.base_url
    page = make_pages()[0]
    server.route("/feeds/f.xml", static(rss(base, "F", [(f"{base}/gone/{page.slug}", page)])))
    config = write_config(
        settings,
        "sources:\n  - key: f\n    name: F\n    url: " + base + "/feeds/f.xml\n",
    )
    summary = refresh_due(context(settings, sessions, config))
    assert summary.new_articles == 1
    with sessions() as session:
        row = session.scalars(select(ArticleRow)).one()
        assert row.partial
        assert row.extract_note and "404" in row.extract_note
        assert row.text.startswith(page.paragraphs[0][:40])


def test_robots_txt_is_honoured_for_article_pages(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    mount_site(server)
    server.robots_txt = "User-agent: *\nDisallow: /articles/sujet-0\n"
    config = write_config(settings, feeds_yaml(server.base_url))
    refresh_due(context(settings, sessions, config))
    assert server.hits["/articles/sujet-0"] == 0
    with sessions() as session:
        row = session.scalars(select(ArticleRow).where(ArticleRow.url.like("%sujet-0"))).one()
        assert row.partial and "robots.txt" in (row.extract_note or "")


def test_syndicated_copy_joins_the_story(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    base = server.base_url
    original = make_pages()[0]
    copy = type(original)(
        "reprise-portail",
        original.title + " (dépêche)",
        (*original.paragraphs[:-1], "Propos recueillis par notre correspondant local."),
        age_hours=1,
    )
    other = Page(
        "cadastre-solaire",
        "Cadastre solaire : une carte pour les habitants",
        (
            "Le syndicat d'énergie a mis en ligne une carte du potentiel solaire "
            "de chaque toiture.",
            "Les propriétaires peuvent estimer la production d'une installation photovoltaïque "
            "et le temps de retour sur investissement, adresse par adresse.",
            "Les données d'ensoleillement proviennent de relevés satellitaires croisés avec le "
            "modèle numérique de surface fourni par l'institut géographique.",
            "Un conseiller rappelle que les projets restent soumis à déclaration "
            "préalable en mairie et que les bâtiments classés font l'objet "
            "de règles particulières.",
        ),
        age_hours=2,
    )
    for page in (original, copy, other):
        server.route(
            f"/articles/{page.slug}",
            static(
                article_html(base, page, canonical=False), content_type="text/html; charset=utf-8"
            ),
        )
    server.route(
        "/feeds/a.xml",
        static(
            rss(
                base,
                "A",
                [
                    (f"{base}/articles/{original.slug}", original),
                    (f"{base}/articles/{other.slug}", other),
                ],
            )
        ),
    )
    server.route("/feeds/b.xml", static(rss(base, "B", [(f"{base}/articles/{copy.slug}", copy)])))
    config = write_config(
        settings,
        f"""sources:
  - {{key: a, name: A, url: "{base}/feeds/a.xml"}}
  - {{key: b, name: B, url: "{base}/feeds/b.xml"}}
""",
    )
    refresh_due(context(settings, sessions, config))
    with sessions() as session:
        rows = {r.url.rsplit("/", 1)[1]: r for r in session.scalars(select(ArticleRow))}
    assert len(rows) == 3
    assert rows["reprise-portail"].story_id == rows[original.slug].story_id
    assert rows[other.slug].story_id != rows[original.slug].story_id
