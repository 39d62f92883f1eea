"""Model features → the words and phrases of the article that carry them.

The model reasons in stems, word pairs and character n-grams of folded text (« donne
ouvert », « ublic »): true, but unreadable. A delegate or a member reads the article, so
an explanation quotes it: each weighted feature is looked up in the article's own title
and lede, the matching spans of the ORIGINAL text are kept, neighbouring spans are merged
into phrases (« portail de données »), and the strongest few are quoted. A feature that
matches nothing is dropped, never shown raw, so every quoted word is a word of the article.

Matching folds the text with the classifier's own rules (`text/french.py` classify
variant) one character at a time, keeping each folded character's position in the
original, so a match in folded text maps back to an exact span of what was written.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from veille.classify.features import MAX_TEXT_CHARS
from veille.classify.rules import TEXT_CHARS
from veille.text.french import CLASSIFY_STOPWORDS, ELISIONS, clean_text, fold, stem

MAX_QUOTES = 5
MAX_PHRASE_WORDS = 4  # content words in one quote: a phrase, not a sentence
# A word is quoted when the features it carries weigh at least this share of the heaviest
# word's: character n-grams touch many words a little, and those are not the reason.
MIN_SHARE = 0.2
# Between two quoted words of one phrase: at most this many function words.
MAX_GAP_WORDS = 2

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")  # as `french.words`, on folded text
_ELIDED = re.compile(r"(?:" + "|".join(ELISIONS) + ")'")
_GAP = re.compile(r"[\s\w'’-]*")


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    return fold(char)


def folded_with_origin(text: str) -> tuple[str, list[int]]:
    """`fold(text)` built one character at a time, and for each folded character the
    index of the original character it comes from (an end sentinel appended)."""
    parts: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char) if not char.isascii() or char.isupper() else char
        parts.append(folded)
        origin.extend([index] * len(folded))
    origin.append(len(text))
    return "".join(parts), origin


@dataclass(frozen=True)
class Word:
    """A content word of one field: its classifier stem and its span in the field."""

    stem: str
    start: int
    end: int
    folded_start: int
    folded_end: int


@dataclass(frozen=True)
class Field:
    """The title or the lede as the classifier reads it, with its content words."""

    name: str  # "title" | "text"
    text: str
    folded: str
    origin: list[int]
    words: list[Word]

    def span(self, folded_start: int, folded_end: int) -> tuple[int, int]:
        return self.origin[folded_start], self.origin[folded_end - 1] + 1


def read_field(name: str, text: str) -> Field:
    """Tokenise like `french.words` (elisions split, stop words and single letters out,
    light stem), keeping each word's position in the text."""
    folded, origin = folded_with_origin(text)
    found: list[Word] = []
    for match in _WORD.finditer(folded):
        token, start = match.group(), match.start()
        elided = _ELIDED.match(token)
        if elided:
            token, start = token[elided.end() :], start + elided.end()
        if token in CLASSIFY_STOPWORDS or len(token) <= 1:
            continue
        end = match.end()
        found.append(Word(stem(token), origin[start], origin[end - 1] + 1, start, end))
    return Field(name, text, folded, origin, found)


def article_fields(title: str, text: str) -> tuple[Field, Field]:
    """Title and lede as `features.document` reads them (the cleaned title, the first
    `MAX_TEXT_CHARS` of the cleaned text)."""
    return (
        read_field("title", clean_text(title or "")),
        read_field("text", clean_text(text or "")[:MAX_TEXT_CHARS]),
    )


def _occurrences(feature: str, field: Field) -> list[tuple[int, int]]:
    """Indices (first, last) of the field's words a feature matches: a stem, a pair of
    consecutive stems, or a character n-gram inside a word."""
    kind, _, term = feature.partition(":")
    words = field.words
    if kind in ("words", "body"):  # stems and pairs, of the lead or of the body
        parts = term.split(" ")
        if len(parts) == 1:
            return [(i, i) for i, w in enumerate(words) if w.stem == term]
        return [
            (i, i + 1)
            for i in range(len(words) - 1)
            if words[i].stem == parts[0] and words[i + 1].stem == parts[1]
        ]
    if kind == "chars":
        return [
            (i, i)
            for i, w in enumerate(words)
            if term in f" {field.folded[w.folded_start : w.folded_end]} "
        ]
    return []


