"""Certainty in words: « sûr », « probable », « à vérifier », « hors thème ».

A percentage reads as more precise than a model is, and 55 % means « sure » for a theme
whose threshold is 0.30 but « to check » for one whose threshold is 0.52: the word says
where the calibrated probability sits relative to the theme's threshold (docs/themes.md,
« Certainty »). Pure and cheap (no numpy), so the desk and the score can say it without
loading a model. Exact probabilities stay in `--json` outputs and the API.
"""

from __future__ import annotations

from collections.abc import Mapping

SURE, LIKELY, CHECK, OUT = "sûr", "probable", "à vérifier", "hors thème"
EDITOR = "choisi par la déléguée"
# Bands of `margin` (how far past the threshold, as a share of the way to 0 or to 1).
SURE_MARGIN = 0.5
LIKELY_MARGIN = 0.2
DEFAULT_THRESHOLD = 0.5  # when no model says (no model stored yet)


def margin(probability: float, threshold: float) -> float:
    """Where a probability sits between the threshold (0) and certainty (1 above, -1
    below): 0.75 against a threshold of 0.5 is 0.5, halfway to certain."""
    if probability >= threshold:
        return (probability - threshold) / max(1.0 - threshold, 1e-9)
    return (probability - threshold) / max(threshold, 1e-9)


def certainty(probability: float, threshold: float, origin: str = "model") -> str:
    """« sûr », « probable », « à vérifier » or « hors thème »; the delegate's label is
    her choice, whatever the model says."""
    if origin == "editor":
        return EDITOR
    m = margin(probability, threshold)
    if m >= SURE_MARGIN:
        return SURE
    if m >= LIKELY_MARGIN:
        return LIKELY
    if m > -LIKELY_MARGIN:
        return CHECK
    return OUT


def strongest(
    themes: Mapping[str, tuple[float, str]], thresholds: Mapping[str, float]
) -> str | None:
    """The certainty of an article's most probable theme ({theme: (probability, origin)}),
    None when it has none: what the score's « confiance » line says."""
    if not themes:
        return None
    theme, (probability, origin) = max(themes.items(), key=lambda kv: (kv[1][0], kv[0]))
    return certainty(probability, float(thresholds.get(theme, DEFAULT_THRESHOLD)), origin)
