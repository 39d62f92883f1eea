"""Text → features, French-aware.

Accents are folded and words lightly stemmed (plural and feminine endings) so that
"données ouvertes", "donnée ouverte" and "donnees ouvertes" are one feature; character
n-grams add robustness to vocabulary the seed corpus never saw (compounds, misspellings,
English cognates). Everything here is a top-level function or class so fitted vectorisers
pickle cleanly.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse import spmatrix

from veille.classify.vocabulary import Vocabulary, pair_index
from veille.text.french import clean_head, clean_text, fold, words

# What the model reads of an article: the title twice and the first MAX_TEXT_CHARS of text,
# in two parts. The **lead** (the title twice and the first LEAD_CHARS: the chapeau, what
# the article is about) feeds the word and character blocks at full weight; the **body**
# (the rest, up to MAX_TEXT_CHARS) feeds a word block of its own at BODY_SCALE, so a subject
# the article turns to later still counts, for less. The tail beyond MAX_TEXT_CHARS is
# not read: it adds little and costs time (1000 rather than 2000: training on seed + 5,000
# full-length editor labels takes half the time and ~430 MB instead of ~590 MB).
# Measured against one block over all 1000 characters (docs/themes.md, « Long articles »):
# long-form held-out macro-F1 0.939 → 0.951, on-topic precision 0.96 → 1.00, the other
# sets unchanged, and the character block reads a third of the text.
MAX_TEXT_CHARS = 1000
LEAD_CHARS = 300
BODY_SCALE = 0.5
# Half the memory of float64; its ~1e-7 relative precision changes no seed, held-out or demo
# decision.
DTYPE = np.float32
COUNT_CHUNK = 256
# Words whose n-gram columns a fitted character vectoriser remembers (~100 bytes each).
WORD_CACHE_MAX = 200_000

# A document is its lead and its body joined by this character (absent from cleaned text);
# each vectoriser reads one part (`part_of`).
PART_SEPARATOR = "\x1e"


def document(title: str, text: str) -> str:
    """The string a classifier sees: the lead (the title twice, it carries the topic, and
    the first LEAD_CHARS of text), then the body (the text up to MAX_TEXT_CHARS)."""
    title = clean_text(title or "")
    text = clean_head(text or "", MAX_TEXT_CHARS)  # clean_text(text)[:MAX_TEXT_CHARS]
    cut = text.rfind(" ", 0, LEAD_CHARS + 1) if len(text) > LEAD_CHARS else len(text)
    cut = cut if cut > 0 else LEAD_CHARS  # the lead ends between words
    lead = fold(f"{title}. {title}. {text[:cut]}")
    return f"{lead}{PART_SEPARATOR}{fold(text[cut:MAX_TEXT_CHARS])}"


def part_of(doc: str, part: str) -> str:
    """One part of a `document`: "lead", "body", or "head", both joined back (the title
    twice and the first MAX_TEXT_CHARS: what the vectorisers of models trained before
    the parts existed read). A string without separator is all lead."""
    lead, _, body = doc.partition(PART_SEPARATOR)
    if part == "lead":
        return lead
    return body if part == "body" else lead + body


def word_analyzer(doc: str) -> list[str]:
    tokens = words(doc)
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


def _char_ngrams(word: str, low: int, high: int) -> list[str]:
    """sklearn's `char_wb` n-grams of one word: padded with spaces, a short word once."""
    padded = f" {word} "
    size = len(padded)
    grams: list[str] = []
    for n in range(low, high + 1):
        if size <= n:
            grams.append(padded)
            break
        grams += [padded[i : i + n] for i in range(size - n + 1)]
    return grams


def _columns(
    tokens: list[str], vocabulary: dict[str, int] | Vocabulary, *, grow: bool
) -> np.ndarray:
    """Each token's column (-1 when unknown and not `grow`), with C-speed lookups; a
    fitted vocabulary never grows."""
    if isinstance(vocabulary, Vocabulary):
        return vocabulary.columns(tokens).astype(np.int32)
    if grow:
        new = [t for t in dict.fromkeys(tokens) if t not in vocabulary]
        vocabulary.update(zip(new, range(len(vocabulary), len(vocabulary) + len(new)), strict=True))
        return np.fromiter(map(vocabulary.__getitem__, tokens), dtype=np.int32, count=len(tokens))
    lookup = map(vocabulary.get, tokens, itertools.repeat(-1))
    return np.fromiter(lookup, dtype=np.int32, count=len(tokens))


