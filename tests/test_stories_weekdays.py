"""The weekday an opening gives its event, read back to a date (issue 11, round 26;
docs/dedup.md, « press10 opened for recall »): coverage days later that dates its event by
the earlier article's weekday tells that day's event, unless its lead is another body's
reaction to it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from veille.collect.stories import STORY_SIMILARITY, hours_apart, same_story
from veille.collect.storykeys import story_keys
from veille.collect.storyweekdays import cited_weekdays, weekday_dates
from veille.text.french import story_fold

TUESDAY = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Paris
FRIDAY = TUESDAY + timedelta(days=3, hours=-1)


def test_a_lone_weekday_is_read_and_habits_spans_futures_and_dates_are_not() -> None:
    assert cited_weekdays(story_fold("Le rapport publié Mardi par l'agence")) == {1}
    assert cited_weekdays(story_fold("adoptée vendredi soir, depuis lundi")) == {4, 0}
    for text in (
        "ouvert du lundi au vendredi",
        "le marché a lieu chaque jeudi",
        "fermé le dimanche et les lundis",
        "la réunion se tiendra lundi prochain",
        "à partir de mercredi, dès samedi",
        "signée le mardi 10 mars",
    ):
        assert not cited_weekdays(story_fold(text)), text


def test_a_weekday_is_the_last_such_day_on_or_before_the_publication() -> None:
    assert weekday_dates(FRIDAY, frozenset({1})) == {date(2026, 3, 10)}
    assert weekday_dates(TUESDAY, frozenset({1})) == {date(2026, 3, 10)}  # « mardi » on Tuesday
    assert weekday_dates(TUESDAY, frozenset({2})) == {date(2026, 3, 4)}  # last Wednesday


AGENCY = story_keys(
    "Tiers-lieux numériques : l'Agence Norbel publie un référentiel",
    "L'Agence Norbel publie un référentiel pour les tiers-lieux qui accueillent du public.",
    "agence-norbel.fr",
)
REVIEW = story_keys(
    "Tiers-lieux : ce que change le référentiel de l'Agence Norbel",
    "Le référentiel publié mardi par l'Agence Norbel demande aux tiers-lieux un accueil "
    "sans rendez-vous et un médiateur formé.",
    "hebdo-territoires.fr",
)


def test_coverage_days_later_that_gives_the_day_by_its_weekday_reads_as_that_day() -> None:
    """Friday's trade weekly on Tuesday's page: 71 hours apart, told as published together;
    the named floor then joins them where the hours alone asked for more."""
    assert hours_apart(TUESDAY, AGENCY, FRIDAY, REVIEW) == 0.0
    assert same_story(
        STORY_SIMILARITY, hours_apart(TUESDAY, AGENCY, FRIDAY, REVIEW), AGENCY, REVIEW
    )
    undated = story_keys(REVIEW_TITLE, REVIEW_TEXT.replace(" mardi", ""), "hebdo-territoires.fr")
    assert hours_apart(TUESDAY, AGENCY, FRIDAY, undated) > 60
    assert not same_story(
        STORY_SIMILARITY, hours_apart(TUESDAY, AGENCY, FRIDAY, undated), AGENCY, undated
    )
    # another weekday (« publié lundi », the day before the page): no reading back
    monday = story_keys(REVIEW_TITLE, REVIEW_TEXT.replace("mardi", "lundi"), "hebdo-territoires.fr")
    assert hours_apart(TUESDAY, AGENCY, FRIDAY, monday) > 60
    # more than a week later, « mardi » is another Tuesday
    assert hours_apart(TUESDAY, AGENCY, FRIDAY + timedelta(days=7), REVIEW) > 100


REVIEW_TITLE = "Tiers-lieux : ce que change le référentiel de l'Agence Norbel"
REVIEW_TEXT = (
    "Le référentiel publié mardi par l'Agence Norbel demande aux tiers-lieux un accueil "
    "sans rendez-vous et un médiateur formé."
)


def test_another_body_reacting_to_the_day_s_news_is_its_own_act() -> None:
    """« Malgré le référentiel publié mardi, Quérac ferme son tiers-lieu »: the weekday is
    the background's; the lead's subject, a town the agency's page never names, acts."""
    reaction = story_keys(
        "Quérac ferme son tiers-lieu malgré le référentiel national",
        "Malgré le référentiel publié mardi par l'Agence Norbel, la commune de Quérac ferme "
        "son tiers-lieu numérique faute de médiateur.",
        "courrier-querac.fr",
    )
    assert reaction.lead_weekdays == {1}
    assert hours_apart(TUESDAY, AGENCY, FRIDAY, reaction) > 60
