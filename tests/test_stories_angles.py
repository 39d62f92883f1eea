"""A local angle of a named release is that release's story (issue 11, round 27;
docs/dedup.md, « press11 opened for recall »).

The regional daily writes two days after a national body's release: « les relevés publiés
mardi par l'Agence nationale des chaussées » and its own département's figures. Its place
is its angle and its figures are picked out of the release: not another body's event, not
a disagreement of figures (`storyangles.local_angle`, `storyangles.credited_names`). A town's
reaction credits the release too but tells a decision of its own, with no figure."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from veille.collect import stories, storyangles
from veille.collect.storyangles import credited_names
from veille.collect.storykeys import story_keys
from veille.collect.storypairs import PairArticle, StoryPair, grouped

PARIS = ZoneInfo("Europe/Paris")
TUESDAY = datetime(2026, 6, 2, 10, 0, tzinfo=PARIS)
THURSDAY = TUESDAY + timedelta(days=2, hours=-3)

RELEASE = (
    "Chaussées communales : l'Anachaus publie l'état de 95 000 kilomètres de voirie",
    "L'Agence nationale des chaussées (Anachaus) publie en données ouvertes l'état de 95 000 "
    "kilomètres de voies communales relevé par ses véhicules d'inspection depuis 2022. Pour "
    "chaque tronçon figurent sa commune, sa longueur, la date du relevé et une note d'usure "
    "sur cinq niveaux ; 14 % des voies sont classées dans les deux plus mauvais. Les communes "
    "pourront s'en servir pour programmer leurs travaux d'entretien.",
    "anachaus.gouv.fr",
)
ANGLE = (
    "Routes communales : 312 kilomètres très usés dans le Vermandois",
    "Les nids-de-poule ne sont pas qu'une impression. D'après les relevés publiés mardi par "
    "l'Anachaus, l'agence nationale des chaussées, 312 kilomètres de voies communales du "
    "Vermandois sont classés dans les deux plus mauvais niveaux d'usure, sur 2 480 "
    "inspectés. Les maires peuvent consulter l'état de chaque tronçon de leur commune "
    "sur le site de l'agence et s'en servir pour programmer leurs travaux d'entretien.",
    "gazette-du-vermandois.fr",
)
REACTION = (
    "Voirie : Castelbrune ne suivra pas la carte de l'Anachaus",
    "Les relevés de voirie publiés mardi par l'Anachaus ne guideront "
    "pas les travaux d'entretien à Castelbrune, a fait savoir le maire, qui préfère s'en "
    "tenir au diagnostic commandé par la commune à un bureau d'études.",
    "gazette-du-vermandois.fr",
)


def test_the_opening_credits_a_body_with_a_dated_publication() -> None:
    assert "anachaus" not in credited_names(RELEASE[1])
    assert credited_names(ANGLE[1]) == {"anachaus"}
    assert not credited_names("Les relevés publiés par l'Anachaus")  # no day: no credit


def test_a_local_angle_is_the_releases_story() -> None:
    release, angle = story_keys(*RELEASE), story_keys(*ANGLE)
    assert angle.lead_figures and release.lead_figures
    assert storyangles.local_angle(release, angle)
    assert stories.hours_apart(TUESDAY, release, THURSDAY, angle) == 0.0
    assert grouped(
        StoryPair("angle", True, PairArticle(*RELEASE, TUESDAY), PairArticle(*ANGLE, THURSDAY), "")
    )


def test_a_reaction_crediting_the_release_is_another_story() -> None:
    release, reaction = story_keys(*RELEASE), story_keys(*REACTION)
    assert credited_names(REACTION[1])  # it credits the release too
    assert not storyangles.local_angle(release, reaction)  # but gives no figure of it
    pair = StoryPair(
        "reaction", False, PairArticle(*RELEASE, TUESDAY), PairArticle(*REACTION, THURSDAY), ""
    )
    assert not grouped(pair)


def test_an_angle_a_week_later_keeps_its_hours() -> None:
    release, angle = story_keys(*RELEASE), story_keys(*ANGLE)
    later = TUESDAY + timedelta(days=8)
    assert stories.hours_apart(TUESDAY, release, later, angle) == 192.0
