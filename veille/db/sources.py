"""Queries on the `sources` table: sync from feeds.yaml, due sources, health updates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from veille.db import feeds_sync
from veille.db.due import due_filter, soonest_first
from veille.db.tables import ArticleLinkRow, ArticleRow, SourceRow

if TYPE_CHECKING:  # only feeds.yaml's parsed sources are; a cycle may not parse it
    from veille.sources import Source


def sync_sources(
    session: Session, sources: Sequence[Source], now: datetime, *, digest: str | None = None
) -> dict[str, int]:
    """Make the table match the config: insert new sources, update edited ones, and mark
    the ones no longer listed as out of config (kept, since articles point to them).
    `digest` names the file the sources were read from (`configfile.digest_of`); without
    one, the table no longer mirrors a known file and the next collector syncs again."""
    rows = {row.key: row for row in session.scalars(select(SourceRow))}
    listed = set()
    for src in sources:
        listed.add(src.key)
        row = rows.get(src.key)
        if row is None:
            row = SourceRow(key=src.key, next_fetch_at=now, consecutive_failures=0)
            session.add(row)
        elif row.url != src.url:
            # A new URL is a new feed: forget validators so the first fetch is complete.
            row.etag = row.last_modified = None
            row.next_fetch_at = now
            row.paused_at, row.consecutive_failures = None, 0  # a fixed URL resumes it
        wanted = {
            "name": src.name,
            "url": src.url,
            "kind": src.kind,
            "weight": src.weight,
            "interval": src.interval,
            "tags": list(src.tags),
            "selector": src.selector,
            "enabled": src.enabled,
            "in_config": True,
        }
        # Only what changed is assigned: the scheduler syncs every minute, and a row touched
        # with equal values is still dirty for the flush and the data-version hook (~0.1 s
        # of CPU per tick for 500 sources, for nothing).
        for name, value in wanted.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
    for key, row in rows.items():
        if key not in listed and row.in_config is not False:
            row.in_config = False
    session.flush()
    feeds_sync.remember(session, digest, now)
    return {key: id_ for key, id_ in session.execute(select(SourceRow.key, SourceRow.id))}


def due_query(
    now: datetime, *, keys: Sequence[str] | None = None, force: bool = False
) -> Select[Any]:
    """Enabled sources of the config whose next fetch time has come (or all with force),
    soonest first; a paused source is never due, whatever asks (see `db.source_pause`)."""
    return soonest_first(due_filter(select(SourceRow), now, keys, force))


def due_sources(
    session: Session, now: datetime, *, keys: Sequence[str] | None = None, force: bool = False
) -> list[SourceRow]:
    """The due sources, leased or not (a collector claims them with `db.leases`)."""
    return list(session.scalars(due_query(now, keys=keys, force=force)))


@dataclass(frozen=True)
class SourceHealth:
    key: str
    name: str
    url: str
    kind: str
    enabled: bool
    last_status: str | None
    last_http_status: int | None
    last_error: str | None
    last_warning: str | None
    consecutive_failures: int
    last_fetched_at: datetime | None
    last_success_at: datetime | None
    last_new_article_at: datetime | None
    next_fetch_at: datetime | None
    articles: int
    paused_at: datetime | None = None
    weight: float = 1.0
    interval: int = 60
    created_at: datetime | None = None


def list_health(session: Session) -> list[SourceHealth]:
    counts = dict(
        session.execute(
            select(
                ArticleLinkRow.source_id, func.count(func.distinct(ArticleLinkRow.article_id))
            ).group_by(ArticleLinkRow.source_id)
        ).all()
    )
    rows = session.scalars(
        select(SourceRow).where(SourceRow.in_config.is_(True)).order_by(SourceRow.key)
    )
    return [
        SourceHealth(
            key=r.key,
            name=r.name,
            url=r.url,
            kind=r.kind,
            enabled=r.enabled,
            last_status=r.last_status,
            last_http_status=r.last_http_status,
            last_error=r.last_error,
            last_warning=r.last_warning,
            consecutive_failures=r.consecutive_failures,
            last_fetched_at=r.last_fetched_at,
            last_success_at=r.last_success_at,
            last_new_article_at=r.last_new_article_at,
            next_fetch_at=r.next_fetch_at,
            articles=int(counts.get(r.id, 0)),
            paused_at=r.paused_at,
            weight=r.weight,
            interval=r.interval,
            created_at=r.created_at,
        )
        for r in rows
    ]


def source_article_count(session: Session, source_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(ArticleRow).where(ArticleRow.source_id == source_id)
        )
        or 0
    )


def weights_of(session: Session, source_ids: Iterable[int]) -> dict[int, float]:
    """{source id: weight} of the given sources, as stored."""
    return dict(
        session.execute(
            select(SourceRow.id, SourceRow.weight).where(SourceRow.id.in_(set(source_ids)))
        ).all()
    )


def names_of(session: Session, keys: Iterable[str]) -> dict[str, str]:
    """Display names of the sources with these keys (unknown keys are left out)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = session.execute(select(SourceRow.key, SourceRow.name).where(SourceRow.key.in_(wanted)))
    return {key: name for key, name in rows}


def names(session: Session) -> list[tuple[str, str]]:
    """Every source's key and name (the composer's search matches source names)."""
    return [(k, n) for k, n in session.execute(select(SourceRow.key, SourceRow.name))]


def weekly_new_articles(session: Session, now: datetime, weeks: int = 4) -> dict[int, list[int]]:
    """{source id: [new articles per week, oldest week first]}: the articles each source
    brought first (`articles.source_id`), in the `weeks` 7-day windows ending at `now`."""
    counts: dict[int, list[int]] = {}
    for back in range(weeks):
        end = now - timedelta(days=7 * back)
        rows = session.execute(
            select(ArticleRow.source_id, func.count())
            .where(ArticleRow.fetched_at > end - timedelta(days=7), ArticleRow.fetched_at <= end)
            .group_by(ArticleRow.source_id)
        )
        for source_id, count in rows:
            counts.setdefault(source_id, [0] * weeks)[weeks - 1 - back] = int(count)
    return counts


def source_ids(session: Session) -> dict[str, int]:
    """{key: id} of the sources in feeds.yaml."""
    rows = session.execute(
        select(SourceRow.key, SourceRow.id).where(SourceRow.in_config.is_(True))
    ).all()
    return {key: source_id for key, source_id in rows}
