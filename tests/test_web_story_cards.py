"""The archive's card names every source that carried its story (issue 11, part 1), over
HTTP against a real uvicorn server.

A source that listed the very same article again (a merged duplicate) has no article of
its own in the story; the score counts it in its coverage, so the card must count and name
it too — before, a story covered by three sources said « aussi couvert par 1 source », and
a merged duplicate said « aussi couvert par 1 source » without saying which."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import NOW, Seed, Site, populate, serve
from veille.config import Settings

SEEDS = [
    # A story told by two articles (courrier, gazette), the first also listed by labo.
    Seed(
        "lead",
        "courrier",
        "Nantes publie ses budgets en open data",
        ("open_data",),
        10,
        70.0,
        also_listed_by=("labo",),
    ),
    Seed(
        "reworded",
        "gazette",
        "Les budgets de Nantes désormais ouverts",
        ("open_data",),
        12,
        50.0,
        story_with="lead",
    ),
    # One article, listed again by another source: no other article, one other source.
    Seed(
        "copied",
        "gazette",
        "Un assistant IA pour les mairies",
        ("ia",),
        20,
        40.0,
        also_listed_by=("courrier",),
    ),
    Seed("alone", "labo", "Le registre des algorithmes de Rennes", ("ia",), 30, 30.0),
]


@pytest.fixture
def site(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[Site]:
    from veille.web.app import create_app

    stored = populate(sessions, SEEDS)
    with serve(create_app(settings, clock=lambda: NOW)) as base_url:
        yield Site(base_url=base_url, ids=stored.ids, settings=settings)


def test_cards_count_and_name_every_other_source(site: Site) -> None:
    _, doc = site.page("/")
    cards = {c.cssselect("h2 a")[0].text_content(): c for c in doc.cssselect("article.card")}
    assert list(cards) == [
        "Nantes publie ses budgets en open data",
        "Un assistant IA pour les mairies",
        "Le registre des algorithmes de Rennes",
    ]
    story = cards["Nantes publie ses budgets en open data"]
    assert story.cssselect(".coverage")[0].text_content() == "Aussi couvert par 2 sources"
    items = [li.text_content() for li in story.cssselect(".also-links li")]
    assert items == [
        "Les budgets de Nantes désormais ouverts — La Gazette numérique",
        "Labo IA publique — le même article",
    ]
    copied = cards["Un assistant IA pour les mairies"]
    assert copied.cssselect(".coverage")[0].text_content() == "Aussi couvert par 1 source"
    assert [li.text_content() for li in copied.cssselect(".also-links li")] == [
        "Le Courrier des territoires — le même article"
    ]
    # The count agrees with the score's coverage component, which the API reports.
    api = {i["title"]: i for i in site.get("/api/articles").json()["items"]}
    assert api["Nantes publie ses budgets en open data"]["coverage"] == 3
    assert api["Un assistant IA pour les mairies"]["coverage"] == 2
    assert not cards["Le registre des algorithmes de Rennes"].cssselect(".coverage")
