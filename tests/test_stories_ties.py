"""Story grouping's ties and keys added on a fourth hand's pairs (issue 11, round 21;
docs/dedup.md, « Recall on unseen writing »): the dates an opening cites, a figure tying
nameless leads, the lead after a release's header or a breadcrumb, generic bodies and
brands' common nouns, rounded and corrected figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from veille.collect.stories import (
    STORY_SIMILARITY,
    UNNAMED_SIMILARITY,
    same_story,
)
from veille.collect.storydays import event_days
from veille.collect.storykeys import story_keys
from veille.text.figures import disagree, near
from veille.text.leads import body_of, cited_days

WEDNESDAY = datetime(2026, 10, 21, 9, 30, tzinfo=UTC)


def test_dates_resolve_to_the_days_they_cite_and_weekdays_do_not() -> None:
    """A date is the day it names (« le 30 décembre » read in January is last year's); a
    weekday alone is no cited day: resolved to the last such day before the publication,
    it tied distinct stories of one week on both unseen sets (docs/dedup.md)."""
    assert cited_days("lance mercredi, un atelier samedi 17 octobre") == {(17, 10)}
    keys = story_keys("Maud répond", "Maud, lancée mercredi par la mairie de Villemaur, répond.")
    assert event_days(WEDNESDAY + timedelta(days=2), keys) == set()
    year_end = story_keys("Bilan", "Le conseil de Lorvac a voté le 30 décembre.")
    assert event_days(datetime(2027, 1, 2, tzinfo=UTC), year_end) == {date(2026, 12, 30)}


def test_a_figure_of_both_openings_ties_nameless_leads() -> None:
    """National news naming only « l'État » shares no name with the trade press; the
    same « 80 M€ » and « 4 000 » tie them as a name would (the named floor, not lower)."""
    daily = story_keys(
        "L'État maintient ses conseillers numériques",
        "Le gouvernement reconduit en 2027 l'aide de 80 millions d'euros pour 4 000 postes.",
    )
    trade = story_keys(
        "Conseillers numériques : 80 M€ pour 2027",
        "L'État financera encore 4 000 conseillers numériques, soit 80 M€.",
    )
    assert daily.figures & trade.figures == {"80000000", "4000"}
    assert same_story(STORY_SIMILARITY, 10, daily, trade)
    assert not same_story(STORY_SIMILARITY - 0.01, 10, daily, trade)
    other = story_keys("L'État finance", "Le gouvernement annonce 12 millions d'euros.")
    assert not same_story(UNNAMED_SIMILARITY - 0.01, 10, daily, other)


def test_a_release_header_a_breadcrumb_and_a_dateline_are_no_lead() -> None:
    assert body_of("Accueil > Actualités > Vie municipale\nPublié le 06/10/2026\n\nBudget.") == (
        "Budget."
    )
    assert body_of("Communiqué de presse — Paris, le 3 décembre 2026\n\nÀ l'issue…") == (
        "À l'issue…"
    )
    assert body_of("MONTCALVY (Haute-Lisère), 6 oct (FD) - La ville a ouvert.") == (
        "La ville a ouvert."
    )
    sentence = "Le maire a dit que 3 > 2 pour tous.\nSuite."
    assert body_of(sentence) == sentence  # a sentence with « > » is no breadcrumb


def test_generic_bodies_and_brands_name_no_body() -> None:
    """« l'Assemblée départementale » is the page's own body, written generically: its
    page then names nobody and is tied by its site; « Montcalvy Données », a portal's
    brand, names no « données » (the town's own page is then tied by its site).
    « l'Assemblée nationale » stays a body."""
    page = story_keys(
        "Le Département adopte sa stratégie de la donnée",
        "Réunie jeudi, l'Assemblée départementale a adopté la stratégie de la donnée.",
        "monts-argens.fr",
    )
    assert page.lead_names == frozenset() and page.own and page.subjects == {"monts", "argens"}
    assert "assemble" in story_keys("Vote", "L'Assemblée nationale a voté le texte.").lead_names
    portal = story_keys(
        "Le portail de la Ville est en ligne",
        "Avec « Montcalvy Données », la Ville publie 112 jeux de données.",
        "montcalvy.fr",
    )
    assert "donnees" not in portal.lead_names and portal.subjects == {"montcalvy"}
    headline = story_keys("Données : l'opposition vote contre", "La stratégie de la donnée.")
    assert "donnees" not in headline.lead_names


def test_rounded_misprinted_and_corrected_figures_do_not_veto() -> None:
    assert near("187000", "190000") and near("1312", "1300")  # rounded
    assert near("18000000", "1800000")  # the decimal comma moved
    assert not near("20000", "50000") and not near("312", "221")
    assert disagree(frozenset({"20000"}), frozenset({"50000"}))
    assert not disagree(frozenset({"187000"}), frozenset({"190000"}))
    wire = story_keys("Cyberattaque à Lerville", "La métropole de Lerville a 20 services coupés.")
    update = story_keys(
        "Cyberattaque : 34 services de Lerville à l'arrêt (actualisé)",
        "Trente-quatre services de la métropole de Lerville, et non 20, sont coupés.",
    )
    other = story_keys("Cyberattaque à Lerville", "La métropole de Lerville a 34 services coupés.")
    assert update.revision and wire.lead_figures == {"20"}
    assert same_story(0.5, 5, wire, update)  # the correction changes the figure
    assert not same_story(0.5, 5, wire, other)  # two counts, no correction: two events
    population = story_keys("Lerville", "La métropole de Lerville (420 000 habitants) est visée.")
    assert population.lead_figures == frozenset()  # a population is no event's figure
