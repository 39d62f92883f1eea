"""Queries of the desk's weekly inbox: the period's articles with their curation, themes,
editor labels and story siblings; the curation row; the per-source decision counts the
value score reads. Rules live in `veille.desk`; this module reads and writes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, or_, select, true, update
from sqlalchemy.orm import Session

from veille.db.fulltext import ALL_THEMES, DUPLICATE_BIT
from veille.db.tables import (
    ArticleLinkRow,
    ArticleRow,
    ArticleThemeRow,
    AuditRow,
    CurationRow,
    EditorLabelRow,
    SourceRow,
)

CHUNK = 500  # ids per IN list: well under every backend's bound-parameter limit


@dataclass(frozen=True)
class InboxRow:
    """One article of the period, without its text (loaded for the shown page only)."""

    id: int
    url: str
    title: str
    source_id: int
    source_key: str
    source_name: str
    published_at: datetime
    story_id: int | None
    score: float | None
    components: dict[str, Any]
    state: str  # articles.curation: new | kept | discarded
    starred: bool
    edited_title: str | None
    edited_summary: str | None
    comment: str | None
    version: int  # 0: never touched on the desk


@dataclass(frozen=True)
class Sibling:
    """Another source that carried the story, with its own article when it has one."""

    source_name: str
    article_id: int | None
    title: str | None


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def listing_conditions(
    themes: Sequence[str], off_topic: bool, on_topic_only: bool, grouped: bool
) -> list[ColumnElement[bool]]:
    """The archive's listing rules on the desk: themes OR `off_topic` (no theme); with
    neither, on-topic only when asked; one article per story when `grouped` (the
    representative: `fulltext.DUPLICATE_BIT` clear). `theme_mask` is not mapped on
    `ArticleRow` (migration 0003), hence the literal column."""
    mask: ColumnElement[int] = literal_column("articles.theme_mask")
    conds: list[ColumnElement[bool]] = []
    either: list[ColumnElement[bool]] = []
    if themes:
        either.append(
            ArticleRow.id.in_(
                select(ArticleThemeRow.article_id).where(ArticleThemeRow.theme.in_(list(themes)))
            )
        )
    if off_topic:
        either.append(mask.op("&")(ALL_THEMES) == 0)
    if either:
        conds.append(or_(*either))
    elif on_topic_only:
        conds.append(mask.op("&")(ALL_THEMES) != 0)
    if grouped:
        conds.append(mask.op("&")(DUPLICATE_BIT) == 0)
    return conds


def inbox_rows(
    session: Session,
    *,
    since: datetime | None,
    until: datetime | None,
    article_ids: Sequence[int] | None = None,
    themes: Sequence[str] = (),
    sources: Sequence[str] = (),
    text_match: ColumnElement[bool] | None = None,
    state: str | None = None,
    off_topic: bool = False,
    on_topic_only: bool = False,
    grouped: bool = False,
) -> list[InboxRow]:
    """Articles published (or fetched, when undated) in [since, until), filtered like the
    archive (themes OR, sources OR, full text) and by desk state (new, kept, discarded,
    starred). `text_match`: the full text as a condition on `articles.id`
    (`veille.archive.fulltext_query.article_filter`), which the store cannot build."""
    when = func.coalesce(ArticleRow.published_at, ArticleRow.fetched_at)
    conds: list[ColumnElement[bool]] = []
    if since is not None:
        conds.append(when >= since)
    if article_ids is not None:
        conds.append(ArticleRow.id.in_(list(article_ids)))
    if until is not None:
        conds.append(when < until)
    conds.extend(listing_conditions(themes, off_topic, on_topic_only, grouped))
    if sources:
        conds.append(SourceRow.key.in_(list(sources)))
    if text_match is not None:
        conds.append(text_match)
    if state in ("new", "kept", "discarded"):
        conds.append(ArticleRow.curation == state)
    elif state == "starred":
        conds.append(CurationRow.starred.is_(True))
    rows = session.execute(
        select(
            ArticleRow.id,
            ArticleRow.url,
            ArticleRow.title,
            ArticleRow.source_id,
            SourceRow.key,
            SourceRow.name,
            when,
            ArticleRow.story_id,
            ArticleRow.score,
            ArticleRow.score_components,
            ArticleRow.curation,
            CurationRow.starred,
            CurationRow.title,
            CurationRow.summary,
            CurationRow.comment,
            CurationRow.version,
        )
        .join(SourceRow, SourceRow.id == ArticleRow.source_id)
        .outerjoin(CurationRow, CurationRow.article_id == ArticleRow.id)
        .where(and_(true(), *conds))
    ).all()
    return [
        InboxRow(
            id=int(r[0]),
            url=str(r[1]),
            title=str(r[2] or ""),
            source_id=int(r[3]),
            source_key=str(r[4]),
            source_name=str(r[5]),
            published_at=r[6],
            story_id=r[7],
            score=r[8],
            components=dict(r[9] or {}),
            state=str(r[10] or "new"),
            starred=bool(r[11]),
            edited_title=r[12],
            edited_summary=r[13],
            comment=r[14],
            version=int(r[15] or 0),
        )
        for r in rows
    ]


def themes_of(
    session: Session, article_ids: Sequence[int]
) -> dict[int, dict[str, tuple[float, str]]]:
    """{article: {theme: (probability, origin)}}."""
    out: dict[int, dict[str, tuple[float, str]]] = {}
    for chunk in _chunks(article_ids):
        for row in session.scalars(
            select(ArticleThemeRow).where(ArticleThemeRow.article_id.in_(chunk))
        ):
            out.setdefault(row.article_id, {})[row.theme] = (row.probability, row.origin)
    return out


def labels_of(session: Session, article_ids: Sequence[int]) -> dict[int, dict[str, bool]]:
    """The delegate's labels: {article: {theme: present}}."""
    out: dict[int, dict[str, bool]] = {}
    for chunk in _chunks(article_ids):
        for article_id, theme, present in session.execute(
            select(EditorLabelRow.article_id, EditorLabelRow.theme, EditorLabelRow.present).where(
                EditorLabelRow.article_id.in_(chunk)
            )
        ):
            out.setdefault(int(article_id), {})[str(theme)] = bool(present)
    return out


