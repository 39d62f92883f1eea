"""One entry per story, on-topic by default (issue 11, parts 1 and 3), over HTTP against a
real uvicorn server: the archive page, the JSON API, the Atom feeds and the exports.

The archive: one open-data story told by three sources (the 70-point version represents
it), one AI article, two off-topic articles."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import feedparser
import lxml.html
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import NOW, Seed, Site, populate, serve
from veille.config import Settings
from veille.db import scores as score_db
from veille.db import stories as story_db
from veille.db.fulltext import DUPLICATE_BIT
from veille.desk import curation

pytestmark = pytest.mark.postgres  # behaviour depends on the database: CI reruns it on PostgreSQL

SEEDS = [
    Seed("story-a", "courrier", "Nantes publie ses budgets en open data", ("open_data",), 10, 50.0),
    Seed(
        "story-b",
        "gazette",
        "Les budgets de Nantes désormais ouverts",
        ("open_data",),
        12,
        70.0,
        story_with="story-a",
    ),
    Seed(
        "story-c",
        "labo",
        "Nantes ouvre les données de son budget",
        ("open_data",),
        14,
        60.0,
        story_with="story-a",
    ),
    Seed("ia", "labo", "Un assistant IA pour les mairies", ("ia",), 20, 40.0),
    Seed("concert", "courrier", "Le concert de la fête de la musique", (), 5, 20.0),
    Seed("sport", "gazette", "Le club de rugby remporte la finale", (), 30, 25.0),
]


@pytest.fixture
def site(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[Site]:
    from veille.web.app import create_app

    stored = populate(sessions, SEEDS)
    app = create_app(settings, clock=lambda: NOW)
    with serve(app) as base_url:
        yield Site(base_url=base_url, ids=stored.ids, settings=settings)


def cards(doc: Any) -> list[str]:
    return [a.text_content().strip() for a in doc.cssselect("article.card h2 a")]


def label_count(doc: Any, box_id: str) -> int:
    text = doc.cssselect(f'label[for="{box_id}"] .count')[0].text_content()
    return int(text.strip("()"))


def test_default_page_shows_one_card_per_story_and_hides_off_topic(site: Site) -> None:
    _, doc = site.page("/")
    assert cards(doc) == [
        "Les budgets de Nantes désormais ouverts",
        "Un assistant IA pour les mairies",
    ]
    story = doc.cssselect("article.card")[0]
    assert story.cssselect(".coverage")[0].text_content() == "Aussi couvert par 2 sources"
    assert sorted(a.get("href") for a in story.cssselect(".also-links a")) == sorted(
        [f"/articles/{site.ids['story-a']}", f"/articles/{site.ids['story-c']}"]
    )
    assert "2 sujets" in doc.cssselect(".summary-line")[0].text_content()
    # The article page of a member lists the others too.
    _, page = site.page(f"/articles/{site.ids['story-a']}")
    assert "Aussi couvert par" in page.text_content()
    assert page.cssselect(f'a[href="/articles/{site.ids["story-b"]}"]')


def test_group_none_lists_every_article(site: Site) -> None:
    _, doc = site.page("/?group=none")
    assert sorted(cards(doc)) == sorted(
        [
            "Nantes publie ses budgets en open data",
            "Les budgets de Nantes désormais ouverts",
            "Nantes ouvre les données de son budget",
            "Un assistant IA pour les mairies",
        ]
    )
    assert "4 articles" in doc.cssselect(".summary-line")[0].text_content()
    assert label_count(doc, "theme-open_data") == 3
    # The form keeps the choice, and a link goes back to stories.
    assert doc.cssselect('input[type="hidden"][name="group"][value="none"]')
    assert doc.cssselect("a.group-link")[0].get("href") == "/"
    _, grouped = site.page("/")
    assert grouped.cssselect("a.group-link")[0].get("href") == "/?group=none"
    assert site.get("/?group=tous").status_code == 400


def test_theme_none_selects_off_topic_and_combines_with_or(site: Site) -> None:
    _, doc = site.page("/?theme=none")
    assert cards(doc) == [
        "Le concert de la fête de la musique",
        "Le club de rugby remporte la finale",
    ]
    assert doc.cssselect("input#theme-none")[0].get("checked") is not None
    _, doc = site.page("/?theme=none&theme=ia")
    assert cards(doc) == [
        "Le concert de la fête de la musique",
        "Un assistant IA pour les mairies",
        "Le club de rugby remporte la finale",
    ]
    api = site.get("/api/articles?theme=none").json()
    assert sorted(i["title"] for i in api["items"]) == sorted(cards(site.page("/?theme=none")[1]))
    assert site.get("/api/articles?theme=rien").status_code == 400


def test_facet_counts_equal_what_is_listed(site: Site) -> None:
    for base in ("/", "/?group=none"):
        _, doc = site.page(base)
        joiner = "&" if "?" in base else "?"
        for theme in ("open_data", "ia", "none"):
            count = label_count(doc, f"theme-{theme}")
            _, listed = site.page(f"{base}{joiner}theme={theme}")
            assert count == len(cards(listed)), (base, theme)
    _, doc = site.page("/")
    off = doc.cssselect('label[for="theme-none"]')[0]
    assert " ".join(off.text_content().split()) == "Hors thèmes (2)"
    assert off.cssselect("a")[0].get("href") == "/?theme=none"
    # Source counts too: « gazette » has the story's representative and nothing else on topic.
    sources = {lbl.text_content().strip() for lbl in doc.cssselect("label[for^=source-]")}
    assert sources == {"La Gazette numérique (1)", "Labo IA publique (1)"}


def test_api_items_carry_the_other_articles(site: Site) -> None:
    body = site.get("/api/articles").json()
    assert body["total"] == 2
    story = body["items"][0]
    assert story["id"] == site.ids["story-b"]
    assert {"url", "title", "source", "themes", "score", "story_id", "coverage"} <= set(story)
    assert sorted(o["id"] for o in story["also"]) == sorted(
        [site.ids["story-a"], site.ids["story-c"]]
    )
    assert {o["source"] for o in story["also"]} == {"courrier", "labo"}
    assert all(o["url"].startswith("https://") and o["title"] for o in story["also"])
    assert body["items"][1]["also"] == []


def test_atom_feeds_have_one_entry_per_story(site: Site) -> None:
    theme = feedparser.parse(site.get("/feeds/open_data.atom").content)
    assert [e.title for e in theme.entries] == ["Les budgets de Nantes désormais ouverts"]
    search = feedparser.parse(site.get("/feeds/search.atom").content)
    assert [e.title for e in search.entries] == [
        "Les budgets de Nantes désormais ouverts",
        "Un assistant IA pour les mairies",
    ]
    every = feedparser.parse(site.get("/feeds/search.atom?group=none").content)
    assert len(every.entries) == 4


def test_exports_stay_per_article_with_story_id(site: Site) -> None:
    rows = list(csv.DictReader(io.StringIO(site.get("/export.csv").text)))
    assert sorted(int(r["id"]) for r in rows) == sorted(
        site.ids[k] for k in ("story-a", "story-b", "story-c", "ia")
    )
    story = {r["story_id"] for r in rows if r["title"].startswith(("Nantes", "Les budgets"))}
    assert len(story) == 1 and story != {""}
    everything = "/export.jsonl?theme=none&theme=open_data&theme=ia&theme=donnees_interet_general"
    assert len(site.get(everything).text.splitlines()) == 6


def test_representative_follows_the_scores(site: Site, sessions: sessionmaker[Session]) -> None:
    """Best value score first: rescoring « story-a » above the others makes it the card."""
    with sessions() as session, session.begin():
        score_db.update_scores(session, [(site.ids["story-a"], 90.0, {})])
    body = site.get("/api/articles?theme=open_data").json()
    assert [i["id"] for i in body["items"]] == [site.ids["story-a"]]
    with sessions() as session:
        mask = session.execute(
            story_db.SEARCH.select().where(story_db.SEARCH.c.id == site.ids["story-b"])
        ).one()
        assert mask.theme_mask & DUPLICATE_BIT


def test_refresh_reads_stories_of_one_and_of_several(sessions: sessionmaker[Session]) -> None:
    """A story of one member is its own entry (its bit cleared without ranking anything);
    a story of several is ranked. Stale bits are set on purpose on both kinds."""
    ids = populate(sessions, SEEDS).ids
    search = story_db.SEARCH
    bits = search.c.theme_mask
    with sessions() as session, session.begin():
        session.execute(
            update(search)
            .where(search.c.id.in_([ids["ia"], ids["story-b"]]))
            .values(theme_mask=bits.op("|")(DUPLICATE_BIT))
        )
        session.execute(
            update(search)
            .where(search.c.id == ids["story-c"])
            .values(theme_mask=bits.op("&")(~DUPLICATE_BIT))
        )
        stories = [story_db.story_of(session, ids[k]) for k in ("ia", "story-a", "sport")]
        assert story_db.refresh(session, [s for s in stories if s is not None]) == 3
    with sessions() as session:
        duplicate = {
            key: bool(session.scalar(select(bits).where(search.c.id == ident)) & DUPLICATE_BIT)
            for key, ident in ids.items()
        }
    assert duplicate == {
        "story-a": True,
        "story-b": False,  # 70 points: the story's entry
        "story-c": True,
        "ia": False,
        "concert": False,
        "sport": False,
    }
    with sessions() as session, session.begin():  # nothing left to change
        assert story_db.refresh(session, [s for s in stories if s is not None]) == 0


def test_article_re_themed_to_no_theme_leaves_the_default_view(
    site: Site, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session, session.begin():
        curation.set_themes(session, site.ids["ia"], remove=["ia"], actor="d@x.fr", now=NOW)
    assert "Un assistant IA pour les mairies" not in cards(site.page("/")[1])
    assert "Un assistant IA pour les mairies" in cards(site.page("/?theme=none")[1])


def test_representative_rule_ties() -> None:
    """Score first (unscored last), then earliest, then source weight, then lowest id; the
    delegate's pick wins while it is a member."""
    from datetime import timedelta

    def m(i: int, score: float | None, hours: int, weight: float = 1.0) -> story_db.Member:
        return story_db.Member(i, 1, score, NOW - timedelta(hours=hours), weight, 0)

    assert story_db.representative([m(1, None, 9), m(2, 10.0, 1)]) == 2
    assert story_db.representative([m(1, 50.0, 1), m(2, 50.0, 5)]) == 2
    assert story_db.representative([m(1, 50.0, 5), m(2, 50.0, 5, weight=2.0)]) == 2
    assert story_db.representative([m(3, 50.0, 5), m(2, 50.0, 5)]) == 2
    assert story_db.representative([m(1, 90.0, 1), m(2, 10.0, 1)], lead=2) == 2
    assert story_db.representative([m(1, 90.0, 1), m(2, 10.0, 1)], lead=7) == 1


def test_coverage_without_other_articles_counts_the_other_sources() -> None:
    """An article relisted by other sources (one article, several links) says how many
    *other* sources carry it, as the story line above it does: coverage counts its own."""
    from datetime import UTC, datetime

    from veille.archive.search import ArticleHit
    from veille.web.app import make_templates

    card = make_templates().get_template("_partials/card.html").make_module({}).card

    def line(coverage: int) -> str:
        hit = ArticleHit(
            id=1,
            url="https://exemple.fr/a",
            title="Un titre",
            summary="",
            source_key="a",
            source_name="A",
            published_at=datetime(2026, 11, 22, tzinfo=UTC),
            themes=(),
            score=None,
            coverage=coverage,
            partial=False,
        )
        found = lxml.html.fromstring(str(card(hit))).cssselect(".coverage")
        return found[0].text_content() if found else ""

    assert line(1) == ""
    assert line(2) == "Aussi couvert par 1 source"
    assert line(4) == "Aussi couvert par 3 sources"
