"""Near-duplicate stories: the threshold is pinned on the pairs in tests/data/stories/."""

from __future__ import annotations

import itertools
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from veille.collect.stories import (
    CANDIDATE_THRESHOLD,
    COPY_SIMILARITY,
    COVERAGE_HOURS,
    DEFAULT_THRESHOLD,
    MIN_SIMILARITY,
    STORY_SIMILARITY,
    UNNAMED_SIMILARITY,
    assign_story,
    assign_story_confirmed,
    fingerprint,
    has_enough_text,
    hours_apart,
    required_similarity,
    same_story,
    story_vector,
)
from veille.collect.storykeys import canonical_name, site_names, story_keys
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
    # « Depuis » starts a sentence; names are folded and canonical (« assemble »).
    assert keys.lead_names == {"valmont", "assemble"}
    assert {"brevannes", "depuis"} <= keys.mentioned and "metropole" not in keys.mentioned
    assert keys.lead_years == frozenset() and keys.lead_figures == frozenset()
    second = story_keys("Rapport", "Le rapport 2026 compte 61 000 jeux, le 1er janvier.")
    assert second.lead_years == {"2026"} and second.lead_figures == {"61000"}
    # A headline's first word is a place only if the text never writes it in lower case.
    assert (
        story_keys("Vidéoprotection : une amende", "La vidéoprotection filmait.").lead_names
        == set()
    )


def test_subjects_leave_out_people_parentheses_and_comparisons() -> None:
    """What says whose event it is: not the person quoted, not the département in
    parentheses, not the body an « après X, » clause compares with."""
    quoted = story_keys(
        "Action sociale : l'IA s'invite dans les entretiens",
        "« L'outil écrit le brouillon », insiste la vice-présidente, Nadia Ferrand.",
    )
    assert {"nadia", "ferrand"} <= quoted.lead_names and not quoted.subjects & {"nadia", "ferrand"}
    town = story_keys("Cyberattaque", "La mairie de Saint-Amblard (Haute-Arvenne) est bloquée.")
    assert town.subjects == {"saint", "amblard"} and {"haut", "arvenn"} <= town.lead_names
    later = story_keys(
        "Le Val-Mordane adopte l'outil",
        "Après le Haut-Vercel, le Département du Val-Mordane a mis en service l'outil.",
    )
    assert later.subjects == {"val", "mordan"} and "vercel" not in later.mentioned
    # « d'après l'Insee, » names a source, not a comparison.
    assert "inse" in story_keys("Recensement", "D'après l'Insee, Valmont gagne.").mentioned
    # Inhabitants are their place.
    assert canonical_name("montbrialais") == canonical_name("montbrial")
    assert canonical_name("castelmoinais") == canonical_name("castelmoine")
    # « Rectificatif : … » names no place; « Claire Dumoulin » is no place either.
    fixed = story_keys("Rectificatif : 1 200 habitants", "C'est ce qu'a précisé Claire Dumoulin.")
    assert not fixed.subjects


def test_a_page_that_names_nobody_is_tied_by_its_site() -> None:
    """A body's own page (« La Ville publie… ») names the body by its site: two such pages
    of two towns are not tied, a page and the press naming its town are."""
    assert site_names("www.montbrial.fr") == {"montbrial"}
    assert site_names("data.gouv.fr") == frozenset()  # « data »: generic
    page = story_keys(
        "Le portail de la Ville est en ligne", "La Ville publie 96 jeux.", "montbrial.fr"
    )
    other = story_keys("Notre portail est en ligne", "La Ville publie 64 jeux.", "lorvac.fr")
    press = story_keys("Montbrial ouvre un portail", "La ville de Montbrial publie 96 jeux.")
    assert page.site == {"montbrial"} and not page.subjects
    assert same_story(0.35, 2, page, press)  # tied: the floor is STORY_SIMILARITY
    assert not same_story(0.35, 2, page, other)  # not tied: UNNAMED_SIMILARITY
    named = story_keys("Portail", "La ville de Montbrial publie 96 jeux.", "lorvac.fr")
    assert named.site == frozenset()  # a lead that names someone keeps its names only


def test_hours_apart_follow_ups_and_cited_days() -> None:
    """A later lead that tells what came of an event (« compte déjà », « dix jours après »)
    needs a near copy; one that cites the day of the earlier article is that day's event."""
    monday = datetime(2026, 3, 2, 9, tzinfo=UTC)
    event = story_keys("Queyrolles vote une clause", "Le conseil de Queyrolles a voté jeudi.")
    trade = story_keys("Clause données", "Le contrat voté le 1er mars à Queyrolles l'illustre.")
    follow = story_keys("Premier bilan", "Le portail ouvert le 2 mars compte déjà 8 000 visites.")
    week = monday + timedelta(days=7)
    assert trade.lead_days == {(1, 3)} and follow.follow_up and not trade.follow_up
    assert hours_apart(monday, event, week, trade) == 0.0  # cites the day before
    assert hours_apart(week, follow, monday, event) == 168.0  # a follow-up: hours as they are
    assert hours_apart(monday, event, week, event) == 168.0
    assert hours_apart(monday, event, monday + timedelta(hours=30), follow) == COVERAGE_HOURS
    # Within the day « déjà » is no follow-up: coverage of the day says it too.
    assert hours_apart(monday, event, monday + timedelta(hours=5), follow) == 5.0
    assert hours_apart(None, event, week, trade) == 0.0


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


def test_no_pair_under_the_lowest_similarity_is_one_story() -> None:
    """The story index skips candidates whose cosine is under LOWEST_SIMILARITY without
    reading their keys: no date gap, named or not, may require less."""
    from veille.collect.stories import LOWEST_SIMILARITY, required_similarity

    for hours in (0.0, 1.0, 23.9, 24.0, 48.0, 119.0, 120.0, 1000.0):
        for named in (True, False):
            assert required_similarity(hours, named) >= LOWEST_SIMILARITY
