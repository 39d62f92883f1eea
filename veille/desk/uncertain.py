"""« À vérifier »: the week's articles the model is least sure of, for the delegate.

Active learning by uncertainty sampling: an article whose probability sits right at a
theme's threshold is the one where the model most needs a human, and a label there moves
the next model's boundary more than a label on an article it already gets right
(`benchmarks/learning_curve.py` measures it on the held-out set). So the triage shows a
short band of them — a few decisions a week teach the model most — and the delegate's
re-theme there is an editor label like any other.

Uncertainty is the smallest `reasons.margin` over the themes (how far the probability is
from the threshold, as a share of the way to 0 or 1): the band keeps the articles on which
the model is not « sûr » either way for some theme (|margin| < `SURE_MARGIN`: « probable »,
« à vérifier » or just below the threshold), nearest first. The model trained on the seed
corpus is sharp, so a band limited to « à vérifier » would be empty most weeks. Articles
the delegate already labelled are left out: she has decided, and they are training data
already.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from veille.classify.classifier import Classifier, ClassItem, Prediction
from veille.classify.reasons import SURE_MARGIN, margin, reasons, sentence
from veille.db import articles as article_db
from veille.db import curation as curation_db
from veille.desk import inbox as inbox_model

MAX_ITEMS = 10
PREDICT_BATCH = 200  # articles read and classified at a time: a week is a few hundred


@dataclass(frozen=True)
class Doubt:
    """The theme the model hesitates on for one article."""

    article_id: int
    theme: str
    probability: float
    threshold: float
    margin: float  # signed: below 0, the theme is not given today


class _Seen:
    """Each article's doubt (or None) under the current model, kept between page loads: an
    article's text does not change once stored, so each is classified once per model
    instead of on every view of the triage (a week of 500 articles costs ~1 s to classify,
    measured on the shared 2-core machine)."""

    def __init__(self) -> None:
        self.key: tuple[str, str] | None = None
        self.doubts: dict[int, Doubt | None] = {}

    def of(self, version: str, database: str) -> dict[int, Doubt | None]:
        """The doubts of one model over one database (ids are only unique within one)."""
        if (version, database) != self.key or len(self.doubts) > MAX_REMEMBERED:
            self.key, self.doubts = (version, database), {}
        return self.doubts


MAX_REMEMBERED = 50_000
_SEEN = _Seen()


def _doubt(
    article_id: int, prediction: Prediction, thresholds: Mapping[str, float]
) -> Doubt | None:
    nearest = min(
        (
            (abs(m), m, theme, p)
            for theme, p in prediction.probabilities.items()
            if abs(m := margin(p, thresholds[theme])) < SURE_MARGIN
        ),
        default=None,
    )
    if nearest is None:
        return None
    _, m, theme, p = nearest
    return Doubt(article_id, theme, p, thresholds[theme], m)


def doubts(
    session: Session,
    classifier: Classifier,
    since: datetime,
    until: datetime | None,
    limit: int = MAX_ITEMS,
) -> list[Doubt]:
    """The period's unlabelled articles with a theme the model is not sure of, nearest the
    threshold first (then newest)."""
    rows = curation_db.inbox_rows(session, since=since, until=until)
    labelled = curation_db.labels_of(session, [r.id for r in rows])
    candidates = [r for r in rows if not labelled.get(r.id)]
    published = {r.id: r.published_at for r in candidates}
    thresholds = classifier.model.thresholds
    seen = _SEEN.of(classifier.model.version, str(session.get_bind().engine.url))
    unseen = [r.id for r in candidates if r.id not in seen]
    for start in range(0, len(unseen), PREDICT_BATCH):
        articles = article_db.articles_by_id(session, unseen[start : start + PREDICT_BATCH])
        predictions = classifier.predict(
            [ClassItem(a.title, a.text or a.summary, a.language) for a in articles]
        )
        for article, prediction in zip(articles, predictions, strict=True):
            seen[article.id] = _doubt(article.id, prediction, thresholds)
    found = [d for r in candidates if (d := seen.get(r.id)) is not None]
    found.sort(key=lambda d: (abs(d.margin), -published[d.article_id].timestamp(), d.article_id))
    return found[:limit]


def band(
    session: Session,
    classifier: Classifier | None,
    since: datetime,
    until: datetime | None,
    limit: int = MAX_ITEMS,
) -> list[tuple[inbox_model.InboxItem, Doubt, str]]:
    """The band's articles as the inbox shows them, each with its doubt and why the model
    leans that way in the article's words (`classify.reasons`); empty without a model."""
    if classifier is None:
        return []
    found = doubts(session, classifier, since, until, limit)
    by_id = {d.article_id: d for d in found}
    texts = {a.id: a for a in article_db.articles_by_id(session, list(by_id))}
    shown: Sequence[inbox_model.InboxItem] = inbox_model.items(session, list(by_id))
    out = []
    for item in shown:
        doubt, article = by_id[item.id], texts[item.id]
        said = reasons(
            classifier,
            article.title,
            article.text or article.summary,
            {doubt.theme: (doubt.probability, "model")},
        )
        out.append((item, doubt, sentence(said[doubt.theme])))
    return out
