"""The classification stage wired to the store: load or build the active model, classify
and score articles, retrain on the delegate's labels, explain a decision.

Called by the collection pipeline for new articles, by `veille classify …` and by the
scheduler's nightly retraining. Editor labels always win over the model.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from veille.classify import score as scoring
from veille.classify.certainty import strongest
from veille.classify.classifier import Classifier, ClassItem, Prediction, default_model
from veille.db import articles as article_db
from veille.db import clicks as click_db
from veille.db import curation as curation_db
from veille.db import scores as score_db
from veille.db import sources as source_db
from veille.db import stories as story_db
from veille.db import themes as theme_db
from veille.db.tables import ArticleRow
from veille.sources import FeedsConfig
from veille.text.fingerprint import from_signed64, popcount

if TYPE_CHECKING:
    from veille.classify import model as theme_model

# `veille.classify.model` (scikit-learn) is imported by the functions that need a model, so
# importing this module (the collection pipeline does) stays cheap.

log = logging.getLogger(__name__)

NOVELTY_WINDOW = timedelta(days=14)
# Hamming distances between SimHash fingerprints: at or below NEAR an article repeats a
# recent one; at or beyond FAR it is new.
NEAR_BITS, FAR_BITS = 12, 28


def keywords_of(config: FeedsConfig | None) -> dict[str, tuple[str, ...]]:
    return {t.id: t.keywords for t in config.themes} if config else {}


def load_classifier(session: Session, config: FeedsConfig | None) -> Classifier:
    """The active model from the store; on first run, the seed model, stored."""
    from veille.classify import model as theme_model

    row = theme_db.active_model(session)
    if row is not None:
        try:
            return Classifier(theme_model.loads(row.blob), keywords_of(config))
        except (ValueError, AttributeError, ImportError, ModuleNotFoundError) as exc:
            log.warning("stored model %s unusable (%s); using the seed model", row.version, exc)
    model = default_model()
    store_model(session, model)
    return Classifier(model, keywords_of(config))


def store_model(session: Session, model: theme_model.ThemeModel) -> int:
    from veille.classify import model as theme_model

    return theme_db.save_model_version(
        session,
        version=model.version,
        blob=theme_model.dumps(model),
        training_size=model.training_size,
        editor_labels=model.editor_labels,
        metrics=model.cv_metrics,
        thresholds=model.thresholds,
    )


def training_items(session: Session) -> tuple[list[theme_model.LabelledItem], int]:
    """Seed corpus plus every article the delegate labelled (their decisions applied)."""
    from veille.classify import model as theme_model
    from veille.classify.corpus import load_seed

    items = load_seed()
    edited = [
        theme_model.LabelledItem(title, text, labels, origin="editor")
        for title, text, labels in theme_db.editor_labelled_articles(session)
    ]
    return items + edited, len(edited)


def retrain(session: Session) -> theme_model.ThemeModel:
    from veille.classify import model as theme_model

    items, edited = training_items(session)
    model = theme_model.train(items, editor_labels=edited)
    store_model(session, model)
    return model


def needs_retraining(session: Session) -> bool:
    """True when the delegate labelled articles since the active model was trained."""
    row = theme_db.active_model(session)
    return theme_db.editor_labels_since(session, row.created_at if row else None) > 0


class _Nearest:
    """An article's novelty (how far its fingerprint is from the nearest recent article of
    another story) for many articles against one `recent` list. A cycle classifies
    thousands of articles against thousands of recent ones, so the fingerprints, stories
    and ids are unpacked once into arrays and each article is one XOR + popcount over them
    (the same minimum the pairwise loop finds)."""

    def __init__(self, recent: Sequence[article_db.Fingerprinted]) -> None:
        import numpy as np

        n = len(recent)
        self._fingerprints = np.fromiter(
            (from_signed64(item.fingerprint) for item in recent), dtype=np.uint64, count=n
        )
        self._stories = np.fromiter(
            (-1 if item.story_id is None else item.story_id for item in recent),
            dtype=np.int64,
            count=n,
        )
        self._ids = np.fromiter((item.article_id for item in recent), dtype=np.int64, count=n)

    def novelty(self, fp: int | None, story_id: int | None, article_id: int, upto: int) -> float:
        """Novelty of `fp` against `recent[:upto]`, leaving out `article_id` and its story."""
        if fp is None:
            return 1.0
        import numpy as np

        distances = popcount(self._fingerprints[:upto] ^ np.uint64(from_signed64(fp)))
        others = (self._ids[:upto] != article_id) & (
            self._stories[:upto] != (-1 if story_id is None else story_id)
        )
        nearest = int(distances[others].min()) if others.any() else 64
        return max(0.0, min(1.0, (nearest - NEAR_BITS) / (FAR_BITS - NEAR_BITS)))


class Classifiable(Protocol):
    """What `predict_with_stories` reads of an article (a stored row or `scores.ToScore`)."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def language(self) -> str | None: ...
    @property
    def story_id(self) -> int | None: ...