def delete_label(session: Session, article_id: int, theme: str) -> bool:
    row = session.scalar(
        select(EditorLabelRow).where(
            EditorLabelRow.article_id == article_id, EditorLabelRow.theme == theme
        )
    )
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def set_theme_row(
    session: Session, article_id: int, theme: str, value: tuple[float, str] | None
) -> None:
    """Put one theme row back as it was: (probability, origin), or absent."""
    existing = session.get(ArticleThemeRow, (article_id, theme))
    if value is None:
        if existing is not None:
            session.delete(existing)
    elif existing is None:
        session.add(
            ArticleThemeRow(
                article_id=article_id, theme=theme, probability=value[0], origin=value[1]
            )
        )
    else:
        existing.probability, existing.origin = value
    session.flush()


def siblings_of(session: Session, rows: Sequence[InboxRow]) -> dict[int, list[Sibling]]:
    """For each article in a story: the other sources carrying the story, each with its own
    article when it has one in the story (else it only listed this same article)."""
    stories = sorted({r.story_id for r in rows if r.story_id is not None})
    if not stories:
        return {}
    members: dict[int, list[tuple[int, int, str, str]]] = {}  # story → (id, source, name, title)
    linked: dict[int, dict[int, str]] = {}  # story → {source_id: name}
    for chunk in _chunks(stories):
        for article_id, story_id, source_id, name, title in session.execute(
            select(
                ArticleRow.id, ArticleRow.story_id, SourceRow.id, SourceRow.name, ArticleRow.title
            )
            .join(SourceRow, SourceRow.id == ArticleRow.source_id)
            .where(ArticleRow.story_id.in_(chunk))
            .order_by(ArticleRow.id)
        ):
            members.setdefault(int(story_id or 0), []).append(
                (int(article_id), int(source_id), str(name), str(title or ""))
            )
        for story_id, source_id, name in session.execute(
            select(ArticleRow.story_id, SourceRow.id, SourceRow.name)
            .join(ArticleLinkRow, ArticleLinkRow.article_id == ArticleRow.id)
            .join(SourceRow, SourceRow.id == ArticleLinkRow.source_id)
            .where(ArticleRow.story_id.in_(chunk))
            .distinct()
        ):
            linked.setdefault(int(story_id or 0), {})[int(source_id)] = str(name)
    out: dict[int, list[Sibling]] = {}
    for row in rows:
        if row.story_id is None:
            continue
        found: dict[int, Sibling] = {}
        for article_id, source_id, name, title in members.get(row.story_id, []):
            if article_id != row.id and source_id != row.source_id and source_id not in found:
                found[source_id] = Sibling(name, article_id, title)
        for source_id, name in linked.get(row.story_id, {}).items():
            if source_id != row.source_id and source_id not in found:
                found[source_id] = Sibling(name, None, None)
        if found:
            out[row.id] = sorted(found.values(), key=lambda s: s.source_name.casefold())
    return out


