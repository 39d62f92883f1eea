"""benchmarks/story_model.py, the leave-one-set-out measure of a learned complement to the
story rules (docs/dedup.md, « A learned complement to the rules »): it must measure the
collector's own decision, and only the candidates the rules reject, or its table says
nothing. A few pairs of the held-out set, through the script's own functions."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from veille.collect import storyindex
from veille.collect.storypairs import grouped, load_pairs

REPO = Path(__file__).resolve().parents[1]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "story_model", REPO / "benchmarks" / "story_model.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["story_model"] = module
    spec.loader.exec_module(module)
    return module


def test_measures_the_collectors_decision_and_only_the_rejected_candidates() -> None:
    script = _script()
    data = REPO / "tests" / "data" / "story_pairs" / "heldout"
    pairs = load_pairs([data / "same.jsonl", data / "different.jsonl"])
    joins = storyindex._joins
    measured = script.measure(pairs)
    assert storyindex._joins is joins  # the rules' function put back
    assert [m.rules for m in measured] == [grouped(p) for p in pairs]
    assert all(not m.rows for m in measured if m.rules)
    rejected = [m for m in measured if not m.rules]
    assert any(m.rows for m in rejected)  # different stories on one topic are candidates
    assert all(len(row) == len(script.FEATURES) for m in rejected for row in m.rows)


def test_a_model_scores_with_the_features_it_was_fitted_on() -> None:
    script = _script()
    data = REPO / "tests" / "data" / "story_pairs" / "press2"
    measured = script.measure(load_pairs(sorted(data.glob("*/*.jsonl"))))
    weights, intercept = script.fit(measured)
    scored = [m for m in measured if not m.rules and m.rows]
    same = [script.pair_score(m, weights, intercept) for m in scored if m.same]
    different = [script.pair_score(m, weights, intercept) for m in scored if not m.same]
    assert same and different
    # fitted on these very pairs, the model ranks their stories above their different ones
    assert sum(same) / len(same) > sum(different) / len(different)