def predict_with_stories(
    session: Session, classifier: Classifier, rows: Sequence[Classifiable]
) -> list[Prediction]:
    """Predictions for `rows`, each story judged on the evidence of all its sources (the
    strongest, `Classifier.predict`): the other members of their stories are read too, as
    evidence only (they keep their stored themes until they are classified themselves, as
    the nightly reclassification does)."""
    batch = {r.id for r in rows}
    stories = sorted({r.story_id for r in rows if r.story_id is not None})
    others = [a for a, _ in story_db.members_of(session, stories) if a not in batch]
    siblings = score_db.to_score(session, others) if others else []
    everyone: list[Classifiable] = [*rows, *siblings]
    predictions = classifier.predict(
        [ClassItem(r.title, r.text or r.summary, r.language) for r in everyone],
        stories=[r.story_id for r in everyone],
    )
    return predictions[: len(rows)]


def effective_themes(
    prediction: Prediction, overrides: Mapping[str, bool]
) -> dict[str, tuple[float, str]]:
    themes = {t: (prediction.probabilities[t], prediction.origins[t]) for t in prediction.themes}
    for theme, present in overrides.items():
        if present:
            themes[theme] = (1.0, "editor")
        else:
            themes.pop(theme, None)
    return themes


def classify_articles(
    session: Session,
    classifier: Classifier,
    article_ids: Sequence[int],
    *,
    recent: Sequence[article_db.Fingerprinted] | None = None,
    visible: Mapping[int, int] | None = None,
    refresh: bool = True,
) -> dict[int, Prediction]:
    """Classify and score the given stored articles in place.

    `visible[article_id]`, when given, limits that article's novelty to the first items of
    `recent` (what the index held when it was stored, for callers classifying a batch).
    The articles are read as columns and their scores written in one executemany UPDATE
    (`veille.db.scores`), not through ORM rows. `refresh=False`: the caller refreshes their
    stories' entries (`veille.db.stories.refresh`) itself, once for all it changed."""
    if not article_ids:
        return {}
    rows = score_db.to_score(session, article_ids)
    predictions = predict_with_stories(session, classifier, rows)
    overrides = theme_db.editor_overrides(session, [r.id for r in rows])
    if recent is None:
        newest = max(r.fetched_at for r in rows)
        recent = article_db.recent_fingerprints(session, newest - NOVELTY_WINDOW)
    story_ids = sorted({r.story_id for r in rows if r.story_id is not None})
    coverage = article_db.story_source_counts(session, story_ids)
    weights = source_db.weights_of(session, {r.source_id for r in rows})
    decisions = curation_db.decision_counts(session, sorted({r.source_id for r in rows}))
    read = click_db.read_items_by_source(session, sorted({r.source_id for r in rows}))
    nearest = _Nearest(recent)
    out: dict[int, Prediction] = {}
    themes_of: dict[int, dict[str, tuple[float, str]]] = {}
    scores: list[tuple[int, float, dict[str, Any]]] = []
    languages: dict[int, str] = {}
    for row, prediction in zip(rows, predictions, strict=True):
        themes = themes_of[row.id] = effective_themes(prediction, overrides.get(row.id, {}))
        if row.language is None and prediction.language:
            languages[row.id] = prediction.language
        kept, discarded = decisions.get(row.source_id, (0, 0))
        confidence = max((p for p, _ in themes.values()), default=0.0)
        said = strongest(themes, classifier.model.thresholds)
        total, components = scoring.compute(
            scoring.ScoreInputs(
                confidence=confidence,
                source_weight=float(weights.get(row.source_id, 1.0)),
                published_at=row.published_at,
                fetched_at=row.fetched_at,
                coverage=coverage.get(row.story_id or -1, 1),
                novelty=nearest.novelty(
                    row.fingerprint,
                    row.story_id,
                    row.id,
                    (visible or {}).get(row.id, len(recent)),
                ),
                text_chars=len(row.text or ""),
                kept=kept,
                discarded=discarded,
                read=read.get(row.source_id, 0),
                certainty=said,
            )
        )
        scores.append((row.id, total, components))
        out[row.id] = prediction
    # The old themes out (their bits cleared), the scores and the new themes' bits in one
    # write of each row, then the new themes, whose triggers find their bits set.
    theme_db.delete_themes_of(session, list(themes_of))
    score_db.update_scores(session, scores, refresh=False, themes=themes_of)
    theme_db.insert_themes_of(session, themes_of)
    score_db.set_languages(session, languages)
    if refresh:  # scores pick representatives
        story_db.refresh(session, story_ids)
    return out


