"""The most-read public pages rendered ahead of the crowd (`veille.web.prerender`), on the
real app served by uvicorn over SQLite: at start-up and after the data version moves, a
browser's and a feed reader's first requests are answered from the cache, unrendered, with
the validators of a real request; a members-only archive renders nothing ahead."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import NOW, populate, serve
from veille.config import Settings
from veille.db import data_version
from veille.web.app import create_app, ready_to_serve
from veille.web.prerender import Prerenderer, listed_articles
from veille.web.response_cache import ResponseCache, response_cache_of

CHROMIUM = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
FEED_READER = "application/atom+xml, application/rss+xml, application/xml;q=0.9, */*;q=0.8"


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)  # the watcher runs in the server's thread: no clock to inject


def bump(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        data_version.bump(session)
    with sessions() as session:
        version = data_version.current(session)
    assert version is not None
    return version.number


def started(settings: Settings, sessions: sessionmaker[Session]) -> tuple[object, Prerenderer]:
    populate(sessions)
    app = create_app(settings, clock=lambda: NOW)
    prerenderer: Prerenderer = app.state.prerender
    prerenderer.poll = 0.02
    return ready_to_serve(app), prerenderer


def cache(app: object) -> ResponseCache:
    found = response_cache_of(app)
    assert found is not None
    return found


def test_after_a_version_change_the_most_read_pages_are_served_unrendered(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    app, pre = started(settings, sessions)
    paths = {(a.path, a.query) for a in pre.asks}
    assert ("/", "") in paths and ("/", "theme=ia") in paths and ("/sources", "") in paths
    assert ("/feeds/open_data.atom", "") in paths and ("/api/articles", "") in paths
    with serve(app) as base:
        assert len(pre.walked) == 1  # before the first request was accepted
        at_start = cache(app).renders
        listed = httpx.get(base + "/api/articles", timeout=30).json()["items"]
        assert len(listed) > 1
        # ... and the pages of the articles the home page lists
        assert at_start == len(pre.asks) + len(listed)
        version = bump(sessions)
        until(lambda: pre.walked[-1:] == [version], "no pre-render after the version moved")
        rendered = cache(app).renders
        assert rendered == at_start + len(pre.asks) + len(listed)
        etags = set()
        with httpx.Client(base_url=base, timeout=30) as client:
            for ask in pre.asks:
                accept = FEED_READER if ask.path.startswith("/feeds/") else CHROMIUM
                if ask.path.startswith("/api/"):
                    accept = "*/*"
                url = ask.path + (f"?{ask.query}" if ask.query else "")
                response = client.get(url, headers={"Accept": accept})
                assert response.status_code == 200, url
                assert response.headers["etag"].startswith(f'"{version}-'), url
                etags.add(response.headers["etag"])
                etag = response.headers["etag"]
                again = client.get(url, headers={"Accept": accept, "If-None-Match": etag})
                assert again.status_code == 304, url
            for item in listed:
                page = client.get(f"/articles/{item['id']}", headers={"Accept": CHROMIUM})
                assert page.status_code == 200
                assert page.headers["etag"].startswith(f'"{version}-')
            assert cache(app).renders == rendered  # every one replayed, none rendered
            # a page not in the list is still rendered on demand, and counted
            assert client.get("/?period=semaine", headers={"Accept": CHROMIUM}).is_success
        assert cache(app).renders == rendered + 1
        assert len(etags) == len(pre.asks)


def test_a_members_only_archive_renders_nothing_ahead(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    app, pre = started(settings.model_copy(update={"archive_access": "members"}), sessions)
    with serve(app) as base:
        bump(sessions)
        looked = pre.checks
        until(lambda: pre.checks >= looked + 3, "the watcher stopped looking")
        assert pre.walked == []
        assert cache(app).renders == 0
        assert httpx.get(base + "/", headers={"Accept": CHROMIUM}).status_code == 401


def test_the_listed_articles_are_read_from_the_listing_and_nothing_else() -> None:
    asks = listed_articles(b'{"items": [{"id": 7}, {"id": "8; drop"}, {"id": 9}, "x"]}')
    assert [(a.path, a.query) for a in asks] == [("/articles/7", ""), ("/articles/9", "")]
    assert listed_articles(b"<html>") == [] and listed_articles(b"[1, 2]") == []
    assert listed_articles(b'{"items": null}') == []
