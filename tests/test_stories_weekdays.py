"""The weekday an opening gives its event, read back to a date (issue 11, round 26;
docs/dedup.md, « press10 opened for recall »): coverage days later that dates its event by
the earlier article's weekday tells that day's event, unless its lead is another body's
reaction to it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from veille.collect.stories import STORY_SIMILARITY, hours_apart, same_story
from veille.collect.storydays import day_tied
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
    # another weekday (« publié jeudi », two days after the page): no reading back (the day
    # before the page, « lundi », is read back: a page may tell the eve's event)
    thursday = story_keys(REVIEW_TITLE, REVIEW_TEXT.replace("mardi", "jeudi"), "hebdo.fr")
    assert hours_apart(TUESDAY, AGENCY, FRIDAY, thursday) > 60
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


WEDNESDAY = TUESDAY + timedelta(days=1)
TRADE = story_keys(
    "Bruxelles publie ses recommandations aux acheteurs publics de cloud",
    "La Commission européenne a publié mardi des recommandations pour les achats de "
    "services d'informatique en nuage par les administrations.",
    "gazette-achats.fr",
)
DAILY = story_keys(
    "Informatique en nuage : les conseils de la Commission aux administrations",
    "Les administrations qui achètent du cloud ont désormais un guide : publié le 10 mars "
    "par la Commission européenne, il recommande des clauses de réversibilité.",
    "quotidien-national.fr",
)


def test_one_day_and_one_act_tie_leads_that_name_no_body() -> None:
    """« la Commission européenne » names no body (a kind of body): two French articles on
    its Tuesday guide, one saying « mardi », the other « le 10 mars », need the nameless
    floor (0.5) unless the day both give and the act both tell tie them (0.3)."""
    assert not TRADE.lead_names and not DAILY.lead_names
    hours = hours_apart(WEDNESDAY, TRADE, WEDNESDAY + timedelta(hours=5), DAILY)
    one_day = day_tied(WEDNESDAY, TRADE, WEDNESDAY + timedelta(hours=5), DAILY)
    assert one_day
    assert same_story(0.35, hours, TRADE, DAILY, one_day=one_day)
    assert not same_story(0.35, hours, TRADE, DAILY)
    # another day (the Monday before): no tie
    other = story_keys(
        "Les conseils de Bruxelles sur le cloud", DAILY_TEXT.replace("10", "9"), "q.fr"
    )
    assert not day_tied(WEDNESDAY, TRADE, WEDNESDAY + timedelta(hours=5), other)


DAILY_TEXT = (
    "Les administrations qui achètent du cloud ont désormais un guide : publié le 10 mars "
    "par la Commission européenne, il recommande des clauses de réversibilité."
)


def test_one_day_ties_no_two_places() -> None:
    """Two towns vote their budget the same Monday: the town's own page names nobody in
    its lead, the other town's daily names it; the day and the act tie nothing then."""
    page = story_keys(
        "Le budget 2027 adopté",
        "Réuni lundi, le conseil municipal a adopté le budget 2027 de la commune.",
        "vaudrec.fr",
    )
    daily = story_keys(
        "Sorbiac adopte son budget 2027",
        "Le conseil municipal de Sorbiac a voté lundi le budget 2027 de la commune.",
        "echo-sorbiac.fr",
    )
    monday_night = datetime(2026, 3, 9, 21, 0, tzinfo=UTC)
    assert day_tied(monday_night, page, TUESDAY, daily)
    hours = hours_apart(monday_night, page, TUESDAY, daily)
    assert not same_story(0.35, hours, page, daily, one_day=True)


def test_across_languages_the_day_and_the_act_are_the_tie_a_law_is_no_other_body() -> None:
    """The Commission's English release names the law (« Data Act »); the French coverage
    the next morning says « mardi » and names no law: the day and the guide tie them
    at the named floor, where across languages only a figure did."""
    release = story_keys(
        "Commission publishes guidelines on data sharing by public sector bodies",
        "The Commission today published guidelines on how public sector bodies can request "
        "data under the Data Act in cases of exceptional need.",
        "commission.europa.eu",
    )
    coverage = story_keys(
        "Partage de données : Bruxelles précise les règles pour les administrations",
        "La Commission européenne a publié mardi des lignes directrices sur les demandes "
        "de données des organismes publics en cas de besoin exceptionnel.",
        "lettre-numerique.fr",
    )
    assert release.english and not coverage.english and release.subjects == {"dataact"}
    later = WEDNESDAY + timedelta(hours=-2)
    one_day = day_tied(TUESDAY, release, later, coverage)
    hours = hours_apart(TUESDAY, release, later, coverage)
    assert one_day and same_story(0.4, hours, release, coverage, one_day=one_day)
    assert not same_story(0.4, hours, release, coverage)


def test_the_earlier_s_own_day_ties_without_an_act_a_day_both_cite_needs_one() -> None:
    """The coverage that dates its event by the release's own day needs no act word
    (« a lancé mardi une consultation »); two articles that only cite one weekday do: a
    week's news says « mardi » of many events."""
    release = story_keys(
        "Commission consults on open data licences",
        "The Commission today launched a public consultation on licences for open data.",
        "commission.europa.eu",
    )
    coverage = story_keys(
        "Licences ouvertes : consultation européenne",
        "La Commission européenne a lancé mardi une consultation sur les licences ouvertes.",
        "lettre-numerique.fr",
    )
    assert not release.acts and not coverage.acts
    assert day_tied(TUESDAY, release, WEDNESDAY, coverage)
    echo = story_keys(
        "Licences ouvertes : les collectivités consultées",
        "Les collectivités ont été consultées mardi sur les licences ouvertes.",
        "echo-territoires.fr",
    )
    assert not day_tied(WEDNESDAY, coverage, WEDNESDAY + timedelta(hours=3), echo)


def test_an_english_acronym_of_an_international_body_is_its_french_one() -> None:
    """« OECD » in the English release, « OCDE » in the French brief the next day: one body,
    so no veto of two bodies, and the release's day ties them."""
    release = story_keys(
        "OECD: cities publish fewer datasets than regions",
        "The OECD today published a survey of open data in cities and regions of 20 countries.",
        "oecd.org",
    )
    brief = story_keys(
        "Données ouvertes : l'OCDE compare villes et régions",
        "L'OCDE a publié mardi une enquête sur les données ouvertes des villes et des régions.",
        "lettre-numerique.fr",
    )
    assert release.subjects == brief.subjects == {"ocde"}
    later = WEDNESDAY + timedelta(hours=-2)
    one_day = day_tied(TUESDAY, release, later, brief)
    assert same_story(
        0.35, hours_apart(TUESDAY, release, later, brief), release, brief, one_day=one_day
    )
