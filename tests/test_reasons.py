"""Explanations people can read: the article's own words that weighed, keywords as found,
certainty in words by bands around each theme's threshold — in the library, in `veille
classify explain` and (tests/test_web_archive.py) on the article page."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.archive_site import Seed, populate
from veille.classify.classifier import Classifier, ClassItem, default_model
from veille.classify.quotes import keyword_quotes, quotes
from veille.classify.reasons import (
    CHECK,
    EDITOR,
    LIKELY,
    LIKELY_MARGIN,
    OUT,
    SURE,
    SURE_MARGIN,
    certainty,
    contributions,
    reasons,
    sentence,
)
from veille.cli import app
from veille.config import Settings
from veille.text.french import fold

KEYWORDS = {
    "open_data": ("open data", "données ouvertes"),
    "ia": ("intelligence artificielle",),
    "donnees_interet_general": ("données d'intérêt général",),
}

# Written for these tests, in the style of the regional press the veille reads.
ARTICLES = [
    (
        "La métropole de Lyon ouvre son portail de données",
        "La Métropole a publié mardi trois cents jeux de données sur les transports, "
        "l’énergie et les budgets. Les données ouvertes sont diffusées sous Licence Ouverte "
        "et le portail propose une API. Associations et chercheurs saluent l’ouverture.",
    ),
    (
        "Le département publie son registre des algorithmes publics",
        "La liste des traitements algorithmiques utilisés pour attribuer les aides sociales "
        "est en ligne. L'intelligence artificielle n'y figure pas encore, précise la "
        "collectivité, qui promet une mise à jour au printemps.",
    ),
    (
        "Santé : un entrepôt de données d'intérêt général pour la recherche",
        "Les hôpitaux de la région mutualisent leurs données de santé dans un entrepôt "
        "sécurisé. Les chercheurs y accèdent après avis d'un comité d'éthique ; les "
        "patients peuvent s'y opposer.",
    ),
    (
        "Grenoble : l’Open Data au service des cyclistes",
        "La ville met en ligne les comptages vélo de ses 40 capteurs, mis à jour chaque "
        "heure, et la carte des pistes cyclables au format GeoJSON.",
    ),
]

WORD = re.compile(r"\w+")


def article_words(title: str, text: str) -> set[str]:
    return set(WORD.findall(fold(f"{title} {text}")))


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(default_model(), KEYWORDS)


def predicted(classifier: Classifier, title: str, text: str) -> dict[str, tuple[float, str]]:
    p = classifier.predict([ClassItem(title, text, "fr")])[0]
    return {t: (p.probabilities[t], p.origins.get(t, "model")) for t in classifier.model.themes}


@pytest.mark.parametrize(("title", "text"), ARTICLES)
def test_every_quoted_word_is_a_word_of_the_article(
    classifier: Classifier, title: str, text: str
) -> None:
    said = reasons(classifier, title, text, predicted(classifier, title, text))
    allowed = article_words(title, text)
    haystack = fold(f"{title} {text}")
    assigned = [r for r in said.values() if r.certainty != OUT]
    assert assigned, "each of these articles belongs to a theme"
    for reason in said.values():
        for quote in reason.quotes + reason.keywords:
            assert fold(quote) in haystack, quote  # a span of the article, as written
            for token in WORD.findall(fold(quote)):
                assert token in allowed, (quote, token)  # whole words, never a stem
    for reason in assigned:
        assert reason.quotes or reason.keywords, reason
        assert len(reason.quotes) <= 5
        # The sentence quotes only these spans: nothing else between « ».
        shown = re.findall(r"«\s([^«»]+)\s»", sentence(reason))
        assert shown and set(shown) <= set(reason.quotes + reason.keywords)


def test_the_heaviest_features_are_quoted_as_phrases(classifier: Classifier) -> None:
    title, text = ARTICLES[0]
    said = reasons(classifier, title, text, predicted(classifier, title, text))["open_data"]
    assert said.certainty == SURE
    # Word pairs the model weighed come back with their function words, as written.
    assert "portail de données" in said.quotes or "jeux de données" in said.quotes, said
    assert said.keywords == ("données ouvertes",)
    text_of = sentence(said)
    assert text_of.startswith("Le texte parle de «\u00a0")
    assert "donne ouvert" not in text_of and "%" not in text_of


def test_features_found_nowhere_are_dropped() -> None:
    title, text = ARTICLES[3]
    assert quotes(title, text, [("words:blockchain", 1.0), ("chars:zqx", 0.9)]) == []
    found = quotes(title, text, [("words:blockchain", 1.0), ("words:capteur", 0.5)])
    assert found == ["capteurs"]
    # A pair of stems becomes the phrase that contains it, title first.
    assert quotes(title, text, [("words:open data", 1.0)]) == ["Open Data"]


def test_keywords_are_quoted_as_the_article_writes_them() -> None:
    title, text = ARTICLES[3]
    assert keyword_quotes(title, text, ["open data", "donnees ouvertes"]) == ["Open Data"]
    assert keyword_quotes("", "Les Données Ouvertes de l’État", ["donnees ouvertes"]) == [
        "Données Ouvertes"
    ]


def test_certainty_follows_the_bands_of_each_threshold(classifier: Classifier) -> None:
    for threshold in [*sorted(set(classifier.model.thresholds.values())), 0.3, 0.5, 0.7]:
        above = 1.0 - threshold
        below = threshold
        assert certainty(1.0, threshold) == SURE
        assert certainty(threshold + above * (SURE_MARGIN + 0.01), threshold) == SURE
        assert certainty(threshold + above * (SURE_MARGIN - 0.01), threshold) == LIKELY
        assert certainty(threshold + above * (LIKELY_MARGIN + 0.01), threshold) == LIKELY
        assert certainty(threshold + above * (LIKELY_MARGIN - 0.01), threshold) == CHECK
        assert certainty(threshold, threshold) == CHECK
        assert certainty(threshold - below * (LIKELY_MARGIN - 0.01), threshold) == CHECK
        assert certainty(threshold - below * (LIKELY_MARGIN + 0.01), threshold) == OUT
        assert certainty(0.0, threshold) == OUT
        assert certainty(0.0, threshold, "editor") == EDITOR
    # The same probability reads differently against different thresholds.
    assert certainty(0.55, 0.3) == LIKELY and certainty(0.55, 0.52) == CHECK


def test_contributions_cover_words_and_character_ngrams(classifier: Classifier) -> None:
    title, text = ARTICLES[1]
    weighted = contributions(classifier.model, title, text)["ia"]
    kinds = {name.partition(":")[0] for name, _ in weighted}
    assert kinds == {"words", "chars"}
    assert all(v > 0 for _, v in weighted)
    assert [v for _, v in weighted] == sorted((v for _, v in weighted), reverse=True)


runner = CliRunner()


def test_classify_explain_speaks_french_and_quotes_the_text(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    from veille.classify.service import load_classifier

    title, text = ARTICLES[0]
    stored = populate(sessions, [Seed("lyon", "courrier", title, ("open_data",), 5, 80.0, text)])
    with sessions() as session, session.begin():
        load_classifier(session, None)
    env = {"VEILLE_DATABASE_URL": settings.database_url}
    ident = str(stored.ids["lyon"])

    human = runner.invoke(app, ["classify", "explain", ident], env=env)
    assert human.exit_code == 0, human.output
    line = next(ln for ln in human.stdout.splitlines() if ln.strip().startswith("open_data"))
    assert f"open_data : {SURE} — Le texte parle de «\u00a0" in line
    shown = re.findall(r"«\s([^«»]+)\s»", line)
    assert shown and all(fold(q) in fold(f"{title} {text}") for q in shown)
    assert "p=" not in human.stdout and "terms:" not in human.stdout

    as_json = runner.invoke(app, ["classify", "explain", ident, "--json"], env=env)
    assert as_json.exit_code == 0, as_json.output
    why = json.loads(as_json.stdout)
    # The keys scripts already read are kept; quotes and certainty are added.
    assert {"themes", "probabilities", "thresholds", "terms", "rules", "score"} <= set(why)
    assert why["certainty"]["open_data"] == SURE
    said = why["quotes"]["open_data"]
    assert said["text"] and said["text"] + said["keywords"] == shown
