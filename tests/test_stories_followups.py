"""Follow-ups that recall the launch at length (issue 11, round 26; docs/dedup.md,
« Follow-ups that recall the launch »): a later article whose lead tells a new state of the
same thing — suspended, restored, its winners known, annulled — is another story, even when
it repeats the first article's names, figures and day; coverage of the same state, an update
and a correction stay in the story.

Each pair goes through the collector's own decision (`storypairs.grouped`: the earlier
article in a `StoryIndex`, the later one matched against it)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from veille.collect import stories, storystates
from veille.collect.storykeys import story_keys
from veille.collect.storypairs import PairArticle, StoryPair, grouped
from veille.text.french import story_fold


def _grouped(first: PairArticle, second: PairArticle) -> bool:
    return grouped(StoryPair("test", False, first, second, ""))


LAUNCH = PairArticle(
    "Valbrune lance « Clara », un assistant conversationnel pour répondre aux habitants",
    "La ville de Valbrune a mis en ligne lundi « Clara », un assistant conversationnel "
    "développé par la société Lexiane, qui répond jour et nuit aux questions des habitants "
    "sur l'état civil, la collecte des déchets et les inscriptions scolaires. Le service a "
    "coûté 48 000 euros et doit soulager l'accueil de la mairie, qui reçoit 350 appels par "
    "jour. « Nos agents pourront se consacrer aux demandes complexes », explique l'adjointe "
    "au numérique, Sophie Marcellin.",
    "courrier-du-vallon.fr",
    datetime(2026, 11, 2, 8, tzinfo=UTC),
)
# Eleven days later, another outlet: the launch's day, vendor, price and figures recalled
# in the lead, the new state in the title and the last sentence.
SUSPENDED = PairArticle(
    "Valbrune : l'assistant conversationnel « Clara » suspendu",
    "L'assistant conversationnel « Clara », mis en ligne le 2 novembre par la ville de "
    "Valbrune et développé par la société Lexiane, ne répond plus aux habitants depuis "
    "jeudi. Présenté comme capable de répondre jour et nuit aux questions sur l'état civil, "
    "la collecte des déchets et les inscriptions scolaires, le service de 48 000 euros devait "
    "soulager l'accueil de la mairie, qui reçoit 350 appels par jour. La mairie l'a suspendu "
    "après plusieurs réponses erronées sur les dates de collecte, explique l'adjointe au "
    "numérique, Sophie Marcellin.",
    "lettre-des-communes.fr",
    datetime(2026, 11, 13, 16, tzinfo=UTC),
)
SWITCHED_OFF = PairArticle(
    "Trop d'erreurs : Valbrune débranche « Clara », son assistant conversationnel",
    "Mis en ligne le 2 novembre par la ville de Valbrune, l'assistant conversationnel "
    "« Clara » de la société Lexiane, qui devait répondre jour et nuit aux questions des "
    "habitants sur l'état civil, la collecte des déchets et les inscriptions scolaires, a "
    "été retiré du site de la mairie. Le service avait coûté 48 000 euros.",
    "journal-du-vallon.fr",
    datetime(2026, 11, 14, 9, tzinfo=UTC),
)
# The same state in other words, three days after the suspension: a brief.
PAUSED_BRIEF = PairArticle(
    "Valbrune met en pause son assistant « Clara »",
    "La ville de Valbrune a mis en pause jeudi son assistant conversationnel « Clara », "
    "développé par Lexiane, après des réponses erronées sur les dates de collecte.",
    "hebdo-territorial.fr",
    datetime(2026, 11, 16, 7, tzinfo=UTC),
)
# The suspension's own outlet, the next day, one more fact.
SUSPENDED_UPDATE = PairArticle(
    "Valbrune : l'assistant « Clara » suspendu (actualisé)",
    "L'assistant conversationnel « Clara » de la ville de Valbrune, développé par la "
    "société Lexiane, est suspendu depuis jeudi après des réponses erronées sur les dates de "
    "collecte. La mairie précise vendredi qu'il restera hors ligne au moins un mois.",
    "lettre-des-communes.fr",
    datetime(2026, 11, 14, 18, tzinfo=UTC),
)
# The launch told again by the trade weekly three days later: no state of its own.
LAUNCH_WEEKLY = PairArticle(
    "Un assistant conversationnel pour l'accueil de la mairie de Valbrune",
    "Depuis le 2 novembre, les habitants de Valbrune peuvent poser leurs questions sur "
    "l'état civil, la collecte des déchets ou les inscriptions scolaires à « Clara », un "
    "assistant conversationnel de la société Lexiane, qui répond jour et nuit. La mairie, "
    "qui reçoit 350 appels par jour, a payé le service 48 000 euros.",
    "hebdo-territorial.fr",
    datetime(2026, 11, 5, 7, tzinfo=UTC),
)

ATTACK = PairArticle(
    "Cyberattaque : les services de la mairie de Pradine paralysés",
    "La mairie de Pradine a été victime lundi d'une attaque par rançongiciel qui a rendu "
    "inaccessibles ses logiciels d'état civil, de paie et de facturation. Les 140 agents "
    "travaillent sur papier et l'accueil ne délivre plus de titres d'identité, indique le "
    "maire, Bernard Ollivier, qui a porté plainte.",
    "journal-de-l-isere-sud.fr",
    datetime(2026, 11, 16, 11, tzinfo=UTC),
)
RESTORED = PairArticle(
    "Pradine : les services municipaux rétablis après la cyberattaque",
    "Les logiciels d'état civil, de paie et de facturation de la mairie de Pradine, rendus "
    "inaccessibles par l'attaque par rançongiciel du 16 novembre, fonctionnent de nouveau. "
    "Les 140 agents ont retrouvé leurs outils et l'accueil délivre de nouveau des titres "
    "d'identité, annonce le maire, Bernard Ollivier, qui avait porté plainte.",
    "le-dauphine-du-sud.fr",
    datetime(2026, 11, 25, 9, tzinfo=UTC),
)
RESTORED_CORRECTION = PairArticle(
    "Rectificatif : Pradine, les services municipaux rétablis après la cyberattaque",
    "Les logiciels de la mairie de Pradine, rendus inaccessibles par l'attaque par "
    "rançongiciel du 16 novembre, fonctionnent de nouveau. Les 140 agents, et non 410 comme "
    "écrit par erreur, ont retrouvé leurs outils, annonce le maire, Bernard Ollivier.",
    "le-dauphine-du-sud.fr",
    datetime(2026, 11, 27, 10, tzinfo=UTC),
)

CALL = PairArticle(
    "La Région Haute-Varenne lance un appel à projets pour les données des territoires",
    "La Région Haute-Varenne a ouvert le 3 novembre un appel à projets doté de 1,2 million "
    "d'euros pour aider les communes et intercommunalités à publier leurs données de "
    "mobilité et d'énergie. Les lauréats seront désignés en fin d'année.",
    "haute-varenne.fr",
    datetime(2026, 11, 3, 10, tzinfo=UTC),
)
WINNERS = PairArticle(
    "Données des territoires : la Région Haute-Varenne désigne ses lauréats",
    "L'appel à projets ouvert le 3 novembre par la Région Haute-Varenne pour aider les "
    "communes et intercommunalités à publier leurs données de mobilité et d'énergie, doté "
    "de 1,2 million d'euros, distingue douze projets, dont ceux de Lormes et de Sancey.",
    "territoires-numeriques-hebdo.fr",
    datetime(2026, 11, 14, 10, tzinfo=UTC),
)


@pytest.mark.parametrize(
    ("first", "follow_up"),
    [(LAUNCH, SUSPENDED), (LAUNCH, SWITCHED_OFF), (ATTACK, RESTORED), (CALL, WINNERS)],
    ids=["launch-suspended", "launch-switched-off", "attack-restored", "call-winners"],
)
def test_a_follow_up_recalling_the_first_event_at_length_is_another_story(
    first: PairArticle, follow_up: PairArticle
) -> None:
    assert not _grouped(first, follow_up)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (SUSPENDED, PAUSED_BRIEF),
        (SUSPENDED, SUSPENDED_UPDATE),
        (RESTORED, RESTORED_CORRECTION),
        (LAUNCH, LAUNCH_WEEKLY),
    ],
    ids=["brief-same-state", "update", "correction", "launch-coverage"],
)
def test_coverage_of_the_same_state_an_update_and_a_correction_stay_in_the_story(
    first: PairArticle, second: PairArticle
) -> None:
    assert _grouped(first, second)


def test_the_new_state_is_read_in_the_later_lead_against_the_earlier_opening() -> None:
    launch, suspended = (
        story_keys(LAUNCH.title, LAUNCH.text),
        story_keys(SUSPENDED.title, SUSPENDED.text),
    )
    assert suspended.states == {"halted"} and not launch.opening_states
    assert (
        stories.hours_apart(LAUNCH.published, launch, SUSPENDED.published, suspended)
        == stories.LATER_EVENT
    )
    # within the day the rule does not apply (coverage of one day is read as before)
    same_day = LAUNCH.published.replace(hour=15)
    assert stories.hours_apart(LAUNCH.published, launch, same_day, suspended) < 24
    # an attack's opening tells its services are down: a later « à l'arrêt » is that state
    attack = story_keys(ATTACK.title, ATTACK.text)
    assert "halted" in attack.opening_states
    assert storystates.new_state(attack.opening_states, frozenset({"halted"}), False) is False
    assert storystates.new_state(attack.opening_states, frozenset({"back"}), False)
    # an update says so in its title: one more version, whatever it tells
    assert not storystates.new_state(frozenset(), frozenset({"halted"}), True)


@pytest.mark.parametrize(
    ("lead", "told"),
    [
        ("La mairie suspend son assistant après des erreurs", {"halted"}),
        ("Le service est mis en pause jusqu'à nouvel ordre", {"halted"}),
        ("La métropole met fin à l'expérimentation", {"halted"}),
        ("Les services de la commune reprennent progressivement", {"back"}),
        ("Le portail est de nouveau accessible depuis mardi", {"back"}),
        ("Premier bilan pour le budget participatif", {"outcome"}),
        ("Appel à projets : les douze lauréats", {"winners"}),
        ("Le tribunal administratif annule la délibération", {"ruled"}),
        ("The council suspended its chatbot on Friday", {"halted"}),
        ("Town hall services restored after ransomware attack", {"back"}),
        # not yet, feared, denied or a condition: no state
        ("Le service pourrait être suspendu en cas d'abus", set()),
        ("Les lauréats seront désignés en décembre", set()),
        ("Une suspension du service est envisagée", set()),
        ("La mairie n'a pas suspendu son assistant", set()),
        ("Des semaines avant un retour à la normale", set()),
        ("The city may suspend the service", set()),
        # the words' other senses: using AI, a recovery plan, a bus stop
        ("Le recours à l'intelligence artificielle se généralise", set()),
        ("Le plan de relance de l'économie finance le portail", set()),
        ("La ville lance son assistant conversationnel", set()),
    ],
)
def test_the_states_a_lead_tells(lead: str, told: set[str]) -> None:
    assert storystates.states(story_fold(lead)) == told
