"""Does a learned model, asked only where the story rules say « not the same », raise recall
on writing it was not trained on, without wrong merges? (issue 11; docs/dedup.md,
« A learned complement to the rules ».)

Each pair of tests/data/story_pairs/ is decided by the collector's own path
(`storypairs.grouped`); every candidate the rules reject (`storyindex._joins` false, cosine
at least `stories.LOWEST_SIMILARITY`) is measured (`storymodel.features`). Then, leave one
set out: for each of the 14 sets written by one hand at one time, a logistic regression is
fitted on the 13 others, its threshold chosen on those 13 only — out of fold (each of the
13 scored by a model fitted on the 12 others) and set just above the highest score of a
different-story pair there, so that no pair of the 13 would be merged wrongly — and
rules + model are measured on the left-out set. The rules themselves were tuned on every
set: the left-out figures measure the model's help on unseen writing, not the rules'.

Run: python benchmarks/story_model.py    # the leave-one-set-out table, then the bound
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from veille.collect import stories, storydays, storyindex  # noqa: E402
from veille.collect.storykeys import StoryKeys  # noqa: E402
from veille.collect.storypairs import StoryPair, grouped, load_pairs  # noqa: E402
from veille.text import figures  # noqa: E402
from veille.text.fingerprint import WordVector, contained  # noqa: E402

DATA = REPO / "tests" / "data" / "story_pairs"
SETS = {
    "first": ["*.jsonl"],
    "heldout": ["heldout/*.jsonl"],
    "press": ["press/*/*.jsonl"],
    "press2": ["press2/*/*.jsonl"],
    "press3": ["press3/*/*.jsonl"],
    **{f"press{n}": [f"press{n}/*.jsonl"] for n in range(4, 13)},
}
# An article as the index compares it: its publication, keys and word vector
# (`storyindex.Side`).
Side = tuple[datetime | None, StoryKeys, WordVector]

FEATURES = (
    "cosine",
    "margin",  # cosine minus the rules' floor for the pair (-1 when the rules forbid it)
    "later_event",
    "hours",  # publications apart, log-scaled over a week
    "named",
    "other_body_one",
    "other_body_both",
    "lead_names_shared",
    "opening_shared",
    "mentioned_shared",
    "figures_shared",
    "lead_figures_disagree",
    "lead_years_disjoint",
    "acts_shared",
    "acts_disjoint",
    "two_sites",
    "same_site",
    "languages",
    "follow_up",
    "revision",
    "day_tied",
    "retold",
    "length_ratio",
    "contained",
)


def _share(a: frozenset[str], b: frozenset[str]) -> float:
    """How much of the smaller set the other holds (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _other_body(a: StoryKeys, b: StoryKeys) -> bool:
    return bool(a.subjects - b.mentioned)


def features(new: Side, old: Side, similarity: float) -> list[float]:
    """The pair's measures, in the order of `FEATURES`."""
    (new_at, a, mine), (old_at, b, theirs) = new, old
    named = bool((a.lead_names or a.site) & b.mentioned or (b.lead_names or b.site) & a.mentioned)
    apart = stories.hours_apart(new_at, a, old_at, b)
    hours = stories.published_hours(new_at, old_at)
    shared_figures = len(a.figures & b.figures)
    required = stories.required_similarity(
        apart,
        named,
        shared_figures >= 1,
        bool(a.acts & b.acts),
        a.english != b.english,
        shared_figures >= 2,
    )
    margin = similarity - required if math.isfinite(required) else -1.0
    words_a, words_b = int(mine.counts.sum()), int(theirs.counts.sum())
    short, long = (mine, theirs) if words_a <= words_b else (theirs, mine)
    one, both = _other_body(a, b), _other_body(b, a)
    return [
        similarity,
        max(margin, -1.0),
        float(math.isinf(apart)),
        math.log1p(hours) / math.log1p(7 * 24),
        float(named),
        float(one or both),
        float(one and both),
        _share(a.lead_names, b.lead_names),
        _share(a.opening, b.opening),
        _share(a.mentioned, b.mentioned),
        min(shared_figures, 3) / 3,
        float(figures.disagree(a.lead_figures, b.lead_figures)),
        float(bool(a.lead_years) and bool(b.lead_years) and not a.lead_years & b.lead_years),
        float(bool(a.acts & b.acts)),
        float(bool(a.acts) and bool(b.acts) and not a.acts & b.acts),
        float(bool(a.host) and bool(b.host) and a.host != b.host),
        float(bool(a.host) and a.host == b.host),
        float(a.english != b.english),
        float(a.follow_up or b.follow_up),
        float(a.revision or b.revision),
        float(storydays.day_tied(new_at, a, old_at, b)),
        float(stories.retold(new_at, mine, old_at, theirs)),
        min(words_a, words_b) / max(words_a, words_b, 1),
        contained(short, long) if words_a and words_b else 0.0,
    ]


C = 1.0  # the regression's inverse regularisation, on standardised features


class Measured:
    """One pair: the truth, the rules' verdict and the measures of each candidate the
    rules rejected (a digest gives several)."""

    def __init__(self, pair: StoryPair, rules: bool, rows: list[list[float]]) -> None:
        self.pair, self.same, self.rules, self.rows = pair, pair.same, rules, rows


def measure(pairs: Sequence[StoryPair]) -> list[Measured]:
    """Each pair decided by the collector's path, the rejected candidates measured."""
    rules_join = storyindex._joins
    rows: list[list[float]] = []

    def joins(new: Any, old: Any, similarity: float) -> bool:
        joined = rules_join(new, old, similarity)
        if not joined and similarity >= stories.LOWEST_SIMILARITY:
            rows.append(features(new, old, similarity))
        return joined

    storyindex._joins = joins
    try:
        measured = []
        for pair in pairs:
            rows = []
            measured.append(Measured(pair, grouped(pair), rows))
        return measured
    finally:
        storyindex._joins = rules_join


def fit(measured: Sequence[Measured]) -> tuple[np.ndarray, float]:
    """Weights and intercept on the raw features (standardisation folded in), fitted on
    every row of the pairs the rules rejected."""
    x = np.array([row for m in measured if not m.rules for row in m.rows])
    y = np.array([m.same for m in measured if not m.rules for _ in m.rows])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=C, max_iter=5000)
    model.fit((x - mean) / scale, y)
    weights = model.coef_[0] / scale
    return weights, float(model.intercept_[0] - (weights * mean).sum())


