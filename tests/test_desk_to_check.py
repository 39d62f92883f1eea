"""« À vérifier » on the desk's triage: the week's articles the model is least sure of,
nearest a threshold first, never the sure ones nor those the delegate already labelled;
re-theming one there is an editor label. Real uvicorn server, real stored model."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from lxml import html as lxml_html
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import NOW, Seed, populate, serve
from tests.test_auth import login
from veille.classify.classifier import ClassItem
from veille.classify.reasons import SURE_MARGIN, margin
from veille.classify.service import load_classifier
from veille.config import Settings
from veille.db.tables import ArticleRow, EditorLabelRow
from veille.desk import accounts
from veille.text.french import fold
from veille.web.app import create_app

SECRET = "clé de test assez longue pour signer"
ANNE, PASSWORD = "anne@exemple.fr", "une phrase de passe solide"
LATER = "Le projet, présenté en conseil, doit aboutir l'an prochain."

# Written for this test: three articles the seed model hesitates on (a short, vague text
# under a title that leans towards a theme), and three it is sure of, either way.
SEEDS = [
    Seed(
        "satellite",
        "labo",
        "Une start-up lyonnaise lève 5 millions pour analyser les images satellites",
        (),
        30,
        40.0,
        LATER,
    ),
    Seed(
        "robot", "labo", "Un robot conversationnel testé au guichet de la CAF", (), 20, 40.0, LATER
    ),
    Seed(
        "covoiturage",
        "courrier",
        "Le département lance une plateforme de covoiturage avec les opérateurs",
        (),
        10,
        40.0,
        LATER,
    ),
    Seed(
        "portail",
        "courrier",
        "La métropole de Lyon ouvre son portail de données",
        ("open_data",),
        5,
        80.0,
        "Trois cents jeux de données ouvertes publiés sous licence "
        "ouverte sur data.grandlyon.fr, avec une API et un catalogue.",
    ),
    Seed(
        "algos",
        "gazette",
        "Le département publie son registre des algorithmes publics",
        ("ia", "open_data"),
        15,
        70.0,
        "La liste des traitements algorithmiques utilisés pour "
        "les aides sociales est en ligne, avec leur code source.",
    ),
    Seed(
        "noel",
        "gazette",
        "Marché de Noël : les chalets ouvrent samedi",
        (),
        8,
        20.0,
        "Les exposants proposent artisanat et produits locaux place de la République.",
    ),
]


@pytest.fixture
def desk(
    settings: Settings, sessions: sessionmaker[Session]
) -> Iterator[tuple[str, dict[str, int]]]:
    settings = settings.model_copy(update={"secret_key": SECRET})
    stored = populate(sessions, SEEDS)
    with sessions() as session, session.begin():
        accounts.add_user(session, ANNE, "delegate", PASSWORD, now=NOW)
        load_classifier(session, None)  # the seed model becomes the active one
    with serve(create_app(settings, clock=lambda: NOW)) as base_url:
        yield base_url, stored.ids


def margins(sessions: sessionmaker[Session], ids: dict[str, int]) -> dict[str, float]:
    """Each article's smallest |margin| over the themes, by the active model."""
    with sessions() as session:
        classifier = load_classifier(session, None)
        rows = {r.id: r for r in session.scalars(select(ArticleRow))}
    out = {}
    for key, ident in ids.items():
        row = rows[ident]
        p = classifier.predict([ClassItem(row.title, row.text or "", row.language)])[0]
        out[key] = min(
            abs(margin(v, classifier.model.thresholds[t])) for t, v in p.probabilities.items()
        )
    return out


def band(client: httpx.Client) -> tuple[list[int], Any]:
    response = client.get("/desk/tri")
    assert response.status_code == 200, response.text
    doc = lxml_html.fromstring(response.content)
    sections = doc.cssselect("section.desk-to-check")
    found = [int(el.get("data-id")) for s in sections for el in s.cssselect("article.desk-item")]
    return found, doc


