"""The theme model: train, save, load, predict, explain.

One logistic regression per theme over shared TF-IDF features (words and character
n-grams of the lead, words of the body: `features.document`). The delegate's labels weigh
more than a seed item in every fit (`editor_weight_for`), and more again in calibration
and thresholds (`calibration_weights`). scikit-learn fits it; the fitted model
keeps only plain arrays (the vectorisers' vocabularies and idf, each theme's weights and
intercept), so loading and applying it — what every collection cycle does — needs numpy
and scipy but not scikit-learn (~0.8 s of imports and ~75 MB).

Probabilities are calibrated with Platt scaling fitted on out-of-fold scores, and each
theme's threshold is the one that maximises F1 on those out-of-fold probabilities: the
cross-validation that reports the figures also chooses the thresholds, honestly (the
vectoriser is refitted inside each fold). A linear model keeps every decision explainable:
the terms that pushed a theme up are the largest `tf-idf × weight` products.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import io
import pickle
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from veille.classify.evaluate import metrics
from veille.classify.features import FeatureSet, build_vectorizer, document, feature_names
from veille.classify.passages import PassageModel, fit_passage_model, with_passages
from veille.sources import THEME_IDS

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

# 6: the vectorisers' vocabularies as `vocabulary.Vocabulary` (the terms as one byte
# string, looked up by hash: ~17 MB less in every process that loads the model); the
# same columns, hence the same probabilities. Blobs of formats 2–5 hold `{term: column}`
# dicts: unpickling converts them (`features._Tfidf.__setstate__`).
# 5: passage evidence (`passages`): the best passage of the whole text counts, less a
# margin; models of format ≤ 4 have no passage model and read as they were trained.
# 4: the lead and the body of the text in blocks of their own (`features.part_of`).
# 3: weights as arrays and vectorisers free of scikit-learn classes. 2: character n-grams
# by `features.CharNgramVectorizer`; 1: sklearn's char_wb vectoriser. Blobs of formats 1
# and 2 (scikit-learn objects) still load, converted by `loads`, and predict the same;
# the vectorisers of formats 1–3 read the title twice and the first 1000 characters, as
# they were trained to.
FORMAT = 6
_READABLE_FORMATS = frozenset({1, 2, 3, 4, 5, 6})
# Formats whose model is what training gives today, written otherwise: a cached default
# model of one of them is converted (`classifier.default_model`) rather than retrained.
SAME_MODEL_FORMATS = (5,)
C = 8.0
SEED = 20261125
# How much more one of the delegate's labels (origin "editor") counts than a seed item when
# fitting: her labels are real articles of her sources, the seed items written for the
# project. A fixed factor makes a few labels count for little against a corpus of
# thousands, so together her labels weigh at least EDITOR_SHARE of the fit (each label
# weighs EDITOR_SHARE / (1 − EDITOR_SHARE) × seed items / labels, at least EDITOR_WEIGHT,
# at most EDITOR_WEIGHT_MAX so that one label alone cannot outweigh the corpus).
# EDITOR_WEIGHT was chosen on the demo articles (benchmarks/learning_curve.py
# --choose-weight), EDITOR_SHARE by cross-validation on the press label pool
# (--choose-share); never on the held-out sets.
EDITOR_WEIGHT = 5.0
EDITOR_SHARE = 0.3
EDITOR_WEIGHT_MAX = 40.0
# Calibration and thresholds judge what the model will read: the delegate's sources, of
# which her labels are the only sample; the seed items are a prior. So her n labels weigh
# at least n / (n + CALIBRATION_K) of the Platt fits and of the threshold choice (25
# labels a third, 100 two thirds), more than their EDITOR_SHARE of the coefficients' fit:
# a theme whose threshold suits the seed's writers but misses real news moves with them.
# Measured on the shifted-domain learning curve (docs/themes.md « Teaching the model »).
CALIBRATION_K = 50.0
# How much more a label the cross-validation got wrong weighs in the final fits (1: no
# more). 2 was measured: it added nothing on top of CALIBRATION_K, so it is off.
WRONG_LABEL_BOOST = 1.0
# Large enough that each distinct word is cut into n-grams few times, small enough that a
# chunk's feature matrix stays ~25 MB.
PREDICT_CHUNK = 2000


@dataclass(frozen=True)
class LabelledItem:
    title: str
    text: str
    labels: frozenset[str]
    lang: str | None = None
    origin: str = "seed"  # "editor": the delegate's label, weighted EDITOR_WEIGHT in training


@dataclass
class ThemeModel:
    """Everything needed to classify, pickled as one blob."""

    version: str
    themes: tuple[str, ...]
    vectorizer: FeatureSet
    weights: np.ndarray  # features × themes: each theme's logistic-regression coefficients
    intercepts: np.ndarray  # one per theme
    platt: dict[str, tuple[float, float]]
    thresholds: dict[str, float]
    training_size: int
    editor_labels: int = 0
    cv_metrics: dict[str, Any] = field(default_factory=dict)
    editor_weight: float = EDITOR_WEIGHT  # what each editor label weighed in the fit
    format: int = FORMAT
    # The word model of passages (`passages`); None for models trained without passage
    # evidence (format ≤ 4: the class default is what their unpickled state falls back to).
    passages: PassageModel | None = None


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
_MMAP_THRESHOLD = 1 << 20


def limit_heap_growth() -> None:
    """Let glibc give every array above 1 MiB back to the system as soon as it is freed.

    Training allocates and frees hundreds of MB of mid-sized arrays per fold. glibc's
    default raises its mmap threshold after each such free, so later arrays land in a heap
    that fragments and never shrinks: a 6,000-item training then peaks ~40% higher (and a
    long-running scheduler keeps it). A fixed threshold costs nothing measurable. No-op
    where the C library is not glibc.
    """
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)


def _fit_lr(x: Any, y: np.ndarray, weights: np.ndarray | None = None) -> LogisticRegression:
    from sklearn.linear_model import LogisticRegression

    # The dual formulation: far fewer documents than features, so it converges ~40× faster
    # than liblinear's primal solver to the same optimum (coefficients equal to 1e-3). Its
    # coordinate descent visits samples in random order: seeded, for reproducible models.
    clf = LogisticRegression(
        C=C,
        class_weight="balanced",
        max_iter=2000,
        solver="liblinear",
        dual=True,
        random_state=SEED,
    )
    clf.fit(x, y, sample_weight=weights)
    return clf


def _platt(
    scores: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e4, solver="lbfgs")
    lr.fit(scores.reshape(-1, 1), y, sample_weight=weights)
    return float(lr.coef_[0][0]), float(lr.intercept_[0])


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


def _best_threshold(probs: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> float:
    """The threshold with the best (weighted) F1 on out-of-fold probabilities."""
    w = np.ones(len(y)) if weights is None else weights
    best_t, best_f1 = 0.5, -1.0
    for t in np.arange(0.2, 0.81, 0.02):
        pred = probs >= t
        tp = float(np.sum(w[pred & (y == 1)]))
        fp = float(np.sum(w[pred & (y == 0)]))
        fn = float(np.sum(w[~pred & (y == 1)]))
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f1 > best_f1 + 1e-9:
            best_t, best_f1 = float(t), f1
    return round(best_t, 2)


def _matrix(items: Sequence[LabelledItem], themes: Sequence[str]) -> np.ndarray:
    return np.array([[1 if t in it.labels else 0 for t in themes] for it in items], dtype=int)


def sample_weights(items: Sequence[LabelledItem], editor_weight: float) -> np.ndarray:
    """Each item's weight in the fit: the delegate's labels count `editor_weight` times."""
    return np.array([editor_weight if it.origin == "editor" else 1.0 for it in items])


def editor_weight_for(items: Sequence[LabelledItem], share: float = EDITOR_SHARE) -> float:
    """The weight of one editor label, so that all of them weigh `share` of the fit
    (between EDITOR_WEIGHT and EDITOR_WEIGHT_MAX): 100 labels against 1,360 seed items
    weigh ~5.8 each at a share of 0.3, 25 labels ~23."""
    editors = sum(1 for it in items if it.origin == "editor")
    if not editors or share <= 0:
        return EDITOR_WEIGHT
    wanted = share / (1 - share) * (len(items) - editors) / editors
    return float(min(EDITOR_WEIGHT_MAX, max(EDITOR_WEIGHT, wanted)))


def calibration_weights(items: Sequence[LabelledItem], weights: np.ndarray, k: float) -> np.ndarray:
    """Weights for calibration and thresholds: the delegate's n labels together weigh at
    least n / (n + k) of them (k ≤ 0: the fit's own weights), each never less than in the
    fit."""
    editor = np.array([it.origin == "editor" for it in items])
    n = int(editor.sum())
    if k <= 0 or not n or n == len(items):
        return weights
    share = n / (n + k)
    each = share / (1 - share) * float(weights[~editor].sum()) / n
    return np.where(editor, np.maximum(weights, each), weights)


def corpus_version(items: Sequence[LabelledItem]) -> str:
    digest = hashlib.sha256()
    for it in items:
        digest.update(f"{it.title}\x00{it.text}\x00{','.join(sorted(it.labels))}\n".encode())
    return digest.hexdigest()[:12]


def train(
    items: Sequence[LabelledItem],
    *,
    themes: Sequence[str] = THEME_IDS,
    folds: int = 5,
    editor_labels: int = 0,
    editor_weight: float | None = None,
    editor_share: float = EDITOR_SHARE,
    calibration_k: float = CALIBRATION_K,
    boost_wrong: float = WRONG_LABEL_BOOST,
) -> ThemeModel:
    """Cross-validate (figures, calibration, thresholds), then fit on everything; items of
    origin "editor" weigh `editor_weight` times a seed item in every fit (by default
    `editor_weight_for(items, editor_share)`), at least n / (n + `calibration_k`) of the
    calibration and thresholds (`calibration_weights`), and `boost_wrong` times more in
    the final fits when the cross-validation got them wrong."""
    from sklearn.model_selection import StratifiedKFold

    if len(items) < folds * 2:
        raise ValueError(f"need at least {folds * 2} labelled items, got {len(items)}")
    limit_heap_growth()
    docs = [document(it.title, it.text) for it in items]
    texts = [it.text for it in items]
    themes_at = range(len(themes))
    y = _matrix(items, themes)
    if editor_weight is None:
        editor_weight = editor_weight_for(items, editor_share)
    weights = sample_weights(items, editor_weight)
    oof = np.zeros(y.shape, dtype=float)
    # Stratify on the label combination so every fold sees each theme and off-topic items.
    strata = [",".join(sorted(it.labels)) or "-" for it in items]
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    for train_idx, val_idx in splitter.split(docs, strata):
        vec = build_vectorizer()
        x_train = vec.fit_transform([docs[i] for i in train_idx])
        x_val = vec.transform([docs[i] for i in val_idx])
        folded = [_fit_lr(x_train, y[train_idx, j], weights[train_idx]) for j in themes_at]
        coef = np.column_stack([clf.coef_[0] for clf in folded])
        bias = np.array([clf.intercept_[0] for clf in folded])
        # Out-of-fold scores as `scores` will give them: with passage evidence, so that
        # calibration and thresholds judge the combined decision.
        fold_passages = fit_passage_model(
            [texts[i] for i in train_idx], y[train_idx], weights[train_idx], _fit_lr
        )
        oof[val_idx] = with_passages(
            fold_passages, np.asarray(x_val @ coef) + bias, [texts[i] for i in val_idx]
        )[0]
        del vec, x_train, x_val, folded, fold_passages
    platt: dict[str, tuple[float, float]] = {}
    thresholds: dict[str, float] = {}
    oof_probs = np.zeros(y.shape)
    cal_weights = calibration_weights(items, weights, calibration_k)
    for j, theme in enumerate(themes):
        platt[theme] = _platt(oof[:, j], y[:, j], cal_weights)
        a, b = platt[theme]
        oof_probs[:, j] = _sigmoid(a * oof[:, j] + b)
        thresholds[theme] = _best_threshold(oof_probs[:, j], y[:, j], cal_weights)
    truth = [it.labels & set(themes) for it in items]
    predicted = [
        frozenset(t for j, t in enumerate(themes) if oof_probs[i, j] >= thresholds[t])
        for i in range(len(items))
    ]
    cv = metrics([frozenset(t) for t in truth], predicted, themes)
    if boost_wrong != 1.0:  # the labels the cross-validation got wrong (WRONG_LABEL_BOOST)
        wrong = np.array(
            [it.origin == "editor" and predicted[i] != truth[i] for i, it in enumerate(items)]
        )
        weights = np.where(wrong, weights * boost_wrong, weights)
    vec = build_vectorizer()
    x_all = vec.fit_transform(docs)
    fitted = [_fit_lr(x_all, y[:, j], weights) for j in range(len(themes))]
    return ThemeModel(
        version=f"{corpus_version(items)}-n{len(items)}",
        themes=tuple(themes),
        vectorizer=vec,
        weights=np.column_stack([clf.coef_[0] for clf in fitted]),
        intercepts=np.array([clf.intercept_[0] for clf in fitted]),
        platt=platt,
        thresholds=thresholds,
        training_size=len(items),
        editor_labels=editor_labels,
        editor_weight=editor_weight,
        cv_metrics=cv,
        passages=fit_passage_model(texts, y, weights, _fit_lr),
    )


def scores(
    model: ThemeModel, docs: Sequence[str], texts: Sequence[str] | None = None
) -> np.ndarray:
    """Each theme's decision score (before calibration; columns in `model.themes` order):
    what `Classifier.predict` combines over a story's sources before calibrating. With
    `texts` (each document's full text) and a model trained with passage evidence, the
    best passage of the text counts too (`passages.with_passages`)."""
    out = np.zeros((len(docs), len(model.themes)))
    passages = getattr(model, "passages", None) if texts is not None else None
    # In chunks: a chunk's feature matrix is what costs memory, the output is 3 floats each.
    for start in range(0, len(docs), PREDICT_CHUNK):
        end = start + PREDICT_CHUNK
        x = model.vectorizer.transform(list(docs[start:end]))
        decision = np.asarray(x @ model.weights) + model.intercepts
        if passages is not None and texts is not None:
            decision = with_passages(passages, decision, list(texts[start:end]))[0]
        out[start:end] = decision
    return out


def calibrated(model: ThemeModel, raw: np.ndarray) -> np.ndarray:
    """Decision scores → calibrated probabilities (each theme's Platt scaling)."""
    out = np.zeros(raw.shape)
    for j, theme in enumerate(model.themes):
        a, b = model.platt[theme]
        out[:, j] = _sigmoid(a * raw[:, j] + b)
    return out


def probabilities(
    model: ThemeModel, docs: Sequence[str], texts: Sequence[str] | None = None
) -> np.ndarray:
    """Calibrated probability of each theme (columns in `model.themes` order)."""
    return calibrated(model, scores(model, docs, texts))


def explain(
    model: ThemeModel, title: str, text: str, top: int = 8
) -> dict[str, list[tuple[str, float]]]:
    """The terms that pushed each theme up: largest tf-idf × coefficient products."""
    x = model.vectorizer.transform([document(title, text)]).tocsr()
    names = feature_names(model.vectorizer, x.indices)
    result: dict[str, list[tuple[str, float]]] = {}
    for j, theme in enumerate(model.themes):
        coef = model.weights[:, j]
        contrib = [
            (names[k], float(v * coef[i]))
            for k, (i, v) in enumerate(zip(x.indices, x.data, strict=True))
        ]
        contrib = [c for c in contrib if c[1] > 0]
        contrib.sort(key=lambda c: -c[1])
        # Word features read as reasons; character n-grams only back them up in the model.
        terms = [
            (name.partition(":")[2], round(value, 4))
            for name, value in contrib
            if name.startswith("words:")
        ][:top]
        result[theme] = terms
    return result


def dumps(model: ThemeModel) -> bytes:
    buffer = io.BytesIO()
    pickle.dump(model, buffer, protocol=pickle.HIGHEST_PROTOCOL)
    return buffer.getvalue()


def loads(blob: bytes) -> ThemeModel:
    """Load a model blob written by `dumps` (ours: stored in our own database)."""
    model = pickle.loads(blob)
    if not isinstance(model, ThemeModel) or model.format not in _READABLE_FORMATS:
        raise ValueError("stored model has an unknown format; retrain with `veille classify train`")
    return _upgraded(model) if model.format < 3 else model


def _upgraded(old: ThemeModel) -> ThemeModel:
    """A format 1 or 2 model (a FeatureUnion, one LogisticRegression per theme) in format 3:
    the same columns and coefficients, hence the same probabilities."""
    state = vars(old)
    classifiers = state.pop("classifiers")
    union = state.pop("vectorizer")
    fitted = [classifiers[theme] for theme in old.themes]
    return ThemeModel(
        **{
            **state,
            "vectorizer": FeatureSet(list(union.transformer_list)),
            "weights": np.column_stack([clf.coef_[0] for clf in fitted]),
            "intercepts": np.array([clf.intercept_[0] for clf in fitted]),
            "format": FORMAT,
        }
    )
