"""Queries on themes: article themes, editor labels and stored model versions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from veille.db.reads import read
from veille.db.schema import utcnow
from veille.db.tables import (
    ArticleRow,
    ArticleThemeRow,
    EditorLabelRow,
    ModelVersionRow,
)


def save_model_version(
    session: Session,
    *,
    version: str,
    blob: bytes,
    training_size: int,
    editor_labels: int,
    metrics: Mapping[str, object],
    thresholds: Mapping[str, float],
) -> int:
    """Store a model and make it the active one."""
    session.execute(update(ModelVersionRow).values(active=False))
    row = ModelVersionRow(
        version=version,
        blob=blob,
        training_size=training_size,
        editor_labels=editor_labels,
        metrics=dict(metrics),
        thresholds=dict(thresholds),
        active=True,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row.id


def active_model(session: Session) -> ModelVersionRow | None:
    return session.scalar(
        select(ModelVersionRow)
        .where(ModelVersionRow.active.is_(True))
        .order_by(ModelVersionRow.id.desc())
        .limit(1)
    )


def active_thresholds(session: Session) -> dict[str, float]:
    """The active model's per-theme thresholds (empty without a model), without reading
    its blob: what saying a probability in words needs."""
    stored = session.scalar(
        select(ModelVersionRow.thresholds)
        .where(ModelVersionRow.active.is_(True))
        .order_by(ModelVersionRow.id.desc())
        .limit(1)
    )
    return {str(k): float(v) for k, v in (stored or {}).items()}


def editor_overrides(session: Session, article_ids: Sequence[int]) -> dict[int, dict[str, bool]]:
    out: dict[int, dict[str, bool]] = {}
    if not article_ids:
        return out
    for article_id, theme, present in session.execute(
        select(EditorLabelRow.article_id, EditorLabelRow.theme, EditorLabelRow.present).where(
            EditorLabelRow.article_id.in_(list(article_ids))
        )
    ):
        out.setdefault(article_id, {})[theme] = bool(present)
    return out


def replace_themes(
    session: Session,
    article_id: int,
    themes: Mapping[str, tuple[float, str]],
) -> None:
    """Set an article's themes to `{theme: (probability, origin)}` exactly."""
    session.execute(delete(ArticleThemeRow).where(ArticleThemeRow.article_id == article_id))
    for theme, (probability, origin) in sorted(themes.items()):
        session.add(
            ArticleThemeRow(
                article_id=article_id, theme=theme, probability=probability, origin=origin
            )
        )


def delete_themes_of(session: Session, article_ids: Sequence[int]) -> None:
    """Remove the articles' themes (their triggers clear the articles' theme bits)."""
    ids = list(article_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        session.execute(delete(ArticleThemeRow).where(ArticleThemeRow.article_id.in_(chunk)))


def insert_themes_of(
    session: Session, themes_by_article: Mapping[int, Mapping[str, tuple[float, str]]]
) -> None:
    """Add `{article: {theme: (probability, origin)}}` in one multi-row INSERT. Each row's
    trigger sets its theme's bit on the article, rewriting the article's row unless the bit
    is set already (`scores.update_scores` sets them with the score, in the same write)."""
    rows = [
        {"article_id": article_id, "theme": theme, "probability": probability, "origin": origin}
        for article_id, themes in themes_by_article.items()
        for theme, (probability, origin) in sorted(themes.items())
    ]
    if rows:
        session.execute(insert(ArticleThemeRow.core()), rows)


def set_editor_label(
    session: Session, article_id: int, theme: str, present: bool, author: str | None = None
) -> None:
    """Record the delegate's decision and apply it to the article's themes at once."""
    row = session.scalar(
        select(EditorLabelRow).where(
            EditorLabelRow.article_id == article_id, EditorLabelRow.theme == theme
        )
    )
    if row is None:
        session.add(
            EditorLabelRow(
                article_id=article_id,
                theme=theme,
                present=present,
                author=author,
                created_at=utcnow(),
            )
        )
    else:
        row.present, row.author, row.created_at = present, author, utcnow()
    existing = session.get(ArticleThemeRow, (article_id, theme))
    if present:
        if existing is None:
            session.add(
                ArticleThemeRow(
                    article_id=article_id, theme=theme, probability=1.0, origin="editor"
                )
            )
        else:
            existing.probability, existing.origin = 1.0, "editor"
    elif existing is not None:
        session.delete(existing)
    session.flush()


def editor_labelled_articles(session: Session) -> list[tuple[str, str, frozenset[str]]]:
    """(title, text, themes) of every article the delegate labelled, as training data:
    its current themes, in which the delegate's decisions are already applied."""
    ids = select(EditorLabelRow.article_id).distinct()
    rows = session.execute(
        select(ArticleRow.id, ArticleRow.title, ArticleRow.text).where(ArticleRow.id.in_(ids))
    ).all()
    themes: dict[int, set[str]] = {}
    for article_id, theme in session.execute(
        select(ArticleThemeRow.article_id, ArticleThemeRow.theme).where(
            ArticleThemeRow.article_id.in_(ids)
        )
    ):
        themes.setdefault(article_id, set()).add(theme)
    return [(title, text, frozenset(themes.get(i, set()))) for i, title, text in rows]


def editor_labels_since(session: Session, since: datetime | None) -> int:
    query = select(func.count()).select_from(EditorLabelRow)
    if since is not None:
        query = query.where(EditorLabelRow.created_at > since)
    return int(session.scalar(query) or 0)


def article_batches(session: Session, batch: int = 500) -> Iterator[list[ArticleRow]]:
    last = 0
    while True:
        rows = list(
            session.scalars(
                select(ArticleRow).where(ArticleRow.id > last).order_by(ArticleRow.id).limit(batch)
            )
        )
        if not rows:
            return
        yield rows
        last = rows[-1].id


_ACTIVE_ID = (
    select(ModelVersionRow.id)
    .where(ModelVersionRow.active.is_(True))
    .order_by(ModelVersionRow.id.desc())
    .limit(1)
)


def active_model_id(session: Session) -> int | None:
    """The active model's id alone: the web app checks it on every page that classifies,
    and loads the blob only when it changed."""
    found = read(session, _ACTIVE_ID).scalar()
    return None if found is None else int(found)


def model_version(session: Session, version_id: int) -> ModelVersionRow | None:
    return session.get(ModelVersionRow, version_id)
