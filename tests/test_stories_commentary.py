"""An opinion piece, an interview, a body's own part in another body's event, read against
the news (issue 11, round 25; docs/dedup.md, « Editorials, interviews and a body's own
part: press10 opened for precision »): the same names, days and words, another item."""

from __future__ import annotations

from datetime import UTC, datetime

from veille.collect import stories
from veille.collect.storykeys import story_keys
from veille.text.leads import commentary

NEWS = story_keys(
    "Transports : Lorvac Agglomération impose l'ouverture des données à son délégataire",
    "Le conseil communautaire de Lorvac Agglomération a voté jeudi le nouveau contrat de "
    "délégation des bus : l'exploitant devra publier chaque mois la fréquentation par ligne "
    "dans un format ouvert. Le contrat court sur huit ans.",
    "territoires-hebdo.fr",
)
EDITORIAL = story_keys(
    "Éditorial — Les données des bus appartiennent aux usagers",
    "Par Jeanne Corvol\n\nIl aura fallu un vote à Lorvac Agglomération pour rappeler une "
    "évidence : les données d'un service public délégué décrivent ce service public. Le "
    "contrat voté jeudi oblige l'exploitant à publier la fréquentation des bus par ligne.",
    "lettre-des-territoires.fr",
)
INTERVIEW = story_keys(
    "Paul Ferrandier : « Nos contrats diront enfin ce que valent nos données »",
    "ENTRETIEN — Le vice-président de Lorvac Agglomération revient sur le contrat des bus.\n\n"
    "Qu'impose le nouveau contrat ?\nL'exploitant publiera chaque mois la fréquentation par "
    "ligne, dans un format ouvert.",
    "lettre-des-territoires.fr",
)


def test_an_opinion_or_interview_label_is_read_in_the_title_or_before_the_lead() -> None:
    assert commentary("Tribune : « L'IA au guichet, une fausse bonne idée »", "Il faut…")
    assert commentary("Point de vue – Caméras algorithmiques", "Par Anne Roy\n\nLa ville…")
    assert commentary("Inès Roy : « Un angle mort »", "Par Léa Vidal\nENTRETIEN — Un mois…")
    assert EDITORIAL.commentary and INTERVIEW.commentary
    # a label's word inside a news lead, a quoted headline, a news title: no commentary
    assert not NEWS.commentary
    assert not commentary("Le maire : « Nous tiendrons »", "Le maire a défendu son budget.")
    assert not commentary("Le Sénat vote la loi", "Le Sénat a voté. ENTRETIEN - plus loin.")


def test_an_editorial_or_an_interview_is_not_the_news_it_comments() -> None:
    # the same body, the same act, a cosine well over the named floor, the next day
    for comment in (EDITORIAL, INTERVIEW):
        assert not stories.same_story(0.45, 20.0, NEWS, comment, published_hours=20.0)
        assert not stories.same_story(0.45, 0.0, comment, NEWS, brief=True)
    # two labelled pieces are compared as any two articles
    assert stories.same_story(0.45, 0.0, EDITORIAL, EDITORIAL)


LAUNCH_AT = datetime(2026, 11, 25, 9, tzinfo=UTC)
LAUNCH = story_keys(
    "L'État ouvre « Atelier IA », un catalogue d'assistants pour les agents publics",
    "La DINUM met à disposition des administrations et de dix collectivités volontaires un "
    "catalogue d'assistants d'intelligence artificielle. Les collectivités pilotes, dont "
    "Lorvac Agglomération, y accéderont gratuitement jusqu'en juin 2027.",
    "numerique.gouv.fr",
)
PILOT_AT = datetime(2026, 11, 27, 11, tzinfo=UTC)
PILOT = story_keys(
    "L'Agglomération parmi les collectivités pilotes du catalogue d'IA de l'État",
    "Lorvac Agglomération a été retenue parmi les dix collectivités qui testeront « Atelier "
    "IA », le catalogue ouvert le 25 novembre par la DINUM. Vingt agents l'utiliseront.",
    "lorvac-agglomeration.fr",
)
PRESS = story_keys(
    "IA : l'État ouvre son catalogue d'assistants aux collectivités",
    "La DINUM a ouvert le 25 novembre « Atelier IA », un catalogue d'assistants "
    "d'intelligence artificielle, à dix collectivités volontaires.",
    "acteurs-publics-hebdo.fr",
)


def test_a_bodys_own_page_days_later_tells_its_own_part_not_the_launch() -> None:
    # the page cites the launch's day (which makes coverage of it: 0 hours) but names its
    # own body, which the launch names only in passing: the body's own act
    assert stories.hours_apart(PILOT_AT, PILOT, LAUNCH_AT, LAUNCH) == stories.LATER_EVENT
    assert not stories.same_story(0.55, stories.LATER_EVENT, LAUNCH, PILOT, brief=True)
    # the press citing the launch's day two days later is still its coverage
    assert stories.hours_apart(PILOT_AT, PRESS, LAUNCH_AT, LAUNCH) == 0.0
    # the body's own page the same day is read as before (a day at least)
    same_day = datetime(2026, 11, 25, 15, tzinfo=UTC)
    assert stories.hours_apart(same_day, PILOT, LAUNCH_AT, LAUNCH) < stories.SAME_DAY_HOURS
