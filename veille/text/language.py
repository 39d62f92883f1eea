"""Which language a text is in, from its stop words: cheap enough for every article.

The extraction workers use it for a page's language, the classifier for items without one
(its models are French; other languages are not classified on their words).
"""

from __future__ import annotations

import re
from collections import Counter

from veille.text.bytetokens import token_table, tokens

_STOPWORDS = {
    "fr": "le la les des du de un une et est en que qui dans pour pas sur au aux avec ce ces "
    "par plus sont ont été cette leur nous vous ils elle mais ou sa son se ne",
    "en": "the and of to in is that for it with as was on are be by this have from or "
    "an they which has were their not but been its will would",
    "de": "der die das und ist nicht ein eine zu den von mit sich des auf für im dem auch "
    "es an werden aus er hat dass sie nach wird bei einer um",
    "es": "el la los las de y que en un una es por con para del se no al lo como más pero "
    "sus le ha este entre cuando muy sin sobre también",
    "it": "il di che la e un una per non sono con del della gli le si da al nel è come "
    "anche alla più questo ha dei delle ma ci",
}
# Each stopword → the languages it belongs to ("de", "la", "en"… are shared).
_STOPWORD_LANGS: dict[str, tuple[str, ...]] = {}
for _lang, _words in _STOPWORDS.items():
    for _word in _words.split():
        _STOPWORD_LANGS[_word] = (*_STOPWORD_LANGS.get(_word, ()), _lang)
_TOKEN = re.compile(r"[^\W\d_]+")
_NOT_LETTER = re.compile(r"[\W\d_]")
# The lower-cased letters' runs of Windows-1252 text by one byte table (`bytetokens`):
# lower-casing maps each of its characters on its own, and a letter is one by itself.
_LETTERS = token_table(lambda char: _NOT_LETTER.sub(" ", char.lower()))


def letter_runs(text: str) -> list[str]:
    """The runs of letters of `text` lower-cased (`_TOKEN`)."""
    found = tokens(text, _LETTERS)
    return _TOKEN.findall(text.lower()) if found is None else found


def detect_language(text: str) -> str | None:
    """fr/en/de/es/it by stopword counts; None when the text is too short or too mixed."""
    found = letter_runs(text[:20000])
    if len(found) < 8:
        return None
    # Only the stop words are counted (in C): the other words were hashed into a Counter
    # for nothing.
    stopwords = Counter(filter(_STOPWORD_LANGS.__contains__, found))
    counts: Counter[str] = Counter()
    for word, n in stopwords.items():
        for lang in _STOPWORD_LANGS[word]:
            counts[lang] += n
    ranked = counts.most_common(2)
    if not ranked or ranked[0][1] < 3:
        return None
    if len(ranked) > 1 and ranked[0][1] < 1.5 * ranked[1][1]:
        return None
    return ranked[0][0]
