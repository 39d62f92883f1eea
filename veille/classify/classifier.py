"""Applying a theme model to articles: language gate, model, keyword rules, thresholds."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from veille.classify.rules import RuleHits, apply_rules
from veille.text.language import detect_language

if TYPE_CHECKING:
    import numpy as np

    from veille.classify import model as theme_model

# The model module brings numpy and scipy (~0.3 s of imports; scikit-learn only to train):
# it is imported where a model is used, so a cycle without new articles never pays for it.

log = logging.getLogger(__name__)

# The seed corpus is French with some English: other languages are stored, not forced into
# a theme on vocabulary the model never learned.
CLASSIFIED_LANGUAGES = frozenset({"fr", "en"})


@dataclass(frozen=True)
class Prediction:
    themes: tuple[str, ...]
    probabilities: Mapping[str, float]  # after rules
    model_probabilities: Mapping[str, float]
    origins: Mapping[str, str]  # theme → "model" | "rule"
    rules: Mapping[str, RuleHits] = field(default_factory=dict)
    language: str | None = None
    note: str | None = None

    @property
    def on_topic(self) -> bool:
        return bool(self.themes)

    @property
    def confidence(self) -> float:
        """Probability of the most likely theme that passed (0 when off-topic)."""
        return max((self.probabilities[t] for t in self.themes), default=0.0)


@dataclass(frozen=True)
class ClassItem:
    title: str
    text: str
    language: str | None = None


@dataclass
class Classifier:
    model: theme_model.ThemeModel
    keywords: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def predict(
        self, items: Sequence[ClassItem], stories: Sequence[int | None] | None = None
    ) -> list[Prediction]:
        """Each item's themes. With `stories` (one story key per item, None for an article
        alone), the model judges a story on the evidence of all its sources: each classified
        member gets, for each theme, the strongest decision score of the story's members, so
        a brief or a teaser with little text takes what the full article of another source
        says, and a story has one set of themes. (The mean of the scores was measured too: it
        pulled the full article down to the brief's level; docs/themes.md.) Keyword rules
        stay per article. The model reads each article's whole text through its
        passages (`passages.with_passages`) when it was trained to."""
        from veille.classify import model as theme_model
        from veille.classify.features import document
        from veille.classify.lede import read

        languages = [
            (it.language or detect_language(f"{it.title} {it.text}") or "").split("-")[0].lower()
            or None
            for it in items
        ]
        wanted = [
            i for i, lang in enumerate(languages) if lang is None or lang in CLASSIFIED_LANGUAGES
        ]
        # Each article's head cleaned and folded once, for the model and the rules (without
        # rules, the model's document alone).
        ledes = [read(items[i].title, items[i].text) for i in wanted] if self.keywords else []
        docs = [lede.document for lede in ledes] or [
            document(items[i].title, items[i].text) for i in wanted
        ]
        decision = theme_model.scores(self.model, docs, [items[i].text for i in wanted])
        if stories is not None:
            decision = _story_strongest(decision, [stories[i] for i in wanted])
        probs = theme_model.calibrated(self.model, decision)
        results: list[Prediction | None] = [None] * len(items)
        themes_order = self.model.themes
        for row, (i, values) in enumerate(zip(wanted, probs.tolist(), strict=True)):
            item = items[i]
            raw = dict(zip(themes_order, values, strict=True))
            folded = (ledes[row].title, ledes[row].text) if ledes else None
            final, fired = apply_rules(raw, self.keywords, item.title, item.text, folded=folded)
            themes = tuple(t for t in self.model.themes if final[t] >= self.model.thresholds[t])
            origins = {
                t: ("model" if raw[t] >= self.model.thresholds[t] else "rule") for t in themes
            }
            note = None if (item.title.strip() or item.text.strip()) else "empty text"
            results[i] = Prediction(
                themes=themes,
                probabilities=final,
                model_probabilities=raw,
                origins=origins,
                rules=fired,
                language=languages[i],
                note=note,
            )
        for i, lang in enumerate(languages):
            if results[i] is None:
                zero = {t: 0.0 for t in self.model.themes}
                results[i] = Prediction(
                    themes=(),
                    probabilities=zero,
                    model_probabilities=zero,
                    origins={},
                    language=lang,
                    note=f"language '{lang}' is not classified",
                )
        return [r for r in results if r is not None]


def _story_strongest(raw: np.ndarray, stories: Sequence[int | None]) -> np.ndarray:
    """Rows of the same story replaced by the story's strongest score per theme (column);
    rows of articles alone unchanged."""
    members: dict[int, list[int]] = {}
    for row, story in enumerate(stories):
        if story is not None:
            members.setdefault(story, []).append(row)
    out = raw.copy()
    for rows in members.values():
        if len(rows) > 1:
            out[rows] = raw[rows].max(axis=0)
    return out


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "veille"


def _converted(directory: Path, corpus: str) -> theme_model.ThemeModel | None:
    """The cached model of an older format that training today would give as it is
    (`SAME_MODEL_FORMATS`: written otherwise, not trained otherwise), loaded — hence
    converted — or None."""
    from veille.classify import model as theme_model

    for old in theme_model.SAME_MODEL_FORMATS:
        path = directory / f"default-model-{corpus}-f{old}.pickle"
        if path.exists():
            try:
                return theme_model.loads(path.read_bytes())
            except Exception:
                log.warning("ignoring unreadable cached model %s", path)
    return None


def default_model() -> theme_model.ThemeModel:
    """The model trained on the packaged seed corpus, cached on disk by corpus version.

    Training is deterministic (fixed seeds), so the cache only saves time: deleting it
    gives back the same model. The cached model holds no scikit-learn object (format 3),
    so loading it does not import scikit-learn.
    """
    from veille.classify import model as theme_model
    from veille.classify.corpus import load_seed

    seed = load_seed()
    corpus = theme_model.corpus_version(seed)
    path = cache_dir() / f"default-model-{corpus}-f{theme_model.FORMAT}.pickle"
    if path.exists():
        try:
            return theme_model.loads(path.read_bytes())
        except Exception:
            log.warning("ignoring unreadable cached model %s", path)
    model = _converted(cache_dir(), corpus) or theme_model.train(seed)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A temporary name of this writer's own: two processes training at once (two
        # `veille run`, two test workers) must not interleave their bytes in one file.
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(theme_model.dumps(model))
        tmp.replace(path)
    except OSError:
        log.warning("could not cache the default model in %s", path)
    return model
