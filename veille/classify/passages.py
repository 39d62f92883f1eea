"""Passages: the whole article, cut into paragraph-sized pieces a word model scores.

The theme model reads the title, the lead and the start of the body (`features.document`);
real news often carries its theme later — the city's data charter in the fourth paragraph
of a council summary, the data clause of a water concession after the prices. Scoring
each passage of the article finds such a theme where one bag of words over the whole text
would drown it (and boilerplate with it): a passage is judged on its own words, and a
theme needs a passage that is *about* it, not a word in passing. A theme's decision is the
document's, or its best passage's less PASSAGE_MARGIN when that is higher
(`with_passages`); calibration and thresholds are fitted on that combined decision.

Passages are scored by a model of their own (`PassageModel`): words only (`passage_tokens`,
C-speed); one logistic regression per theme fitted on the training articles' texts. The
theme model's own features (word pairs, character n-grams) over the whole text cost five
times its prediction time, and measured worse as passage judges (docs/themes.md).

Passages are cut on line breaks, neighbouring short paragraphs are joined until a passage
has at least PASSAGE_MIN characters (a one-line footer alone would weigh as much as a
paragraph once l2-normed), and a paragraph longer than PASSAGE_MAX (text whose breaks were
lost) is cut between words. All passages of many articles are scored as one sparse matrix
and one product (`passage_scores`).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from veille.classify.features import DTYPE, WordVectorizer, _frequencies, count_matrix
from veille.classify.vocabulary import Vocabulary
from veille.text.french import CLASSIFY_STOPWORDS, clean_text, stem

# How much of the text passages read: long enough for a feature article, short enough
# that a page's comment thread or related-articles list is rarely reached.
PASSAGE_CHARS = 8000
PASSAGE_MIN = 400
PASSAGE_MAX = 1200
# What a passage's decision score pays against the document's: the document (title, lead,
# body) is the better judge of what an article is about, so a passage must be clearly
# about a theme to carry it. Chosen on the pool_press validation set and CV among −1–2.5
# (and against a learned combination), with no other held-out set losing an item:
# 1.5 on the corpus without the press-style training articles, 1.0 with them
# (docs/themes.md « Passage evidence »).
PASSAGE_MARGIN = 1.0
# How much of a passage an explanation quotes.
EXCERPT_CHARS = 160

_BREAK = re.compile(r"\n\s*")
_SENTENCE_END = re.compile(r"[.!?…]\s+")


def _cut(paragraph: str) -> list[str]:
    """A paragraph longer than PASSAGE_MAX in pieces of about PASSAGE_MAX, between words."""
    pieces: list[str] = []
    while len(paragraph) > PASSAGE_MAX:
        cut = paragraph.rfind(" ", PASSAGE_MAX // 2, PASSAGE_MAX)
        cut = cut if cut > 0 else PASSAGE_MAX
        pieces.append(paragraph[:cut])
        paragraph = paragraph[cut:].lstrip()
    if paragraph:
        pieces.append(paragraph)
    return pieces


def _pieces(text: str) -> list[str]:
    """The first PASSAGE_CHARS of `text` as passages of raw text (not cleaned: scoring
    tokenises with `passage_tokens`, which needs no cleaning, and cleaning every paragraph
    of every article costs more than scoring them)."""
    out: list[str] = []
    current = ""
    for paragraph in (text or "")[:PASSAGE_CHARS].split("\n"):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        for piece in _cut(paragraph) if len(paragraph) > PASSAGE_MAX else (paragraph,):
            current = f"{current} {piece}" if current else piece
            if len(current) >= PASSAGE_MIN:
                out.append(current)
                current = ""
    if current:
        if out and len(current) < PASSAGE_MIN:
            out[-1] = f"{out[-1]} {current}"  # a short last paragraph joins the one before
        else:
            out.append(current)
    return out


def passages(text: str) -> list[str]:
    """The first PASSAGE_CHARS of `text` as passages of cleaned text (what explanations
    quote; scoring reads the same passages raw)."""
    return [clean_text(p) for p in _pieces(text)]


def _byte_table() -> bytes:
    """Latin-1 bytes → ASCII letters, digits or spaces: a-z and 0-9 stay, letters with
    marks lose them (é → e; ß → s, æ → a: one byte each), anything else separates."""
    table = bytearray(b" " * 256)
    for code in range(256):
        plain = unicodedata.normalize("NFKD", chr(code).lower()).encode("ascii", "ignore")
        if code < 128 and not (48 <= code <= 57 or 97 <= code <= 122):
            continue
        if len(plain) >= 1 and (plain[:1].isalpha() or plain[:1].isdigit()):
            table[code] = plain[0]
    table[0xDF], table[0xE6] = ord("s"), ord("a")
    return bytes(table)


_BYTES = _byte_table()
# Raw words a fitted vectoriser remembers the column of (~100 bytes each).
RAW_CACHE_MAX = 200_000
# Between two passages' bytes when they are split at once, and its column mark.
_ROW = b" | "
_NEXT_ROW = -2
_UNSEEN = -3


def _ascii(text: str) -> bytes:
    """Lower-case ASCII letters and digits, everything else a space: C-level calls only
    (lower, encode, translate; ~10× faster than `fold`), as passages are all of every
    article's text. Characters outside Latin-1 but « œ » separate words."""
    low = text.lower()
    if "œ" in low:
        low = low.replace("œ", "oe")
    return low.encode("latin-1", "replace").translate(_BYTES)


