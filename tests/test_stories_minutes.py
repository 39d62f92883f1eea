"""Story grouping's reading of council minutes, dates and leads (issue 11, round 24;
docs/dedup.md, « Minutes, digests and rounded years »): a spaced hyphen parts a headline as
a dash does, a reference number names nothing, a comma parts a person from the place
before it, a site named in a lead is its body's name for the story index, « deux semaines
après la Sorme » compares and follows nothing up, and a full date's, a horizon's or a
comparison's year tells no edition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from veille.collect import stories
from veille.collect.storykeys import lead_names, story_keys
from veille.text.figures import read_figures

MINUTES_TEXT = (
    "Le conseil métropolitain, réuni le 19 novembre 2026, attribue la délégation de service "
    "public des mobilités à la société Trans'Armor pour huit ans, avec une clause de "
    "propriété des données de fréquentation."
)


def test_a_spaced_hyphen_parts_a_headline_as_a_dash_does() -> None:
    minutes = story_keys(
        "Délibération n° 2026-11-087 - Délégation de service public des mobilités",
        MINUTES_TEXT,
        "lanvezec-metropole.fr",
    )
    # « Délégation » starts a segment: a common noun capitalised, no body
    assert "delegation" not in minutes.subjects
    # a hyphen inside a name still joins it
    assert {"saint", "ormel"} <= story_keys(
        "Portail : Saint-Ormel ouvre ses données", "La commune publie 40 jeux.", "x.fr"
    ).subjects


def test_a_reference_number_names_nothing() -> None:
    keys = story_keys(
        "Délibération n° 2026-11-CD-047 : avenant n° 3 au contrat de transports",
        "Le conseil départemental approuve l'avenant au contrat de délégation des cars.",
        "vexe.fr",
    )
    assert "cd" not in keys.lead_names
    assert keys.site == frozenset({"vexe"})  # the page names nobody: its site does
    # one figure in a name is no reference: « Paris-2024 » still names Paris
    assert "paris" in story_keys("Les données de Paris-2024", "Un bilan est publié.").lead_names


def test_a_comma_parts_a_person_from_the_place_before_it() -> None:
    keys = story_keys(
        "Caméras « intelligentes » : Ravenoux condamnée par le gendarme des données",
        "Le maire de Ravenoux, Patrice Lemeunier, en avait fait un argument de campagne. "
        "La commune doit payer une amende de 20 000 euros.",
        "journal-val-de-loue.fr",
    )
    assert keys.subjects == frozenset({"ravenoux"})
    assert {"patric", "lemeunier"} <= keys.lead_names  # still a tie


def test_a_site_named_in_a_lead_is_its_bodys_name_for_the_index() -> None:
    names = lead_names("Lancement de data.courtavel.fr\nLa Ville ouvre son portail de données.")
    assert {"data.courtavel.fr", "courtavel"} <= names
    # a national platform's name is generic: nothing more
    assert lead_names("Nouveautés de data.gouv.fr\nDe nouveaux jeux.") == {"data.gouv.fr"}


def test_weeks_after_another_body_is_no_follow_up() -> None:
    compared = story_keys(
        "L'Arbenne confie à son tour son jumeau numérique à Géomira",
        "Deux semaines après la Sorme, le Département de l'Arbenne a retenu Géomira.",
    )
    assert not compared.follow_up
    for lead in (
        "Dix jours après son lancement, le portail compte 84 jeux de données.",
        "Deux semaines après le vote, la charte entre en vigueur.",
    ):
        assert story_keys("Le portail de Valmont", lead).follow_up, lead


def test_years_that_tell_no_edition() -> None:
    assert read_figures("signée le lundi 19 octobre 2026 pour quatre ans", False)[0] == set()
    assert read_figures("une copie en 3D de toute la région d'ici à 2030", False)[0] == set()
    assert read_figures("à l'horizon 2030", False)[0] == set()
    assert read_figures("sept points de plus qu'en 2025", False)[0] == set()
    assert read_figures("41 %, contre 34 % en 2025", False)[0] == set()
    # an edition's year stays
    assert read_figures("Baromètre 2026 : 41 % des communes", False)[0] == {"2026"}
    assert read_figures("le rapport 2025 de la Cnil", False)[0] == {"2025"}


def test_english_months_name_no_body() -> None:
    keys = story_keys(
        "Commission publishes guidance on data requests under the Data Act",
        "Brussels, 24 November 2026 - On 24 November the Commission published guidance.",
        "commission.europa.eu",
    )
    assert "november" not in keys.lead_names


def test_the_barometer_and_its_rounded_reading_are_one_story() -> None:
    """Through the decision: the trade weekly's comparison year (« qu'en 2025 ») no longer
    sets its lead apart from the release's edition year; two editions a year apart stay
    apart."""
    release = story_keys(
        "Baromètre 2026 de la donnée territoriale : 41 % des communes publient des données",
        "Le réseau Données & Territoires publie aujourd'hui la quatrième édition de son "
        "baromètre de la donnée territoriale, auprès de 1 240 collectivités.",
        "donnees-territoires.org",
    )
    weekly = story_keys(
        "Open data : quatre communes moyennes sur dix jouent le jeu",
        "Selon le baromètre annuel du réseau Données & Territoires publié mercredi, deux "
        "communes sur cinq ouvrent désormais des données, sept points de plus qu'en 2025.",
        "territoria-hebdo.fr",
    )
    last_year = story_keys(
        "Baromètre 2025 de la donnée territoriale : 34 % des communes publient des données",
        "Le réseau Données & Territoires publie la troisième édition de son baromètre.",
        "donnees-territoires.org",
    )
    published = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
    day_after = published + timedelta(hours=22)
    apart = stories.hours_apart(published, release, day_after, weekly)
    assert stories.same_story(0.45, apart, release, weekly, published_hours=22)
    a_year = stories.hours_apart(published - timedelta(days=365), last_year, published, release)
    assert not stories.same_story(0.7, a_year, last_year, release)
