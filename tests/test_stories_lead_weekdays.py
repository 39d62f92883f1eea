"""A weekday the later lead cites dates the earlier article's event, and a brief titled by
its rubric is looked up by its first sentence (issue 11, round 26; docs/dedup.md, « press9
opened for recall »).

« Le syndicat a publié lundi… » in Friday's newsletter tells Monday's release: coverage of
that day, not a later event, when the newsletter's lead names no body the release never
names (`storydays.told_that_day`). A town's reaction to a national measure cites the
measure's day too (« annoncée mardi ») but names its town: its own event."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from veille.collect import stories
from veille.collect.storykeys import story_keys, title_words
from veille.collect.storypairs import PairArticle, StoryPair, grouped

PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=PARIS)
FRIDAY = MONDAY + timedelta(days=4, hours=-2)

RELEASE = (
    "Un référentiel commun pour les données des bornes de recharge",
    "Le Syndicat départemental d'énergie de la Sarvonne publie aujourd'hui la version 2.0 "
    "de son référentiel des bornes de recharge pour véhicules électriques, élaboré avec "
    "les intercommunalités du département : puissance, tarifs, disponibilité en temps réel "
    "et accessibilité, dans un format commun que les opérateurs devront respecter.",
    "sde-sarvonne.fr",
)
NEWSLETTER = (
    "En bref",
    "Le Syndicat départemental d'énergie de la Sarvonne a publié lundi la version 2.0 de "
    "son référentiel des bornes de recharge (puissance, tarifs, disponibilité, "
    "accessibilité), que les opérateurs devront respecter.",
    "lettre-energie-locale.fr",
)
WEEKLY = (
    "Recharge électrique : la Sarvonne impose un format commun aux opérateurs",
    "Les automobilistes de la Sarvonne sauront bientôt, avant de partir, si la borne du "
    "village est libre. Le Syndicat départemental d'énergie a publié lundi son référentiel "
    "des bornes de recharge, que les opérateurs devront appliquer d'ici l'été. Les "
    "communes rurales, où les bornes sont rares, y voient surtout un moyen de mieux "
    "planifier les prochaines installations. « Nous manquions d'une vision d'ensemble », "
    "reconnaît un élu de la vallée, qui attend les premières cartes avant l'automne.",
    "hebdo-des-territoires.fr",
)
REACTION = (
    "Vaudrimont n'adoptera pas le référentiel des bornes",
    "Le référentiel des bornes de recharge publié lundi par le Syndicat départemental "
    "d'énergie de la Sarvonne ne sera pas appliqué à Vaudrimont avant 2028, a annoncé le "
    "maire, faute d'opérateur capable de transmettre la disponibilité en temps réel.",
    "courrier-de-sarvonne.fr",
)


def test_a_weekday_cited_dates_the_earlier_release() -> None:
    release, newsletter = story_keys(*RELEASE), story_keys(*NEWSLETTER)
    assert newsletter.lead_weekdays == frozenset({0})  # « lundi »
    assert stories.hours_apart(MONDAY, release, FRIDAY, newsletter) == 0.0
    # a weekday that is not the release's day (nor the day before) moves nothing
    thursday = story_keys(NEWSLETTER[0], NEWSLETTER[1].replace("lundi", "jeudi"), NEWSLETTER[2])
    assert stories.hours_apart(MONDAY, release, FRIDAY, thursday) == 94.0
    # nor, more than a week later, the next Monday's
    assert stories.hours_apart(MONDAY, release, FRIDAY + timedelta(days=7), newsletter) == 262.0


def test_a_reaction_naming_its_own_town_keeps_its_hours() -> None:
    release, reaction = story_keys(*RELEASE), story_keys(*REACTION)
    assert "vaudrimont" in reaction.subjects
    assert stories.hours_apart(MONDAY, release, FRIDAY, reaction) == 94.0


def test_a_brief_titled_by_its_rubric_is_found_by_its_first_sentence() -> None:
    words = title_words(f"{NEWSLETTER[0]}\n{NEWSLETTER[1]}")
    assert {"referentiel", "born"} & words
    assert story_keys(*NEWSLETTER).headline  # looked up when it is the new article
    assert not story_keys(*RELEASE).headline  # a headline says enough


def test_the_collector_groups_the_weekly_with_the_release() -> None:
    release = PairArticle(*RELEASE, MONDAY)
    weekly = PairArticle(*WEEKLY, FRIDAY)
    # a rewrite four days later, no brief of the release: the named floor of its day
    assert grouped(StoryPair("weekly", True, release, weekly, ""))
    assert not grouped(StoryPair("reaction", False, release, PairArticle(*REACTION, FRIDAY), ""))


ENGLISH = (
    "Cyber Resilience Act: Commission publishes guidelines for public buyers",
    "Brussels, 3 March 2026\n\nThe European Commission has today published guidelines to "
    "help public authorities apply the Cyber Resilience Act when they buy connected "
    "products, together with model clauses for tenders and a checklist for contracting "
    "officers.",
    "commission.europa.eu",
)
FRENCH = (
    "Achats publics : ce que le Cyber Resilience Act change pour les collectivités",
    "Les acheteurs des collectivités disposent désormais d'un mode d'emploi. Les lignes "
    "directrices publiées mardi par la Commission sur le Cyber Resilience Act proposent "
    "des clauses types pour les appels d'offres et une liste de vérifications pour les "
    "services des marchés.",
    "achats-territoriaux.fr",
)


def test_across_languages_the_originals_day_is_the_tie() -> None:
    english, french = story_keys(*ENGLISH), story_keys(*FRENCH)
    assert english.english and not french.english
    tuesday = datetime(2026, 3, 3, 12, 0, tzinfo=PARIS)
    thursday = tuesday + timedelta(hours=42)
    apart = stories.hours_apart(tuesday, english, thursday, french)
    assert apart == 0.0  # « publiées mardi »: the release's day
    # a name of both (the act) and the day cited: the named floor, not the nameless one
    assert stories.same_story(0.4, apart, english, french, published_hours=42.0)
    assert not stories.same_story(0.28, apart, english, french, published_hours=42.0)
    # without the day (a Wednesday the French lead does not cite): the nameless floor
    wednesday = story_keys(FRENCH[0], FRENCH[1].replace("mardi", "mercredi"), FRENCH[2])
    apart = stories.hours_apart(tuesday, english, thursday, wednesday)
    assert apart == 42.0
    assert not stories.same_story(0.4, apart, english, wednesday, published_hours=42.0)
