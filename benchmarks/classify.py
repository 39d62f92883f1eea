"""Classification speed and quality: predict 10,000 articles, train on seed + 5,000 labels.

Issue 3 targets: classify 10,000 articles in under 5 s through `Classifier.predict`; train
on the seed corpus plus 5,000 editor labels in under 60 s through `model.train`; peak RSS
under 500 MB.

Data, all generated deterministically from text the project already ships:

* **articles to classify** come from the demo site's bodies (`veille/demo/content/`): each
  is one demo article (title, lede, its paragraphs) lengthened with paragraphs of other
  demo articles until it weighs 2–5 KB of French text, the size of an extracted news page.
  Timed twice: with the language given (the pipeline passes what extraction found) and
  without, so that `Classifier.predict` runs its language detection.
* **editor labels** are variations of the seed *training* items: an item keeps its title
  (with a place name swapped in), and its text is lengthened to 2–5 KB with sentences of
  other seed items that carry the *same* label set, then sentences of off-topic seed items
  (the side matter of a real page). Labels stay those of the item. Built from the training
  part only, so the held-out corpus and the demo articles stay unseen for quality figures.

Run: python benchmarks/classify.py                 # speed table (train seed, predict, train 6k)
     python benchmarks/classify.py --quality       # seed model: CV, held-out, demo figures
     python benchmarks/classify.py --json          # machine-readable figures
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from veille.classify import model as theme_model  # noqa: E402
from veille.classify.classifier import Classifier, ClassItem  # noqa: E402
from veille.classify.corpus import load_heldout, load_seed, read_jsonl  # noqa: E402
from veille.classify.evaluate import metrics  # noqa: E402
from veille.classify.model import LabelledItem  # noqa: E402
from veille.demo.catalog import demo_manifest  # noqa: E402
from veille.sources import load_feeds_config  # noqa: E402

SEED = 31337
PLACES = (
    "Montclar-en-Vexin", "Saint-Aubin-des-Prés", "la métropole de Lyon", "Rennes",
    "le département du Gers", "la région Occitanie", "Brest métropole", "Villeneuve-sur-Lot",
    "la communauté de communes du Haut-Jura", "Grenoble-Alpes Métropole",
)  # fmt: skip


def peak_rss_mb() -> float:
    """Peak resident set of this process (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict[str, Any]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    import numpy
    import scipy
    import sklearn

    return {
        "date": time.strftime("%Y-%m-%d"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(ram_gb, 1),
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }


# --------------------------------------------------------------------------- data


def _sentences(text: str) -> list[str]:
    out, start = [], 0
    for i, ch in enumerate(text):
        if ch in ".!?" and (i + 1 == len(text) or text[i + 1] == " "):
            out.append(text[start : i + 1].strip())
            start = i + 1
    if text[start:].strip():
        out.append(text[start:].strip())
    return [s for s in out if s]


def articles_to_classify(n: int = 10_000) -> list[ClassItem]:
    """Demo articles lengthened to 2–5 KB with other demo articles' paragraphs."""
    rng = random.Random(SEED)
    demo = demo_manifest()
    pool = [p for a in demo for p in a.paragraphs]
    items: list[ClassItem] = []
    for i in range(n):
        art = demo[i % len(demo)]
        target = rng.randint(2000, 5000)
        parts = [art.lede, *art.paragraphs]
        size = sum(len(p) + 2 for p in parts)
        while size < target:
            extra = rng.choice(pool)
            parts.append(extra)
            size += len(extra) + 2
        text = "\n\n".join(parts)[:target]
        items.append(ClassItem(art.title, text))
    return items


def editor_labels(seed: Sequence[LabelledItem], n: int = 5_000) -> list[LabelledItem]:
    """Held-out-like variations of seed training items, 2–5 KB each, labels unchanged."""
    rng = random.Random(SEED + 1)
    by_labels: dict[frozenset[str], list[str]] = defaultdict(list)
    for it in seed:
        by_labels[it.labels].extend(_sentences(it.text))
    off_topic = by_labels[frozenset()]
    out: list[LabelledItem] = []
    for i in range(n):
        base = seed[rng.randrange(len(seed))]
        place = PLACES[i % len(PLACES)]
        title = f"{base.title} ({place})" if i % 3 else f"{place} : {base.title}"
        same = by_labels[base.labels]
        target = rng.randint(2000, 5000)
        sentences = [base.text]
        size = len(base.text)
        for _ in range(rng.randint(2, 6)):
            s = rng.choice(same)
            sentences.append(s)
            size += len(s) + 1
        while size < target:
            s = rng.choice(off_topic)
            sentences.append(s)
            size += len(s) + 1
        out.append(LabelledItem(title, " ".join(sentences)[:target], base.labels, base.lang))
    return out


def demo_items() -> list[LabelledItem]:
    """The demo site's original articles as a second unseen labelled set."""
    return [
        LabelledItem(a.title, " ".join([a.lede, *a.paragraphs]), frozenset(a.themes), "fr")
        for a in demo_manifest()
        if a.near_copy_of is None
    ]


def keywords() -> dict[str, tuple[str, ...]]:
    config = load_feeds_config(REPO / "feeds.yaml")
    return {t.id: tuple(t.keywords) for t in config.themes}


# --------------------------------------------------------------------------- quality


def evaluate(classifier: Classifier, items: Sequence[LabelledItem]) -> dict[str, Any]:
    predictions = classifier.predict([ClassItem(it.title, it.text, it.lang) for it in items])
    return metrics([it.labels for it in items], [frozenset(p.themes) for p in predictions])


def quality(model: theme_model.ThemeModel) -> dict[str, Any]:
    """CV (from training), held-out (short and long) and demo figures, model alone and with
    keyword rules."""
    heldout, held_long, demo = load_seed(heldout=True), load_heldout("long"), demo_items()
    held_press, held_news = load_heldout("press"), load_heldout("news")
    bare, ruled = Classifier(model), Classifier(model, keywords())
    row: dict[str, Any] = {"cv": model.cv_metrics}
    sets = [("heldout", heldout), ("heldout_long", held_long), ("heldout_press", held_press),
            ("heldout_news", held_news), ("demo", demo)]  # fmt: skip
    row["sizes"] = {name: len(items) for name, items in sets}
    for name, items in sets:
        row[name] = evaluate(bare, items)
        row[f"{name}+rules"] = evaluate(ruled, items)
    return row


def quality_line(name: str, q: dict[str, Any]) -> str:
    def f(m: dict[str, Any]) -> str:
        return f"{m['macro_f1']:.3f}/{m['relevance']['precision']:.3f}"

    cols = ["cv", "heldout", "heldout+rules", "heldout_long", "heldout_long+rules",
            "heldout_press", "heldout_press+rules", "heldout_news", "heldout_news+rules",
            "demo", "demo+rules"]  # fmt: skip
    return f"{name:<28}" + "".join(f"{f(q[c]):>16}" for c in cols)


def quality_header() -> str:
    cols = ["CV", "held-out", "held-out+rules", "long", "long+rules", "press", "press+rules",
            "demo", "demo+rules"]  # fmt: skip
    return f"{'macro-F1/on-topic prec.':<28}" + "".join(f"{c:>16}" for c in cols)


# --------------------------------------------------------------------------- word vectors


def doc_vectors(items: Sequence[LabelledItem], nlp: Any) -> Any:
    """Mean word vector (fr_core_news_md, stop words and punctuation left out), l2-normed,
    of what the TF-IDF features see: the title twice and the start of the text."""
    import numpy as np

    from veille.classify.features import MAX_TEXT_CHARS, clean_text

    texts = []
    for it in items:
        title = clean_text(it.title)
        texts.append(f"{title}. {title}. {clean_text(it.text)[:MAX_TEXT_CHARS]}")
    out = np.zeros((len(items), nlp.vocab.vectors_length), dtype=np.float32)
    for i, doc in enumerate(nlp.pipe(texts, batch_size=256)):
        vectors = [t.vector for t in doc if t.has_vector and not (t.is_stop or t.is_punct)]
        if vectors:
            mean = np.mean(vectors, axis=0)
            out[i] = mean / (np.linalg.norm(mean) or 1.0)
    return out


def vector_model(
    items: Sequence[LabelledItem], vectors: Any, mode: str, weight: float
) -> tuple[Any, dict[str, Any]]:
    """`model.train`'s recipe (5 folds, vectoriser refitted per fold, Platt on out-of-fold
    scores, per-theme F1-best thresholds) over TF-IDF, TF-IDF + weight × vectors, or
    vectors alone. Returns a predict function over (items, their vectors) and CV figures."""
    import numpy as np
    from scipy import sparse
    from sklearn.model_selection import StratifiedKFold

    from veille.classify.features import build_vectorizer, document

    themes = theme_model.THEME_IDS
    docs = [document(it.title, it.text) for it in items]
    y = theme_model._matrix(items, themes)

    def features(vec: Any, idx: Any, fit: bool, some_docs: list[str], some_vectors: Any) -> Any:
        parts = []
        if mode != "vec":
            parts.append(vec.fit_transform(some_docs) if fit else vec.transform(some_docs))
        if mode != "tfidf":
            parts.append(sparse.csr_matrix(weight * some_vectors))
        return sparse.hstack(parts, format="csr")

    oof = np.zeros(y.shape)
    strata = [",".join(sorted(it.labels)) or "-" for it in items]
    splitter = StratifiedKFold(n_splits=5, shuffle=True, random_state=theme_model.SEED)
    for tr, va in splitter.split(docs, strata):
        vec = build_vectorizer()
        x_tr = features(vec, tr, True, [docs[i] for i in tr], vectors[tr])
        x_va = features(vec, va, False, [docs[i] for i in va], vectors[va])
        for j in range(len(themes)):
            oof[va, j] = theme_model._fit_lr(x_tr, y[tr, j]).decision_function(x_va)
    platt, thresholds = {}, {}
    for j, t in enumerate(themes):
        platt[t] = theme_model._platt(oof[:, j], y[:, j])
        probs = theme_model._sigmoid(platt[t][0] * oof[:, j] + platt[t][1])
        thresholds[t] = theme_model._best_threshold(probs, y[:, j])

    def predicted(probs: Any) -> list[frozenset[str]]:
        return [
            frozenset(t for j, t in enumerate(themes) if row[j] >= thresholds[t]) for row in probs
        ]

    oof_probs = np.column_stack(
        [theme_model._sigmoid(platt[t][0] * oof[:, j] + platt[t][1]) for j, t in enumerate(themes)]
    )
    cv = metrics([it.labels for it in items], predicted(oof_probs), themes)
    vec = build_vectorizer()
    x_all = features(vec, None, True, docs, vectors)
    classifiers = [theme_model._fit_lr(x_all, y[:, j]) for j in range(len(themes))]

    def predict(others: Sequence[LabelledItem], other_vectors: Any) -> list[frozenset[str]]:
        other_docs = [document(it.title, it.text) for it in others]
        x = features(vec, None, False, other_docs, other_vectors)
        probs = np.column_stack(
            [
                theme_model._sigmoid(platt[t][0] * clf.decision_function(x) + platt[t][1])
                for t, clf in zip(themes, classifiers, strict=True)
            ]
        )
        return predicted(probs)

    return predict, cv


def word_vector_experiment() -> list[dict[str, Any]]:
    """TF-IDF alone vs TF-IDF + averaged word vectors vs vectors alone (model only, no
    keyword rules), trained on the seed corpus, judged on held-out and demo articles.
    Needs spaCy and fr-core-news-md, which the project does not depend on."""
    import spacy

    nlp = spacy.load("fr_core_news_md", exclude=["tok2vec", "morphologizer", "parser",
                     "senter", "ner", "attribute_ruler", "lemmatizer"])  # fmt: skip
    seed, heldout, demo = load_seed(), load_seed(heldout=True), demo_items()
    held_long = load_heldout("long")
    (v_seed, t_seed), (v_held, _), (v_demo, _), (v_long, _) = (
        timed(doc_vectors, s, nlp) for s in (seed, heldout, demo, held_long)
    )
    rows = []
    configs = [("tfidf", 0.0), ("tfidf+vec", 0.5), ("tfidf+vec", 1.0), ("tfidf+vec", 2.0),
               ("vec", 1.0)]  # fmt: skip
    for mode, weight in configs:
        (predict, cv), seconds = timed(vector_model, seed, v_seed, mode, weight)
        row: dict[str, Any] = {"mode": mode, "weight": weight, "train_s": seconds, "cv": cv}
        for name, its, vecs in (
            ("heldout", heldout, v_held),
            ("heldout_long", held_long, v_long),
            ("demo", demo, v_demo),
        ):
            row[name] = metrics([it.labels for it in its], predict(its, vecs))
        rows.append(row)
    rows.append({"vectors_seed_s": t_seed, "seed_items": len(seed)})
    return rows


# --------------------------------------------------------------------------- speed


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, dict[str, float]]:
    """Wall and CPU seconds: CPU time stays honest when other jobs share the machine."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return result, {
        "wall": round(time.perf_counter() - wall, 2),
        "cpu": round(time.process_time() - cpu, 2),
    }


def forget_words(model: theme_model.ThemeModel) -> None:
    """Empty the character vectoriser's word → n-gram columns memory (a new batch of
    articles brings words never seen)."""
    for _, vectorizer in model.vectorizer.transformer_list:
        vectorizer.__dict__.pop("_word_columns", None)


def predict_phase(n_articles: int) -> dict[str, Any]:
    """Seed training, then 10,000 articles through `Classifier.predict`; own process."""
    seed = load_seed()
    figures: dict[str, Any] = {"seed_items": len(seed)}
    model, figures["train_seed_s"] = timed(theme_model.train, seed)
    figures["seed_quality"] = quality(model)
    articles = articles_to_classify(n_articles)
    sizes = [len(a.title) + len(a.text) for a in articles]
    figures["articles"] = len(articles)
    figures["article_kb"] = [round(min(sizes) / 1000, 1), round(sum(sizes) / len(sizes) / 1000, 1),
                             round(max(sizes) / 1000, 1)]  # fmt: skip
    classifier = Classifier(model, keywords())
    classifier.predict(articles[:50])  # warm-up: regex compilation, lazy imports
    # The pipeline passes the language extraction found; without it predict detects it.
    known = [ClassItem(a.title, a.text, "fr") for a in articles]
    # Each run starts from the same state: the character vectoriser remembers the n-gram
    # columns of the words it has seen, so without this a later run reads the words of the
    # earlier ones for free (it made « without rules » look ~1 s cheaper than it is).
    forget_words(model)
    predictions, figures["predict_s"] = timed(classifier.predict, known)
    figures["predict_on_topic"] = sum(p.on_topic for p in predictions)
    del predictions
    forget_words(model)
    _, figures["predict_detect_s"] = timed(classifier.predict, articles)
    forget_words(model)
    _, figures["predict_no_rules_s"] = timed(Classifier(model).predict, known)
    _, figures["predict_warm_s"] = timed(classifier.predict, known)
    figures["peak_rss_mb"] = peak_rss_mb()
    return figures


def train_phase(n_labels: int) -> dict[str, Any]:
    """Seed + editor labels through `model.train`; own process, so its peak RSS is its own."""
    seed = load_seed()
    labels = editor_labels(seed, n_labels)
    items = seed + labels
    big, figures = timed(theme_model.train, items, editor_labels=len(labels))
    out: dict[str, Any] = {"train_big_s": figures, "train_big_items": len(items)}
    out["peak_rss_mb"] = peak_rss_mb()
    out["train_big_cv"] = big.cv_metrics
    out["train_big_heldout"] = evaluate(Classifier(big), load_seed(heldout=True))
    out["train_big_demo"] = evaluate(Classifier(big), demo_items())
    return out


def run_phase(phase: str, size: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--phase", phase, "--size", str(size)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def speed(n_articles: int, n_labels: int) -> dict[str, Any]:
    predict = run_phase("predict", n_articles)
    train = run_phase("train", n_labels)
    return {
        **{k: v for k, v in predict.items() if k != "peak_rss_mb"},
        **{k: v for k, v in train.items() if k != "peak_rss_mb"},
        "predict_peak_rss_mb": predict["peak_rss_mb"],
        "train_peak_rss_mb": train["peak_rss_mb"],
    }


def s(t: dict[str, float]) -> str:
    return f"{t['wall']:.2f} / {t['cpu']:.2f} s"


def print_speed(fig: dict[str, Any], info: dict[str, Any]) -> None:
    print(f"{info['date']}  {info['nproc']} CPU {info['cpu']}, {info['ram_gb']} GB RAM, "
          f"Python {info['python']}, scikit-learn {info['sklearn']}, "
          f"load avg {info['load_avg_1min']}")  # fmt: skip
    kb = fig["article_kb"]
    rows = [
        ("train on seed", f"{fig['seed_items']} items", s(fig["train_seed_s"]), "-"),
        ("predict, language known",
         f"{fig['articles']} articles, {kb[0]}–{kb[2]} KB (mean {kb[1]})",
         s(fig["predict_s"]), "< 5 s"),
        ("predict, language detected", "same articles, no language given",
         s(fig["predict_detect_s"]), "-"),
        ("predict, no keyword rules", "same articles, language known",
         s(fig["predict_no_rules_s"]), "-"),
        ("predict again, words known", "same articles, rules, second run",
         s(fig["predict_warm_s"]), "-"),
        ("train seed + editor labels", f"{fig['train_big_items']} items",
         s(fig["train_big_s"]), "< 60 s"),
        ("peak RSS, predict process", "seed training + the 3 predict runs",
         f"{fig['predict_peak_rss_mb']:.0f} MB", "< 500 MB"),
        ("peak RSS, train process", "seed + editor labels",
         f"{fig['train_peak_rss_mb']:.0f} MB", "< 500 MB"),
    ]  # fmt: skip
    print(f"{'step':<30}{'size':<44}{'wall / CPU':>18}{'target':>12}")
    for step, size, value, target in rows:
        print(f"{step:<30}{size:<44}{value:>18}{target:>12}")
    print()
    print(f"predict: {fig['predict_on_topic']} of {fig['articles']} on-topic; "
          f"throughput {fig['articles'] / fig['predict_s']['wall']:.0f} articles/s")  # fmt: skip
    big = fig["train_big_cv"]
    print(
        f"6k model: CV macro-F1 {big['macro_f1']:.3f}, held-out "
        f"{fig['train_big_heldout']['macro_f1']:.3f}, demo {fig['train_big_demo']['macro_f1']:.3f}"
    )
    print()
    print(quality_header())
    print(quality_line("seed model", fig["seed_quality"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quality", action="store_true", help="seed model quality only")
    parser.add_argument(
        "--extra",
        nargs="*",
        default=[],
        help="--quality: JSONL files of candidate training items trained on with the seed",
    )
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--labels", type=int, default=5_000)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--word-vectors", action="store_true", help="TF-IDF vs word vectors (needs spaCy)"
    )
    parser.add_argument("--phase", choices=("predict", "train"), help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        run = predict_phase if args.phase == "predict" else train_phase
        print(json.dumps(run(args.size)))
        return 0
    info = machine()
    if args.word_vectors:
        rows = word_vector_experiment()
        if args.json:
            print(json.dumps({"machine": info, "rows": rows}))
            return 0
        print(
            f"{'features':<22}{'CV':>14}{'held-out':>14}{'held-out long':>14}{'demo':>14}"
            "  (macro-F1/on-topic prec.)"
        )
        for row in rows[:-1]:
            name = row["mode"] + (f" w={row['weight']}" if row["mode"] == "tfidf+vec" else "")
            cells = "".join(
                f"{row[k]['macro_f1']:.3f}/{row[k]['relevance']['precision']:.3f}".rjust(14)
                for k in ("cv", "heldout", "heldout_long", "demo")
            )
            print(f"{name:<22}{cells}")
        print(
            f"doc vectors for {rows[-1]['seed_items']} seed items: {s(rows[-1]['vectors_seed_s'])}"
        )
        return 0
    if args.quality:
        extra = [item for path in args.extra for item in read_jsonl(Path(path))]
        model, seconds = timed(theme_model.train, [*load_seed(), *extra])
        q = quality(model)
        if args.json:
            print(json.dumps({"machine": info, "train_seed_s": seconds, "extra": len(extra),
                              "quality": q}))  # fmt: skip
        else:
            print(f"trained on seed in {s(seconds)} (wall / CPU)")
            print(quality_header())
            print(quality_line("seed model", q))
        return 0
    fig = speed(args.articles, args.labels)
    if args.json:
        print(json.dumps({"machine": info, **fig}))
    else:
        print_speed(fig, info)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
