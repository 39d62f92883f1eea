"""A cycle whose feeds answer 304: nothing stored but each source's health, in one statement,
with the same values the row-by-row store step writes; a feed that changed meanwhile, in
the same batch, still gets its new articles; the connection is kept across 304s."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.hostile_server import HostileServer
from tests.site_builder import ConditionalFeed, mount_conditional_feeds, mount_site
from veille.collect.decide import Decision
from veille.collect.fetcher import Fetcher, FetchPolicy
from veille.collect.pipeline import CollectContext, refresh_due
from veille.collect.store import store_listings
from veille.collect.types import FetchResult
from veille.collect.unchanged import save_unchanged
from veille.collect.worker import Listing, SourceState
from veille.config import Settings
from veille.db.tables import ArticleLinkRow, ArticleRow, SourceRow
from veille.sources import load_feeds_config

pytestmark = pytest.mark.postgres  # one UPDATE … executemany by primary key: both databases


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


def _rows(session: Session) -> dict[str, SourceRow]:
    return {r.key: r for r in session.scalars(select(SourceRow))}


def test_unchanged_feeds_store_only_their_health_and_a_changed_one_its_articles(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    pages = mount_site(server)
    base = server.base_url
    links = [(f"{base}/articles/{p.slug}", p) for p in pages]
    feeds = [ConditionalFeed(links[n : n + 2], base) for n in range(4)]
    settings.config_file.write_text(mount_conditional_feeds(server, feeds), encoding="utf-8")
    config = load_feeds_config(settings.config_file)
    first_now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    ctx = CollectContext(settings=settings, sessions=sessions, config=config)
    ctx.clock = lambda: first_now
    first = refresh_due(ctx).as_dict()
    assert first["sources_ok"] == 4 and first["new_articles"] == 5
    with sessions() as session:
        newest = {k: r.last_new_article_at for k, r in _rows(session).items()}

    # Second cycle: three feeds unchanged, one publishes the sixth page.
    feeds[3].publish([links[5], *links[3:5]])
    server.reset_counters()
    second_now = first_now + timedelta(hours=3)
    ctx.clock = lambda: second_now
    second = refresh_due(ctx, force=True).as_dict()
    assert (second["sources_not_modified"], second["sources_ok"]) == (3, 1)
    assert second["new_articles"] == 1 and second["sources_failed"] == 0
    sent = [r.headers.get("if-none-match") for r in server.requests if "/cond/" in r.path]
    assert sorted(sent) == ['"v1"', '"v1"', '"v1"', '"v1"']  # every request conditional

    with sessions() as session:
        rows = _rows(session)
        for n in range(3):  # the unchanged ones: health saved, validators kept
            row = rows[f"flux-{n}"]
            assert (row.last_status, row.last_http_status) == ("not_modified", 304)
            assert (row.etag, row.last_modified) == ('"v1"', "Mon, 23 Nov 2026 01:00:00 GMT")
            assert row.last_fetched_at == second_now and row.last_success_at == second_now
            assert row.consecutive_failures == 0 and row.last_error is None
            assert row.next_fetch_at == second_now + timedelta(hours=2)  # Cache-Control
            assert row.last_new_article_at == newest[row.key]  # untouched
            assert row.lease_owner is None and row.lease_until is None
        changed = rows["flux-3"]
        assert (changed.last_status, changed.etag) == ("ok", '"v2"')
        assert changed.last_new_article_at == second_now
        assert session.scalar(select(func.count()).select_from(ArticleRow)) == 6
        new = session.scalar(select(ArticleRow).where(ArticleRow.url == links[5][0]))
        assert new is not None
        linked = set(
            session.scalars(
                select(ArticleLinkRow.source_id).where(ArticleLinkRow.article_id == new.id)
            )
        )
        assert linked == {changed.id}


def test_the_bulk_update_writes_what_the_row_by_row_step_writes(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    """Two identical sources, one saved by `store_listings` (`store_listing` on its loaded
    row), the other by `save_unchanged`: the same columns, for a 304 with validators and one
    without."""
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    with sessions() as session, session.begin():
        for key in ("row", "bulk", "row-bare", "bulk-bare"):
            session.add(
                SourceRow(
                    key=key,
                    name=key,
                    url=f"http://exemple.fr/{key}.xml",
                    interval=30,
                    etag='"old"',
                    last_modified="Sun, 22 Nov 2026 10:00:00 GMT",
                    consecutive_failures=0,
                    last_status="ok",
                )
            )
    with sessions() as session:
        states = {
            r.key: SourceState(
                r.id,
                r.key,
                r.url,
                r.kind,
                r.selector,
                r.interval,
                r.etag,
                r.last_modified,
                r.consecutive_failures,
            )
            for r in session.scalars(select(SourceRow))
        }

    def answer(key: str, validators: bool) -> Listing:
        headers = {"etag": '"new"', "cache-control": "max-age=5400"} if validators else {}
        result = FetchResult(
            url=states[key].url,
            status=304,
            content=b"",
            headers=headers,
            etag='"new"' if validators else None,
        )
        return Listing(states[key], result=result)

    with sessions() as session, session.begin():
        for key, validators in (("row", True), ("row-bare", False)):
            [report] = store_listings(session, [(answer(key, validators), Decision(), {})], now)
            assert report.status == "not_modified"
        reports = save_unchanged(session, [answer("bulk", True), answer("bulk-bare", False)], now)
        assert [r.status for r in reports] == ["not_modified", "not_modified"]

    columns = [
        c.key
        for c in SourceRow.__table__.columns
        if c.key not in ("id", "key", "name", "url", "created_at")
    ]
    with sessions() as session:
        rows = _rows(session)
        for by_row, bulk in (("row", "bulk"), ("row-bare", "bulk-bare")):
            assert {c: getattr(rows[by_row], c) for c in columns} == {
                c: getattr(rows[bulk], c) for c in columns
            }, by_row
        assert (rows["bulk"].etag, rows["bulk"].last_modified) == ('"new"', None)
        assert rows["bulk"].next_fetch_at == now + timedelta(minutes=90)
        assert (rows["bulk-bare"].etag, rows["bulk-bare"].last_modified) == (
            '"old"',
            "Sun, 22 Nov 2026 10:00:00 GMT",
        )
        assert rows["bulk-bare"].next_fetch_at == now + timedelta(minutes=30)


def test_a_304_and_a_redirect_keep_the_connection(server: HostileServer) -> None:
    """A response whose body the fetcher does not use is read to its end, so the next
    request to the host reuses the connection (a closed one meant a new TCP connection,
    and with HTTPS a new TLS handshake, for every 304)."""
    policy = FetchPolicy(allow_private_networks=True, per_host_delay=0.0)
    with Fetcher(policy) as fetcher:
        first = fetcher.fetch(server.url("/etag.xml"))
        for _ in range(3):
            again = fetcher.fetch(
                server.url("/etag.xml"), etag=first.etag, last_modified=first.last_modified
            )
            assert again.not_modified
        assert fetcher.fetch(server.url("/redirect-chain/2")).status == 200
    clients = {r.client for r in server.requests}
    assert len(server.requests) == 7 and len(clients) == 1, clients
