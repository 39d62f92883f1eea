"""Near-duplicate stories: the threshold is pinned on the pairs in tests/data/stories/."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from veille.collect.stories import (
    CANDIDATE_THRESHOLD,
    COPY_SIMILARITY,
    DEFAULT_THRESHOLD,
    MIN_SIMILARITY,
    STORY_SIMILARITY,
    UNNAMED_SIMILARITY,
    assign_story,
    assign_story_confirmed,
    fingerprint,
    has_enough_text,
    required_similarity,
    same_story,
    story_keys,
    story_vector,
)
from veille.text.fingerprint import (
    from_signed64,
    hamming,
    simhash,
    text_similarity,
    to_signed64,
)
from veille.text.french import story_fold

DATA = Path(__file__).parent / "data" / "stories"


def _load() -> list[tuple[str, str, str, str]]:
    stories = []
    for path in sorted(DATA.glob("*.txt")):
        head, body = path.read_text(encoding="utf-8").split("\n", 1)
        theme = head.split(":", 1)[1].strip()
        a, b = body.split("--- a\n", 1)[1].split("--- b\n", 1)
        stories.append((path.stem, theme, a.strip(), b.strip()))
    return stories


STORIES = _load()


def _cross_pairs(same_theme: bool) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for x, y in itertools.combinations(STORIES, 2):
        if same_theme and x[1] != y[1]:
            continue
        pairs.extend((x[2 + i], y[2 + j]) for i in (0, 1) for j in (0, 1))
    return pairs


def test_corpus_has_enough_pairs() -> None:
    assert len(STORIES) >= 15
    assert len({s[0] for s in STORIES}) == len(STORIES)
    assert len(_cross_pairs(same_theme=True)) >= 15
    assert all(has_enough_text(s[2]) and has_enough_text(s[3]) for s in STORIES)


def test_simhash_threshold_separates_same_story_from_same_topic() -> None:
    same = sorted(hamming(simhash(a), simhash(b)) for _, _, a, b in STORIES)
    other = sorted(hamming(simhash(a), simhash(b)) for a, b in _cross_pairs(same_theme=True))
    print(
        f"\nsame story: {same}\nsame topic, other story: min {other[:5]} median "
        f"{other[len(other) // 2]} max {other[-1]} (n={len(other)})"
    )
    assert max(same) <= DEFAULT_THRESHOLD < min(other)


def test_confirmed_assignment_separates_every_pair() -> None:
    same = [text_similarity(a, b) for _, _, a, b in STORIES]
    others = _cross_pairs(same_theme=False)
    other = [text_similarity(a, b) for a, b in others]
    print(f"\ncosine same story min {min(same):.2f}; other stories max {max(other):.2f}")
    assert min(same) >= MIN_SIMILARITY > max(other)
    for _, _, a, b in STORIES:
        assert hamming(simhash(a), simhash(b)) <= CANDIDATE_THRESHOLD
    # Every story's b version finds its own a among all a versions, and nothing else.
    candidates = [(n, simhash(a), a) for n, (_, _, a, _) in enumerate(STORIES)]
    for n, (_, _, _, b) in enumerate(STORIES):
        assert assign_story_confirmed(simhash(b), b, candidates) == n
        others_only = [c for c in candidates if c[0] != n]
        assert assign_story_confirmed(simhash(b), b, others_only) is None


def test_assign_story_picks_nearest_within_threshold() -> None:
    fp = 0b1011
    candidates = [(1, 0b1011 ^ (0b111 << 20)), (2, 0b1010), (3, 0b1011 ^ 0b1)]
    assert assign_story(fp, candidates, threshold=3) == 2  # tie at 1 bit: first listed wins
    assert assign_story(fp, candidates[:1], threshold=3) == 1
    assert assign_story(fp, candidates[:1], threshold=2) is None
    assert assign_story(fp, [], threshold=64) is None
    # signed (as stored) and unsigned fingerprints compare alike
    big = (1 << 63) | 5
    assert assign_story(big, [(7, to_signed64(big))], threshold=0) == 7


def test_signed64_round_trip() -> None:
    for value in (0, 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1, simhash("Données ouvertes")):
        signed = to_signed64(value)
        assert -(1 << 63) <= signed < (1 << 63)
        assert from_signed64(signed) == value
    assert to_signed64((1 << 64) - 1) == -1
    assert hamming(-1, (1 << 64) - 1) == 0


def test_simhash_is_stable_and_folds_case_and_accents() -> None:
    text = "La Métropole publie ses DONNÉES ouvertes sur les arbres et les vélos."
    assert simhash(text) == simhash(text.lower().replace("é", "e").replace("É", "E"))
    assert story_fold("Été, Œuvre") == "ete, œuvre"
    assert 0 <= simhash(text) < 1 << 64
    assert simhash("") == 0
    # stable across processes (no PYTHONHASHSEED dependence): the value is stored
    code = "from veille.text.fingerprint import simhash; print(simhash('arbres et vélos'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) == simhash("arbres et vélos")


@pytest.mark.parametrize("text", ["", "Trois mots seulement", "Titre : données ouvertes"])
def test_short_texts_are_not_fingerprinted(text: str) -> None:
    assert not has_enough_text(text)


def test_fingerprint_is_simhash_of_title_and_text_with_the_story_vector() -> None:
    """The workers' one-pass fingerprint must equal what the store would compute."""
    for name, _, a, b in STORIES:
        for title, text in ((name.replace("-", " "), a), ("", b), ("L'Été des données", a)):
            result = fingerprint(title, text)
            assert result is not None
            fp, vector = result
            assert fp == simhash(f"{title}\n{text}")
            assert vector == story_vector(title, text)
    assert fingerprint("Un titre court", "Trois mots seulement") is None