def lock_article(session: Session, article_id: int) -> ArticleRow | None:
    """The article, locked for the rest of the transaction, so two desks acting on it take
    turns and the second reads what the first committed (no lost update).

    PostgreSQL: SELECT … FOR UPDATE. SQLite: a no-op UPDATE first; the driver opens the
    transaction at the first write, so reads before it would be unguarded — after it, the
    database write lock is held (other writers wait `busy_timeout`)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(ArticleRow)
            .where(ArticleRow.id == article_id)
            .values(curation=ArticleRow.curation)
            .execution_options(synchronize_session=False)
        )
        return session.get(ArticleRow, article_id, populate_existing=True)
    return session.scalar(select(ArticleRow).where(ArticleRow.id == article_id).with_for_update())


def curation_row(session: Session, article_id: int, now: datetime) -> CurationRow:
    """The article's curation row, created at version 0 (the caller bumps it) when absent.
    Call after `lock_article`, which makes the creation race-free."""
    row = session.get(CurationRow, article_id, populate_existing=True)
    if row is None:
        row = CurationRow(article_id=article_id, starred=False, version=0, updated_at=now)
        session.add(row)
        session.flush()
    return row


def decision_counts(session: Session, source_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """{source: (kept, discarded)} over the whole archive, as the score's editor part."""
    out: dict[int, tuple[int, int]] = {}
    if not source_ids:
        return out
    for source_id, state, n in session.execute(
        select(ArticleRow.source_id, ArticleRow.curation, func.count())
        .where(ArticleRow.source_id.in_(list(source_ids)))
        .where(ArticleRow.curation.in_(("kept", "discarded")))
        .group_by(ArticleRow.source_id, ArticleRow.curation)
    ):
        kept, discarded = out.get(int(source_id), (0, 0))
        out[int(source_id)] = (
            (kept + int(n), discarded) if state == "kept" else (kept, discarded + int(n))
        )
    return out


def recent_of_sources(
    session: Session, source_ids: Sequence[int], since: datetime
) -> list[ArticleRow]:
    """The sources' articles fetched since `since`, in id order (a stable lock order)."""
    if not source_ids:
        return []
    return list(
        session.scalars(
            select(ArticleRow)
            .where(ArticleRow.source_id.in_(list(source_ids)), ArticleRow.fetched_at >= since)
            .order_by(ArticleRow.id)
        )
    )


def edits_after(session: Session, article_id: int, version: int) -> list[AuditRow]:
    """The article's text edits that produced a version above `version`, oldest first."""
    return [
        row
        for row in session.scalars(
            select(AuditRow)
            .where(
                AuditRow.object_type == "article",
                AuditRow.object_id == str(article_id),
                AuditRow.action == "curation.edit",
            )
            .order_by(AuditRow.id)
        )
        if int((row.detail or {}).get("version", 0)) > version
    ]


def theme_changes(session: Session, article_id: int) -> list[AuditRow]:
    """The article's theme changes on the desk, newest first."""
    return list(
        session.scalars(
            select(AuditRow)
            .where(
                AuditRow.object_type == "article",
                AuditRow.object_id == str(article_id),
                AuditRow.action == "curation.themes",
            )
            .order_by(AuditRow.id.desc())
        )
    )


def texts_of(session: Session, article_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """{article: (text, feed summary)}, for the automatic summaries of a shown page."""
    out: dict[int, tuple[str, str]] = {}
    for chunk in _chunks(article_ids):
        for article_id, text_, summary in session.execute(
            select(ArticleRow.id, ArticleRow.text, ArticleRow.summary).where(
                ArticleRow.id.in_(chunk)
            )
        ):
            out[int(article_id)] = (str(text_ or ""), str(summary or ""))
    return out


def source_names(session: Session) -> list[tuple[str, str]]:
    """(key, name) of every source, by name: the inbox's source filter."""
    return [
        (str(k), str(n))
        for k, n in session.execute(select(SourceRow.key, SourceRow.name).order_by(SourceRow.name))
    ]
