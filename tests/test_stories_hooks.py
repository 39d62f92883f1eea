"""Leads that open on a hook of questions, and places whose inhabitants drop their plural
« -es » (issue 11, round 26; docs/dedup.md, « press9 opened for recall »).

A regional daily opens on a question put to the reader (« Combien coûte… ? », « Et si… ? »)
and states the news after it: the question's names (a gymnasium, a square) are no subject
of the event, the statement's are (`storyhooks.first_statement`). « Montvennes » and its
« Montvennois » are one place (`storynames.canonical_name`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from veille.collect import stories, storyties
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
    assert not storyties.other_body(hook, release)
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


MINUTES_TITLE = "Délibération n° 2026-311 — Délégation du service public de la voirie"
MINUTES_TEXT = (
    "CONSEIL COMMUNAUTAIRE DU 3 JUIN 2026\n"
    "Délibération n° 2026-311\n"
    "Objet : Délégation du service public de la voirie communautaire — choix de l'exploitant "
    "et approbation du contrat\n\n"
    "Le Conseil, après en avoir délibéré, approuve le contrat par lequel l'exploitant "
    "du réseau routier transmet chaque mois à la communauté les comptages de trafic et les "
    "chantiers en cours, publiés ensuite en données ouvertes."
)
PRESS_TITLE = "La communauté de Pradelune publiera les comptages de trafic de ses routes"
PRESS_TEXT = (
    "Les élus de la communauté de communes de Pradelune ont approuvé mercredi un contrat "
    "avec l'exploitant de leur réseau routier : chaque mois, les comptages de trafic et les "
    "chantiers en cours seront transmis à la collectivité, qui les publiera en données "
    "ouvertes."
)


def test_a_label_line_names_no_body() -> None:
    minutes = story_keys(MINUTES_TITLE, MINUTES_TEXT, "pradelune-agglo.fr")
    # « Délégation », after « Objet : » and after the title's dash, starts a clause
    assert "delegation" not in minutes.lead_names
    assert minutes.own and minutes.subjects == frozenset({"pradelun"})
    assert first_statement("Objet : Délégation de la voirie — choix")[0] == (
        "Délégation de la voirie — choix"
    )


def test_the_meetings_day_in_the_header_dates_the_event() -> None:
    minutes = story_keys(MINUTES_TITLE, MINUTES_TEXT, "pradelune-agglo.fr")
    assert (3, 6) in minutes.lead_days
    press = story_keys(PRESS_TITLE, PRESS_TEXT, "echo-des-vallons.fr")
    wednesday = datetime(2026, 6, 4, 7, 0, tzinfo=PARIS)  # the daily, the next morning
    minutes_at = wednesday + timedelta(days=4)  # the minutes, posted four days later
    # the minutes tell the meeting of the day before the daily: coverage of one day
    assert stories.hours_apart(wednesday, press, minutes_at, minutes) == 0.0
    assert stories.same_story(0.34, 0.0, press, minutes, published_hours=96.0)
    # without the header's day, four days apart: only a near copy would join
    undated = story_keys(MINUTES_TITLE, MINUTES_TEXT.split("\n", 1)[1], "pradelune-agglo.fr")
    assert stories.hours_apart(wednesday, press, minutes_at, undated) == 96.0


def test_a_pages_own_date_in_its_header_is_no_earlier_event() -> None:
    # a release headed by its own day, two days after an article: still two days apart
    release = story_keys(
        "Pradelune publie ses comptages de trafic",
        "Communiqué de presse — 8 juin 2026\nLa communauté de communes de Pradelune publie "
        "désormais chaque mois les comptages de trafic de ses routes.",
        "pradelune-agglo.fr",
    )
    assert (8, 6) in release.lead_days
    press = story_keys(PRESS_TITLE, PRESS_TEXT, "echo-des-vallons.fr")
    earlier = datetime(2026, 6, 6, 9, 0, tzinfo=PARIS)
    assert stories.hours_apart(earlier, press, earlier + timedelta(hours=48), release) == 48.0
