"""Leads that open on a hook of questions, and places whose inhabitants drop their plural
« -es » (issue 11, round 26; docs/dedup.md, « press9 opened for recall »).

A regional daily opens on a question put to the reader (« Combien coûte… ? », « Et si… ? »)
and states the news after it: the question's names (a gymnasium, a square) are no subject
of the event, the statement's are (`storyhooks.first_statement`). « Montvennes » and its
« Montvennois » are one place (`storynames.canonical_name`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from veille.collect import stories
from veille.collect.storyhooks import first_statement
from veille.collect.storykeys import lead_names, story_keys
from veille.collect.storynames import canonical_name
from veille.collect.storypairs import PairArticle, StoryPair, grouped

PARIS = ZoneInfo("Europe/Paris")

RELEASE_TITLE = "Montvennes lance sa plateforme de covoiturage domicile-travail"
RELEASE_TEXT = (
    "La commune de Montvennes a lancé jeudi une plateforme de covoiturage pour les trajets "
    "entre domicile et travail, ouverte à ses 14 000 habitants et aux salariés de la zone "
    "d'activités. Les conducteurs seront indemnisés de 2 euros par trajet et par passager, "
    "financés par la commune jusqu'à la fin de l'année."
)
HOOK_TITLE = "Covoiturage : la commune paie les conducteurs"
HOOK_TEXT = (
    "Publié le 13/03/2026\n\n"
    "Combien de voitures passent chaque matin, avec un seul occupant, devant le collège "
    "Louise-Michel ? Et combien pourraient s'en passer ? Les Montvennois ont désormais un "
    "moyen de le savoir : la municipalité a ouvert jeudi une plateforme de covoiturage "
    "domicile-travail. Chaque conducteur touche 2 euros par trajet et par passager, payés "
    "par la commune jusqu'à la fin de l'année. « Nous voulons remplir les voitures avant "
    "de construire des parkings », résume l'adjointe aux mobilités."
)


def test_the_lead_is_the_statement_after_the_questions() -> None:
    first, rest = first_statement(
        "Faut-il encore imprimer les bulletins ? Pourquoi attendre ? La Ville a choisi de "
        "tout publier en ligne. Le reste suit."
    )
    assert first == "La Ville a choisi de tout publier en ligne."
    assert "Faut-il encore imprimer" in rest and "Le reste suit." in rest
    # a statement first, or questions only: the first sentence, as before
    assert first_statement("La Ville publie. Pourquoi ?")[0] == "La Ville publie."
    assert first_statement("Pourquoi ? Comment ?")[0] == "Pourquoi ?"


def test_a_question_names_no_subject() -> None:
    hook = story_keys(HOOK_TITLE, HOOK_TEXT, "journal-des-coteaux.fr")
    assert "louis" not in hook.subjects and "michel" not in hook.subjects
    assert canonical_name("montvennois") in hook.subjects
    assert {"louis", "michel"} <= hook.mentioned  # still mentioned by the article
    # the story index files the stored lead under the statement's names
    assert canonical_name("montvennois") in lead_names(f"{HOOK_TITLE}\n{HOOK_TEXT[:400]}")


def test_a_place_and_its_inhabitants_meet() -> None:
    assert canonical_name("montvennes") == canonical_name("montvennois")
    assert canonical_name("rennes") == canonical_name("rennais")
    # a plural « -es » without a doubled consonant is left alone (« Hautes », « Données »)
    assert canonical_name("hautes") == "hautes"
    assert canonical_name("donnees") == "donnees"


def test_the_hook_and_the_release_are_one_story() -> None:
    release = story_keys(RELEASE_TITLE, RELEASE_TEXT, "montvennes.fr")
    hook = story_keys(HOOK_TITLE, HOOK_TEXT, "journal-des-coteaux.fr")
    # the college of the question no longer sets the daily apart from the release
    assert not stories._other_body(hook, release)
    assert stories.same_story(0.32, 20.0, release, hook, published_hours=20.0)


def test_the_collector_groups_them() -> None:
    at = datetime(2026, 3, 12, 17, 0, tzinfo=PARIS)
    pair = StoryPair(
        "hook",
        True,
        PairArticle(RELEASE_TITLE, RELEASE_TEXT, "montvennes.fr", at),
        PairArticle(HOOK_TITLE, HOOK_TEXT, "journal-des-coteaux.fr", at + timedelta(hours=14)),
        "",
    )
    assert grouped(pair)
    # the same daily on another town's platform stays apart (another subject)
    other = PairArticle(
        HOOK_TITLE,
        HOOK_TEXT.replace("Montvennois", "Castelbrunois"),
        "journal-des-coteaux.fr",
        at + timedelta(hours=14),
    )
    assert not grouped(StoryPair("other", False, pair.a, other, ""))
