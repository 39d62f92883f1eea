"""A fitted vectoriser's vocabulary, held compactly: term ↔ column without a Python dict
(and `pair_index`, the word blocks' pairs as integers).

Dicts of 120,228 terms (the default model's four blocks, passages included) made most of
its ~17 MB once unpickled — a string object, an int object and a hash-table slot per
term — in every process that loads the model, the collector first. Here the terms are one UTF-8 byte
string in column order (`term`, for explanations, decoded one at a time), and lookups go
through a sorted array of the terms' 64-bit hashes (`columns`): numpy's binary search,
with the hashing itself done by C-level `map(hash, …)` as a dict lookup does it. About
24 bytes a term instead of ~110 (8 more once an explanation has asked for a term).

Python's `hash` of a string is salted per process, so the hash array is never stored: it
is built when the vocabulary is made or unpickled (~30 ms for the default model), from
the stored terms. Two terms of one vocabulary with one hash (odds ~1e-10 per load) would
make the hash lookup ambiguous: that vocabulary then keeps a dict, as before. An unknown
token whose hash equals a term's (odds ~6e-15 a token for the largest block) would count
as that term; a dict has no such odds, but no text of a lifetime of collection reaches
them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

# Between two terms in `Vocabulary._text`; no term holds it (terms are split on whitespace).
SEPARATOR = b"\n"


class Vocabulary:
    """Terms in column order (term i is column i), looked up by hash; pickles as its terms."""

    def __init__(self, terms: Iterable[str]) -> None:
        listed = list(terms)
        text = SEPARATOR.join(term.encode("utf-8") for term in listed)
        if text.count(SEPARATOR) != max(len(listed) - 1, 0):
            raise ValueError("a vocabulary term holds a line break")
        self._build(text, listed)

    @classmethod
    def from_mapping(cls, mapping: dict[str, int]) -> Vocabulary:
        """A vectoriser's `{term: column}` (what models before format 6 pickled): the
        columns must be 0 … n−1."""
        terms = sorted(mapping, key=mapping.__getitem__)
        if [mapping[t] for t in terms] != list(range(len(terms))):
            raise ValueError("vocabulary columns are not 0 … n−1")
        return cls(terms)

    def _build(self, text: bytes, terms: list[str]) -> None:
        self._text = text
        self._size = len(terms)
        self._starts: np.ndarray | None = None  # made by `term`, the first time
        hashes = np.fromiter(map(hash, terms), dtype=np.int64, count=self._size)
        order = np.argsort(hashes, kind="stable")
        self._hashes = hashes[order]
        self._columns = order.astype(np.int32)
        self._fallback: dict[str, int] | None = None
        if self._size > 1 and bool((self._hashes[1:] == self._hashes[:-1]).any()):
            self._fallback = {term: i for i, term in enumerate(terms)}

    def __getstate__(self) -> dict[str, Any]:
        return {"text": self._text, "size": self._size}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._text, self._size = state["text"], state["size"]
        self._build(self._text, self.terms())

    def __len__(self) -> int:
        return self._size

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self._text == other._text

    __hash__ = None  # type: ignore[assignment]  # mutable-looking: compared by terms

    def columns(self, tokens: list[str]) -> np.ndarray:
        """Each token's column, −1 for a token not in the vocabulary (int64)."""
        count = len(tokens)
        if self._fallback is not None:
            found = map(self._fallback.get, tokens, [-1] * count)
            return np.fromiter(found, dtype=np.int64, count=count)
        if not self._size:
            return np.full(count, -1, dtype=np.int64)
        keys = np.fromiter(map(hash, tokens), dtype=np.int64, count=count)
        at = np.searchsorted(self._hashes, keys)
        np.minimum(at, self._size - 1, out=at)
        return np.where(self._hashes[at] == keys, self._columns[at], -1).astype(np.int64)

    def get(self, term: str, default: int = -1) -> int:
        column = int(self.columns([term])[0])
        return default if column < 0 else column

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.get(term) >= 0

    def term(self, column: int) -> str:
        """The term of a column (decoded from the stored bytes: nothing kept per term)."""
        if not 0 <= column < self._size:
            raise IndexError(column)
        if self._starts is None:  # byte offset of each term, and one past the end
            ends = np.flatnonzero(np.frombuffer(self._text, dtype=np.uint8) == SEPARATOR[0])
            self._starts = np.concatenate([[0], ends + 1, [len(self._text) + 1]])
        start, end = int(self._starts[column]), int(self._starts[column + 1]) - 1
        return self._text[start:end].decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        """The terms in column order, decoded one at a time."""
        return (self.term(i) for i in range(self._size))

    def terms(self) -> list[str]:
        """All terms in column order, decoded at once (a list to drop after use)."""
        return self._text.decode("utf-8").split(SEPARATOR.decode()) if self._size else []

    def nbytes(self) -> int:
        """What the vocabulary holds, in bytes (the lookup arrays and the terms)."""
        starts = 0 if self._starts is None else self._starts.nbytes
        return len(self._text) + starts + self._hashes.nbytes + self._columns.nbytes


def pair_index(
    vocabulary: Vocabulary,
) -> tuple[Vocabulary, np.ndarray, np.ndarray, np.ndarray]:
    """A vocabulary as integers: an id per word of its terms (a pair is two words and a
    space; the id is the word's column in the first vocabulary returned), each id's column
    (-1: none; a last -1 for unknown words), the pairs' keys (`id × (words + 1) + id`)
    sorted with their columns, and a sentinel key last."""
    size = len(vocabulary)
    word_ids: dict[str, int] = {}
    firsts = np.zeros(size, dtype=np.int64)
    seconds = np.full(size, -1, dtype=np.int64)  # -1: a single word
    for column, term in enumerate(vocabulary):  # decoded one at a time, not all at once
        first, _, second = term.partition(" ")
        firsts[column] = word_ids.setdefault(first, len(word_ids))
        if second:
            seconds[column] = word_ids.setdefault(second, len(word_ids))
    width = len(word_ids) + 1
    single = seconds < 0
    single_columns = np.full(width, -1, dtype=np.int64)
    single_columns[firsts[single]] = np.flatnonzero(single)
    pairs = np.flatnonzero(~single)
    keys = np.append(firsts[pairs] * width + seconds[pairs], np.iinfo(np.int64).max)
    order = np.argsort(keys, kind="stable")
    pair_columns = np.append(pairs, -1)[order]
    return Vocabulary(word_ids), single_columns, keys[order], pair_columns