def count_matrix(
    token_lists: Iterable[list[str]],
    vocabulary: dict[str, int] | Vocabulary,
    *,
    grow: bool,
    width: int | None = None,
) -> sparse.csr_matrix:
    """Rows × vocabulary counts; the per-token work is in C (flat lists, one COO sum).
    `width` (columns) when `vocabulary` maps more tokens than there are columns.

    Token strings are held for one chunk of rows at a time: for article-length text they
    weigh far more than the integer columns kept.
    """
    row_parts: list[np.ndarray] = []
    column_parts: list[np.ndarray] = []
    n_rows = 0
    lists = iter(token_lists)
    while chunk := list(itertools.islice(lists, COUNT_CHUNK)):
        flat = list(itertools.chain.from_iterable(chunk))
        columns = _columns(flat, vocabulary, grow=grow)
        del flat
        lengths = [len(tokens) for tokens in chunk]
        rows = np.repeat(np.arange(n_rows, n_rows + len(chunk), dtype=np.int32), lengths)
        n_rows += len(chunk)
        known = columns >= 0
        if not known.all():
            rows, columns = rows[known], columns[known]
        row_parts.append(rows)
        column_parts.append(columns)
    rows = np.concatenate(row_parts) if row_parts else np.zeros(0, dtype=np.int32)
    columns = np.concatenate(column_parts) if column_parts else np.zeros(0, dtype=np.int32)
    del row_parts, column_parts
    ones = np.ones(len(columns), dtype=np.int32)
    shape = (n_rows, len(vocabulary) if width is None else width)
    return sparse.coo_matrix((ones, (rows, columns)), shape=shape).tocsr()


def renumber_columns(
    matrix: sparse.csr_matrix, renumber: np.ndarray, width: int
) -> sparse.csr_matrix:
    """Keep the columns whose new number is ≥ 0, renumbered; no row is re-sorted."""
    columns = renumber[matrix.indices]
    present = columns >= 0
    kept_before = np.cumsum(present, dtype=np.int64)
    indptr = np.zeros(matrix.shape[0] + 1, dtype=np.int64)
    ends = matrix.indptr[1:]
    indptr[1:] = np.where(ends > 0, kept_before[np.maximum(ends, 1) - 1], 0)
    del kept_before
    return sparse.csr_matrix(
        (matrix.data[present], columns[present], indptr), shape=(matrix.shape[0], width)
    )


