"""French words: accent folding, elision, stop words, a light stemmer, word tokens.

One set of rules with three named variants, because three kinds of output are kept and
compared bit for bit across versions, and each was computed with its own rules:

- **classify** (`fold`, `words`): the classifier's features and the newsletter summaries.
  The trained models' vocabularies are made of these words.
- **search** (`search_fold`, `search_tokens`, `index_words`): the tokens of the full-text
  index, stored in every existing database; a query is tokenised the same way, so a
  changed rule would silently miss stored articles until a full reindex.
- **story** (`story_fold`, `story_words`): the words of the SimHash fingerprints and word
  vectors of near-duplicate matching (`veille.text.fingerprint`); fingerprints are stored,
  and a changed rule would split new copies of a story from the old ones.

What they share: the elided articles (`ELISIONS`), the base stop words (`STOPWORDS`) and the
stemmer (`stem`). Where they differ, and why, is said next to each difference below.

Pure standard library, no numpy: the commands and pages that only need words start fast,
and the extraction workers tokenise each new article here, off the main thread.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from itertools import filterfalse

from veille.text.bytetokens import cp1252_bytes, token_table, tokens

# --------------------------------------------------------------------------- stop words

# Elided words ("l'ouverture", "qu'il", "jusqu'à"): never a word of their own.
ELISIONS = ("l", "d", "qu", "n", "s", "c", "j", "m", "t", "jusqu", "lorsqu", "puisqu")

# The function words of French (and English, which French news quote) that every variant
# but `story` drops: articles, pronouns, prepositions, conjunctions. The full-text index
# uses exactly this set.
_BASE_TEXT = """
a au aux avec ce ces cet cette d dans de des du elle elles en est et eux il ils je la le les
leur leurs lui ma mais me meme mes moi mon ne nos notre nous on ou par pas plus pour qu que
qui sa se ses son sont sur ta te tes toi ton tu un une vos votre vous y the of and to in is
for on with by as at an be are was it this that from or its
"""
STOPWORDS = frozenset(_BASE_TEXT.split())

# classify: also the auxiliaries, adverbs and counting words of news prose ("a été",
# "selon", "deux"), which the classifier would otherwise learn as topic words; the index
# keeps them because someone may search "sans contact" or "après-guerre".
_CLASSIFY_EXTRA = """
ont ete etait sera ainsi aussi entre apres avant depuis sans sous chez tout tous toute toutes
fait faire peut doit deux trois selon has have will which
"""
CLASSIFY_STOPWORDS = STOPWORDS | frozenset(_CLASSIFY_EXTRA.split())

# search: the base set, with the elided articles split off as tokens of their own
# ("l'ouverture" → "l", "ouverture") dropped too.
SEARCH_STOPWORDS = STOPWORDS | frozenset(ELISIONS)

# story: the older, shorter list the story thresholds were measured with (docs/dedup.md):
# it keeps the possessives, the first and second persons and some English, drops "ont",
# and drops the elisions "l", "n", "s" (which its plain `[a-z0-9]+` words split off) but
# not "c", "j", "m", "t".
_STORY_KEPT_TEXT = """
elles eux je ma mais me meme mes moi mon nos notre ta te tes toi ton tu vos votre vous by as
at an be are was it this that from or its
"""
_STORY_KEPT = frozenset(_STORY_KEPT_TEXT.split())
STORY_STOPWORDS = (STOPWORDS - _STORY_KEPT) | {"ont", "l", "n", "s"}

# --------------------------------------------------------------------------- folding

# The accents of Latin scripts (U+0300–U+036F) go in one C-speed pass; what non-ASCII is left
# (« », €, other scripts) is checked one character at a time, which is rare and exact.
_LATIN_MARKS = re.compile("[\u0300-\u036f]+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _drop_mark(match: re.Match[str]) -> str:
    char = match.group()
    return "" if unicodedata.combining(char) else char


def _fold_lowered(text: str) -> str:
    """`fold` after lower-casing: strip accents (NFKD, then combining marks)."""
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():
        return decomposed
    stripped = _LATIN_MARKS.sub("", decomposed)
    if stripped.isascii():
        return stripped
    return _NON_ASCII.sub(_drop_mark, stripped)


def _cp1252_tables() -> tuple[bytes, bytes]:
    """`_fold_lowered` of each character of Windows-1252 (French text: accented letters,
    « », œ, ’) as a byte table, and the bytes whose fold is not one such character (« … »
    is three dots, « ½ » three characters): those take the exact path."""
    table, other = bytearray(range(256)), bytearray()
    for byte, char in cp1252_bytes():
        folded = _fold_lowered(char)
        try:
            encoded = folded.encode("cp1252")
        except UnicodeEncodeError:
            encoded = b""
        if len(encoded) == 1:
            table[byte] = encoded[0]
        else:
            other.append(byte)
    return bytes(table), bytes(other)


_CP1252_FOLD, _CP1252_OTHER = _cp1252_tables()


def fold(text: str) -> str:
    """classify: lower-case, strip accents, unify apostrophes and dashes.

    Other non-ASCII characters stay (œ, «, €): `words` then treats them as separators, so
    "cœur" gives "urs" — a quirk the trained models' vocabularies depend on.

    Every step after lower-casing maps each character on its own (NFKD decomposes
    character by character and only reorders combining marks, which are all dropped), so
    text that Windows-1252 encodes — most French news — is folded by one byte table, in C;
    the rest takes the exact path (`_fold_lowered`). Same output (tests/test_french.py
    checks every character of the Basic Multilingual Plane), ~4× faster on article text."""
    return fold_per_character(text)[0]


def fold_per_character(text: str) -> tuple[str, bool]:
    """`fold(text)`, and whether it was folded character by character, one character for
    one (ASCII or the Windows-1252 table): then `fold` commutes with slicing and joining —
    `fold(text[i:j]) == fold(text)[i:j]` — so one fold of an article's head serves every
    part read of it (`veille.classify.lede`)."""
    text = text.replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")
    lowered = text.lower()  # one character for one, but « İ » (not Windows-1252)
    if lowered.isascii():
        return lowered, True
    try:
        raw = lowered.encode("cp1252")
    except UnicodeEncodeError:
        return _fold_lowered(lowered), False
    if _CP1252_OTHER and len(raw.translate(None, _CP1252_OTHER)) != len(raw):
        return _fold_lowered(lowered), False
    return raw.translate(_CP1252_FOLD).decode("cp1252"), True


_LIGATURES = (("œ", "oe"), ("æ", "ae"), ("ß", "ss"))  # NFKD leaves them whole


def search_fold(value: str) -> str:
    """search: lower-case ASCII without accents; C-level calls only (runs on every article).

    Unlike `fold`, ligatures become letters ("cœur" → "coeur", so a search for "coeur"
    finds it) and any other non-ASCII character (dash, typographic apostrophe, foreign
    letter) becomes "?", a separator, so words never glue together."""
    value = value.lower()
    if value.isascii():
        return value
    for ligature, letters in _LIGATURES:
        if ligature in value:
            value = value.replace(ligature, letters)
    decomposed = unicodedata.normalize("NFKD", value)
    return _LATIN_MARKS.sub("", decomposed).encode("ascii", "replace").decode("ascii")


# Combining marks of the scripts news arrive in (Latin, Greek, Cyrillic diacritics and the
# combining blocks): one C-level pass instead of a per-character Python filter.
_MARKS = re.compile(
    "[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)


def story_fold(text: str) -> str:
    """story: case-folded ("ß" → "ss") without accents, so "Données" and "donnees" are one
    word. Unlike `fold`, marks of non-Latin scripts go too, and apostrophes and dashes are
    left alone (story words split on any of them).

    ASCII text is only case-folded: NFKD and the marks leave it as it is, and the story
    keys fold thousands of short words a page, most of them ASCII (« Montbrial »)."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    return _MARKS.sub("", unicodedata.normalize("NFKD", folded))


