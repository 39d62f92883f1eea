"""The vectorisers' compact vocabularies (format 6): the same columns, hence the same
probabilities, as the `{term: column}` dicts of earlier formats, in a fraction of the memory;
older blobs converted, never misread."""

from __future__ import annotations

import copy
import pickle
import tracemalloc
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import sparse

from veille.classify import classifier as classifier_module
from veille.classify import model as theme_model
from veille.classify import vocabulary as vocabulary_module
from veille.classify.corpus import load_heldout, load_seed
from veille.classify.features import (
    CharNgramVectorizer,
    WordVectorizer,
    _char_ngrams,
    _Tfidf,
    count_matrix,
    document,
    word_analyzer,
)
from veille.classify.passages import PassageVectorizer, _normal, passage_tokens
from veille.classify.vocabulary import Vocabulary


@pytest.fixture(scope="module")
def model() -> theme_model.ThemeModel:
    return classifier_module.default_model()


def _blocks(model: theme_model.ThemeModel) -> list[_Tfidf]:
    blocks = [vec for _, vec in model.vectorizer.transformer_list]
    return blocks + ([model.passages.vectorizer] if model.passages is not None else [])


def _tokens(vec: _Tfidf, docs: Iterable[str]) -> Iterable[list[str]]:
    """What each block counts, as strings: the analyzers themselves, not the fast paths."""
    if type(vec) is PassageVectorizer:
        return ([s for s in map(_normal, passage_tokens(doc)) if s] for doc in docs)
    if type(vec) is CharNgramVectorizer:
        low, high = vec.ngram_range
        return (
            [gram for word in doc.lower().split() for gram in _char_ngrams(word, low, high)]
            for doc in docs
        )
    assert type(vec) is WordVectorizer
    return map(word_analyzer, docs)


def _with_dicts(model: theme_model.ThemeModel) -> theme_model.ThemeModel:
    """A copy whose blocks count through plain `{term: column}` dicts (what formats ≤ 5
    looked terms up in), with the string analyzers."""
    twin = copy.deepcopy(model)
    for vec in _blocks(twin):
        terms = dict(zip(vec.vocabulary_.terms(), range(len(vec.vocabulary_)), strict=True))

        def counts(docs: Iterable[str], _: Any, vec: _Tfidf = vec, terms: dict = terms) -> Any:
            found = count_matrix(_tokens(vec, docs), terms, grow=False, width=len(terms))
            return sparse.csr_matrix(found)

        vec.__dict__["_counts"] = counts
    return twin


def _texts() -> tuple[list[str], list[str]]:
    items = [it for kind in ("short", "long", "press") for it in load_heldout(kind)]
    hostile = [("Ωμέγα 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 données", "l'œuvre\x00\n\n" * 50), ("", ""), ("a", "b c")]
    titles = [it.title for it in items] + [t for t, _ in hostile]
    texts = [it.text for it in items] + [x for _, x in hostile]
    return titles, texts


def test_probabilities_are_those_of_a_dict_vocabulary(model: theme_model.ThemeModel) -> None:
    """On the three held-out sets (and hostile text), every probability of the compact
    vocabularies equals the dict vocabularies' to 1e-12, passages included."""
    titles, texts = _texts()
    docs = [document(t, x) for t, x in zip(titles, texts, strict=True)]
    got = theme_model.probabilities(model, docs, texts)
    want = theme_model.probabilities(_with_dicts(model), docs, texts)
    assert got.shape == (len(docs), len(model.themes)) and len(docs) > 300
    assert np.abs(got - want).max() <= 1e-12
    assert (got > 0.5).sum() > 100  # the sets are classified, not all empty rows


def test_each_block_counts_what_a_dict_counts(model: theme_model.ThemeModel) -> None:
    """Entry for entry, for every block, on text the blocks know and text they do not."""
    titles, texts = _texts()
    docs = [document(t, x) for t, x in zip(titles, texts, strict=True)][::5]
    for vec in _blocks(model):
        parts = list(vec._parts(docs if type(vec) is not PassageVectorizer else texts[::5]))
        got = vec._counts(parts, vec.vocabulary_)
        terms = dict(zip(vec.vocabulary_.terms(), range(len(vec.vocabulary_)), strict=True))
        want = count_matrix(_tokens(vec, parts), terms, grow=False, width=len(terms))
        assert got.nnz > 0 and (got != want).nnz == 0, type(vec).__name__


def _as_format_5(model: theme_model.ThemeModel) -> bytes:
    """The model as a format-5 blob: each block's vocabulary a `{term: column}` dict."""
    old = copy.deepcopy(model)
    old.format = 5
    for vec in _blocks(old):
        vec.__dict__["vocabulary_"] = {t: i for i, t in enumerate(vec.vocabulary_.terms())}
    return theme_model.dumps(old)