def pair_score(m: Measured, weights: np.ndarray, intercept: float) -> float:
    """The pair's highest score over its candidates (-inf when none was measured)."""
    if not m.rows:
        return -math.inf
    return float((np.array(m.rows) @ weights).max() + intercept)


def threshold(by_set: dict[str, list[Measured]]) -> float:
    """Just above the highest out-of-fold score of a different-story pair of these sets."""
    worst = -math.inf
    for name, measured in by_set.items():
        others = [m for other, ms in by_set.items() if other != name for m in ms]
        weights, intercept = fit(others)
        for m in measured:
            if not m.same and not m.rules:
                worst = max(worst, pair_score(m, weights, intercept))
    return worst + 1e-6


def counts(measured: Sequence[Measured], decided: Sequence[bool]) -> tuple[int, int, int]:
    """(same-story pairs, true merges, wrong merges)."""
    same = sum(m.same for m in measured)
    tp = sum(d and m.same for m, d in zip(measured, decided, strict=True))
    fp = sum(d and not m.same for m, d in zip(measured, decided, strict=True))
    return same, tp, fp


def loso(by_set: dict[str, list[Measured]]) -> None:
    print(
        f"{'left out':10} {'pairs':>5} {'same':>4}  {'rules P':>7} {'rules R':>7}  "
        f"{'+model P':>8} {'+model R':>8}  {'wrong':>5}  threshold"
    )
    totals = [0, 0, 0, 0, 0]  # same, rules tp, rules fp, model tp, model fp
    recalls: list[tuple[float, float]] = []
    for name, measured in by_set.items():
        train = {other: ms for other, ms in by_set.items() if other != name}
        weights, intercept = fit([m for ms in train.values() for m in ms])
        cut = threshold(train)
        rules = [m.rules for m in measured]
        both = [m.rules or pair_score(m, weights, intercept) >= cut for m in measured]
        same, tp0, fp0 = counts(measured, rules)
        _, tp1, fp1 = counts(measured, both)
        for k, v in enumerate((same, tp0, fp0, tp1, fp1)):
            totals[k] += v
        p0, p1 = tp0 / max(tp0 + fp0, 1), tp1 / max(tp1 + fp1, 1)
        recalls.append((tp0 / same, tp1 / same))
        print(
            f"{name:10} {len(measured):5} {same:4}  {p0:7.3f} {tp0 / same:7.3f}  "
            f"{p1:8.3f} {tp1 / same:8.3f}  {fp1:5}  {cut:+.2f}"
        )
        for m, d0, d1 in zip(measured, rules, both, strict=True):
            if d1 and not d0:
                print(f"    {'merged' if m.same else 'WRONG '} {m.pair.id}")
    same, tp0, fp0, tp1, fp1 = totals
    print(
        f"{'all':10} {'':5} {same:4}  {tp0 / (tp0 + fp0):7.3f} {tp0 / same:7.3f}  "
        f"{tp1 / max(tp1 + fp1, 1):8.3f} {tp1 / same:8.3f}  {fp1:5}"
    )
    mean0 = sum(r for r, _ in recalls) / len(recalls)
    mean1 = sum(r for _, r in recalls) / len(recalls)
    raised = sum(r1 > r0 for r0, r1 in recalls)
    print(
        f"mean recall per set {mean0:.3f} -> {mean1:.3f}; raised on {raised} of {len(recalls)} sets"
    )


def ranking(by_set: dict[str, list[Measured]]) -> None:
    """An upper bound: every left-out set's scores pooled (each from the model fitted on
    the 13 others) and the threshold set afterwards, with hindsight, just under the k-th
    different-story pair. What no honest threshold can beat: it tells whether the model
    separates the pairs at all, not whether a threshold was chosen well."""
    scored = []
    for name, measured in by_set.items():
        weights, intercept = fit([m for other, ms in by_set.items() if other != name for m in ms])
        scored += [
            (pair_score(m, weights, intercept), m.same) for m in measured if not m.rules and m.rows
        ]
    scored.sort(key=lambda s: -s[0])
    missed = sum(same for _, same in scored)
    print(
        f"\nhindsight threshold, all left-out scores pooled: of {missed} same-story pairs "
        "the rules reject (and whose cosine reaches LOWEST_SIMILARITY),"
    )
    for allowed in (0, 2, 5, 10):
        wrong = merged = 0
        for _, same in scored:
            if not same and wrong == allowed:
                break
            merged += same
            wrong += not same
        print(f"  {merged:3} merged for {allowed:2} wrong merges")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    start = time.monotonic()
    by_set = {
        name: measure(load_pairs(sorted(p for g in globs for p in DATA.glob(g))))
        for name, globs in SETS.items()
    }
    rows = sum(len(m.rows) for ms in by_set.values() for m in ms)
    pairs = sum(len(ms) for ms in by_set.values())
    print(
        f"{pairs} pairs, {rows} candidates rejected by the rules and measured "
        f"({time.monotonic() - start:.0f} s)\n"
    )
    loso(by_set)
    ranking(by_set)


if __name__ == "__main__":
    main()