def passage_tokens(text: str) -> list[str]:
    """A passage's words, lower-case ASCII without marks (« l'eau » → « l », « eau »:
    elided articles fall off as single letters)."""
    return _ascii(text).decode("ascii").split()


def _normal(word: str) -> str:
    """A raw word's feature: its classify stem, or "" for a stop word or a single letter."""
    return "" if len(word) <= 1 or word in CLASSIFY_STOPWORDS else stem(word)


class PassageVectorizer(WordVectorizer):
    """TF-IDF over the stems of `passage_tokens` (no word pairs). Each raw word's column
    is kept between calls: looking words up is then one C-level `dict.get` per word, and
    reading the whole article costs about what reading its first 1,000 characters with the
    theme model's word block does."""

    def _parts(self, docs: Iterable[str]) -> Iterator[str]:
        return iter(docs)  # a passage is all text: no lead or body to pick

    def _counts(self, docs: Iterable[str], vocabulary: Vocabulary) -> sparse.csr_matrix:
        """All passages' words in one split of one byte string, rows told apart by a
        separator token that no passage can hold (translated text is [a-z0-9 ] only)."""
        texts = [_ascii(doc) for doc in docs]
        tokens = _ROW.join(texts).split()
        cache: dict[bytes, int] = self.__dict__.setdefault("_raw_columns", {})
        if len(cache) > RAW_CACHE_MAX:
            cache.clear()
        cache[_ROW.strip()] = _NEXT_ROW
        lookup = map(cache.get, tokens, itertools.repeat(_UNSEEN))
        columns = np.fromiter(lookup, dtype=np.int64, count=len(tokens))
        unseen = np.flatnonzero(columns == _UNSEEN)
        if len(unseen):  # words met for the first time: their column, remembered
            new = list({tokens[i] for i in unseen})
            found = vocabulary.columns([_normal(word.decode("ascii")) for word in new])
            cache.update(zip(new, found.tolist(), strict=True))
            columns[unseen] = [cache[tokens[i]] for i in unseen]
        rows = np.cumsum(columns == _NEXT_ROW)
        known = columns >= 0
        ones = np.ones(int(known.sum()), dtype=np.int32)
        shape = (len(texts), len(vocabulary))
        return sparse.coo_matrix((ones, (rows[known], columns[known])), shape=shape).tocsr()

    def _fit_counts(
        self, docs: Iterable[str], vocabulary: dict[str, int]
    ) -> tuple[np.ndarray, np.ndarray, Any]:
        # A generator: `count_matrix` holds the words of COUNT_CHUNK texts at a time, not
        # of the whole corpus (~200 MB for 6,000 articles of 2-5 KB).
        stems = ([s for s in map(_normal, passage_tokens(doc)) if s] for doc in docs)
        counts = count_matrix(stems, vocabulary, grow=True)
        return (*_frequencies(counts, len(vocabulary)), [counts])

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_raw_columns"}


@dataclass
class PassageModel:
    """A word model of passages: one logistic regression per theme (the theme model's
    order) over `PassageVectorizer` features, fitted on the training articles' texts."""

    vectorizer: PassageVectorizer
    weights: np.ndarray  # features × themes
    intercepts: np.ndarray
    margin: float = PASSAGE_MARGIN


