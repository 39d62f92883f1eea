"""Story grouping's ties written on a fifth hand's pairs (issue 11, round 22; docs/dedup.md,
« Recall on briefs and releases »): a brief and a long article the same day on two sites, a
brief retelling an earlier article days later, a header line before the lead, an amount
told as its parts and as their total, a document's number."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from veille.collect.stories import (
    RETOLD_HOURS,
    STORY_SIMILARITY,
    TIED_SIMILARITY,
    published_hours,
    retold,
    same_story,
)
from veille.collect.storykeys import story_keys
from veille.text.figures import disagree
from veille.text.fingerprint import WordVector, contained, hashed_counts, word_vector
from veille.text.leads import body_of

TUESDAY = datetime(2026, 10, 13, 9, 30, tzinfo=UTC)


def _vector(words: str) -> WordVector:
    return word_vector(hashed_counts(Counter(words.split())))


def test_the_same_day_on_two_sites_is_a_second_tie() -> None:
    """A radio brief and the daily's long article on one launch, hours apart, share few words
    (0.21–0.30 on the pairs): a name and the day tie them (`TIED_SIMILARITY`); not two pages
    of one site (a council's two deliberations of one evening), not two kinds of act, not a
    day the lead only cites."""
    radio = story_keys(
        "Pradelhac ouvre ses données", "La ville de Pradelhac publie ses menus.", "radio.fr"
    )
    daily = story_keys(
        "Les chiffres de la mairie", "À Pradelhac, la mairie publie tout.", "daily.fr"
    )
    later = TUESDAY + timedelta(hours=5)
    assert published_hours(TUESDAY, later) == published_hours(later, TUESDAY) == 5.0
    assert published_hours(None, later) == 0.0
    assert same_story(TIED_SIMILARITY, 5, radio, daily, published_hours=5)
    assert not same_story(TIED_SIMILARITY - 0.01, 5, radio, daily, published_hours=5)
    # the day cited by the later lead is no second tie: the publications are days apart
    assert not same_story(TIED_SIMILARITY, 0, radio, daily, published_hours=50)
    page = story_keys("Délibération", "Le conseil de Pradelhac publie le budget.", "daily.fr")
    assert not same_story(TIED_SIMILARITY, 5, page, daily, published_hours=5)  # one site
    vote = story_keys("Pradelhac vote", "Le conseil de Pradelhac a adopté la charte.", "a.fr")
    named = story_keys("Pradelhac nomme", "Pradelhac a nommé son administrateur.", "b.fr")
    assert vote.acts == {"vote"} and named.acts == {"appointment"}
    assert not same_story(TIED_SIMILARITY, 5, vote, named, published_hours=5)
    assert same_story(STORY_SIMILARITY, 5, vote, named, published_hours=5)  # as before


def test_a_brief_retelling_an_earlier_article_within_a_week() -> None:
    """A newsletter's « En bref » a week after the ministry's page: much shorter, its words
    found in the page, it is tied by a name at the named floor; a follow-up (new words) or a
    text as long as the first is not a brief."""
    page = _vector("dinum ouvre assistant médian collectivités pilotes gratuit agents api " * 3)
    brief = _vector("dinum ouvre médian collectivités pilotes gratuit candidatures")
    news = _vector("premiers résultats médian chiffres usage agents satisfaits mairies")
    assert contained(brief, page) == 6 / 7
    assert retold(TUESDAY, page, TUESDAY + timedelta(days=6), brief)
    assert retold(TUESDAY + timedelta(days=6), brief, TUESDAY, page)  # either order
    assert not retold(TUESDAY, page, TUESDAY + timedelta(hours=5), brief)  # the same day
    assert not retold(TUESDAY, page, TUESDAY + timedelta(hours=RETOLD_HOURS + 1), brief)
    assert not retold(TUESDAY, page, TUESDAY + timedelta(days=6), news)  # new words
    assert not retold(TUESDAY, brief, TUESDAY + timedelta(days=6), page)  # longer later
    ministry = story_keys("Médian s'ouvre", "La DINUM ouvre Médian aux collectivités.", "gouv.fr")
    letter = story_keys(
        "En bref – Médian", "La DINUM ouvre Médian à 200 collectivités.", "lettre.fr"
    )
    assert same_story(STORY_SIMILARITY, 140, ministry, letter, brief=True)
    assert not same_story(STORY_SIMILARITY, 140, ministry, letter)


def test_a_header_line_is_no_lead() -> None:
    """A trade weekly's masthead, a live page's label, a document's reference: a short line
    that ends no sentence, before the text."""
    assert body_of("Collectivités Hebdo – Mobilités | 21 septembre 2026\n\nLe Département…") == (
        "Le Département…"
    )
    assert body_of("EN DIRECT\n\n14h30 - Le maire confirme.") == "Le maire confirme."
    assert body_of("La ville ouvre son portail.\nIl compte 62 jeux.") == (
        "La ville ouvre son portail.\nIl compte 62 jeux."
    )
    # the word after a dash is a sentence's first: « Selon » names nobody
    insee = story_keys("Les usages du numérique", "Insee Focus n° 412 – Selon l'enquête, 38 %.")
    assert "selon" not in insee.lead_names


def test_a_total_and_a_document_number_are_no_disagreement() -> None:
    """« un prêt de 2 millions et une subvention de 250 000 euros » is « 2,25 millions »;
    « délibération n° 2026-087 » numbers a document, not the event."""
    assert not disagree(frozenset({"2000000", "250000"}), frozenset({"2250000"}))
    assert not disagree(frozenset({"2250000"}), frozenset({"2000000", "250000"}))
    assert disagree(frozenset({"2000000", "250000"}), frozenset({"3000000"}))
    deliberation = story_keys("Délibération n° 2026-087 : un service commun", "Le conseil décide.")
    assert deliberation.lead_figures == frozenset()