@dataclass(frozen=True)
class _Phrase:
    field: Field
    first: int
    last: int
    features: frozenset[str]

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(w.stem for w in self.field.words[self.first : self.last + 1])

    @property
    def quote(self) -> str:
        words = self.field.words
        return self.field.text[words[self.first].start : words[self.last].end]


def _joinable(field: Field, left: int, right: int, carried: dict[int, dict[str, float]]) -> bool:
    """Two neighbouring quoted words form one phrase when the model weighed them as a pair
    (« portail de données ») or nothing but a space separates them (« algorithmes
    publics »); never across punctuation, nor through more than `MAX_GAP_WORDS`."""
    words = field.words
    gap = field.text[words[left].end : words[right].start]
    if not _GAP.fullmatch(gap) or len(gap.split()) > MAX_GAP_WORDS:
        return False
    if not gap.strip():
        return True
    pair = f"words:{words[left].stem} {words[right].stem}"
    return pair in carried[left] and pair in carried[right]


def _phrases(field: Field, weighted: Sequence[tuple[str, float]]) -> list[tuple[float, _Phrase]]:
    """The field's runs of weighty words, each with the distinct features inside it."""
    carried: dict[int, dict[str, float]] = {}
    for feature, value in weighted:
        for first, last in _occurrences(feature, field):
            for i in range(first, last + 1):
                carried.setdefault(i, {})[feature] = value
    if not carried:
        return []
    weight = {i: sum(f.values()) for i, f in carried.items()}
    floor = MIN_SHARE * max(weight.values())
    hot = sorted(i for i, w in weight.items() if w >= floor)
    runs: list[list[int]] = []
    for i in hot:
        if (
            runs
            and runs[-1][-1] == i - 1
            and len(runs[-1]) < MAX_PHRASE_WORDS
            and _joinable(field, i - 1, i, carried)
        ):
            runs[-1].append(i)
        else:
            runs.append([i])
    out = []
    for run in runs:
        features: dict[str, float] = {}
        for i in run:
            features.update(carried[i])
        out.append((sum(features.values()), _Phrase(field, run[0], run[-1], frozenset(features))))
    return out


def _inside(small: tuple[str, ...], big: tuple[str, ...]) -> bool:
    n = len(small)
    return any(big[i : i + n] == small for i in range(len(big) - n + 1))


def quotes(
    title: str, text: str, weighted: Iterable[tuple[str, float]], limit: int = MAX_QUOTES
) -> list[str]:
    """The words and phrases of the article that carry the weighted features (`words:…` or
    `chars:…` names, positive values), strongest first, each once, title wording preferred.

    Each quote is a span of the title or of the cleaned lede; features found nowhere add
    nothing."""
    weighted = [(f, v) for f, v in weighted if v > 0]
    fields = article_fields(title, text)
    found: dict[tuple[str, ...], tuple[float, _Phrase]] = {}
    for field in fields:  # the title first: its wording wins a tie
        for score, phrase in _phrases(field, weighted):
            best = found.get(phrase.key)
            if best is None or score > best[0] + 1e-12:
                found[phrase.key] = (score, phrase)
    ranked = sorted(found.values(), key=lambda sp: -sp[0])
    kept: list[_Phrase] = []
    for _, phrase in ranked:
        if any(_inside(phrase.key, other.key) for other in kept):
            continue
        kept = [k for k in kept if not _inside(k.key, phrase.key)] + [phrase]
        if len(kept) >= limit:
            break
    return list(dict.fromkeys(p.quote for p in kept))


def keyword_quotes(title: str, text: str, keywords: Iterable[str]) -> list[str]:
    """Where the article says each keyword a rule found (folded, as `rules` reports them),
    as written: the title's wording first. A keyword not found in these fields is left out."""
    fields = (
        read_field("title", clean_text(title or "")),
        read_field("text", clean_text((text or "")[: TEXT_CHARS * 2])[:TEXT_CHARS]),
    )
    out: list[str] = []
    for keyword in keywords:
        pattern = re.compile(r"(?<![a-z0-9])" + re.escape(keyword) + r"s?(?![a-z0-9])")
        for field in fields:
            match = pattern.search(field.folded)
            if match:
                start, end = field.span(match.start(), match.end())
                out.append(field.text[start:end])
                break
    return list(dict.fromkeys(out))