def test_band_lists_the_uncertain_first_never_the_sure_nor_the_decided(
    desk: tuple[str, dict[str, int]], sessions: sessionmaker[Session]
) -> None:
    base_url, ids = desk
    doubt = margins(sessions, ids)
    uncertain = sorted(("satellite", "robot", "covoiturage"), key=doubt.__getitem__)
    # The fixture is what it says: three the model hesitates on, three it is sure of.
    assert all(doubt[k] < SURE_MARGIN for k in uncertain), doubt
    assert all(doubt[k] >= SURE_MARGIN for k in ("portail", "algos", "noel")), doubt

    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as client:
        assert login(client, ANNE, PASSWORD, suite="/desk/tri").status_code == 303
        shown, doc = band(client)
        assert shown == [ids[k] for k in uncertain]
        heading = doc.cssselect("#groupe-a-verifier")[0].text_content()
        assert heading.startswith("À vérifier")
        # Each article appears once on the page: in the band, not again in its group. The
        # triage lists on-topic articles by default, so the one surely off-topic is not
        # there at all, while the hesitant ones are, whatever the model leans to.
        everywhere = [int(el.get("data-id")) for el in doc.cssselect("article.desk-item")]
        assert sorted(everywhere) == sorted(v for k, v in ids.items() if k != "noel")
        # Each says which theme is in doubt, and why, in the article's own words.
        with sessions() as session:
            texts = {r.id: f"{r.title} {r.text}" for r in session.scalars(select(ArticleRow))}
        for key in uncertain:
            line = doc.cssselect(f'[data-doubt="{ids[key]}"]')[0]
            assert line.text_content().startswith("Le modèle hésite : « ")
            quoted = re.findall(r"«\s([^«»]+)\s»", line.cssselect(".why")[0].text_content())
            article = set(re.findall(r"\w+", fold(texts[ids[key]])))
            assert quoted and all(set(re.findall(r"\w+", fold(q))) <= article for q in quoted)

        # The delegate re-themes the most uncertain one there: an editor label, and it
        # leaves the band (she decided); the next one moves up.
        token = doc.cssselect('meta[name="csrf-token"]')[0].get("content")
        first = ids[uncertain[0]]
        answer = client.post(
            f"/desk/api/articles/{first}",
            json={"action": "themes", "add": ["ia"]},
            headers={"X-CSRF-Token": token},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["item"]["labels"] == {"ia": True}
        shown_after, _ = band(client)
        assert shown_after == [ids[k] for k in uncertain[1:]]

        # A filtered view is a search: no band there.
        response = client.get("/desk/tri?theme=ia")
        assert response.status_code == 200
        assert not lxml_html.fromstring(response.content).cssselect("section.desk-to-check")
    with sessions() as session:
        label = session.scalars(select(EditorLabelRow).where(EditorLabelRow.article_id == first))
        assert [(r.theme, r.present) for r in label] == [("ia", True)]


# The same week, with « robot » reworded by another source that the model is sure of and
# that represents the story (better score): the band shows « robot », and its story must
# not come back in its group.
REWORDED = Seed(
    "robot-rep",
    "gazette",
    "Intelligence artificielle : la CAF teste un agent conversationnel fondé sur un modèle de "
    "langage",
    ("ia",),
    19,
    90.0,
    "L'algorithme d'intelligence artificielle, un grand modèle de langage entraîné sur les "
    "textes de la caisse, répond aux allocataires ; l'IA générative sera évaluée en 2027.",
    story_with="robot",
)


def test_a_story_is_listed_once_and_group_counts_match_their_cards(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    settings = settings.model_copy(update={"secret_key": SECRET})
    stored = populate(sessions, [*SEEDS, REWORDED])
    ids = stored.ids
    with sessions() as session, session.begin():
        accounts.add_user(session, ANNE, "delegate", PASSWORD, now=NOW)
        load_classifier(session, None)
    assert margins(sessions, {"robot-rep": ids["robot-rep"]})["robot-rep"] >= SURE_MARGIN
    with (
        serve(create_app(settings, clock=lambda: NOW)) as base_url,
        httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as client,
    ):
        assert login(client, ANNE, PASSWORD, suite="/desk/tri").status_code == 303
        shown, doc = band(client)
        assert ids["robot"] in shown  # the fixture's premise: the model hesitates on it
        everywhere = [int(el.get("data-id")) for el in doc.cssselect("article.desk-item")]
        assert ids["robot-rep"] not in everywhere  # its story is in the band already
        assert len(everywhere) == len(set(everywhere))
        # Each group's heading counts the cards listed under it.
        for section in doc.cssselect("section.desk-group:not(.desk-to-check)"):
            count = int(section.cssselect("h2 .count")[0].text_content().strip("()"))
            assert count == len(section.cssselect("article.desk-item")), section.get(
                "aria-labelledby"
            )
