"""Choose the passage margin: each margin's figures on CV, a validation set and the
held-out and demo sets, model alone (docs/themes.md « Passage evidence »).

The theme model and the passage model are fitted once per fold (out-of-fold scores) and
once on the whole corpus; each margin then only recombines scores, recalibrates and
re-chooses thresholds on the out-of-fold combination, as `model.train` does. A set given
with --measure (heldout_press) is reported for the baseline and --chosen only: it is
never used to choose.

Run: python benchmarks/passage_margin.py --validation ../realpool/veille/classify/seed/pool_press \
         --measure veille/classify/seed/heldout_press --chosen 1.5
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from classify import demo_items  # noqa: E402

from veille.classify import model as theme_model  # noqa: E402
from veille.classify.corpus import load_heldout, load_seed, read_jsonl  # noqa: E402
from veille.classify.evaluate import metrics  # noqa: E402
from veille.classify.features import build_vectorizer, document  # noqa: E402
from veille.classify.model import LabelledItem  # noqa: E402
from veille.classify.passages import fit_passage_model, passage_scores  # noqa: E402

MARGINS = (-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5)


def folder(path: str) -> list[LabelledItem]:
    return [item for f in sorted(Path(path).glob("*.jsonl")) for item in read_jsonl(f)]


def doc_and_passages(
    vec: Any, w: np.ndarray, b: np.ndarray, pm: Any, items: list[LabelledItem]
) -> tuple[np.ndarray, np.ndarray]:
    docs = [document(i.title, i.text) for i in items]
    d = np.asarray(vec.transform(docs) @ w) + b
    p = (
        passage_scores(pm, [i.text for i in items])[0]
        if pm is not None
        else np.full(d.shape, -np.inf)
    )
    return d, p


def out_of_fold(items: list[LabelledItem], y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import StratifiedKFold

    d, p = np.zeros(y.shape), np.zeros(y.shape)
    strata = [",".join(sorted(i.labels)) or "-" for i in items]
    splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=theme_model.SEED)
    for tr, va in splitter.split(items, strata):
        train = [items[i] for i in tr]
        vec = build_vectorizer()
        x = vec.fit_transform([document(i.title, i.text) for i in train])
        fits = [theme_model._fit_lr(x, y[tr, j]) for j in range(y.shape[1])]
        w = np.column_stack([c.coef_[0] for c in fits])
        b = np.array([c.intercept_[0] for c in fits])
        pm = fit_passage_model([i.text for i in train], y[tr], None, theme_model._fit_lr)
        d[va], p[va] = doc_and_passages(vec, w, b, pm, [items[i] for i in va])
    return d, p


def combined(d: np.ndarray, p: np.ndarray, margin: float | None) -> np.ndarray:
    return d if margin is None else np.maximum(d, p - margin)


def figures(
    themes: tuple[str, ...], oof: tuple[np.ndarray, np.ndarray], y: np.ndarray,
    sets: dict[str, tuple[np.ndarray, np.ndarray, list[LabelledItem]]], margin: float | None,
) -> str:  # fmt: skip
    c = combined(*oof, margin)
    platt, thresholds = [], []
    for j in range(len(themes)):
        a, b = theme_model._platt(c[:, j], y[:, j])
        platt.append((a, b))
        thresholds.append(
            theme_model._best_threshold(theme_model._sigmoid(a * c[:, j] + b), y[:, j])
        )

    def predicted(scores: np.ndarray) -> list[frozenset[str]]:
        probs = np.column_stack(
            [theme_model._sigmoid(a * scores[:, j] + b) for j, (a, b) in enumerate(platt)]
        )
        return [
            frozenset(t for j, t in enumerate(themes) if row[j] >= thresholds[j]) for row in probs
        ]

    truth = [frozenset(t for j, t in enumerate(themes) if r[j]) for r in y]
    cells = [f"cv {metrics(truth, predicted(c), themes)['macro_f1']:.3f}"]
    for name, (d, p, items) in sets.items():
        got = predicted(combined(d, p, margin))
        m = metrics([i.labels for i in items], got, themes)
        errors = sum(len(g ^ i.labels) for g, i in zip(got, items, strict=True))
        rel = m["relevance"]
        cells.append(
            f"{name} {m['macro_f1']:.3f}/{rel['precision']:.2f}/{rel['recall']:.2f} ({errors})"
        )
    return f"margin {margin!s:>5}  " + "  ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--validation", help="folder of labelled JSONL files to choose on")
    parser.add_argument("--measure", help="folder measured for the baseline and --chosen only")
    parser.add_argument("--chosen", type=float, default=1.5)
    args = parser.parse_args()
    seed = load_seed()
    themes = tuple(theme_model.THEME_IDS)
    y = theme_model._matrix(seed, themes)
    oof = out_of_fold(seed, y)
    model = theme_model.train(seed)
    parts = {"short": load_seed(heldout=True), "long": load_heldout("long"), "demo": demo_items()}
    if args.validation:
        parts = {"validation": folder(args.validation), **parts}

    def score(items: list[LabelledItem]) -> tuple[np.ndarray, np.ndarray, list[LabelledItem]]:
        fitted = (model.vectorizer, model.weights, model.intercepts, model.passages)
        return (*doc_and_passages(*fitted, items), items)

    scored = {name: score(items) for name, items in parts.items()}
    print("macro-F1 / on-topic precision / recall (theme errors), model alone")
    for margin in (None, *MARGINS):
        print(figures(themes, oof, y, scored, margin))
    if args.measure:
        items = folder(args.measure)
        measured = {"measure": score(items)}
        for margin in (None, args.chosen):
            print(figures(themes, oof, y, measured, margin))


if __name__ == "__main__":
    main()
