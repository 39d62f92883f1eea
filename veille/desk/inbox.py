"""The weekly inbox: the articles since the last edition, on-topic first, grouped by theme,
best value score first, each with its score's « pourquoi », the story's other sources,
the desk's state and edits, and the summary to send (edited, else automatic).

An article sits in one group: its most likely theme (among the filtered ones when themes
are filtered), ties broken in the order of the themes; off-topic articles come last.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from veille.archive import fulltext_query
from veille.archive.query import NO_THEME
from veille.archive.views import ThemeTag
from veille.classify.score import WEIGHTS
from veille.db import curation as curation_db
from veille.db import editions as edition_db
from veille.newsletter.summary import extractive_summary
from veille.sources import THEME_IDS

DEFAULT_PERIOD = timedelta(days=7)
PAGE_SIZE = 100
STATE_FILTERS = ("new", "kept", "discarded", "starred")


@dataclass(frozen=True)
class InboxFilters:
    themes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # source keys
    q: str = ""
    state: str | None = None  # new | kept | discarded | starred
    # The archive's defaults, which the desk's page asks for (`veille.web.desk`): one
    # article per story, on-topic unless `theme=none` is among the themes.
    group: bool = False
    on_topic_only: bool = False


@dataclass(frozen=True)
class Component:
    name: str
    points: float
    max: float
    why: str


@dataclass(frozen=True)
class OtherSource:
    source_name: str
    article_id: int | None  # its own article in the story, when it has one
    title: str | None


@dataclass(frozen=True)
class InboxItem:
    id: int
    story_id: int | None
    url: str
    title: str  # edited, else original
    original_title: str
    title_edited: bool
    source_key: str
    source_name: str
    published_at: datetime
    group: str | None  # the theme it is listed under; None = off-topic
    themes: tuple[ThemeTag, ...]  # most likely first
    labels: dict[str, bool]  # the delegate's labels (theme → present)
    score: float | None
    components: tuple[Component, ...]
    others: tuple[OtherSource, ...]
    state: str  # new | kept | discarded
    starred: bool
    summary: str  # edited, else automatic
    summary_auto: bool
    comment: str
    version: int


@dataclass(frozen=True)
class InboxPage:
    items: list[InboxItem]
    total: int
    groups: list[tuple[str | None, int]] = field(default_factory=list)  # in listing order
    page: int = 1
    pages: int = 1


def default_since(session: Session, now: datetime) -> datetime:
    """The end of the period of the last edition that went out (sending or sent), else a
    week ago: what no member has received yet."""
    sent = edition_db.list_editions(session, ["sending", "sent"])
    return sent[0].period_end if sent else now - DEFAULT_PERIOD


def group_of(themes: Mapping[str, tuple[float, str]], among: Sequence[str] = ()) -> str | None:
    candidates = [t for t in THEME_IDS if t in themes and (not among or t in among)]
    if not candidates:
        candidates = [t for t in THEME_IDS if t in themes]
    if not candidates:
        return None
    return max(candidates, key=lambda t: (themes[t][0], -THEME_IDS.index(t)))


def _rank(group: str | None) -> int:
    return THEME_IDS.index(group) if group in THEME_IDS else len(THEME_IDS)


def _components(raw: Mapping[str, object]) -> tuple[Component, ...]:
    out = []
    for name in [*WEIGHTS, *(n for n in raw if n not in WEIGHTS)]:
        comp = raw.get(name)
        if isinstance(comp, dict):
            out.append(
                Component(
                    name=name,
                    points=float(comp.get("points", 0.0)),
                    max=float(comp.get("max", WEIGHTS.get(name, 0.0))),
                    why=str(comp.get("why", "")),
                )
            )
    return tuple(out)


def _items(
    session: Session,
    rows: Sequence[curation_db.InboxRow],
    themes: Mapping[int, dict[str, tuple[float, str]]],
    among: Sequence[str],
) -> list[InboxItem]:
    ids = [r.id for r in rows]
    labels = curation_db.labels_of(session, ids)
    siblings = curation_db.siblings_of(session, rows)
    texts = curation_db.texts_of(session, [r.id for r in rows if not r.edited_summary])
    out = []
    for r in rows:
        mine = themes.get(r.id, {})
        text, feed_summary = texts.get(r.id, ("", ""))
        summary = r.edited_summary or extractive_summary(r.title, text or feed_summary)
        out.append(
            InboxItem(
                id=r.id,
                story_id=r.story_id,
                url=r.url,
                title=r.edited_title or r.title,
                original_title=r.title,
                title_edited=bool(r.edited_title),
                source_key=r.source_key,
                source_name=r.source_name,
                published_at=r.published_at,
                group=group_of(mine, among),
                themes=tuple(
                    ThemeTag(t, p, o)
                    for t, (p, o) in sorted(mine.items(), key=lambda kv: (-kv[1][0], kv[0]))
                ),
                labels=labels.get(r.id, {}),
                score=r.score,
                components=_components(r.components),
                others=tuple(
                    OtherSource(s.source_name, s.article_id, s.title)
                    for s in siblings.get(r.id, [])
                ),
                state=r.state,
                starred=r.starred,
                summary=summary,
                summary_auto=not r.edited_summary,
                comment=r.comment or "",
                version=r.version,
            )
        )
    return out


def inbox_page(
    session: Session,
    since: datetime,
    until: datetime | None,
    filters: InboxFilters = InboxFilters(),
    *,
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> InboxPage:
    rows = curation_db.inbox_rows(
        session,
        since=since,
        until=until,
        themes=[t for t in filters.themes if t != NO_THEME],
        sources=filters.sources,
        text_match=fulltext_query.article_filter(session, filters.q) if filters.q else None,
        state=filters.state,
        off_topic=NO_THEME in filters.themes,
        on_topic_only=filters.on_topic_only,
        grouped=filters.group,
    )
    themes = curation_db.themes_of(session, [r.id for r in rows])
    groups = {r.id: group_of(themes.get(r.id, {}), filters.themes) for r in rows}
    rows.sort(
        key=lambda r: (
            _rank(groups[r.id]),
            -(r.score if r.score is not None else -1.0),
            -r.published_at.timestamp(),
            -r.id,
        )
    )
    counts: dict[str | None, int] = {}
    for r in rows:
        counts[groups[r.id]] = counts.get(groups[r.id], 0) + 1
    pages = max(1, -(-len(rows) // per_page))
    page = min(max(1, page), pages)
    shown = rows[(page - 1) * per_page : page * per_page]
    return InboxPage(
        items=_items(session, shown, themes, filters.themes),
        total=len(rows),
        groups=sorted(counts.items(), key=lambda kv: _rank(kv[0])),
        page=page,
        pages=pages,
    )


def inbox(
    session: Session,
    since: datetime,
    until: datetime | None,
    filters: InboxFilters = InboxFilters(),
) -> list[InboxItem]:
    """Every article of the period in inbox order (the web shows it page by page)."""
    return inbox_page(session, since, until, filters, per_page=1_000_000).items


def items(
    session: Session, article_ids: Sequence[int], among: Sequence[str] = ()
) -> list[InboxItem]:
    """Articles as the inbox shows them (whatever their date), in the given order: what an
    action answers with."""
    rows = curation_db.inbox_rows(session, since=None, until=None, article_ids=article_ids)
    themes = curation_db.themes_of(session, [r.id for r in rows])
    by_id = {i.id: i for i in _items(session, rows, themes, among)}
    return [by_id[i] for i in article_ids if i in by_id]


def item(session: Session, article_id: int, among: Sequence[str] = ()) -> InboxItem | None:
    found = items(session, [article_id], among)
    return found[0] if found else None
