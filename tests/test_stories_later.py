"""Later events that recall the earlier one's day (issue 11, round 27; docs/dedup.md,
« Later events that recall the earlier day »): a dispatch telling the vote days after the
article on the debate that announced it, and a new strike day announced twelve days after
the first, citing it. Decided by the collector's own call (`storypairs.grouped`: the
earlier article in a `StoryIndex`, the later one matched against it)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from veille.collect.storylater import RECALL_HOURS, dated_after, recalled
from veille.collect.storypairs import PairArticle, StoryPair, grouped

PARIS = ZoneInfo("Europe/Paris")
THURSDAY = datetime(2026, 3, 12, 7, 0, tzinfo=PARIS)  # the morning after a Wednesday debate

DEBATE = PairArticle(
    "Tarif social de l'eau : les élus du Val-d'Orbe ouvrent un débat animé",
    "Par Jeanne Morvilliers\n\n"
    "Le conseil départemental du Val-d'Orbe a entamé mercredi l'examen de la délibération "
    "instaurant un tarif social de l'eau pour les foyers modestes, portée par la "
    "vice-présidente Hélène Castagnol. Le texte veut obliger les syndicats des eaux à "
    "appliquer une première tranche gratuite et à publier leurs données de consommation.\n\n"
    "Les débats ont duré jusque tard dans la soirée sur le coût de la mesure. Plusieurs élus "
    "de l'opposition ont plaidé pour une aide versée par le centre d'action sociale plutôt "
    "que par la facture. Un amendement prévoit que les données des foyers restent "
    "anonymes.\n\nL'article premier a été examiné dans la nuit. Le scrutin sur l'ensemble "
    "est prévu mardi prochain. La majorité soutient le texte.",
    "lecourrier-orbe.fr",
    THURSDAY,
)


def _pair(early: PairArticle, late: PairArticle) -> StoryPair:
    return StoryPair("invented", False, early, late, "")


def test_the_vote_days_after_the_debate_is_no_brief_of_it() -> None:
    """The dispatch's words are nearly all in the debate's article, which is three times
    longer: read as a brief retelling it (`stories.retold`) it met the named floor. But it
    tells a vote, dated on a Tuesday after the Wednesday the article gave its debate: the
    article could not tell it."""
    vote = PairArticle(
        "Le Val-d'Orbe adopte le tarif social de l'eau",
        "Le conseil départemental du Val-d'Orbe a adopté mardi, par 38 voix contre 11, la "
        "délibération instaurant un tarif social de l'eau pour les foyers modestes, avec une "
        "première tranche gratuite. Les syndicats des eaux publieront leurs données.",
        "depeche-regions.fr",
        THURSDAY + timedelta(days=5, hours=9),
    )
    assert not grouped(_pair(DEBATE, vote))
    # A brief of the debate itself, dated on its day, still retells the article.
    brief = PairArticle(
        "Tarif social de l'eau : le Val-d'Orbe en débat",
        "Le conseil départemental du Val-d'Orbe a entamé mercredi l'examen de la délibération "
        "instaurant un tarif social de l'eau pour les foyers modestes, avec une première "
        "tranche gratuite. Les syndicats des eaux publieraient leurs données.",
        "depeche-regions.fr",
        vote.published,
    )
    assert grouped(_pair(DEBATE, brief))


STRIKE = PairArticle(
    "Grève sur le réseau Lumibus : un bus sur deux jeudi 12 mars",
    "Le réseau Lumibus de l'agglomération de Sarzenne est perturbé ce jeudi 12 mars par un "
    "mouvement social. L'agglomération publie pour la première fois en données ouvertes la "
    "liste en temps réel des bus maintenus : un bus sur deux, jusqu'à 20 heures.",
    "sarzenne-agglo.fr",
    THURSDAY,
)


def test_a_new_strike_day_announced_weeks_later_recalls_the_first() -> None:
    """Twelve days later the daily announces another strike day and cites the first one's
    (« comme lors du mouvement du 12 mars »): read as coverage of that day it met the named
    floor; a day still to come in its opening says its event is that one."""
    again = PairArticle(
        "Nouvelle journée de grève sur le réseau Lumibus le jeudi 2 avril",
        "Les syndicats du réseau Lumibus appellent à une nouvelle journée de grève le jeudi "
        "2 avril. L'agglomération de Sarzenne publiera de nouveau en temps réel, en données "
        "ouvertes, les bus maintenus, comme lors du mouvement du 12 mars.",
        "lajournee-sarzenne.fr",
        THURSDAY + timedelta(days=12),
    )
    assert not grouped(_pair(STRIKE, again))
    # The same daily telling that day's strike, in a monthly roundup, still covers it.
    roundup = PairArticle(
        "Grève sur le réseau Lumibus : les bus maintenus en données ouvertes",
        "Lors du mouvement social du 12 mars sur le réseau Lumibus, l'agglomération de "
        "Sarzenne a publié pour la première fois en temps réel, en données ouvertes, la "
        "liste des bus maintenus : un bus sur deux circulait.",
        "lajournee-sarzenne.fr",
        again.published,
    )
    assert grouped(_pair(STRIKE, roundup))


def test_days_read_by_the_rules() -> None:
    """The day rules on their own: a byline's date (the later publication's day) and a day
    to come date nothing the later lead tells; a weekday of its publication day does."""
    early, late = date(2026, 3, 12), date(2026, 3, 17)
    debate = {date(2026, 3, 11)}
    assert dated_after(early, debate, late, set(), {late})  # « a adopté mardi »
    assert not dated_after(early, debate, late, {late}, set())  # « Publié le 17 mars »
    assert not dated_after(early, debate, late, {date(2026, 3, 20)}, set())  # announced
    assert not dated_after(early, set(), late, set(), {late})  # the earlier dated nothing
    assert not dated_after(early, {date(2026, 3, 18)}, late, set(), {late})  # nor earlier
    to_come = {date(2026, 3, 12), date(2026, 4, 2)}
    assert recalled(RECALL_HOURS, date(2026, 3, 24), to_come)
    assert not recalled(RECALL_HOURS - 1, date(2026, 3, 24), to_come)
    assert not recalled(RECALL_HOURS, date(2026, 3, 24), {date(2026, 3, 12)})
