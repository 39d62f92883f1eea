"""Does labelling what the model is least sure of teach it faster than labelling at random?

The desk's « À vérifier » band (`veille/desk/uncertain.py`) asks the delegate about the
articles nearest a theme's threshold. This measures the idea on the project's own data:

* the **pool** is the seed training corpus (`veille/classify/seed/*.jsonl`), labels hidden
  until "asked";
* both strategies start from the same random `--start` labelled items, then add `--batch`
  labels per round: **random** picks them at random from the pool, **uncertain** picks the
  pool items whose smallest `reasons.margin` (over the themes, under the model trained on
  the labels so far) is nearest 0 — what the band shows;
* after each round the model is retrained with `model.train` (cross-validated calibration
  and thresholds, as in production) and scored on the **held-out** set
  (`veille/classify/seed/heldout/`), never used for training or choosing;
* repeated over `--seeds` random starts (and random orders), figures averaged.

Run: python benchmarks/learning_curve.py                  # table
     python benchmarks/learning_curve.py --json           # machine-readable
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from veille.classify import model as theme_model  # noqa: E402
from veille.classify.classifier import Classifier, ClassItem  # noqa: E402
from veille.classify.corpus import load_seed  # noqa: E402
from veille.classify.evaluate import metrics  # noqa: E402
from veille.classify.features import document  # noqa: E402
from veille.classify.model import LabelledItem  # noqa: E402
from veille.classify.reasons import margin  # noqa: E402


def heldout_macro_f1(model: theme_model.ThemeModel, heldout: Sequence[LabelledItem]) -> float:
    predictions = Classifier(model).predict([ClassItem(i.title, i.text, i.lang) for i in heldout])
    figures = metrics([i.labels for i in heldout], [frozenset(p.themes) for p in predictions])
    return float(figures["macro_f1"])


def most_uncertain(
    model: theme_model.ThemeModel, pool: Sequence[LabelledItem], count: int
) -> list[int]:
    """Indices of the `count` pool items nearest a threshold (smallest |margin|)."""
    probs = theme_model.probabilities(model, [document(i.title, i.text) for i in pool])
    doubt = [
        min(abs(margin(float(row[j]), model.thresholds[t])) for j, t in enumerate(model.themes))
        for row in probs
    ]
    return sorted(range(len(pool)), key=doubt.__getitem__)[:count]


def curve(
    strategy: str,
    seed: int,
    items: Sequence[LabelledItem],
    heldout: Sequence[LabelledItem],
    start: int,
    batch: int,
    rounds: int,
) -> list[tuple[int, float]]:
    rng = random.Random(seed)
    order = list(range(len(items)))
    rng.shuffle(order)
    labelled = [items[i] for i in order[:start]]
    pool = [items[i] for i in order[start:]]
    out = []
    for step in range(rounds + 1):
        model = theme_model.train(labelled)
        out.append((len(labelled), heldout_macro_f1(model, heldout)))
        if step == rounds:
            break
        if strategy == "uncertain":
            chosen = set(most_uncertain(model, pool, batch))
        else:
            chosen = set(rng.sample(range(len(pool)), batch))
        labelled += [pool[i] for i in sorted(chosen)]
        pool = [item for i, item in enumerate(pool) if i not in chosen]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", type=int, default=60)
    parser.add_argument("--batch", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # tiny folds: scikit-learn warns about rare label sets
    items, heldout = load_seed(), load_seed(heldout=True)
    began = time.perf_counter()
    runs: dict[str, list[list[tuple[int, float]]]] = {"random": [], "uncertain": []}
    for seed in range(args.seeds):
        for strategy in runs:
            runs[strategy].append(
                curve(strategy, seed, items, heldout, args.start, args.batch, args.rounds)
            )
    sizes = [n for n, _ in runs["random"][0]]
    table: dict[str, Any] = {
        "pool": len(items),
        "heldout": len(heldout),
        "seeds": args.seeds,
        "labels": sizes,
        "seconds": round(time.perf_counter() - began, 1),
    }
    for strategy, curves in runs.items():
        table[strategy] = [
            round(sum(c[k][1] for c in curves) / len(curves), 3) for k in range(len(sizes))
        ]
        table[f"{strategy}_min"] = [
            round(min(c[k][1] for c in curves), 3) for k in range(len(sizes))
        ]
    if args.json:
        sys.stdout.write(json.dumps(table) + "\n")
        return 0
    print(
        f"held-out macro-F1 (mean of {args.seeds} starts; "
        f"pool {len(items)}, held-out {len(heldout)})"
    )
    print("labels  random  uncertain")
    for k, n in enumerate(sizes):
        print(f"{n:6d}  {table['random'][k]:.3f}   {table['uncertain'][k]:.3f}")
    print(f"({table['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
