"""The learning curve's direction on a small fast case: a model that never saw press-like
articles (a slice of the short seed items), taught with press-like articles of the label
pool as the delegate's labels, measured on the press-like held-out set (never a label).

The full curves (1,360 training items, 25–172 labels, several orders) take minutes and
live in benchmarks/learning_curve.py; this pins what they show, at a size CI can afford:
labels raise held-out macro-F1, and asking the articles nearest a threshold (the desk's
« À vérifier » order, `veille/desk/uncertain.py`) teaches at least as much as random ones.
"""

from __future__ import annotations

import dataclasses
import random
import warnings
from collections.abc import Sequence

import pytest

from veille.classify import model as theme_model
from veille.classify.classifier import Classifier, ClassItem
from veille.classify.corpus import load_heldout, load_pool, load_seed
from veille.classify.evaluate import metrics
from veille.classify.model import LabelledItem
from veille.classify.reasons import margin

BASE_SIZE = 300
LABELS = 40
RANDOM_ORDERS = 2


def _base() -> list[LabelledItem]:
    items = load_seed(long=False)
    random.Random(11).shuffle(items)
    return items[:BASE_SIZE]


def _train(base: Sequence[LabelledItem], labels: Sequence[LabelledItem]) -> Classifier:
    editor = [dataclasses.replace(i, origin="editor") for i in labels]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small folds: rare label combinations
        return Classifier(theme_model.train([*base, *editor], editor_labels=len(editor)))


def _predict(classifier: Classifier, items: Sequence[LabelledItem]) -> list[frozenset[str]]:
    found = classifier.predict([ClassItem(i.title, i.text, i.lang) for i in items])
    return [frozenset(p.themes) for p in found]


def _macro_f1(classifier: Classifier, items: Sequence[LabelledItem]) -> float:
    return float(metrics([i.labels for i in items], _predict(classifier, items))["macro_f1"])


def _least_sure(classifier: Classifier, pool: Sequence[LabelledItem], n: int) -> list[int]:
    """The desk band's order: smallest |margin| to a theme's threshold first."""
    found = classifier.predict([ClassItem(i.title, i.text, i.lang) for i in pool])
    thresholds = classifier.model.thresholds
    doubt = [min(abs(margin(p, thresholds[t])) for t, p in f.probabilities.items()) for f in found]
    return sorted(range(len(pool)), key=doubt.__getitem__)[:n]


def test_delegate_labels_help_and_uncertainty_order_teaches_at_least_as_much() -> None:
    base, pool, heldout = _base(), load_pool("press"), load_heldout("press")
    before = _train(base, [])
    start = _macro_f1(before, heldout)
    randoms = []
    for order in range(RANDOM_ORDERS):
        shuffled = list(pool)
        random.Random(order).shuffle(shuffled)
        randoms.append(_macro_f1(_train(base, shuffled[:LABELS]), heldout))
    asked = [pool[i] for i in _least_sure(before, pool, LABELS)]
    uncertain = _macro_f1(_train(base, asked), heldout)
    random_mean = sum(randoms) / len(randoms)
    assert random_mean > start + 0.02, (start, randoms)
    assert uncertain > start + 0.05, (start, uncertain)
    assert uncertain >= random_mean, (randoms, uncertain)


def test_calibration_weights_give_the_labels_a_share_growing_with_their_number() -> None:
    seed = [LabelledItem(f"s{i}", "t", frozenset()) for i in range(300)]
    label = LabelledItem("e", "t", frozenset({"ia"}), origin="editor")
    for n, fit_weight in ((25, 5.0), (100, 5.0), (100, 40.0)):
        items = [*seed, *[label] * n]
        fit = theme_model.sample_weights(items, fit_weight)
        weights = theme_model.calibration_weights(items, fit, theme_model.CALIBRATION_K)
        share = weights[300:].sum() / weights.sum()
        fit_share = fit[300:].sum() / fit.sum()
        assert share == pytest.approx(max(fit_share, n / (n + theme_model.CALIBRATION_K)))
        assert (weights[:300] == 1).all()
    # No label, or no calibration rule: the fit's own weights.
    fit = theme_model.sample_weights(seed, 5.0)
    assert (theme_model.calibration_weights(seed, fit, 50.0) == fit).all()
    items = [*seed, label]
    fit = theme_model.sample_weights(items, 5.0)
    assert (theme_model.calibration_weights(items, fit, 0.0) == fit).all()


def test_without_labels_the_label_rules_change_nothing() -> None:
    """The label rules (`EDITOR_SHARE`, `CALIBRATION_K`) act only through the delegate's
    labels: without any, every choice of them trains the same model, so changing them can
    never move the quality table of docs/themes.md."""
    base = _base()[:60]
    docs = [i.title for i in base[:20]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = [
            theme_model.train(base, editor_share=share, calibration_k=k)
            for share, k in ((theme_model.EDITOR_SHARE, theme_model.CALIBRATION_K), (0.7, 15.0))
        ]
    first, second = (theme_model.probabilities(m, docs) for m in models)
    assert (first == second).all()
    assert models[0].thresholds == models[1].thresholds
