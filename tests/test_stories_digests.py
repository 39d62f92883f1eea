"""A digest compared item by item, and amounts written out (issue 11, round 25;
docs/dedup.md, « Digests item by item, amounts written out »): a newsletter whose body opens
on a list of items is several stories, each item compared with a candidate as an article
(`text/digests.py`, `StoryIndex`), a digest belongs to one story only, and « Quatre
millions d'euros » and « 150 k€ » are the amounts « 4 M€ » and « 150 000 euros »."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from veille.collect.storyindex import StoryIndex
from veille.collect.storypairs import PairArticle, StoryPair, grouped, record_of
from veille.text.digests import items
from veille.text.figures import read_figures
from veille.text.fingerprint import hashed_counts

DAY = datetime(2026, 11, 3, 9, tzinfo=UTC)

RELEASE = PairArticle(
    "Brémontier ouvre son portail de données publiques",
    "La commune de Brémontier a mis en ligne lundi son portail de données ouvertes, avec "
    "84 jeux de données : budget, équipements sportifs, horaires des bibliothèques et "
    "qualité de l'air. Le projet a coûté 45 000 euros, financés pour moitié par la Région. "
    "« Nous voulons que chacun puisse vérifier comment la commune dépense son argent », "
    "explique l'adjointe au numérique. Les habitants peuvent proposer de nouveaux jeux sur "
    "le site ; un atelier de prise en main aura lieu à la médiathèque le mois prochain.",
    "bremontier.fr",
    DAY,
)
APPOINTMENT = PairArticle(
    "Castelvieux nomme un administrateur des données",
    "La communauté d'agglomération de Castelvieux a nommé Hugo Ferrandière administrateur "
    "général des données. Ancien chef de projet SIG au syndicat d'énergie, il pilotera la "
    "stratégie votée au printemps par le conseil communautaire : inventaire des bases, "
    "charte d'éthique, clauses dans les contrats de délégation. Il prendra ses fonctions le "
    "1er décembre, rattaché au directeur général des services.",
    "castelvieux-agglo.fr",
    DAY + timedelta(hours=2),
)
# A weekly letter: its title names no story, its first item retells the release, its
# second the appointment, the others other news.
LETTER = PairArticle(
    "La Lettre de la donnée locale n° 42",
    "Au sommaire cette semaine :\n"
    "→ Portail. Brémontier publie ses jeux de données en ligne depuis lundi, du budget "
    "municipal aux horaires des bibliothèques et à la qualité de l'air.\n"
    "→ Nomination. Hugo Ferrandière devient l'administrateur général des données de "
    "l'agglomération de Castelvieux et pilotera sa stratégie de la donnée.\n"
    "→ Agenda. Les rencontres régionales de l'open data se tiendront le 14 janvier à Lyon.\n"
    "→ Cybersécurité. Le guide de l'ANSSI pour les petites communes est paru : sauvegardes, "
    "mots de passe, exercices de crise et plan de reprise en cas d'attaque.\n"
    "→ Mobilités. Les horaires en temps réel des cars régionaux seront publiés au format "
    "GTFS-RT avant l'été, annonce la Région.\n"
    "Vous recevez cette lettre car vous êtes abonné. Se désinscrire",
    "lettre-donnee-locale.fr",
    DAY + timedelta(days=2),
)


def test_a_text_that_opens_on_its_items_is_a_digest() -> None:
    assert [rubric for rubric, _ in items(LETTER.text)] == [
        "Portail",
        "Nomination",
        "Agenda",
        "Cybersécurité",
        "Mobilités",
    ]
    assert items(LETTER.text)[0][1].startswith("Brémontier publie ses jeux")
    # numbered items after an intro line without punctuation, and inline bullets
    numbered = "Au sommaire cette semaine\n1. Nominations - X recrute.\n2. Agenda - Y se tient."
    assert items(numbered) == [("Nominations", "X recrute."), ("Agenda", "Y se tient.")]
    inline = "• IA : la DINUM publie un catalogue. • Fibre : l'Arcep publie son observatoire."
    assert [rubric for rubric, _ in items(inline)] == ["IA", "Fibre"]


def test_a_list_after_prose_is_one_storys_text() -> None:
    release = (
        "L'Assemblée départementale a adopté vendredi son schéma d'inclusion numérique.\n"
        "Ses principales mesures :\n- 30 conseillers numériques ;\n- un pass de 10 heures."
    )
    minutes = (
        "Conseil communautaire - Séance du lundi 28 septembre 2026\n"
        "Le Conseil, après en avoir délibéré,\n- approuve le choix du délégataire ;\n"
        "- autorise le Président à signer le contrat."
    )
    assert items(release) == [] and items(minutes) == []
    assert items("→ Un seul point cette semaine.") == []  # one item is no digest


def test_a_digest_joins_the_story_its_item_tells() -> None:
    # two days later the whole letter shares too few words with the release to join it
    # (its other items dilute them); its first item tells the release's event
    assert grouped(StoryPair("digest", True, RELEASE, LETTER, ""))
    assert grouped(StoryPair("digest", True, APPOINTMENT, LETTER, ""))


def _add(index: StoryIndex, n: int, article: PairArticle, story: int) -> None:
    record, counts = record_of(n, article)
    index.add(n, story, record, hashed_counts(counts) if counts is not None else None)


def _match(index: StoryIndex, n: int, article: PairArticle) -> int | None:
    record, counts = record_of(n, article)
    copy, story = index.match(
        None,  # type: ignore[arg-type]  # every candidate's vector is in the index
        record,
        hashed_counts(counts) if counts is not None else None,
    )
    return story if copy is None else copy


def test_a_digest_joins_its_likest_items_story_only() -> None:
    index = StoryIndex([])
    _add(index, 1, RELEASE, 10)
    _add(index, 2, APPOINTMENT, 20)
    # both items join their story; the letter joins the one its likest item tells (the
    # appointment's item, cosine 0.57, over the release's, 0.51), not the nearest SimHash
    assert _match(index, 3, LETTER) == 20


def test_a_stored_digest_belongs_to_one_story() -> None:
    # The letter comes first (a digest read before the coverage): the release joins it by
    # its first item; the appointment, told by its second item, must not then join the
    # same story, or the letter would pull two stories into one.
    index = StoryIndex([])
    _add(index, 1, LETTER, 30)
    release = PairArticle(RELEASE.title, RELEASE.text, RELEASE.source, DAY + timedelta(days=4))
    appointment = PairArticle(
        APPOINTMENT.title, APPOINTMENT.text, APPOINTMENT.source, DAY + timedelta(days=4)
    )
    assert _match(index, 3, appointment) == 30  # alone, it would join the letter's story
    assert _match(index, 2, release) == 30
    _add(index, 2, release, 30)
    assert _match(index, 3, appointment) is None


def test_amounts_written_out_are_amounts() -> None:
    def amounts(text: str) -> set[str]:
        return {value for value, _, _ in read_figures(text, False)[1]}

    assert amounts("Quatre millions d'euros et jusqu'à 150 000 euros par projet") == {
        "4000000",
        "150000",
    }
    assert amounts("l'ANCT met 4 M€ sur la table. Plafond : 150 k€ par lauréat") == {
        "4000000",
        "150000",
    }
    assert amounts("un million de visites, deux milliards de requêtes") == {
        "1000000",
        "2000000000",
    }
    assert amounts("deux ateliers et dix-huit communes") == set()  # no multiplier: no amount
