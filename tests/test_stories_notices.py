"""A body's notice of an incident on its own site, read against the press (issue 11,
round 25; docs/dedup.md, « Digests item by item, amounts written out, notices »): the notice
names nobody and no attack (« incident informatique »), the press names the town and the
attack; the same day, the site naming the press's subject and the act they both tell are
the ties, so a lower cosine joins them (`stories.INCIDENT_SIMILARITY`)."""

from __future__ import annotations

from veille.collect import stories
from veille.collect.storykeys import story_keys

NOTICE = story_keys(
    "Information aux usagers - incident informatique",
    "À la suite d'un incident informatique survenu dans la nuit de lundi à mardi, les services "
    "de la Ville fonctionnent en mode dégradé. L'accueil reste ouvert aux horaires "
    "habituels ; les démarches en ligne sont indisponibles. Merci de votre compréhension.",
    "ville-corbarieu.fr",
)
WIRE = story_keys(
    "Rançongiciel : la mairie de Corbarieu paralysée",
    "CORBARIEU (Tarn-et-Vionne), 10 nov (APR) - La mairie de Corbarieu a été victime mardi "
    "d'une attaque par rançongiciel qui a chiffré ses serveurs, a indiqué son maire. Une "
    "plainte a été déposée.",
    "apr-depeches.fr",
)
OTHER_TOWN = story_keys(
    "Rançongiciel : la mairie de Lauragnac paralysée",
    "LAURAGNAC (Tarn-et-Vionne), 10 nov (APR) - La mairie de Lauragnac a été victime mardi "
    "d'une attaque par rançongiciel qui a chiffré ses serveurs. Une plainte a été déposée.",
    "apr-depeches.fr",
)


def test_a_notice_names_its_incident_as_an_attack() -> None:
    assert "attack" in NOTICE.acts and "attack" in WIRE.acts
    assert NOTICE.own and NOTICE.subjects == frozenset({"corbarieu"})


def test_a_bodys_notice_and_the_press_the_same_day_need_less() -> None:
    # few words in common (« incident informatique », « mode dégradé » / « rançongiciel »,
    # « chiffré ses serveurs »): under the named floor of one act (0.2), over half the named
    # floor
    similarity = 0.17
    assert stories.same_story(similarity, 3.0, NOTICE, WIRE, published_hours=3.0)
    assert stories.same_story(similarity, 3.0, WIRE, NOTICE, published_hours=3.0)
    assert not stories.same_story(0.14, 3.0, NOTICE, WIRE, published_hours=3.0)


def test_the_notice_ties_nothing_a_day_later_nor_to_another_body() -> None:
    # a day later the press tells what came of it, or another event: the usual floors
    assert not stories.same_story(0.17, 30.0, NOTICE, WIRE, published_hours=30.0)
    # the site names Corbarieu, the wire Lauragnac: two attacks
    assert not stories.same_story(0.17, 3.0, NOTICE, OTHER_TOWN, published_hours=3.0)
    # the rule needs an attack told by both: a town's two publications the same day do not
    # meet (« Qualité de l'air » and « Compteurs vélo » on the town's site and in the press)
    page = story_keys(
        "Qualité de l'air : les mesures en ligne",
        "La Ville publie les mesures de ses capteurs de qualité de l'air, heure par heure.",
        "ville-corbarieu.fr",
    )
    press = story_keys(
        "Corbarieu ouvre les données de ses compteurs vélo",
        "La commune de Corbarieu publie les passages comptés par ses compteurs vélo.",
        "journal-vionne.fr",
    )
    assert not stories.same_story(0.17, 3.0, page, press, published_hours=3.0)
