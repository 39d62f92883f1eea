"""An automatic 2–3 sentence extractive summary in French, to pre-fill the desk.

Sentences are scored by the words they share with the title and with the text's frequent
content words, with a bonus for coming early (news puts the essential first); the best
ones are returned in their original order. No model: it must be instant on the desk and
predictable for the delegate, who edits it anyway.
"""

from __future__ import annotations

import re
from collections import Counter

from veille.text.french import fold, words

SENTENCE_END = re.compile(r"(?<=[.!?…»])\s+(?=[A-ZÀ-ÖØ-Ý«\"“0-9])")
MAX_SENTENCE_CHARS = 400


def _content_words(text: str) -> list[str]:
    # The classifier's folding and light stemming: "données" and "donnée" count together.
    return [w for w in words(fold(text)) if len(w) > 2]


def without_title(title: str, text: str) -> str:
    """Extracted texts often start with the headline (no full stop after it), which would
    glue it to the first sentence of the summary: drop that leading copy."""
    flat = " ".join(text.split())
    head = " ".join(title.split())
    if head and fold(flat[: len(head)]) == fold(head):
        return flat[len(head) :].lstrip(" .:-–—")
    return flat


def sentences_of(text: str) -> list[str]:
    flat = " ".join(text.split())
    return [s.strip() for s in SENTENCE_END.split(flat) if s.strip()]


def extractive_summary(title: str, text: str, *, sentences: int = 3, max_chars: int = 480) -> str:
    """Up to `sentences` sentences (at least 2 when the text has them) within `max_chars`."""
    text = without_title(title, text)
    # dict.fromkeys: a sentence repeated in the text (boilerplate, a lede echoed in the
    # body) must not fill the summary twice.
    found = list(dict.fromkeys(s for s in sentences_of(text) if 20 <= len(s) <= MAX_SENTENCE_CHARS))
    if not found:
        return " ".join(text.split())[:max_chars].rstrip()
    frequency = Counter(_content_words(text))
    title_words = set(_content_words(title))
    scored = []
    for index, sentence in enumerate(found):
        words = _content_words(sentence)
        if not words:
            continue
        weight = sum(frequency[w] for w in set(words)) / (len(set(words)) ** 0.5)
        weight += 3.0 * len(title_words & set(words))
        weight *= 1.0 + 1.5 / (1 + index)  # the lede matters most in news
        scored.append((weight, index))
    best = sorted(index for _, index in sorted(scored, reverse=True)[:sentences])
    picked: list[str] = []
    for index in best:
        candidate = " ".join([*picked, found[index]])
        if len(candidate) > max_chars and len(picked) >= 2:
            break
        if len(candidate) > max_chars and picked:
            continue
        picked.append(found[index])
    return " ".join(picked)[: max_chars + MAX_SENTENCE_CHARS].strip()