def test_a_format_5_blob_is_converted_and_predicts_the_same(
    model: theme_model.ThemeModel,
) -> None:
    loaded = theme_model.loads(_as_format_5(model))
    assert all(isinstance(vec.vocabulary_, Vocabulary) for vec in _blocks(loaded))
    assert [vec.vocabulary_ for vec in _blocks(loaded)] == [v.vocabulary_ for v in _blocks(model)]
    titles, texts = _texts()
    docs = [document(t, x) for t, x in zip(titles, texts, strict=True)]
    got = theme_model.probabilities(loaded, docs, texts)
    assert (got == theme_model.probabilities(model, docs, texts)).all()
    again = theme_model.loads(theme_model.dumps(loaded))  # written back: compact
    assert all(isinstance(vec.vocabulary_, Vocabulary) for vec in _blocks(again))


def test_a_blob_whose_columns_are_not_a_range_is_refused(model: theme_model.ThemeModel) -> None:
    old = copy.deepcopy(model)
    vec = _blocks(old)[0]
    vec.__dict__["vocabulary_"] = {t: 2 * i for i, t in enumerate(vec.vocabulary_.terms())}
    with pytest.raises(ValueError, match="columns"):
        theme_model.loads(theme_model.dumps(old))


def test_a_cached_format_5_model_is_converted_not_retrained(
    model: theme_model.ThemeModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    corpus = theme_model.corpus_version(load_seed())
    cache = tmp_path / "veille"
    cache.mkdir()
    (cache / f"default-model-{corpus}-f5.pickle").write_bytes(_as_format_5(model))

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("a format-5 model of this corpus is converted, not retrained")

    monkeypatch.setattr(theme_model, "train", no_training)
    converted = classifier_module.default_model()
    written = cache / f"default-model-{corpus}-f{theme_model.FORMAT}.pickle"
    assert written.exists() and theme_model.FORMAT == 6
    assert b"vocabulary_" in written.read_bytes()
    reread = theme_model.loads(written.read_bytes())
    docs = [document("Open data : la métropole publie ses jeux de données", "Le portail. " * 9)]
    want = theme_model.probabilities(model, docs)
    assert (theme_model.probabilities(converted, docs) == want).all()
    assert (theme_model.probabilities(reread, docs) == want).all()


def test_the_loaded_model_weighs_less_than_its_dicts_did(model: theme_model.ThemeModel) -> None:
    """tracemalloc: the whole model loaded (weights included) holds less than the
    `{term: column}` dicts alone that formats ≤ 5 unpickled (~14 MB of its ~17)."""
    blob = theme_model.dumps(model)
    tracemalloc.start()
    loaded = theme_model.loads(blob)
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    tracemalloc.start()
    dicts = [{t: i for i, t in enumerate(vec.vocabulary_.terms())} for vec in _blocks(model)]
    of_dicts = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    terms = sum(len(d) for d in dicts)
    vocabularies = sum(vec.vocabulary_.nbytes() for vec in _blocks(loaded))
    assert terms > 100_000 and vocabularies < 30 * terms  # ~24 bytes a term
    assert held < of_dicts * 0.6, (held, of_dicts)


def test_lookups_terms_and_pickling() -> None:
    terms = ["donnee", "donnee ouverte", " ope", "œuvre", "", "ville"]
    vocabulary = Vocabulary(terms)
    assert len(vocabulary) == 6 and list(vocabulary) == terms == vocabulary.terms()
    tokens = ["ville", "inconnu", "œuvre", "donnee ouverte", "", "ville", "Ville"]
    assert vocabulary.columns(tokens).tolist() == [5, -1, 3, 1, 4, 5, -1]
    assert vocabulary.get("donnee") == 0 and "ope" not in vocabulary and " ope" in vocabulary
    assert [vocabulary.term(i) for i in (3, 4, 5)] == ["œuvre", "", "ville"]
    with pytest.raises(IndexError):
        vocabulary.term(6)
    again = pickle.loads(pickle.dumps(vocabulary))
    assert again == vocabulary and again.columns(tokens).tolist() == [5, -1, 3, 1, 4, 5, -1]
    empty = Vocabulary([])
    assert len(empty) == 0 and empty.columns(["a"]).tolist() == [-1]
    assert len(pickle.loads(pickle.dumps(empty))) == 0
    with pytest.raises(ValueError, match="line break"):
        Vocabulary(["a\nb"])


def test_terms_of_one_hash_fall_back_to_a_dict(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two terms with one hash (Python's is salted per process: odds ~1e-10 per load) make
    the sorted hashes ambiguous: that vocabulary looks up by dict, still exactly."""
    monkeypatch.setattr(vocabulary_module, "hash", lambda s: len(s), raising=False)
    vocabulary = Vocabulary(["abc", "xyz", "ab"])
    assert vocabulary.columns(["xyz", "abc", "zz", "qqq", "ab"]).tolist() == [1, 0, -1, -1, 2]
