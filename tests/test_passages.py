"""Passage evidence: the whole article counts, a passing mention does not."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

from veille.classify import model as theme_model
from veille.classify.classifier import Classifier, ClassItem, default_model
from veille.classify.features import MAX_TEXT_CHARS, document
from veille.classify.passages import (
    PASSAGE_CHARS,
    PASSAGE_MAX,
    PASSAGE_MIN,
    passage_scores,
    passages,
)
from veille.classify.reasons import reasons, sentence

THEME = "donnees_interet_general"

COUNCIL = [
    "Le conseil municipal de Vernay s'est réuni jeudi soir pendant près de quatre heures. "
    "Les élus ont d'abord débattu du budget supplémentaire, qui ajoute 1,2 million d'euros "
    "pour la rénovation thermique de l'école Jean-Moulin et la réfection du gymnase, dont "
    "la toiture fuit depuis deux hivers. L'opposition a regretté un calendrier trop serré.",
    "Deuxième dossier de la soirée, la voirie : la rue des Tanneurs sera mise en sens unique "
    "à partir du printemps, après une concertation avec les riverains et les commerçants. "
    "Les travaux de l'avenue de la Gare, prévus sur dix-huit mois, commenceront en mars, et "
    "une navette gratuite desservira le centre-ville pendant toute la durée du chantier.",
    "Les tarifs de la cantine augmentent de 3 % à la rentrée, une hausse que la majorité "
    "justifie par le coût des denrées et le passage à 50 % de produits locaux. La salle des "
    "fêtes sera louée aux associations à moitié prix, et les horaires de la médiathèque "
    "sont élargis le samedi après-midi à la demande des familles du quartier nord.",
    # The theme, in the fourth paragraph only: past what the title, lead and body read.
    "Enfin, le conseil a adopté une délibération qui oblige les délégataires de service "
    "public de l'eau, des transports et des déchets à remettre à la ville les données "
    "produites pendant l'exécution de leurs contrats : volumes consommés, fréquentation des "
    "lignes, tonnages collectés. Ces données d'intérêt général seront versées à "
    "l'administrateur des données de la commune, qui en pilotera la gouvernance et le partage.",
    "Le prochain conseil municipal se tiendra le 14 mars à 19 heures en mairie. La séance "
    "est publique et retransmise en direct sur la page de la ville.",
]
LATE = ClassItem(
    "Conseil municipal de Vernay : budget, voirie et cantine au menu", "\n\n".join(COUNCIL), "fr"
)

# A sports report whose page ends with the newspaper's « about » block: one passing
# mention of open data, in boilerplate.
DERBY = ClassItem(
    "Rugby : le club de Vernay remporte le derby face à Saint-Aubin",
    "\n\n".join(
        [
            "Devant 2 500 spectateurs, le Stade vernaysien a battu Saint-Aubin 24 à 17 dimanche "
            "après-midi, au terme d'un match haché par la pluie. Les avants ont dominé la mêlée "
            "dès le premier quart d'heure, et l'ouvreur Lucas Ferrand a passé quatre pénalités.",
            "Saint-Aubin est revenu à trois points à l'heure de jeu grâce à un essai de son "
            "ailier, avant que le capitaine vernaysien ne conclue un ballon porté en fin de "
            "match. L'entraîneur a salué « un groupe qui ne lâche rien ».",
            "Le club reçoit Montclar dimanche prochain pour la dernière journée des matchs "
            "aller. La billetterie ouvre mercredi au club-house, places à 8 euros.",
            "À propos de la rédaction : Le Courrier de Vernay est un journal indépendant, édité "
            "par une association de lecteurs depuis 1998. Nos articles sont relus par deux "
            "journalistes avant publication ; pour signaler une erreur, écrivez à la rédaction. "
            "Les chiffres cités proviennent des données ouvertes de la ville quand elles "
            "existent. Abonnez-vous à notre lettre d'information et suivez-nous en ligne.",
        ]
    ),
    "fr",
)


@pytest.fixture(scope="module")
def model() -> theme_model.ThemeModel:
    return default_model()


def test_passages_join_short_paragraphs_and_cut_long_ones() -> None:
    text = "\n".join(["Court.", "Un paragraphe " * 40, "x " * 2000, "Fin."])
    cut = passages(text)
    assert all(len(p) >= PASSAGE_MIN for p in cut), [len(p) for p in cut]
    assert all(len(p) <= PASSAGE_MAX + PASSAGE_MIN for p in cut), [len(p) for p in cut]
    assert cut[0].startswith("Court. Un paragraphe")  # a short paragraph joins the next
    assert cut[-1].endswith("Fin.")  # and a short last one the one before
    assert sum(len(p) for p in passages("mot " * 5000)) <= PASSAGE_CHARS
    assert passages("") == [] and passages("   \n\n ") == []
    assert passages("Une brève.") == ["Une brève."]


def test_passage_scores_are_each_passages_best(model: theme_model.ThemeModel) -> None:
    """The vectorised maxima equal scoring each passage alone."""
    scorer = model.passages
    assert scorer is not None
    texts = [LATE.text, DERBY.text, "", "Une seule phrase sur les données ouvertes."]
    best, where, cut = passage_scores(scorer, texts)
    assert [len(c) for c in cut] == [len(passages(t)) for t in texts]
    for i, pieces in enumerate(cut):
        if not pieces:
            assert np.isneginf(best[i]).all() and (where[i] == -1).all()
            continue
        alone = np.vstack(
            [
                np.asarray(scorer.vectorizer.transform([p]) @ scorer.weights) + scorer.intercepts
                for p in pieces
            ]
        )
        assert np.allclose(best[i], alone.max(axis=0), atol=1e-5)
        assert (where[i] == alone.argmax(axis=0)).all()


def test_a_theme_in_the_fourth_paragraph_is_found(model: theme_model.ThemeModel) -> None:
    assert LATE.text.index(COUNCIL[3]) > MAX_TEXT_CHARS  # past what the document reads
    found = Classifier(model).predict([LATE])[0]
    assert THEME in found.themes and found.origins[THEME] == "model", found
    # The passage made the difference: the same model without passages misses it.
    doc_only = dataclasses.replace(model, passages=None)
    assert THEME not in Classifier(doc_only).predict([LATE])[0].themes


def test_a_passing_mention_in_boilerplate_is_not_enough(model: theme_model.ThemeModel) -> None:
    found = Classifier(model).predict([DERBY])[0]
    assert not found.on_topic, found


def test_the_explanation_quotes_the_passage_that_weighed(model: theme_model.ThemeModel) -> None:
    classifier = Classifier(model)
    prediction = classifier.predict([LATE])[0]
    said = reasons(
        classifier, LATE.title, LATE.text, {THEME: (prediction.probabilities[THEME], "model")}
    )
    reason = said[THEME]
    assert reason.passage and reason.passage.strip("…")[:60] in COUNCIL[3], reason
    assert reason.quotes and all(q in COUNCIL[2] + " " + COUNCIL[3] for q in reason.quotes)
    assert sentence(reason).startswith("Plus loin, le passage «\u00a0"), sentence(reason)
    # A theme the title and lead carry is explained by them, without a passage.
    lead = ClassItem("La ville ouvre ses données sur un portail open data", "Jeux de données.")
    said = reasons(classifier, lead.title, lead.text, {"open_data": (0.9, "model")})
    assert said["open_data"].passage is None


def test_models_stored_before_read_as_they_were_trained(model: theme_model.ThemeModel) -> None:
    """A format-4 model has no passage margin: it reads the title, lead and body only."""
    old = theme_model.ThemeModel.__new__(theme_model.ThemeModel)
    state = {k: v for k, v in vars(model).items() if k != "passages"}
    old.__dict__.update({**state, "format": 4})
    loaded = theme_model.loads(pickle.dumps(old))
    assert loaded.passages is None
    docs, texts = [document(LATE.title, LATE.text)], [LATE.text]
    assert np.array_equal(theme_model.scores(loaded, docs, texts), theme_model.scores(loaded, docs))
    assert not np.array_equal(
        theme_model.scores(model, docs, texts), theme_model.scores(model, docs)
    )
