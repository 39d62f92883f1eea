"""One date cited by both openings dates one event, however late within the week the
second article comes (issue 11, round 27; docs/dedup.md, « press11 opened for recall »).

A council's own page telling its vote « le 14 septembre » and the trade weekly writing six
days later « adopté le 14 septembre » tell one vote: the weekly's lateness is its rhythm,
not a later event (`stories.hours_apart`, `storycited.one_cited_day`). A body's
appointment and a portrait of the person named both give the start « le 1er octobre »."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from veille.collect import stories
from veille.collect.storycited import one_cited_day
from veille.collect.storykeys import story_keys
from veille.collect.storypairs import PairArticle, StoryPair, grouped

PARIS = ZoneInfo("Europe/Paris")
THURSDAY = datetime(2026, 9, 17, 11, 0, tzinfo=PARIS)
WEDNESDAY_AFTER = THURSDAY + timedelta(days=6, hours=-2)  # the weekly, six days on

COUNCIL = (
    "Le schéma directeur cyclable adopté en conseil municipal",
    "Réuni le 14 septembre, le conseil municipal de Bréville-sur-Aunette a adopté le "
    "schéma directeur cyclable de la commune. Le document prévoit la création de pistes "
    "séparées sur les axes qui desservent les écoles et le collège, le jalonnement des "
    "itinéraires vers la gare et l'installation d'arceaux de stationnement dans chaque "
    "quartier d'ici la fin du mandat.",
    "breville-sur-aunette.fr",
)
WEEKLY = (
    "Mobilités : Bréville-sur-Aunette fait le pari du vélo pour aller à l'école",
    "Les parents d'élèves l'attendaient depuis des années. Le schéma directeur cyclable de "
    "Bréville-sur-Aunette, adopté le 14 septembre par les élus, donne la priorité aux "
    "trajets vers les écoles : pistes séparées, itinéraires balisés jusqu'à la gare, "
    "arceaux dans les quartiers. La commune mise sur un changement d'habitudes plutôt que "
    "sur de grands travaux, et compte sur les associations pour accompagner les familles.",
    "hebdo-des-mobilites.fr",
)
OTHER_TOWN = (
    "Mobilités : Vernolles adopte à son tour un schéma cyclable",
    "Les élus de Vernolles ont adopté le 14 septembre le schéma directeur cyclable de la "
    "commune : pistes séparées vers le collège, itinéraires balisés jusqu'à la gare et "
    "arceaux de stationnement dans les quartiers, avec l'appui des associations.",
    "hebdo-des-mobilites.fr",
)


def test_one_date_cited_by_both_openings_is_one_days_event() -> None:
    council, weekly = story_keys(*COUNCIL), story_keys(*WEEKLY)
    assert (14, 9) in council.lead_days and (14, 9) in weekly.lead_days
    assert stories.hours_apart(THURSDAY, council, WEDNESDAY_AFTER, weekly) == 0.0
    # another date in the weekly's opening: its hours count
    other_day = story_keys(WEEKLY[0], WEEKLY[1].replace("14 septembre", "7 septembre"), WEEKLY[2])
    assert stories.hours_apart(THURSDAY, council, WEDNESDAY_AFTER, other_day) == 142.0
    # a week or more later, the date may be an anniversary or a deadline: its hours count
    later = WEDNESDAY_AFTER + timedelta(days=2)
    assert stories.hours_apart(THURSDAY, council, later, weekly) == 190.0


def test_on_one_site_the_second_article_is_its_next_event() -> None:
    council, weekly = story_keys(*COUNCIL), story_keys(*WEEKLY)
    same_site = story_keys(COUNCIL[0], COUNCIL[1], WEEKLY[2])
    assert stories.hours_apart(THURSDAY, same_site, WEDNESDAY_AFTER, weekly) >= 120.0
    assert stories.hours_apart(THURSDAY, council, WEDNESDAY_AFTER, weekly) == 0.0


def test_the_collector_groups_the_weekly_with_the_council_page() -> None:
    council = PairArticle(*COUNCIL, THURSDAY)
    weekly = PairArticle(*WEEKLY, WEDNESDAY_AFTER)
    assert grouped(StoryPair("weekly", True, council, weekly, ""))
    # another town's vote the same day, told by the weekly: each names its own town
    other = PairArticle(*OTHER_TOWN, WEDNESDAY_AFTER)
    assert not grouped(StoryPair("other town", False, council, other, ""))


def test_a_shared_date_ties_only_within_the_week() -> None:
    day = {date(2026, 10, 1)}
    start = datetime(2026, 9, 21, 11, 0, tzinfo=PARIS)
    assert one_cited_day(start, day, start + timedelta(days=6), day)
    assert not one_cited_day(start, day, start + timedelta(days=7), day)
    assert not one_cited_day(start, day, start + timedelta(days=6), {date(2026, 10, 2)})


def test_a_weekday_cited_by_both_ties_when_the_later_names_no_other_body() -> None:
    # both say « lundi »: the council's page on Thursday, the weekly on Friday, one Monday
    council = story_keys(COUNCIL[0], COUNCIL[1].replace("le 14 septembre", "lundi"), COUNCIL[2])
    weekly = story_keys(WEEKLY[0], WEEKLY[1].replace("le 14 septembre", "lundi"), WEEKLY[2])
    friday = THURSDAY + timedelta(days=1, hours=20)
    assert council.lead_weekdays == weekly.lead_weekdays == frozenset({0})
    assert stories.hours_apart(THURSDAY, council, friday, weekly) == 0.0
    # another town's vote the same Monday: a weekday does not tie a lead naming its town
    other = story_keys(
        OTHER_TOWN[0], OTHER_TOWN[1].replace("le 14 septembre", "lundi"), OTHER_TOWN[2]
    )
    assert stories.hours_apart(THURSDAY, council, friday, other) == 44.0