# --------------------------------------------------------------------------- stemming


@functools.lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light French stemmer, plural then feminine endings (Savoy's idea, smaller):
    données → donnee → donne, ouvertes → ouvert. classify and search; story words are not
    stemmed (SimHash compares copies, whose words are the same)."""
    if len(word) > 4 and word[-1] in "sx":
        word = word[:-1]
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


# --------------------------------------------------------------------------- words

# classify keeps hyphenated and apostrophe compounds whole ("est-ce", "aujourd'hui"):
# they are better features than their parts. Search and story split them.
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_ELISION = re.compile(r"\b(?:" + "|".join(ELISIONS) + ")'")


class _Features(dict[str, str]):
    """word → its classify feature: its stem, or "" for a stop word or a single letter.
    Looked up with `map(features.__getitem__, …)`, a word already seen costs one C-level
    dict lookup (an `lru_cache`d call and a filter per word cost ~3× more); emptied when
    it grows past STEM_CACHE_MAX, so hostile text cannot grow it without bound."""

    def __missing__(self, word: str) -> str:
        if len(self) >= STEM_CACHE_MAX:
            self.clear()
        feature = "" if word in CLASSIFY_STOPWORDS or len(word) < 2 else stem(word)
        self[word] = feature
        return feature


STEM_CACHE_MAX = 200_000
_FEATURES = _Features()


def _drop_elisions(text: str) -> str:
    """`_ELISION.sub(" ", text)` without scanning every position: only the apostrophes are
    visited. An elided word (« l », « qu », « jusqu »…) ends at the apostrophe and starts
    at a word boundary (no word character before it, as `\b` means); all are letters, so
    an apostrophe has at most one such word and matches never overlap."""
    if "'" not in text:
        return text
    parts: list[str] = []
    start = 0
    at = text.find("'")
    while at >= 0:
        for elided in ELISIONS:
            first = at - len(elided)
            if (
                first >= start
                and text.startswith(elided, first)
                and not (first and (text[first - 1].isalnum() or text[first - 1] == "_"))
            ):
                parts.append(text[start:first])
                parts.append(" ")
                start = at + 1
                break
        at = text.find("'", at + 1)
    if not parts:
        return text
    parts.append(text[start:])
    return "".join(parts)


# Bytes that can be part of a classify word (`_WORD`): a-z, 0-9, « - » and « ' »; every
# other byte (and « ? », what a non-ASCII character is encoded as) becomes a space.
_WORD_BYTES = bytes(c if (48 <= c <= 57 or 97 <= c <= 122 or c in b"-'") else 32
                    for c in range(256))  # fmt: skip


def words(text: str) -> list[str]:
    """classify: elision-split, stop-word-free, stemmed words of an already `fold`ed text;
    single letters are dropped too.

    `_WORD.findall` visits every character in the regex engine; here the text is cut with
    C-level calls (`encode`, a byte `translate`, `split`) into runs of word characters and
    « - » « ' », which no match can cross, and only the runs holding « - » or « ' » go
    through `_WORD` (« est-ce », « -- »): same words, ~3× faster."""
    text = _drop_elisions(text)
    runs = text.encode("ascii", "replace").translate(_WORD_BYTES).decode("ascii").split()
    if "-" in text or "'" in text:
        found: list[str] = []
        for run in runs:
            if run.isalnum():
                found.append(run)
            else:
                found += _WORD.findall(run)
    else:
        found = runs
    return list(filter(None, map(_FEATURES.__getitem__, found)))


# Bytes that are not [a-z0-9] become spaces (the text is ASCII once folded).
_SEPARATORS = bytes(c if (48 <= c <= 57 or 97 <= c <= 122) else 32 for c in range(256))
_CACHE: dict[str, str] = {}
_CACHE_MAX = 500_000


def _normal(token: str) -> str:
    out = "" if token in SEARCH_STOPWORDS else stem(token)
    if len(_CACHE) < _CACHE_MAX:
        _CACHE[token] = out
    return out


def _search_separated(value: str) -> str:
    """`search_fold(value)` with every character but [a-z0-9] made a space."""
    return search_fold(value).encode("ascii").translate(_SEPARATORS).decode("ascii")


# The words of `_search_separated` of Windows-1252 text by one byte table (`bytetokens`):
# `search_fold` maps each character on its own, so the text's is its characters'.
_SEARCH_TABLE = token_table(_search_separated)


def search_tokens(value: str) -> list[str]:
    """search: folded, stemmed, stop-word-free tokens, the vocabulary of the full-text index.

    A cache of the vocabulary keeps this at ~25 µs per article of 1.5 KB."""
    found = tokens(value, _SEARCH_TABLE)
    if found is None:
        found = _search_separated(value).split()
    # The known words looked up in C; a page with new words fills them in Python.
    norms = list(map(_CACHE.get, found))
    if None in norms:
        norms = [_normal(w) if n is None else n for w, n in zip(found, norms, strict=True)]
    return list(filter(None, norms))


def index_words(value: str) -> str:
    """A text's part of the index's `document`: the tokens of a text are the tokens of its
    lines."""
    return " ".join(search_tokens(value))


_STORY_WORD = re.compile(r"[a-z0-9]+")
_STORY_SEPARATOR = re.compile(r"[^a-z0-9]")


# The runs of [a-z0-9] of `story_fold(text)` by one byte table (`bytetokens`): every step of
# `story_fold` maps each character on its own, so the runs are those of the characters' folds.
_STORY_TABLE = token_table(lambda char: _STORY_SEPARATOR.sub(" ", story_fold(char)))


def story_words(text: str) -> list[str]:
    """story: the unstemmed words of the text, without `STORY_STOPWORDS`."""
    found = tokens(text, _STORY_TABLE)
    if found is None:
        found = _STORY_WORD.findall(story_fold(text))
    return list(filterfalse(STORY_STOPWORDS.__contains__, found))


# --------------------------------------------------------------------------- cleaning

_TAG = re.compile(r"<[^>]{0,2000}>")


def clean_text(text: str) -> str:
    """Drop HTML left in text, decode entities, collapse whitespace (feeds put markup in
    titles and summaries; the classifier and the summaries read words)."""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return " ".join(text.split())


def clean_head(text: str, chars: int) -> str:
    """`clean_text(text)[:chars]`, reading only as much of `text` as it needs.

    While the raw head holds no « < » (a tag) and no « & » (an entity), cleaning it only
    collapses whitespace, and its cleaned form is a prefix of the whole text's: so a 5 KB
    article whose first 1,000 characters are read costs one split of ~1,100 characters.
    The rest — markup near the start, a short text — takes `clean_text` whole."""
    window = chars + chars // 8 + 16
    while window < len(text):
        head = text[:window]
        if "<" in head or "&" in head:
            break
        cleaned = " ".join(head.split())
        if len(cleaned) >= chars:
            return cleaned[:chars]
        window *= 2
    return clean_text(text)[:chars]