def test_lead_keys_name_bodies_and_figures_not_sentence_starts() -> None:
    keys = story_keys(
        "Valmont : la métropole lance son portail",
        "L'Assemblée nationale a voté. Depuis lundi, Brévannes publie 180 jeux en 2026, "
        "jusqu'au 30 juin, soit 3 500 fichiers.",
    )
    assert keys.lead_names == {"valmont", "assemblee"}  # « Depuis » starts a sentence
    assert {"brevannes", "depuis"} <= keys.mentioned and "metropole" not in keys.mentioned
    assert keys.lead_years == frozenset() and keys.lead_figures == frozenset()
    second = story_keys("Rapport", "Le rapport 2026 compte 61 000 jeux, le 1er janvier.")
    assert second.lead_years == {"2026"} and second.lead_figures == {"61000"}
    # A headline's first word is a place only if the text never writes it in lower case.
    assert (
        story_keys("Vidéoprotection : une amende", "La vidéoprotection filmait.").lead_names
        == set()
    )


def test_same_story_vetoes_other_bodies_other_figures_and_late_follow_ups() -> None:
    valmont = story_keys("Valmont ouvre son portail", "La ville de Valmont publie 180 jeux.")
    brevannes = story_keys("Brévannes ouvre son portail", "La ville de Brévannes publie 60 jeux.")
    valmont_again = story_keys("Portail de données", "Valmont met en ligne ses jeux de données.")
    report_2025 = story_keys("Rapport 2025", "Le rapport 2025 de la DINUM.")
    report_2026 = story_keys("Rapport 2026", "Le rapport 2026 de la DINUM.")
    assert same_story(0.6, 2, valmont, valmont_again)
    assert not same_story(0.9, 2, valmont, brevannes)  # each names a town the other does not
    assert not same_story(0.9, 2, report_2025, report_2026)  # the years disagree
    assert not same_story(STORY_SIMILARITY - 0.01, 2, valmont, valmont_again)
    # The further apart, the more alike: a follow-up days later is another story.
    assert required_similarity(0) == required_similarity(24) == STORY_SIMILARITY
    assert required_similarity(72) < required_similarity(120) == COPY_SIMILARITY
    assert not same_story(0.6, 100, valmont, valmont_again)
    assert same_story(0.85, 300, valmont, valmont_again)  # a late syndicated copy
    # Without a name tying the leads, words alone must be as alike as whole articles.
    portal = story_keys("Le portail ouvre", "La métropole ouvre son portail de données.")
    buses = story_keys("Transports scolaires", "La région publie les données des bus.")
    assert required_similarity(0, named=False) == UNNAMED_SIMILARITY > STORY_SIMILARITY
    assert not same_story(0.4, 2, portal, buses)
    assert same_story(0.4, 2, valmont, valmont_again)