def reclassify_all(sessions: sessionmaker[Session], classifier: Classifier) -> tuple[int, int]:
    """Classify and score the whole archive in batches, one transaction per batch, so a
    long run neither holds one huge transaction nor loads the archive in memory.
    Returns (articles, on-topic articles)."""
    from veille.db.engine import transaction

    done = on_topic = 0
    with sessions() as reader:
        for batch in theme_db.article_batches(reader):
            with transaction(sessions) as session:
                results = classify_articles(session, classifier, [r.id for r in batch])
            done += len(results)
            on_topic += sum(1 for p in results.values() if p.on_topic)
            reader.expunge_all()
    return done, on_topic


def rescore_coverage(
    session: Session, story_ids: Sequence[int], *, refresh: bool = True
) -> set[int]:
    """A story gained a source: its articles' coverage component (and score) change.
    Only the rows that change are written (`veille.db.scores` says how, and why cheaply).
    Returns the stories whose articles' scores changed; `refresh=False`: the caller
    refreshes their entries (`veille.db.stories.refresh`) itself."""
    if not story_ids:
        return set()
    counts = article_db.story_source_counts(session, story_ids)
    changes: list[tuple[int, float, dict[str, Any]]] = []
    rescored: set[int] = set()
    for article_id, story_id, stored in score_db.story_components(session, story_ids):
        components: dict[str, Any] = dict(stored or {})
        if "coverage" not in components:
            continue
        value, why = scoring.coverage_component(counts.get(story_id or -1, 1))
        coverage = {
            "value": value,
            "points": round(value * scoring.WEIGHTS["coverage"], 1),
            "max": scoring.WEIGHTS["coverage"],
            "why": why,
        }
        if components["coverage"] == coverage:
            continue
        components["coverage"] = coverage
        changes.append(
            (
                article_id,
                round(sum(c["points"] for c in components.values()), 1),
                components,
            )
        )
        if story_id is not None:
            rescored.add(story_id)
    score_db.update_scores(session, changes, refresh=refresh)
    return rescored


@dataclass(frozen=True)
class Explanation:
    article_id: int
    title: str
    themes: dict[str, tuple[float, str]]
    probabilities: dict[str, float]
    thresholds: dict[str, float]
    terms: dict[str, list[tuple[str, float]]]
    rules: dict[str, tuple[str, ...]]
    score: float | None
    components: dict[str, Any]
    model_version: str
    # In words (`classify.reasons`): the article's words that weighed for each theme and
    # the keywords as it writes them; « sûr », « probable », « à vérifier »…
    quotes: dict[str, dict[str, list[str]]]
    certainty: dict[str, str]


def explain_article(session: Session, classifier: Classifier, key: str) -> Explanation | None:
    """Why an article has its themes and score; `key` is an id or a URL."""
    from veille.classify import model as theme_model

    row: ArticleRow | None
    if key.isdigit():
        row = article_db.article(session, int(key))
    else:
        from veille.text.urls import url_key

        try:
            k = url_key(key)
        except ValueError:
            return None
        hit = article_db.lookup_keys(session, [k]).get(k)
        row = article_db.article(session, hit.article_id) if hit else None
    if row is None:
        return None
    prediction = predict_with_stories(session, classifier, [row])[0]
    from veille.classify.reasons import reasons

    text = row.text or row.summary
    terms = theme_model.explain(classifier.model, row.title, text)
    stored = {t.theme: (t.probability, t.origin) for t in row.themes}
    said = reasons(
        classifier,
        row.title,
        text,
        {
            t: stored.get(t, (p, prediction.origins.get(t, "model")))
            for t, p in prediction.probabilities.items()
        },
    )
    return Explanation(
        article_id=row.id,
        title=row.title,
        themes=stored,
        probabilities=dict(prediction.probabilities),
        thresholds=dict(classifier.model.thresholds),
        terms=terms,
        rules={t: h.title + h.text for t, h in prediction.rules.items()},
        score=row.score,
        components=dict(row.score_components or {}),
        model_version=classifier.model.version,
        quotes={
            t: {"text": list(r.quotes), "keywords": list(r.keywords)}
            | ({"passage": [r.passage]} if r.passage else {})
            for t, r in said.items()
        },
        certainty={t: r.certainty for t, r in said.items()},
    )
