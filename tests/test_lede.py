"""`lede.read` serves the theme model and the keyword rules from one cleaned, folded head:
each part must be, string for string, what `features.document` and `rules.all_hits` read on
their own — the models' decisions depend on these strings only. Checked on every corpus
part, on articles lengthened as the benchmark's, and on text that defeats the shortcut
(markup across the cut, characters folded into several, a final sigma)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from veille.classify import corpus, rules
from veille.classify.classifier import Classifier, ClassItem, default_model
from veille.classify.features import document
from veille.classify.lede import RAW_CHARS, read
from veille.sources import load_feeds_config
from veille.text.french import clean_head, clean_text, fold


def _every_corpus_item() -> list[tuple[str, str]]:
    folders = [*corpus.TRAIN_FOLDERS, *corpus.HELDOUT_FOLDERS.values(),
               *corpus.POOL_FOLDERS.values()]  # fmt: skip
    return [(it.title, it.text) for folder in folders for it in corpus._load(folder)]


def _lengthened(items: list[tuple[str, str]], n: int) -> list[tuple[str, str]]:
    """Articles of 2–5 KB: an item's text followed by other items' paragraphs."""
    rng = random.Random(18)
    texts = [text for _, text in items if text]
    out = []
    for _ in range(n):
        title, text = rng.choice(items)
        target = rng.randint(2000, 5000)
        while len(text) < target:
            text += "\n\n" + rng.choice(texts)
        out.append((title, text[:target]))
    return out


_HOSTILE_PIECES = ["a", "é", " ", "\n", "<b>", "<", ">", "&amp;", "&", "œ", "½", "…", "Σ",
                   "ΟΔΟΣ", "İ", "\u00a0", "’", "—", "ﬁ", "x" * 40, "donnees ouvertes "]  # fmt: skip


def _hostile(n: int) -> list[tuple[str, str]]:
    rng = random.Random(7)
    out = []
    for _ in range(n):
        title = "".join(rng.choice(_HOSTILE_PIECES) for _ in range(rng.randint(0, 8)))
        body = "".join(rng.choice(_HOSTILE_PIECES) for _ in range(rng.randint(0, 40)))
        # Markup or an entity just before and after the rules' raw cut.
        filler = "mot " * rng.randint(0, RAW_CHARS // 4 + 10)
        out.append((title, filler + body))
        out.append((title, body + filler[: RAW_CHARS - len(body) - 2] + "<p>x</p> &amp; y"))
    return out


def _reference(title: str, text: str) -> tuple[str, str, str]:
    return (
        document(title, text),
        fold(clean_text(title)),
        fold(clean_head(text[: rules.TEXT_CHARS * 2], rules.TEXT_CHARS)),
    )


def test_one_head_gives_what_the_model_and_the_rules_read_on_their_own() -> None:
    items = _every_corpus_item()
    assert len(items) > 1500
    checked = items + _lengthened(items, 3000) + _hostile(3000)
    for title, text in checked:
        lede = read(title, text)
        assert (lede.document, lede.title, lede.text) == _reference(title, text), (title, text)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    config = load_feeds_config(Path(__file__).resolve().parents[1] / "feeds.yaml")
    keywords = {t.id: tuple(t.keywords) for t in config.themes}
    return Classifier(default_model(), keywords)


def test_predictions_are_those_of_each_part_read_on_its_own(classifier: Classifier) -> None:
    """Bit for bit: the model's decisions on the documents built apart, then the rules on
    the raw title and text, as `predict` did before the head was shared."""
    from veille.classify import model as theme_model

    sample = _lengthened(_every_corpus_item(), 400) + _hostile(100)
    predictions = classifier.predict([ClassItem(t, x, "fr") for t, x in sample])
    model = classifier.model
    decision = theme_model.scores(
        model, [document(t, x) for t, x in sample], [x for _, x in sample]
    )
    probs = theme_model.calibrated(model, decision)
    for (title, text), row, got in zip(sample, probs, predictions, strict=True):
        raw = {t: float(row[j]) for j, t in enumerate(model.themes)}
        final, fired = rules.apply_rules(raw, classifier.keywords, title, text)
        assert dict(got.model_probabilities) == raw
        assert dict(got.probabilities) == final
        assert dict(got.rules) == fired
        assert got.themes == tuple(t for t in model.themes if final[t] >= model.thresholds[t])
    assert np.isfinite(probs).all()


def test_word_counts_are_those_of_the_word_analyzer(classifier: Classifier) -> None:
    """The word blocks count pairs as integer keys: same matrix as counting the strings of
    `word_analyzer` (words and pairs), entry for entry, unknown words and empty parts too."""
    from veille.classify.features import WordVectorizer, count_matrix, word_analyzer

    sample = _lengthened(_every_corpus_item(), 300) + _hostile(100) + [("", ""), ("a b", "")]
    docs = [document(t, x) for t, x in sample]
    blocks = [v for _, v in classifier.model.vectorizer.transformer_list]
    word_blocks = [v for v in blocks if type(v) is WordVectorizer]
    assert len(word_blocks) == 2
    for vec in word_blocks:
        parts = list(vec._parts(docs))
        got = vec._counts(parts, vec.vocabulary_)
        want = count_matrix(map(word_analyzer, parts), vec.vocabulary_, grow=False)
        assert got.shape == want.shape and got.nnz > 0
        assert (got.indptr == want.indptr).all() and (got.indices == want.indices).all()
        assert (got.data == want.data).all() and got.data.dtype == want.data.dtype
