"""Do the delegate's labels count? Held-out macro-F1 after 0, 25, 50, 100, 200 of them.

The delegate labels real articles of her sources; the model starts from the packaged
training corpus (`load_seed()`: short seed items and long-form articles). This plays her
part with articles the model was never trained on:

* the **label pool** and the **evaluation part** are a fixed random split of the long-form
  held-out set (`seed/heldout_long/`): an item goes to the pool when the first byte of the
  SHA-256 of its title is even, so the split does not move when items are added. With
  `--pool-demo` the demo site's articles (another author, full bodies) join the pool, so
  that 200 labels exist. No item used as a label is ever evaluated on;
* each label is added as an editor label (`origin="editor"`, weighted by the model's own
  rules in every fit, as `service.training_items` does), the model is
  retrained with `model.train` (cross-validated calibration and thresholds, as the nightly
  retraining does) and scored on the evaluation part and on the short held-out set;
* **random** order (mean of `--seeds` orders) against **uncertainty** order (what the
  desk's « À vérifier » band asks, `veille/desk/uncertain.py`: the pool items whose
  smallest `reasons.margin` under the current model, full text and passages read, is
  nearest 0, asked in batches up to the next size) and against random order
  **unweighted** (`editor_weight=1`, the labels counting as seed items).

`--choose-weight` is how `model.EDITOR_WEIGHT` was chosen without looking at the held-out
sets: the demo articles split the same way into pool and evaluation, 100 random labels,
each weight tried.

With `--short-base` the model starts from the short seed items only, as the model of the
previous rounds did: weak on long articles, as any model is on news its corpus does not
cover, which is where the delegate's labels have the most to teach.

Run: python benchmarks/learning_curve.py                   # table
     python benchmarks/learning_curve.py --pool-demo       # pool = half of heldout_long + demo
     python benchmarks/learning_curve.py --short-base      # from the short seed items only
     python benchmarks/learning_curve.py --json            # machine-readable
     python benchmarks/learning_curve.py --choose-weight   # EDITOR_WEIGHT on demo articles
     python benchmarks/learning_curve.py --pool-press      # pool_press → heldout_press
     python benchmarks/learning_curve.py --choose-share    # EDITOR_SHARE, CV on pool_press

With `--pool-press` the pool is `seed/pool_press/` (press-like articles by one hand) and
the evaluation `seed/heldout_press/` (another hand), with heldout_long and heldout beside.
`--choose-share` cross-validates on the press pool only: each fold evaluated in turn, the
labels drawn from the others, for each share of the fit the labels weigh together.
`--candidates 'editor_share=0.5;editor_share=0.7,calibration_k=15'` tries `model.train`
options instead of shares alone, and `--base-without` applies to the choice too.
`--strategies` and `--sizes` pick what to run (each run retrains at every size).

`--base-without press` starts from the default corpus less its press-style training files
(`seed/long/press_*.jsonl`): a model that never saw the pool's kind of news, the issue's
situation (weak on real news, a delegate labelling a hundred of them). `--variant
key=value,…` passes options to `model.train` (`calibration_k`, `boost_wrong`,
`editor_share`), to measure a candidate rule without editing the model:

     python benchmarks/learning_curve.py --pool-press --base-without press \
         --seeds 2 --strategies random,uncertain --sizes 0,25,50,100 --variant calibration_k=0
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
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
from veille.classify.corpus import label_split, load_heldout, load_pool, load_seed  # noqa: E402
from veille.classify.evaluate import metrics  # noqa: E402
from veille.classify.features import document  # noqa: E402
from veille.classify.model import LabelledItem  # noqa: E402
from veille.classify.reasons import margin  # noqa: E402
from veille.demo.catalog import demo_manifest  # noqa: E402

SIZES = (0, 25, 50, 100, 200)


def demo_items() -> list[LabelledItem]:
    return [
        LabelledItem(a.title, " ".join([a.lede, *a.paragraphs]), frozenset(a.themes), "fr")
        for a in demo_manifest()
        if a.near_copy_of is None
    ]


def as_editor(items: Sequence[LabelledItem]) -> list[LabelledItem]:
    return [dataclasses.replace(i, origin="editor") for i in items]


def figures(model: theme_model.ThemeModel, items: Sequence[LabelledItem]) -> dict[str, Any]:
    predictions = Classifier(model).predict([ClassItem(i.title, i.text, i.lang) for i in items])
    return metrics([i.labels for i in items], [frozenset(p.themes) for p in predictions])


def most_uncertain(
    model: theme_model.ThemeModel, pool: Sequence[LabelledItem], count: int
) -> list[int]:
    """Indices of the `count` pool items nearest a threshold (smallest |margin|)."""
    # With each article's text, as the desk's band classifies (passage evidence included).
    probs = theme_model.probabilities(
        model, [document(i.title, i.text) for i in pool], [i.text for i in pool]
    )
    doubt = [
        min(abs(margin(float(row[j]), model.thresholds[t])) for j, t in enumerate(model.themes))
        for row in probs
    ]
    return sorted(range(len(pool)), key=doubt.__getitem__)[:count]


_BASE: dict[int, theme_model.ThemeModel] = {}
# Extra keyword arguments of `model.train` (--variant), for measuring candidate rules.
TRAIN_OPTIONS: dict[str, float] = {}


def trained(
    seed: Sequence[LabelledItem],
    labelled: Sequence[LabelledItem],
    editor_weight: float | None,
    editor_share: float,
) -> theme_model.ThemeModel:
    """`model.train` on seed + editor labels; the model without labels is trained once per
    corpus (it is the same for every order and weight)."""
    if not labelled and id(seed) in _BASE:
        return _BASE[id(seed)]
    options: dict[str, Any] = {"editor_weight": editor_weight, "editor_share": editor_share}
    if editor_weight == 1.0:  # unweighted: the labels count as seed items, calibration too
        options["calibration_k"] = 0.0
    options.update(TRAIN_OPTIONS)
    model = theme_model.train([*seed, *as_editor(labelled)], editor_labels=len(labelled), **options)
    if not labelled:
        _BASE[id(seed)] = model
    return model


def curve(
    strategy: str,
    order_seed: int,
    seed: Sequence[LabelledItem],
    pool: Sequence[LabelledItem],
    evaluations: dict[str, Sequence[LabelledItem]],
    sizes: Sequence[int],
    editor_weight: float | None = None,
    editor_share: float = theme_model.EDITOR_SHARE,
) -> list[dict[str, Any]]:
    """One run: at each size, retrain on seed + that many editor labels and measure.
    `editor_weight` None: the model's own rule (`model.editor_weight_for`, the labels
    together weigh `editor_share` of the fit)."""
    rng = random.Random(order_seed)
    remaining = list(pool)
    rng.shuffle(remaining)
    labelled: list[LabelledItem] = []
    out = []
    model = None
    for size in sizes:
        wanted = size - len(labelled)
        if wanted > 0 and strategy == "uncertain" and model is not None:
            chosen = set(most_uncertain(model, remaining, wanted))
            labelled += [remaining[i] for i in sorted(chosen)]
            remaining = [item for i, item in enumerate(remaining) if i not in chosen]
        elif wanted > 0:  # random order (or the first batch: nothing to be unsure with)
            labelled += remaining[:wanted]
            remaining = remaining[wanted:]
        model = trained(seed, labelled, editor_weight, editor_share)
        point: dict[str, Any] = {"labels": len(labelled), "weight": model.editor_weight}
        for name, items in evaluations.items():
            f = figures(model, items)
            point[name] = {
                "macro_f1": f["macro_f1"],
                "precision": f["relevance"]["precision"],
                "dig_recall": f["themes"]["donnees_interet_general"]["recall"],
            }
        out.append(point)
    return out


def mean_curve(runs: list[list[dict[str, Any]]], evaluation: str) -> list[dict[str, Any]]:
    rows = []
    for k, first in enumerate(runs[0]):
        values = [run[k][evaluation] for run in runs]
        rows.append(
            {
                "labels": first["labels"],
                **{
                    key: round(sum(v[key] for v in values) / len(values), 3)
                    for key in ("macro_f1", "precision", "dig_recall")
                },
                "min_macro_f1": round(min(v["macro_f1"] for v in values), 3),
            }
        )
    return rows


def choose_weight(seeds: int, weights: Sequence[float]) -> dict[str, Any]:
    """Demo articles as labels and evaluation (never the held-out sets): macro-F1 on the
    demo evaluation part after 0 and 100 random labels, for each weight."""
    seed = load_seed()
    pool, evaluation = label_split(demo_items())
    size = min(100, len(pool))
    table: dict[str, Any] = {"pool": len(pool), "eval": len(evaluation), "labels": size}
    for weight in weights:
        runs = [
            curve("random", s, seed, pool, {"demo": evaluation}, (size,), editor_weight=weight)
            for s in range(seeds)
        ]
        table[str(weight)] = mean_curve(runs, "demo")[0]
    base = theme_model.train(seed)
    table["0 labels"] = figures(base, evaluation)["macro_f1"]
    return table


def pool_fold(item: LabelledItem, folds: int) -> int:
    """A pool item's cross-validation fold: fixed by its title, like `corpus.in_label_pool`."""
    return hashlib.sha256(item.title.encode()).digest()[1] % folds


