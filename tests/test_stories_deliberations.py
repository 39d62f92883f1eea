"""A council's délibération and a post signed with a bullet, as the press's own texts meet
them (issue 11, round 26; docs/dedup.md, « press10 opened for recall »)."""

from __future__ import annotations

from veille.collect.stories import TIED_SIMILARITY, same_story
from veille.collect.storykeys import story_keys
from veille.text.leads import post_role

MINUTES = (
    "Le conseil communautaire ADOPTE le plan de sobriété numérique 2027-2029, qui prévoit "
    "45 bornes de recyclage et un budget de 620 000 euros ; APPROUVE la convention avec "
    "l'association ; AUTORISE le Président à la signer ; DÉSIGNE deux élus référents."
)


def test_the_operative_verbs_of_a_deliberation_and_its_president_name_nobody() -> None:
    """« ADOPTE », « AUTORISE le Président »: the format of every délibération, in
    capitals; read as names, they were a body the press never names, and vetoed the
    coverage of the vote."""
    page = story_keys("Plan de sobriété numérique : adoption", MINUTES, "agglo-merlane.fr")
    assert not page.lead_names & {"adopt", "adopte", "approuv", "autoris", "president", "design"}
    daily = story_keys(
        "Merlane Agglo vote son plan de sobriété numérique",
        "Les élus de l'agglomération de Merlane ont voté jeudi un plan de 620 000 euros "
        "qui installe 45 bornes de recyclage.",
        "journal-merlane.fr",
    )
    assert same_story(TIED_SIMILARITY, 80, daily, page)


def test_a_post_signed_with_a_bullet_a_compound_name_and_its_age() -> None:
    """« Marion Le Gall-Serre • Directrice du numérique de Merlane Agglo / 2 j »: the role
    is the body the post speaks for, whatever the separator and the age shown after it."""
    text = "Marion Gall-Serre • Directrice du numérique de Merlane Agglo / 2 j\n\nFière !"
    assert post_role(text) == "Directrice du numérique de Merlane Agglo"
    assert post_role("Marion Gall · Élue\nTexte") == "Élue"
    assert post_role("LA LETTRE DATA · n° 12\nTexte") == ""
