"""The vocabulary of the SQLite full-text index: folded, stemmed, stop-word-free tokens.

Pure text functions, apart from `fts.py` (which needs SQLAlchemy): the extraction workers
tokenise each new article's text here, off the main thread.
"""

from __future__ import annotations

import re
import unicodedata

# Kept here rather than imported from classify.features (which pulls scikit-learn into
# every process that stores or searches articles); same rules as there.
_STOP_TEXT = """
a au aux avec ce ces cet cette d dans de des du elle elles en est et eux il ils je la le les
leur leurs lui ma mais me meme mes moi mon ne nos notre nous on ou par pas plus pour qu que
qui sa se ses son sont sur ta te tes toi ton tu un une vos votre vous y the of and to in is
for on with by as at an be are was it this that from or its
"""
STOPWORDS = frozenset(_STOP_TEXT.split())


_COMBINING = re.compile(r"[\u0300-\u036f]+")
_LIGATURES = (("œ", "oe"), ("æ", "ae"), ("ß", "ss"))  # NFKD leaves them whole
# Bytes that are not [a-z0-9] become spaces (the text is ASCII once folded).
_SEPARATORS = bytes(c if (48 <= c <= 57 or 97 <= c <= 122) else 32 for c in range(256))
# Elided articles are split off as their own token ("l'ouverture" → "l", "ouverture").
_DROP = STOPWORDS | {"l", "d", "n", "s", "c", "j", "m", "t", "jusqu", "lorsqu", "puisqu"}
_CACHE: dict[str, str] = {}
_CACHE_MAX = 500_000


def fold(value: str) -> str:
    """Lower-case ASCII without accents; C-level calls only (this runs on every article)."""
    value = value.lower()
    if value.isascii():
        return value
    for ligature, letters in _LIGATURES:
        if ligature in value:
            value = value.replace(ligature, letters)
    # Combining accents are dropped; any other non-ASCII character (dash, typographic
    # apostrophe, foreign letter) becomes "?", a separator, so words never glue together.
    decomposed = unicodedata.normalize("NFKD", value)
    return _COMBINING.sub("", decomposed).encode("ascii", "replace").decode("ascii")


def stem(word: str) -> str:
    """Plural then feminine endings: données → donnee → donne, ouvertes → ouvert."""
    if len(word) > 4 and word[-1] in "sx":
        word = word[:-1]
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def _normal(token: str) -> str:
    out = "" if token in _DROP else stem(token)
    if len(_CACHE) < _CACHE_MAX:
        _CACHE[token] = out
    return out


def tokens(value: str) -> list[str]:
    """Folded, stemmed, stop-word-free tokens: the vocabulary of the SQLite index.

    A cache of the vocabulary keeps this at ~25 µs per article of 1.5 KB."""
    words = fold(value).encode("ascii").translate(_SEPARATORS).decode("ascii").split()
    get = _CACHE.get
    out = []
    for word in words:
        norm = get(word)
        if norm is None:
            norm = _normal(word)
        if norm:
            out.append(norm)
    return out


def index_words(value: str) -> str:
    """A text's part of `document`: the tokens of a text are the tokens of its lines."""
    return " ".join(tokens(value))
