"""ETag / Last-Modified / 304 and the kept answers of the public archive, against a real
uvicorn server: pages, API and Atom; the version moves after a real collection cycle and
after a desk decision made over HTTP, and the answer with it; the desk, members' pages and
a members-only archive are never shared."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import NOW, Site, running_archive, serve
from tests.hostile_server import HostileServer
from tests.members_site import running_members_site
from tests.site_builder import feeds_yaml, make_pages, mount_site
from tests.test_auth import login
from tests.test_desk_inbox import ANNE, PASSWORD, SECRET, act
from tests.test_member_sessions import signed_in
from veille.collect.pipeline import CollectContext, refresh_due
from veille.config import Settings
from veille.desk import accounts
from veille.sources import load_feeds_config
from veille.web.app import create_app


@pytest.fixture
def site(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[Site]:
    with running_archive(settings.model_copy(update={"secret_key": SECRET}), sessions) as s:
        yield s


def public_paths(site: Site) -> list[str]:
    return [
        "/",
        "/?theme=ia&sort=score",
        "/?period=semaine",
        "/?q=donn%C3%A9es",
        f"/articles/{site.ids['lyon']}",
        "/sources",
        "/api/articles?q=lyon",
        "/feeds/search.atom?q=lyon",
        "/feeds/open_data.atom",
    ]


def test_pages_api_and_atom_answer_conditional_requests_with_304(site: Site) -> None:
    for path in public_paths(site):
        first = site.get(path)
        assert first.status_code == 200, path
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert first.headers["cache-control"] == "no-cache"
        again = site.get(path, headers={"If-None-Match": etag})
        assert (again.status_code, again.content) == (304, b""), path
        assert again.headers["etag"] == etag
        assert "x-content-type-options" in again.headers  # still inside the guard
        since = site.get(path, headers={"If-Modified-Since": modified})
        assert since.status_code == 304, path
        other = site.get(path, headers={"If-None-Match": '"1-autre"'})
        assert (other.status_code, other.content) == (200, first.content), path
        assert other.headers["etag"] == etag
    # the same filters in another order are the same answer
    a = site.get("/?theme=ia&sort=score").headers["etag"]
    assert site.get("/?sort=score&theme=ia").headers["etag"] == a
    assert site.get("/?theme=open_data").headers["etag"] != a


def test_a_desk_decision_changes_the_version_and_the_answer(
    site: Site, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        accounts.add_user(session, ANNE, "delegate", PASSWORD, now=NOW)
    path = f"/articles/{site.ids['lyon']}"
    before = site.get(path)
    assert "choisi par la déléguée" not in before.text
    with httpx.Client(base_url=site.base_url, follow_redirects=False, timeout=10) as desk:
        assert login(desk, ANNE, PASSWORD, suite="/desk/tri").status_code == 303
        done = act(desk, site.ids["lyon"], action="themes", add=["ia"], remove=["open_data"])
        assert done.status_code == 200, done.text
    after = site.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    assert "choisi par la déléguée" in after.text  # not the kept answer of before


def test_a_collection_cycle_changes_the_version_and_the_answer(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    with HostileServer() as server:
        pages = mount_site(server)
        settings.config_file.write_text(feeds_yaml(server.base_url), encoding="utf-8")
        with serve(create_app(settings, clock=lambda: NOW)) as base_url:
            # every article, off-topic and duplicates included (the default lists stories)
            every = "/api/articles?group=none&theme=none&theme=open_data&theme=ia"
            every += "&theme=donnees_interet_general"
            empty = httpx.get(base_url + every, timeout=10)
            assert empty.json()["total"] == 0
            ctx = CollectContext(
                settings=settings,
                sessions=sessions,
                config=load_feeds_config(settings.config_file),
            )
            assert refresh_due(ctx).as_dict()["new_articles"] == len(make_pages())
            full = httpx.get(
                base_url + every,
                headers={"If-None-Match": empty.headers["etag"]},
                timeout=10,
            )
    assert full.status_code == 200
    assert full.headers["etag"] != empty.headers["etag"]
    assert full.json()["total"] == len(pages) > 0


def test_the_desk_is_never_kept_nor_given_to_another(
    site: Site, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        accounts.add_user(session, ANNE, "delegate", PASSWORD, now=NOW)
    with httpx.Client(base_url=site.base_url, follow_redirects=False, timeout=10) as desk:
        assert login(desk, ANNE, PASSWORD, suite="/desk/tri").status_code == 303
        inbox = desk.get("/desk/tri")
        assert inbox.status_code == 200 and "etag" not in inbox.headers
        # a desk user's archive page is rendered for her, without validators
        assert "etag" not in desk.get("/").headers
    stranger = site.get("/desk/tri", headers={"If-None-Match": "*"})
    assert stranger.status_code in (303, 401) and ANNE not in stranger.text


def test_a_members_only_archive_is_never_shared(settings: Settings) -> None:
    closed = settings.model_copy(update={"archive_access": "members"})
    with running_members_site(closed) as members:
        signed_in(members, "olga@exemple.fr")
        page = members.client.get("/")
        assert page.status_code == 200 and "etag" not in page.headers
        with httpx.Client(base_url=members.base_url, timeout=10) as anonymous:
            for headers in ({}, {"If-None-Match": "*"}):
                assert anonymous.get("/", headers=headers).status_code == 401
                assert anonymous.get("/api/articles", headers=headers).status_code == 401