def l2_normalize(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """Each row divided by its Euclidean norm, in place (sklearn's `normalize(norm="l2")`;
    kept here so that predicting never imports scikit-learn)."""
    data = matrix.data.astype(np.float64)
    lengths = np.diff(matrix.indptr)
    nonempty = lengths > 0
    norms = np.ones(matrix.shape[0], dtype=np.float64)
    norms[nonempty] = np.sqrt(np.add.reduceat(data * data, matrix.indptr[:-1][nonempty]))
    norms[norms == 0.0] = 1.0  # an empty row stays empty
    matrix.data[:] = data / np.repeat(norms, lengths)  # in double, as sklearn's
    return matrix


class _Tfidf:
    """sklearn's TF-IDF (smooth idf, optional sublinear tf, l2 norm, `min_df`,
    `max_features`) over counts that subclasses compute faster than `CountVectorizer`.

    Plain classes, not scikit-learn estimators: a fitted model pickles without any
    scikit-learn object, so the collector loads and applies it without importing it.

    Same features and weights as `TfidfVectorizer`; at the `max_features` cut, ties are
    broken by term order with stable sorts, so a vocabulary is the same on any machine.
    Subclasses say how to count (`_counts`) and may keep fitting leaner (`_fit_counts`,
    `_kept_counts`).
    """

    min_df: int
    max_features: int | None
    sublinear_tf: bool
    dtype: Any
    # Which part of the document this block reads (`part_of`), and a factor on its (l2-normed)
    # rows: a smaller factor makes the block's evidence costlier for the regularised model.
    # Class defaults, so vectorisers pickled before they existed read what they were
    # trained on (the head) at full weight.
    part: str = "head"
    scale: float = 1.0

    def _parts(self, docs: Iterable[str]) -> Iterator[str]:
        part = self.part
        return (part_of(doc, part) for doc in docs)

    def _counts(self, docs: Iterable[str], vocabulary: Vocabulary) -> sparse.csr_matrix:
        """Counts over a fixed vocabulary (unknown terms dropped)."""
        raise NotImplementedError

    def _fit_counts(
        self, docs: Iterable[str], vocabulary: dict[str, int]
    ) -> tuple[np.ndarray, np.ndarray, Any]:
        """Document frequency and total count of every term (growing `vocabulary`), and
        whatever `_kept_counts` needs to give the counts of the kept terms."""
        raise NotImplementedError

    def _kept_counts(self, state: Any, renumber: np.ndarray, width: int) -> sparse.csr_matrix:
        raise NotImplementedError

    def _tfidf(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        data = counts.data.astype(self.dtype)
        if self.sublinear_tf:
            np.log(data, data)
            data += 1.0
        data *= self.idf_[counts.indices]
        matrix = l2_normalize(
            sparse.csr_matrix((data, counts.indices, counts.indptr), shape=counts.shape)
        )
        if self.scale != 1.0:
            matrix.data *= self.scale
        return matrix

    def fit_transform(self, raw_documents: Iterable[str], y: Any = None) -> sparse.csr_matrix:
        docs = list(raw_documents)
        vocabulary: dict[str, int] = {}
        df, totals, state = self._fit_counts(self._parts(docs), vocabulary)
        keep = df >= self.min_df
        if self.max_features is not None and keep.sum() > self.max_features:
            terms = np.array(list(vocabulary), dtype=str)
            candidates = np.flatnonzero(keep)
            by_term = candidates[np.argsort(terms[candidates], kind="stable")]
            best = by_term[np.argsort(-totals[by_term], kind="stable")]
            keep = np.zeros_like(keep)
            keep[best[: self.max_features]] = True
        kept = [term for term, index in vocabulary.items() if keep[index]]
        if not kept and self.part == "body":  # short items only: no body, an empty block
            self.vocabulary_, self.idf_ = Vocabulary([]), np.zeros(0, dtype=self.dtype)
            return sparse.csr_matrix((len(docs), 0), dtype=self.dtype)
        if not kept:
            raise ValueError("no term is frequent enough; lower min_df")
        kept.sort()  # columns in term order, as sklearn's
        self.vocabulary_ = Vocabulary(kept)
        renumber = np.full(len(vocabulary), -1, dtype=np.int32)
        renumber[[vocabulary[term] for term in kept]] = np.arange(len(kept), dtype=np.int32)
        del vocabulary
        counts = self._kept_counts(state, renumber, len(kept))
        del state
        kept_df = np.zeros(len(kept), dtype=np.int64)
        kept_df[renumber[keep]] = df[keep]
        n_docs = counts.shape[0]
        self.idf_ = (np.log((1 + n_docs) / (1 + kept_df)) + 1).astype(self.dtype)
        return self._tfidf(counts)

    def fit(self, raw_documents: Iterable[str], y: Any = None) -> _Tfidf:
        self.fit_transform(raw_documents)
        return self

    def transform(self, raw_documents: Iterable[str]) -> sparse.csr_matrix:
        return self._tfidf(self._counts(self._parts(raw_documents), self.vocabulary_))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.array(self.vocabulary_.terms(), dtype=object)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Vectorisers pickled before format 6 hold a `{term: column}` dict: held here as
        a `Vocabulary`, the same columns."""
        self.__dict__.update(state)
        if isinstance(state.get("vocabulary_"), dict):
            self.vocabulary_ = Vocabulary.from_mapping(state["vocabulary_"])


def _frequencies(counts: sparse.csr_matrix, width: int) -> tuple[np.ndarray, np.ndarray]:
    df = np.bincount(counts.indices, minlength=width)
    totals = np.bincount(counts.indices, weights=counts.data, minlength=width)
    return df, totals


class WordVectorizer(_Tfidf):
    """TF-IDF over `word_analyzer` (stemmed words and word pairs)."""

    def __init__(
        self,
        min_df: int = 1,
        max_features: int | None = None,
        sublinear_tf: bool = True,
        dtype: Any = np.float64,
        part: str = "lead",
        scale: float = 1.0,
    ) -> None:
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.dtype = dtype
        self.part = part
        self.scale = scale

    def _counts(self, docs: Iterable[str], vocabulary: Vocabulary) -> sparse.csr_matrix:
        """`word_analyzer`'s counts without making a string of every word pair: words are
        looked up once (in a vocabulary of the terms' words), and each pair of neighbours
        becomes one integer key found among the vocabulary's pairs by a sorted search."""
        index = self.__dict__.get("_pair_index")
        if index is None or index[0] is not vocabulary:
            index = self.__dict__["_pair_index"] = (vocabulary, *pair_index(vocabulary))
        _, word_ids, single_columns, pair_keys, pair_columns = index
        token_lists = [words(doc) for doc in docs]
        n_docs, width = len(token_lists), len(word_ids) + 1
        flat = list(itertools.chain.from_iterable(token_lists))
        ids = word_ids.columns(flat)
        lengths = np.fromiter(map(len, token_lists), np.int64, n_docs)
        rows = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        columns = single_columns[ids]  # an unknown word (-1) reads the last slot: -1
        keys = ids[:-1] * width + ids[1:]
        found = np.searchsorted(pair_keys, keys)  # the last key is a sentinel: in range
        paired = (rows[:-1] == rows[1:]) & (ids[:-1] >= 0) & (ids[1:] >= 0)
        paired &= pair_keys[found] == keys
        all_rows = np.concatenate([rows, rows[:-1][paired]]).astype(np.int32)
        all_columns = np.concatenate([columns, pair_columns[found[paired]]]).astype(np.int32)
        known = all_columns >= 0
        ones, shape = np.ones(int(known.sum()), dtype=np.int32), (n_docs, len(vocabulary))
        return sparse.coo_matrix((ones, (all_rows[known], all_columns[known])), shape).tocsr()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_pair_index"}

    def _fit_counts(
        self, docs: Iterable[str], vocabulary: dict[str, int]
    ) -> tuple[np.ndarray, np.ndarray, Any]:
        counts = count_matrix(map(word_analyzer, docs), vocabulary, grow=True)
        return (*_frequencies(counts, len(vocabulary)), [counts])

    def _kept_counts(self, state: Any, renumber: np.ndarray, width: int) -> sparse.csr_matrix:
        return renumber_columns(state.pop(), renumber, width)


class CharNgramVectorizer(_Tfidf):
    """TF-IDF over `char_wb` n-grams, counted per distinct word instead of per occurrence.

    A document's `char_wb` n-grams are the sum of its words' n-grams, so the counts are
    `(documents × words) @ (words × n-grams)`: two sparse matrices multiplied in C, where
    sklearn's `TfidfVectorizer(analyzer="char_wb")` loops in Python over every n-gram of
    every occurrence (≈ 15 per word). Fitting never holds the counts of dropped n-grams
    for the whole corpus: frequencies come from the product in chunks of documents.
    """

    def __init__(
        self,
        ngram_range: tuple[int, int] = (3, 5),
        min_df: int = 2,
        max_features: int | None = None,
        sublinear_tf: bool = True,
        dtype: Any = np.float64,
        part: str = "lead",
        scale: float = 1.0,
    ) -> None:
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.sublinear_tf = sublinear_tf
        self.dtype = dtype
        self.part = part
        self.scale = scale

    def _factors(
        self, docs: Iterable[str], vocabulary: dict[str, int], *, grow: bool
    ) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
        low, high = self.ngram_range
        words: dict[str, int] = {}
        per_doc = count_matrix((doc.lower().split() for doc in docs), words, grow=True)
        grams = (_char_ngrams(word, low, high) for word in words)
        return per_doc, count_matrix(grams, vocabulary, grow=grow)

    def _counts(self, docs: Iterable[str], vocabulary: Vocabulary) -> sparse.csr_matrix:
        """Counts over the fitted vocabulary. Each word's known n-gram columns are kept
        between calls: the collector classifies a few dozen articles at a time, and their
        words mostly recur, so cutting every word into n-grams again was most of the cost."""
        words: dict[str, int] = {}
        per_doc = count_matrix((doc.lower().split() for doc in docs), words, grow=True)
        cache = self.__dict__.setdefault("_word_columns", {})
        if len(cache) > WORD_CACHE_MAX:
            cache.clear()
        low, high = self.ngram_range
        new = [word for word in words if word not in cache]
        if new:  # the n-grams of all new words looked up at once
            grams = [_char_ngrams(word, low, high) for word in new]
            found = _columns(list(itertools.chain.from_iterable(grams)), vocabulary, grow=False)
            ends = np.cumsum([len(g) for g in grams])
            for word, known in zip(new, np.split(found, ends[:-1]), strict=True):
                cache[word] = known[known >= 0]
        columns = [cache[word] for word in words]
        lengths = [len(c) for c in columns]
        rows = np.repeat(np.arange(len(columns), dtype=np.int32), lengths)
        flat = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int32)
        ones = np.ones(len(flat), dtype=np.int32)
        per_word = sparse.coo_matrix(
            (ones, (rows, flat)), shape=(len(columns), len(vocabulary))
        ).tocsr()
        return (per_doc @ per_word).tocsr()

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_word_columns"}

    def _fit_counts(
        self, docs: Iterable[str], vocabulary: dict[str, int]
    ) -> tuple[np.ndarray, np.ndarray, Any]:
        per_doc, per_word = self._factors(docs, vocabulary, grow=True)
        width = len(vocabulary)
        df = np.zeros(width, dtype=np.int64)
        totals = np.zeros(width, dtype=np.float64)
        for start in range(0, per_doc.shape[0], 1000):
            chunk_df, chunk_totals = _frequencies(per_doc[start : start + 1000] @ per_word, width)
            df += chunk_df
            totals += chunk_totals
        return df, totals, (per_doc, per_word)

    def _kept_counts(self, state: Any, renumber: np.ndarray, width: int) -> sparse.csr_matrix:
        per_doc, per_word = state
        return (per_doc @ renumber_columns(per_word, renumber, width)).tocsr()


class FeatureSet:
    """Named vectorisers side by side: sklearn's `FeatureUnion` (same columns, same
    `transformer_list`), without scikit-learn."""

    def __init__(self, transformer_list: list[tuple[str, Any]]) -> None:
        self.transformer_list = transformer_list

    def fit_transform(self, raw_documents: Iterable[str], y: Any = None) -> sparse.csr_matrix:
        docs = list(raw_documents)
        return sparse.hstack([vec.fit_transform(docs) for _, vec in self.transformer_list]).tocsr()

    def transform(self, raw_documents: Iterable[str]) -> sparse.csr_matrix:
        docs = list(raw_documents)
        return sparse.hstack(
            [vec.transform(_readable(vec, docs)) for _, vec in self.transformer_list]
        ).tocsr()


def _readable(vec: Any, docs: list[str]) -> list[str]:
    """Our vectorisers pick their part of a document; a scikit-learn one (a format-1 model)
    gets the head it was trained on."""
    return docs if isinstance(vec, _Tfidf) else [part_of(doc, "head") for doc in docs]


def build_vectorizer() -> FeatureSet:
    return FeatureSet(
        [
            (
                "words",
                WordVectorizer(min_df=1, sublinear_tf=True, max_features=60000, dtype=DTYPE),
            ),
            (
                "chars",
                CharNgramVectorizer(
                    ngram_range=(3, 5),
                    min_df=2,
                    sublinear_tf=True,
                    max_features=80000,
                    dtype=DTYPE,
                ),
            ),
            (
                "body",
                WordVectorizer(
                    min_df=1,
                    sublinear_tf=True,
                    max_features=60000,
                    dtype=DTYPE,
                    part="body",
                    scale=BODY_SCALE,
                ),
            ),
        ]
    )


def feature_names(vectorizer: Any, columns: Iterable[int]) -> list[str]:
    """The names (`block:term`) of some columns of a `FeatureSet`'s output: explanations
    name the few columns an article has, so no list of every feature's name is made."""
    blocks = [(name, vec) for name, vec in vectorizer.transformer_list]
    ends = np.cumsum([len(vec.vocabulary_) for _, vec in blocks])
    older: dict[int, np.ndarray] = {}  # scikit-learn blocks (format 1): their names, once
    names = []
    for column in columns:
        at = int(np.searchsorted(ends, column, side="right"))
        name, vec = blocks[at]
        local = int(column) - (int(ends[at - 1]) if at else 0)
        if isinstance(vec.vocabulary_, Vocabulary):
            names.append(f"{name}:{vec.vocabulary_.term(local)}")
        else:
            terms = older.setdefault(at, vec.get_feature_names_out())
            names.append(f"{name}:{terms[local]}")
    return names


def transform(vectorizer: Any, docs: list[str]) -> spmatrix:
    return vectorizer.transform(docs)