def fit_passage_model(
    texts: Sequence[str], y: np.ndarray, sample_weight: np.ndarray | None, fit: Any
) -> PassageModel | None:
    """Fit on whole texts (each labelled as its article): a passage about a theme reads
    like an article about it. `fit(x, y, weights)` is the theme model's own fitting.
    None when the texts share no word (titles only): the document alone then decides."""
    vec = PassageVectorizer(min_df=2, sublinear_tf=True, max_features=60000, dtype=DTYPE)
    try:
        x = vec.fit_transform([text[:PASSAGE_CHARS] for text in texts])
    except ValueError:  # no term is frequent enough
        return None
    fitted = [fit(x, y[:, j], sample_weight) for j in range(y.shape[1])]
    return PassageModel(
        vectorizer=vec,
        weights=np.column_stack([clf.coef_[0] for clf in fitted]).astype(DTYPE),
        intercepts=np.array([clf.intercept_[0] for clf in fitted]),
    )


def passage_scores(
    model: PassageModel, texts: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
    """For each text, each theme's best passage decision score (−inf without passages)
    and that passage's index in the text's passages (−1 without), and the raw passages.

    One transform of all passages and one product, then each text's maximum by a sort of
    the passage rows grouped by text: never a Python loop over passages."""
    cut = [_pieces(text) for text in texts]
    n_themes = model.weights.shape[1]
    best = np.full((len(texts), n_themes), -np.inf)
    where = np.full((len(texts), n_themes), -1, dtype=np.int64)
    counts = np.array([len(c) for c in cut], dtype=np.int64)
    flat = [p for c in cut for p in c]
    if not flat:
        return best, where, cut
    scores = np.asarray(model.vectorizer.transform(flat) @ model.weights) + model.intercepts
    group = np.repeat(np.arange(len(texts)), counts)
    firsts = np.cumsum(counts) - counts
    present = counts > 0
    for j in range(n_themes):
        order = np.lexsort((scores[:, j], group))  # by text, then score ascending
        top = order[(firsts + counts - 1)[present]]
        best[present, j] = scores[top, j]
        where[present, j] = top - firsts[present]
    return best, where, cut


def with_passages(
    model: PassageModel | None, decision: np.ndarray, texts: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
    """Each theme's decision: the document's, or its best passage's less the margin when
    that is higher. Returns the decisions, the index of the passage that gave each one
    (−1 where the document's own decision stood) and the raw passages."""
    if model is None:
        return decision, np.full(decision.shape, -1, dtype=np.int64), [[] for _ in texts]
    best, where, cut = passage_scores(model, texts)
    from_passage = best - model.margin > decision
    combined = np.where(from_passage, best - model.margin, decision)
    return combined, np.where(from_passage, where, -1), cut


def weighing(model: Any, title: str, text: str) -> dict[str, str]:
    """The passage (cleaned) that gave each theme its decision, for the themes whose
    decision came from a passage rather than from the title, lead and body."""
    from veille.classify.features import document

    passage_model = getattr(model, "passages", None)
    if passage_model is None or not text:
        return {}
    x = model.vectorizer.transform([document(title, text)])
    decision = np.asarray(x @ model.weights) + model.intercepts
    _, where, cut = with_passages(passage_model, decision, [text])
    # The first passage is where the title and lead already are: its words are quoted from
    # the document, not as a passage « further in ».
    return {
        theme: clean_text(cut[0][where[0, j]])
        for j, theme in enumerate(model.themes)
        if where[0, j] > 0
    }


def excerpt(passage: str, quoted: Sequence[str] = (), limit: int = EXCERPT_CHARS) -> str:
    """Up to `limit` characters of a passage to quote in a sentence: from the start of the
    sentence holding its first quoted phrase (a passage can join a short paragraph before
    the one that weighed), cut between words."""
    start = 0
    at = next((i for i in (passage.find(q) for q in quoted[:1]) if i >= 0), -1)
    if at > 0:
        ends = [m.end() for m in _SENTENCE_END.finditer(passage, 0, at)]
        start = ends[-1] if ends else 0
    text = passage[start:]
    if len(text) <= limit:
        return ("…" if start else "") + text
    cut = text.rfind(" ", 0, limit)
    shown = text[: cut if cut > 0 else limit].rstrip(" ,;:.")
    return ("…" if start else "") + shown + "…"
