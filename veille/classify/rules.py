"""Theme keywords from feeds.yaml as transparent rules.

A keyword is evidence, not a verdict: a hit in the title raises the theme's probability
more than hits in the text, and the result stays a probability judged against the theme's
threshold. The delegate can read and edit the keywords; `explain` shows which ones fired.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from veille.classify.features import clean_text, fold

TITLE_WEIGHT = 0.30
TEXT_WEIGHT = 0.12  # for two or more distinct keywords in the text


@dataclass(frozen=True)
class RuleHits:
    title: tuple[str, ...]
    text: tuple[str, ...]

    @property
    def evidence(self) -> float:
        """Probability mass the rule contributes, combined as independent evidence."""
        weight = 1.0
        if self.title:
            weight *= 1 - TITLE_WEIGHT
        if len(self.text) >= 2:
            weight *= 1 - TEXT_WEIGHT
        return 1 - weight


@lru_cache(maxsize=64)
def _pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    folded = sorted({fold(k).strip() for k in keywords if k.strip()}, key=len, reverse=True)
    if not folded:
        return None
    return re.compile(
        r"(?<![a-z0-9])(" + "|".join(re.escape(k) for k in folded) + r")s?(?![a-z0-9])"
    )


def hits(keywords: Sequence[str], title: str, text: str) -> RuleHits:
    pattern = _pattern(tuple(keywords))
    if pattern is None:
        return RuleHits((), ())
    in_title = tuple(sorted(set(pattern.findall(fold(clean_text(title))))))
    in_text = tuple(sorted(set(pattern.findall(fold(clean_text(text)[:5000])))))
    return RuleHits(in_title, in_text)


def combine(probability: float, evidence: float) -> float:
    return 1 - (1 - probability) * (1 - evidence)


def apply_rules(
    probabilities: Mapping[str, float],
    keywords: Mapping[str, Sequence[str]],
    title: str,
    text: str,
) -> tuple[dict[str, float], dict[str, RuleHits]]:
    out: dict[str, float] = dict(probabilities)
    fired: dict[str, RuleHits] = {}
    for theme, words in keywords.items():
        if theme not in out:
            continue
        found = hits(words, title, text)
        if found.evidence > 0:
            out[theme] = combine(out[theme], found.evidence)
            fired[theme] = found
    return out, fired
