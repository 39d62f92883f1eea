"""Quality figures of a theme classifier: per theme, macro-F1, and on-topic detection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from veille.sources import THEME_IDS


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def metrics(
    truth: Sequence[frozenset[str]],
    predicted: Sequence[frozenset[str]],
    themes: Sequence[str] = THEME_IDS,
) -> dict[str, Any]:
    """`{"macro_f1", "themes": {id: {precision, recall, f1, support}}, "relevance": {...}}`.

    Relevance is on-topic detection: an item is on-topic when it has at least one theme.
    """
    if len(truth) != len(predicted):
        raise ValueError("truth and predictions differ in length")
    per_theme: dict[str, dict[str, float]] = {}
    for theme in themes:
        tp = sum(1 for t, p in zip(truth, predicted, strict=True) if theme in t and theme in p)
        fp = sum(1 for t, p in zip(truth, predicted, strict=True) if theme not in t and theme in p)
        fn = sum(1 for t, p in zip(truth, predicted, strict=True) if theme in t and theme not in p)
        per_theme[theme] = {**_prf(tp, fp, fn), "support": sum(1 for t in truth if theme in t)}
    tp = sum(1 for t, p in zip(truth, predicted, strict=True) if t and p)
    fp = sum(1 for t, p in zip(truth, predicted, strict=True) if not t and p)
    fn = sum(1 for t, p in zip(truth, predicted, strict=True) if t and not p)
    macro = sum(m["f1"] for m in per_theme.values()) / len(themes) if themes else 0.0
    return {"macro_f1": round(macro, 4), "themes": per_theme, "relevance": _prf(tp, fp, fn)}
