"""Theme keywords from feeds.yaml as transparent rules.

A keyword is evidence, not a verdict: a hit in the title raises the theme's probability
more than hits in the text, and the result stays a probability judged against the theme's
threshold. The delegate can read and edit the keywords; `explain` shows which ones fired.
All themes' keywords are matched in one pass over text folded once per article.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from veille.text.french import clean_head, clean_text, fold

TITLE_WEIGHT = 0.30
TEXT_WEIGHT = 0.12  # for two or more distinct keywords in the text
TEXT_CHARS = 1500  # the lede: where a topic is named; the rest costs time for little


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


@dataclass(frozen=True)
class _Matcher:
    pattern: re.Pattern[str] | None
    themes_of: Mapping[str, tuple[str, ...]]  # folded keyword → themes listing it
    separated: bool = False  # the pattern's first character is the one before a keyword


_ALNUM = re.compile(r"[a-z0-9]")


def _trie_pattern(keywords: Iterable[str]) -> str:
    """One alternation of the keywords, factored by common prefix (« donnees ouvertes|donnees
    publiques » → « donnees (?:ouvertes|publiques) »).

    `re` tries a plain alternation's branches one after the other at every position of the
    text: with ~80 keywords that was half the rules' cost. Factored, a position that starts
    no keyword fails on one character. The matches are those of the keywords sorted longest
    first: keywords that match at one position are prefixes of one another, and a longer
    continuation is tried before the end of a shorter one (the `?` is greedy)."""
    trie: dict[str, Any] = {}
    for keyword in keywords:
        node = trie
        for char in keyword:
            node = node.setdefault(char, {})
        node[""] = {}

    def branch(node: dict[str, Any]) -> str:
        alternatives = [re.escape(char) + branch(node[char]) for char in sorted(node) if char]
        if not alternatives:
            return ""
        if len(alternatives) == 1 and "" not in node:
            return alternatives[0]
        group = "(?:" + "|".join(alternatives) + ")"
        return group + "?" if "" in node else group

    return branch(trie)


@lru_cache(maxsize=32)
def _matcher(keywords: tuple[tuple[str, tuple[str, ...]], ...]) -> _Matcher:
    themes_of: dict[str, list[str]] = {}
    for theme, words in keywords:
        for word in words:
            folded = fold(word).strip()
            if folded and theme not in themes_of.setdefault(folded, []):
                themes_of[folded].append(theme)
    if not themes_of:
        return _Matcher(None, {})
    alternatives = _trie_pattern(themes_of)
    if all(_ALNUM.match(k[-1]) for k in themes_of):
        # A keyword starts after a non-alphanumeric character: matched as the pattern's first
        # character (the text gets a leading space, `_found`), so `re` looks for keywords
        # only after the ~1 in 6 characters that are separators — a third faster than a
        # look-behind tried at every position. Same matches: each match ends on a letter or
        # digit, so the separator before the next one is never consumed by the previous.
        pattern = re.compile(r"[^a-z0-9](" + alternatives + r")s?(?![a-z0-9])")
        return _Matcher(pattern, {k: tuple(v) for k, v in themes_of.items()}, separated=True)
    pattern = re.compile(r"(?<![a-z0-9])(" + alternatives + r")s?(?![a-z0-9])")
    return _Matcher(pattern, {k: tuple(v) for k, v in themes_of.items()})


def _found(matcher: _Matcher, folded: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    if matcher.pattern is None:
        return out
    if matcher.separated:
        folded = " " + folded
    for keyword in set(matcher.pattern.findall(folded)):
        for theme in matcher.themes_of.get(keyword, ()):
            out.setdefault(theme, set()).add(keyword)
    return out


def all_hits(keywords: Mapping[str, Sequence[str]], title: str, text: str) -> dict[str, RuleHits]:
    """Keyword hits per theme, title and text separately."""
    return folded_hits(
        keywords, fold(clean_text(title)), fold(clean_head(text[: TEXT_CHARS * 2], TEXT_CHARS))
    )


def folded_hits(
    keywords: Mapping[str, Sequence[str]], title: str, text: str
) -> dict[str, RuleHits]:
    """`all_hits` of a title and text already cleaned and folded (`lede.read`)."""
    matcher = _matcher(tuple((t, tuple(ws)) for t, ws in keywords.items()))
    if matcher.pattern is None:
        return {}
    in_title = _found(matcher, title)
    in_text = _found(matcher, text)
    return {
        theme: RuleHits(
            tuple(sorted(in_title.get(theme, ()))), tuple(sorted(in_text.get(theme, ())))
        )
        for theme in set(in_title) | set(in_text)
    }


def hits(keywords: Sequence[str], title: str, text: str) -> RuleHits:
    """Hits of one keyword list (one theme)."""
    return all_hits({"_": keywords}, title, text).get("_", RuleHits((), ()))


def combine(probability: float, evidence: float) -> float:
    return 1 - (1 - probability) * (1 - evidence)


def apply_rules(
    probabilities: Mapping[str, float],
    keywords: Mapping[str, Sequence[str]],
    title: str,
    text: str,
    *,
    folded: tuple[str, str] | None = None,
) -> tuple[dict[str, float], dict[str, RuleHits]]:
    """Probabilities raised by the keywords found; `folded`, the title and text already
    cleaned and folded (`lede.read`), spares folding them again."""
    out: dict[str, float] = dict(probabilities)
    fired: dict[str, RuleHits] = {}
    if not keywords:
        return out, fired
    found_hits = (
        all_hits(keywords, title, text) if folded is None else folded_hits(keywords, *folded)
    )
    for theme, found in found_hits.items():
        if theme in out and found.evidence > 0:
            out[theme] = combine(out[theme], found.evidence)
            fired[theme] = found
    return out, fired
