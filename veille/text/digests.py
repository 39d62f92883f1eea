"""A digest's items: a newsletter, a « sommaire » or a weekly « À retenir » is several
stories in one text, each item its own (« → Financement. L'ANCT met 4 M€… », « 1.
Nominations - Bréhaudière recrute… », « • IA : la DINUM a publié… »). Story grouping
compares each item with a candidate instead of the whole digest, whose other items only
dilute the words (`collect.storyindex`, docs/dedup.md, « Digests item by item »).

What makes a digest is how the text is built, not its words: its body *opens* on a list of
two items or more, after at most two intro lines (« Au sommaire : », « Cette semaine dans votre
lettre : »). A release or minutes that list measures after a paragraph of prose (« Ses
principales mesures : – … », « Le Conseil, après en avoir délibéré, – approuve… ») tell one
story: their list is no digest.
"""

from __future__ import annotations

import re

# An item's mark at a line's start: a bullet, an arrow, a dash, or a number (« 1. », « 2) »).
_MARK = r"(?:[•→▸►▪●◆*·–—-]|\d{1,2}[.)])"
_ITEM_LINE = re.compile(rf"^[ \t]*{_MARK}[ \t]+(?=\S)")
# Bullets written inline, one line holding every item (« • IA : … • Fibre : … »).
_INLINE = re.compile(r"\s+[•→▸►▪●◆]\s+")
_LINE = re.compile(r"[^\n]*\S[^\n]*")  # a line that is not blank
# An intro line before the list: short, ending on a colon or on no punctuation at all.
_INTRO = re.compile(r"^[^\n]{1,80}(?::|[^\s.!?…»;,])[ \t]*$")
# An item's rubric before its text (« Financement. », « Nominations - », « IA : »): a word
# or three, capitalised, then a full stop, a dash or a colon.
_RUBRIC = re.compile(
    r"^(?P<rubric>[A-ZÀ-Þ][\w'’&-]*(?:[ \t]+[\w'’&-]+){0,2})[ \t]*(?:\.|[ \t][-–—:]|:)[ \t]+"
    r"(?=\S)"
)
# At most this many items are read: a digest names a handful of stories, and each item costs
# one more comparison per candidate (`collect.storyindex`).
MAX_ITEMS = 8


def items(text: str) -> list[tuple[str, str]]:
    """(rubric, text) of each item when the text is a digest (see the module), else []."""
    lines = (m.group() for m in _LINE.finditer(text))  # lazily: most texts stop at once
    found: list[str] = []
    for n, line in enumerate(lines):
        mark = _ITEM_LINE.match(line)
        if mark is not None:
            found.extend(_INLINE.split(line[mark.end() :]))
            if len(found) >= MAX_ITEMS:
                break
        elif found:
            break  # the list ends (a footer: « Se désinscrire »)
        elif n >= 2 or not _INTRO.match(line.strip()):
            return []  # a paragraph of prose comes first: one story's text
    found = [item.strip() for item in found if item.strip()]
    if len(found) < 2:
        return []
    return [_rubric(item) for item in found[:MAX_ITEMS]]


def _rubric(item: str) -> tuple[str, str]:
    rubric = _RUBRIC.match(item)
    if rubric is None:
        return "", item
    return rubric.group("rubric"), item[rubric.end() :]
