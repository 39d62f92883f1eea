"""The value score: each component moves the way docs/scoring.md says."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from veille.classify.score import WEIGHTS, ScoreInputs, compute

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
BASE = ScoreInputs(
    confidence=0.9,
    source_weight=1.0,
    published_at=NOW - timedelta(hours=6),
    fetched_at=NOW,
    coverage=1,
    novelty=1.0,
    text_chars=3000,
)


def test_components_sum_to_score_and_stay_in_bounds() -> None:
    total, parts = compute(BASE)
    assert set(parts) == set(WEIGHTS)
    assert abs(total - sum(p["points"] for p in parts.values())) < 0.2
    for name, part in parts.items():
        assert 0 <= part["points"] <= WEIGHTS[name]
        assert part["why"]
    best, _ = compute(
        replace(BASE, confidence=1, source_weight=5, coverage=9, kept=50, published_at=NOW)
    )
    assert best <= 100


def test_each_signal_moves_the_score() -> None:
    base, _ = compute(BASE)
    assert compute(replace(BASE, confidence=0.0))[0] < base
    assert compute(replace(BASE, source_weight=2.0))[0] > base
    assert compute(replace(BASE, published_at=NOW - timedelta(days=20)))[0] < base
    assert compute(replace(BASE, coverage=3))[0] > base
    assert compute(replace(BASE, novelty=0.1))[0] < base
    assert compute(replace(BASE, text_chars=200))[0] < base
    assert compute(replace(BASE, kept=0, discarded=12))[0] < base
    assert compute(replace(BASE, kept=12, discarded=0))[0] > base


def test_off_topic_never_beats_equal_on_topic_and_explains_in_french() -> None:
    on, _ = compute(BASE)
    off, parts = compute(replace(BASE, confidence=0.0))
    assert on - off >= 25
    assert parts["confidence"]["why"] == "hors thème"
    _, parts = compute(replace(BASE, coverage=3, published_at=None))
    assert parts["coverage"]["why"] == "couvert par 3 sources"
    assert parts["freshness"]["why"] == "date de publication inconnue"


def test_explanations_write_numbers_the_french_way() -> None:
    _, components = compute(replace(BASE, source_weight=1.5, text_chars=12_345))
    assert components["source"]["why"] == "poids de la source : 1,5"
    assert components["substance"]["why"] == "texte de 12\u202f345 caractères"


def test_novelty_is_the_nearest_other_story_within_what_came_before() -> None:
    """`_Nearest` (one XOR + popcount over arrays) against the definition: the fewest bits
    apart from a recent article of another story, among the first `upto`, leaving out the
    article itself; 64 when there is none."""
    from veille.classify.service import FAR_BITS, NEAR_BITS, _Nearest
    from veille.db.articles import Fingerprinted
    from veille.text.fingerprint import to_signed64

    def fp(bits: int) -> int:  # a fingerprint `bits` bits away from 0, signed as stored
        return to_signed64((1 << bits) - 1 << (64 - bits)) if bits else 0

    def scaled(bits: int) -> float:
        return max(0.0, min(1.0, (bits - NEAR_BITS) / (FAR_BITS - NEAR_BITS)))

    recent = [
        Fingerprinted(1, 10, 1, fp(14), "", "a"),
        Fingerprinted(2, 20, 1, fp(0), "", "a"),  # same story as the article below
        Fingerprinted(3, 30, 1, fp(20), "", "a"),
        Fingerprinted(4, 40, 1, fp(64), "", "a"),
    ]
    nearest = _Nearest(recent)
    assert nearest.novelty(fp(0), 20, 99, 4) == scaled(14)  # its own story left out
    assert nearest.novelty(fp(0), 50, 99, 4) == 0.0  # another story, 0 bits apart
    assert nearest.novelty(fp(0), 50, 2, 4) == scaled(14)  # itself left out
    assert nearest.novelty(fp(0), 20, 99, 1) == scaled(14)  # only the first one seen
    assert nearest.novelty(fp(0), 10, 99, 1) == 1.0  # nothing before it: 64 bits
    assert nearest.novelty(fp(64), None, 99, 4) == 0.0  # fp(64) is all ones: item 4
    assert nearest.novelty(None, 10, 99, 4) == 1.0
    assert _Nearest([]).novelty(fp(3), 1, 1, 0) == 1.0
