"""Hostile sources in one cycle: each fails alone, in bounded time and memory, with its
error on the source; every other source is collected."""

from __future__ import annotations

import resource
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.hostile_server import HostileServer
from tests.site_builder import feeds_yaml, mount_site
from veille.collect.pipeline import CollectContext, refresh_due
from veille.config import Settings
from veille.db.tables import ArticleRow, SourceRow
from veille.sources import load_feeds_config

HOSTILE = {
    "never-answers": "/never-answers",
    "trickle": "/slow-trickle",
    "endless": "/endless",
    "huge": "/huge",
    "huge-no-length": "/huge-no-length",
    "gzip-bomb": "/gzip-bomb",
    "redirect-loop": "/redirect-loop",
    "err-500": "/500",
    "err-404": "/404",
    "err-429": "/429",
    "not-a-feed": "/status/200",
}
TOLERATED = {
    "entities": "/entities.xml",  # entity bomb: defused, the feed still reads
    "no-charset": "/no-charset.xml",
    "wrong-charset": "/wrong-charset.xml",
    "changing-guids": "/changing-guids.xml",
}


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer(trickle_interval=0.5) as srv:
        yield srv


def test_each_hostile_source_fails_alone(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    mount_site(server)
    settings = settings.model_copy(update={"fetch_timeout": 4.0, "max_body_bytes": 2_000_000})
    # The well-behaved site first: a cycle's imports, extraction and model are then loaded,
    # so the peak measured below is the hostile sources' own (whatever ran before in this
    # process, alone or after other tests).
    settings.config_file.write_text(feeds_yaml(server.base_url), encoding="utf-8")
    warm = refresh_due(
        CollectContext(
            settings=settings, sessions=sessions, config=load_feeds_config(settings.config_file)
        )
    )
    extra = "".join(
        f'  - {{key: {key}, name: {key}, url: "{server.url(path)}"}}\n'
        for key, path in {**HOSTILE, **TOLERATED}.items()
    )
    settings.config_file.write_text(feeds_yaml(server.base_url, extra), encoding="utf-8")
    ctx = CollectContext(
        settings=settings, sessions=sessions, config=load_feeds_config(settings.config_file)
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    summary = refresh_due(ctx)
    elapsed = time.monotonic() - started
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024

    # Bounded: the slowest hostile source is cut at the total timeout (+ retries' backoff).
    assert elapsed < 30, elapsed
    # Bounded memory: 15 MB bodies and a 120 MB gzip bomb were cut at 2 MB (uncut, the peak
    # grows by ~110 MB; cut, by ~0).
    assert grown_mb < 50, grown_mb

    reports = {r.key: r for r in summary.sources}
    assert not {"flux-a", "flux-b", "annonces"} & set(reports)  # not due again
    for key in HOSTILE:
        assert reports[key].status == "failed", (key, reports[key])
        assert reports[key].error
    for key in TOLERATED:
        assert reports[key].status == "ok", (key, reports[key])
    assert {r.key: r.status for r in warm.sources} == dict.fromkeys(
        ("flux-a", "flux-b", "annonces"), "ok"
    )
    assert warm.new_articles >= 6 and summary.new_articles >= 1

    with sessions() as session:
        rows = {r.key: r for r in session.scalars(select(SourceRow))}
        for key in HOSTILE:
            assert rows[key].last_status == "error"
            assert rows[key].consecutive_failures == 1
            assert rows[key].last_error
        assert (
            "too large" in (rows["gzip-bomb"].last_error or "").lower()
            or "limit" in (rows["gzip-bomb"].last_error or "").lower()
        )
        assert "redirect" in (rows["redirect-loop"].last_error or "").lower()
        # 429 with Retry-After: 120 s → not due again before two minutes.
        r429 = rows["err-429"]
        assert r429.next_fetch_at and r429.last_fetched_at
        assert (r429.next_fetch_at - r429.last_fetched_at).total_seconds() >= 120
        titles = set(session.scalars(select(ArticleRow.title)))
    assert any("données ouvertes à l'école" in t for t in titles)  # Latin-1 decoded right


def test_changing_guids_never_duplicate(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    settings.config_file.write_text(
        f'sources:\n  - {{key: g, name: G, url: "{server.url("/changing-guids.xml")}"}}\n',
        encoding="utf-8",
    )
    ctx = CollectContext(
        settings=settings, sessions=sessions, config=load_feeds_config(settings.config_file)
    )
    first = refresh_due(ctx, force=True)
    second = refresh_due(ctx, force=True)
    assert first.new_articles > 0
    assert second.new_articles == 0
    with sessions() as session:
        assert len(session.scalars(select(ArticleRow)).all()) == first.new_articles
