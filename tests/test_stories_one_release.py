"""Story grouping of one body's release told by two lines of its table (issue 11, round
27; docs/dedup.md, « press12 opened for recall »): the national figure in the tech press,
the town's share in the regional daily. Both lead on the same body and name no other
body or place the other never names: their figures are two lines of one release. Invented
texts, through the story index as the collector calls it (`storypairs.grouped`)."""

from __future__ import annotations

from datetime import UTC, datetime

from veille.collect import stories
from veille.collect.storyangles import one_release
from veille.collect.storykeys import StoryKeys, story_keys
from veille.collect.storypairs import PairArticle, StoryPair, grouped

NATIONAL = PairArticle(
    "Comment l'Ademe a recensé 2,4 millions de toitures solaires potentielles",
    "L'Ademe a publié mercredi un cadastre solaire national : 2,4 millions de toitures "
    "de bâtiments publics et privés se prêtent à des panneaux photovoltaïques, selon un "
    "modèle entraîné sur des photographies aériennes. Le cadastre est téléchargeable "
    "commune par commune, avec la surface utile de chaque toit et une estimation de la "
    "production annuelle. L'agence espère que les collectivités s'en serviront pour "
    "choisir leurs premiers chantiers de panneaux solaires.",
    "techpublique.example",
    datetime(2026, 11, 4, 15, 0, tzinfo=UTC),
)
LOCAL = PairArticle(
    "Solaire : 6 200 toitures se prêtent aux panneaux, selon le cadastre de l'Ademe",
    "Selon le cadastre solaire publié cette semaine par l'Ademe, 6 200 toitures se "
    "prêtent aux panneaux photovoltaïques sur la commune. Le modèle, entraîné sur des "
    "photographies aériennes, donne pour chaque toit sa surface utile et une estimation "
    "de sa production annuelle. Le cadastre est téléchargeable commune par commune et "
    "les collectivités pourront s'en servir pour choisir leurs premiers chantiers.",
    "journal-du-plateau.example",
    datetime(2026, 11, 6, 6, 30, tzinfo=UTC),
)


def _pair(a: PairArticle, b: PairArticle) -> StoryPair:
    return StoryPair("angle", True, a, b, "")


def _keys(article: PairArticle) -> StoryKeys:
    return story_keys(article.title, article.text, article.source)


def test_the_national_figure_and_the_towns_share_tell_one_release() -> None:
    assert one_release(_keys(NATIONAL), _keys(LOCAL))
    assert grouped(_pair(NATIONAL, LOCAL))


def test_a_lead_naming_another_body_is_its_own_event() -> None:
    # the town's lead names the town, which the national article never names: its own act
    other = PairArticle(
        LOCAL.title,
        LOCAL.text.replace("sur la commune", "à Montbrisac, qui lancera ses chantiers"),
        LOCAL.source,
        LOCAL.published,
    )
    assert not one_release(_keys(NATIONAL), _keys(other))
    assert not grouped(_pair(NATIONAL, other))


def test_one_site_or_another_body_is_no_release_retold() -> None:
    same_site = PairArticle(LOCAL.title, LOCAL.text, NATIONAL.source, LOCAL.published)
    assert not one_release(_keys(NATIONAL), _keys(same_site))
    cnil = PairArticle(
        LOCAL.title.replace("l'Ademe", "la Cnil"),
        LOCAL.text.replace("l'Ademe", "la Cnil"),
        LOCAL.source,
        LOCAL.published,
    )
    assert not one_release(_keys(NATIONAL), _keys(cnil))


def test_two_years_of_one_release_stay_apart() -> None:
    # the figures may differ, the years may not (`StoryKeys.lead_years`)
    old = PairArticle(
        NATIONAL.title + " en 2025",
        NATIONAL.text.replace("cadastre solaire national", "cadastre solaire national 2025"),
        NATIONAL.source,
        NATIONAL.published,
    )
    new = PairArticle(
        LOCAL.title,
        LOCAL.text.replace("cadastre solaire publié", "cadastre solaire 2026 publié"),
        LOCAL.source,
        LOCAL.published,
    )
    assert not grouped(_pair(old, new))


def test_a_cardinal_point_names_no_body() -> None:
    # « une ville moyenne de l'Ouest »: a portrait's vague region, not a place the
    # town's own release would have to name (`storynames.GENERIC_NAMES`)
    portrait = story_keys(
        "Inès Carvalho, première directrice des données d'une ville du Sud-Ouest",
        "Les villes moyennes s'y mettent aussi : Lavernac a nommé cette semaine Inès "
        "Carvalho directrice des données, un poste créé auprès du directeur général.",
        "hebdo-territoires.example",
    )
    assert not portrait.subjects & {"sud", "ouest"}
    release = story_keys(
        "La Ville de Lavernac se dote d'une directrice des données",
        "La Ville de Lavernac a nommé Inès Carvalho directrice des données, un poste "
        "partagé avec le CCAS.",
        "lavernac.example",
    )
    # the release's lead names the CCAS, which the portrait never does: only a region the
    # release never names on the portrait's side too would veto the pair
    assert release.subjects - portrait.mentioned
    assert stories.same_story(0.5, 48.0, release, portrait)
