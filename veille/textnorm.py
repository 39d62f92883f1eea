"""French text normalisation shared by the classifier, the search index and the summariser:
accent folding, a light stemmer, stop words, cleaning HTML left in text.

Kept free of numpy and scikit-learn so the commands and pages that only need words (the
desk's summaries, the newsletter) start fast.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata

_TAG = re.compile(r"<[^>]{0,2000}>")
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_ELISION = re.compile(r"\b(?:l|d|qu|n|s|c|j|m|t|jusqu|lorsqu|puisqu)'")

_STOP_TEXT = """
a au aux avec ce ces cet cette d dans de des du elle elles en est et eux il ils je la le les
leur leurs lui ma mais me meme mes moi mon ne nos notre nous on ont ou par pas plus pour qu
que qui sa se ses son sont sur ta te tes toi ton tu un une vos votre vous y ete etait sera
ainsi aussi entre apres avant depuis sans sous chez tout tous toute toutes fait faire peut
doit deux trois selon the of and to in is for on with by as at an be are was it this that
from or its which has have will
"""
STOPWORDS = frozenset(_STOP_TEXT.split())


# The accents of Latin scripts (U+0300–U+036F) go in one C-speed pass; what non-ASCII is left
# (« », €, other scripts) is checked one character at a time, which is rare and exact.
_LATIN_MARKS = re.compile("[\u0300-\u036f]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _drop_mark(match: re.Match[str]) -> str:
    char = match.group()
    return "" if unicodedata.combining(char) else char


def fold(text: str) -> str:
    """Lower-case, strip accents, unify apostrophes and dashes."""
    text = text.replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")
    decomposed = unicodedata.normalize("NFKD", text.lower())
    if decomposed.isascii():
        return decomposed
    stripped = _LATIN_MARKS.sub("", decomposed)
    if stripped.isascii():
        return stripped
    return _NON_ASCII.sub(_drop_mark, stripped)


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light French stemmer: plural, then feminine endings (Savoy's idea, smaller)."""
    if len(word) > 4 and word[-1] in "sx":
        word = word[:-1]
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 5 and word.endswith(("eur", "ion")):
        return word
    return word


def words(text: str) -> list[str]:
    """Folded, elision-split, stop-word-free, stemmed words of an already folded text."""
    text = _ELISION.sub(" ", text)
    return [stem(w) for w in _WORD.findall(text) if w not in STOPWORDS and len(w) > 1]


def clean_text(text: str) -> str:
    """Drop HTML left in text, decode entities, collapse whitespace."""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return " ".join(text.split())