def parse_options(text: str) -> dict[str, float]:
    """`key=value,…` (a `--variant` or one `--candidates` entry) → `model.train` options."""
    options: dict[str, float] = {}
    for pair in filter(None, text.split(",")):
        key, _, value = pair.partition("=")
        options[key.strip()] = float(value)
    return options


def choose_share(
    seeds: int,
    candidates: Sequence[str],
    sizes: Sequence[int],
    folds: int = 3,
    without: Sequence[str] = (),
) -> dict[str, Any]:
    """Cross-validation on the press label pool (never a held-out set): each fold of the
    pool is evaluated in turn, the labels drawn at random from the other folds; macro-F1
    averaged over folds and `seeds` draws, for each candidate — `model.train` options
    such as `editor_share=0.5,calibration_k=15` (`editor_share=0`: the fixed
    EDITOR_WEIGHT). The base corpus leaves out the training files of the kinds in
    `without`, as `--base-without` does for the curve."""
    seed = load_seed(without=tuple(without))
    pool = load_pool("press")
    table: dict[str, Any] = {
        "train": len(seed),
        "base_without": list(without),
        "pool": len(pool),
        "folds": folds,
        "seeds": seeds,
        "sizes": list(sizes),
    }
    scores: dict[str, dict[int, list[float]]] = {}
    base: list[float] = []
    for k in range(folds):
        evaluation = [i for i in pool if pool_fold(i, folds) == k]
        source = [i for i in pool if pool_fold(i, folds) != k]
        base.append(figures(trained(seed, [], None, 0.0), evaluation)["macro_f1"])
        for candidate in candidates:
            options = parse_options(candidate)
            share = options.pop("editor_share", theme_model.EDITOR_SHARE)
            saved = dict(TRAIN_OPTIONS)
            TRAIN_OPTIONS.update(options)
            try:
                for s in range(seeds):
                    run = curve(
                        "random", 1000 * k + s, seed, source, {"fold": evaluation},
                        [n for n in sizes if n <= len(source)],
                        editor_weight=None if share else theme_model.EDITOR_WEIGHT,
                        editor_share=share,
                    )  # fmt: skip
                    for point in run:
                        scores.setdefault(candidate, {}).setdefault(point["labels"], []).append(
                            point["fold"]["macro_f1"]
                        )
            finally:
                TRAIN_OPTIONS.clear()
                TRAIN_OPTIONS.update(saved)
            print(f"fold {k}, {candidate}: {scores[candidate]}", file=sys.stderr, flush=True)
    table["0 labels"] = round(sum(base) / len(base), 3)
    table["candidates"] = {
        candidate: {n: round(sum(v) / len(v), 3) for n, v in by_size.items()}
        for candidate, by_size in scores.items()
    }
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="random orders averaged")
    parser.add_argument("--pool-demo", action="store_true", help="demo articles join the pool")
    parser.add_argument("--choose-weight", action="store_true")
    parser.add_argument(
        "--pool-press",
        action="store_true",
        help="pool = seed/pool_press, evaluation = seed/heldout_press (and the other sets)",
    )
    parser.add_argument(
        "--choose-share", action="store_true", help="EDITOR_SHARE by cross-validation on pool_press"
    )
    parser.add_argument(
        "--strategies",
        default="random,random_unweighted,uncertain",
        help="comma-separated: random, random_unweighted, random_fixed, uncertain, "
        "uncertain_unweighted",
    )
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="label counts")
    parser.add_argument(
        "--shares", default="0,0.15,0.3,0.5", help="--choose-share: shares tried (0: fixed weight)"
    )
    parser.add_argument(
        "--candidates",
        default="",
        help="--choose-share: ';'-separated model.train options tried, e.g. "
        "'editor_share=0.3;editor_share=0.5,calibration_k=15' (instead of --shares)",
    )
    parser.add_argument("--folds", type=int, default=3, help="--choose-share: pool folds")
    parser.add_argument(
        "--no-whole-pool", action="store_true", help="stop at the largest size of --sizes"
    )
    parser.add_argument(
        "--short-base",
        action="store_true",
        help="start from the short seed items only: a model that never saw long articles",
    )
    parser.add_argument(
        "--base-without",
        default="",
        help="comma-separated kinds of training files left out of the base corpus "
        "(press: seed/long/press_*.jsonl): a model that never saw the pool's kind of news",
    )
    parser.add_argument(
        "--variant",
        default="",
        help="key=value,… passed to model.train (e.g. calibration_k=50,boost_wrong=2)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    TRAIN_OPTIONS.update(parse_options(args.variant))
    warnings.simplefilter("ignore")  # tiny folds: scikit-learn warns about rare label sets
    began = time.perf_counter()
    if args.choose_weight:
        table = choose_weight(args.seeds, (1.0, 2.0, 3.0, 5.0, 10.0))
        table["seconds"] = round(time.perf_counter() - began, 1)
        print(json.dumps(table, indent=None if args.json else 1))
        return 0
    wanted_sizes = [int(n) for n in args.sizes.split(",")]
    without = tuple(kind for kind in args.base_without.split(",") if kind)
    if args.choose_share:
        candidates = [c for c in args.candidates.split(";") if c] or [
            f"editor_share={x}" for x in args.shares.split(",")
        ]
        sizes = [n for n in wanted_sizes if n]
        table = choose_share(args.seeds, candidates, sizes, args.folds, without)
        table["seconds"] = round(time.perf_counter() - began, 1)
        print(json.dumps(table, indent=None if args.json else 1))
        return 0
    seed = load_seed(long=not args.short_base, without=without)
    evaluations: dict[str, Sequence[LabelledItem]]
    if args.pool_press:
        pool = load_pool("press")
        evaluations = {
            "heldout_press": load_heldout("press"),
            "heldout_long": load_heldout("long"),
            "heldout": load_heldout("short"),
        }
    else:
        pool, evaluation = label_split(load_heldout("long"))
        if args.pool_demo:
            pool += demo_items()
        evaluations = {"heldout_long_eval": evaluation, "heldout": load_heldout("short")}
    sizes = [n for n in wanted_sizes if n < len(pool)]
    if not args.no_whole_pool:
        sizes.append(len(pool))  # and the whole pool
    orders = range(args.seeds)
    plans = {
        "random": lambda s: curve("random", s, seed, pool, evaluations, sizes),
        "random_unweighted": lambda s: curve(
            "random", s, seed, pool, evaluations, sizes, editor_weight=1.0
        ),
        "random_fixed": lambda s: curve(
            "random", s, seed, pool, evaluations, sizes, editor_weight=theme_model.EDITOR_WEIGHT
        ),
        "uncertain": lambda s: curve("uncertain", s, seed, pool, evaluations, sizes),
        "uncertain_unweighted": lambda s: curve(
            "uncertain", s, seed, pool, evaluations, sizes, editor_weight=1.0
        ),
    }
    strategies = [name for name in args.strategies.split(",") if name in plans]
    runs: dict[str, list[list[dict[str, Any]]]] = {
        name: [plans[name](s) for s in (orders if name.startswith("random") else range(1))]
        for name in strategies
    }
    table: dict[str, Any] = {
        "train": len(seed),
        "pool": len(pool),
        "pool_demo": args.pool_demo,
        "pool_press": args.pool_press,
        "evaluated": {name: len(items) for name, items in evaluations.items()},
        "short_base": args.short_base,
        "base_without": list(without),
        "variant": TRAIN_OPTIONS,
        "seeds": args.seeds,
        "editor_weight": theme_model.EDITOR_WEIGHT,
        "editor_share": theme_model.EDITOR_SHARE,
        "weights": {name: [p["weight"] for p in r[0]] for name, r in runs.items()},
        "curves": {
            strategy: {name: mean_curve(r, name) for name in evaluations}
            for strategy, r in runs.items()
        },
        "seconds": round(time.perf_counter() - began, 1),
    }
    if args.json:
        sys.stdout.write(json.dumps(table) + "\n")
        return 0
    print(
        f"train {len(seed)}, label pool {len(pool)}, evaluated on "
        + ", ".join(f"{name} ({len(items)})" for name, items in evaluations.items())
        + f"; random: mean of {args.seeds} orders; editor weight per size: {table['weights']}"
    )
    for name in evaluations:
        print(f"\n{name}: macro-F1 (on-topic precision, donnees_interet_general recall)")
        print(f"{'labels':>6}  " + "  ".join(f"{s:>22}" for s in strategies))
        for k, n in enumerate(sizes):
            cells = []
            for strategy in strategies:
                row = table["curves"][strategy][name][k]
                cells.append(
                    f"{row['macro_f1']:.3f} ({row['precision']:.2f}, {row['dig_recall']:.2f})"
                )
            print(f"{n:6d}  " + "  ".join(f"{c:>22}" for c in cells))
    print(f"\n({table['seconds']} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
