"""The desk decides stories (issue 11, part 2): a decision on a story applies to the story
and the edition gets one item; the delegate takes an article out of a story or joins two
(JSON actions with CSRF), and the correction survives later collection cycles (a real
local HTTP server and the real pipeline)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import NOW
from tests.hostile_server import HostileServer, static
from tests.site_builder import Page, article_html, make_pages, rss
from tests.test_desk_inbox import (  # noqa: F401 (the `site` fixture)
    DeskSite,
    act,
    csrf_of,
    listed,
    page,
    site,
)
from tests.test_pipeline import context, server, write_config  # noqa: F401 (`server`)
from veille.collect.pipeline import refresh_due
from veille.config import Settings
from veille.db import editions as edition_db
from veille.db.tables import ArticleRow, StoryRow
from veille.desk import stories as desk_stories
from veille.newsletter.compose import compose
from veille.sources import THEME_IDS

pytestmark = pytest.mark.postgres  # behaviour depends on the database: CI reruns it on PostgreSQL


def row(sessions: sessionmaker[Session], article_id: int) -> ArticleRow:
    with sessions() as session:
        found = session.get(ArticleRow, article_id)
        assert found is not None
        session.expunge(found)
        return found


def story_post(client: httpx.Client, article_id: int, **body: object) -> httpx.Response:
    return client.post(
        f"/desk/api/articles/{article_id}/story",
        json=body,
        headers={"X-CSRF-Token": csrf_of(client)},
    )


def test_a_decision_on_a_story_applies_to_the_story(site: DeskSite) -> None:  # noqa: F811 (fixture)
    ids = site.ids
    with site.client() as client:
        # Kept from the every-article view, on the story's other article: the delegate's pick.
        answer = act(client, ids["lyon-bis"], action="keep")
        assert answer.status_code == 200, answer.text
        assert answer.json()["item"]["id"] == ids["lyon-bis"]
        assert row(site.sessions, ids["lyon"]).curation == "kept"
        assert row(site.sessions, ids["lyon-bis"]).curation == "kept"
        # The story's one card is now the picked article.
        assert ids["lyon-bis"] in listed(page(client, "/desk/tri?theme=open_data"))
        assert ids["lyon"] not in listed(page(client, "/desk/tri?theme=open_data"))
        # Starring and discarding follow the story too.
        act(client, ids["lyon"], action="star")
        act(client, ids["lyon"], action="discard")
    assert row(site.sessions, ids["lyon-bis"]).curation == "discarded"
    with site.sessions() as session:
        lead = session.scalar(
            select(StoryRow.lead_article_id).where(
                StoryRow.id == row(site.sessions, ids["lyon"]).story_id
            )
        )
    assert lead == ids["lyon-bis"]  # a discard leaves the pick alone


def test_the_edition_gets_one_item_per_kept_story(site: DeskSite) -> None:  # noqa: F811 (fixture)
    ids = site.ids
    with site.client() as client:
        assert act(client, ids["lyon-bis"], action="keep").status_code == 200
    with site.sessions() as session:
        found = edition_db.candidates(session, NOW - timedelta(days=7), NOW)
    planned = compose(found, THEME_IDS)
    assert [p.candidate.article_id for p in planned] == [ids["lyon-bis"]]


def test_composer_never_offers_a_story_the_edition_already_carries(
    site: DeskSite,  # noqa: F811 (fixture)
) -> None:
    """Keeping a story keeps all its articles; the composer's « Articles gardés … pas encore
    dans l'édition » offered the story's other article once its representative was in."""
    ids = site.ids
    with site.client() as client:
        assert act(client, ids["lyon"], action="keep").status_code == 200
        assert row(site.sessions, ids["lyon-bis"]).curation == "kept"
        token = page(client, "/desk/editions").xpath('//input[@name="csrf"]/@value')[0]
        created = client.post("/desk/editions", data={"csrf": token})
        assert created.status_code == 303, created.text
        doc = page(client, created.headers["location"])
    offered = {int(v) for v in doc.xpath('//ul[@class="kept-list"]//input[@name="article"]/@value')}
    text = doc.text_content()
    carried = ids["lyon"] if f"article n° {ids['lyon']}" in text else ids["lyon-bis"]
    assert f"article n° {carried}" in text  # the kept story is in the draft
    assert not offered & {ids["lyon"], ids["lyon-bis"]}, offered


def test_take_out_and_join_from_the_desk(site: DeskSite) -> None:  # noqa: F811 (fixture)
    ids = site.ids
    with site.client() as client:
        # CSRF like every desk action.
        refused = client.post(
            f"/desk/api/articles/{ids['lyon-bis']}/story", json={"action": "take_out"}
        )
        assert refused.status_code == 403
        assert story_post(client, ids["lyon-bis"], action="fly").status_code == 400
        assert story_post(client, 999_999, action="take_out").status_code == 404
        answer = story_post(client, ids["lyon-bis"], action="take_out")
        assert answer.status_code == 200, answer.text
        assert answer.json()["moved"] == [ids["lyon-bis"]]
        lyon, bis = row(site.sessions, ids["lyon"]), row(site.sessions, ids["lyon-bis"])
        assert lyon.story_id != bis.story_id and bis.story_pinned
        # Two stories now: both cards listed.
        assert {ids["lyon"], ids["lyon-bis"]} <= set(listed(page(client, "/desk/tri")))
        # Join them back, and « ia » into them as well.
        assert story_post(client, ids["lyon"], action="join").status_code == 400
        same = story_post(client, ids["lyon"], action="join", other=ids["lyon"])
        assert same.status_code == 400 and "propre sujet" in same.json()["detail"]
        joined = story_post(client, ids["lyon"], action="join", other=ids["ia"])
        assert joined.status_code == 200 and joined.json()["moved"] == [ids["ia"]]
        assert row(site.sessions, ids["ia"]).story_id == lyon.story_id
        listed_now = listed(page(client, "/desk/tri"))
        assert ids["lyon"] in listed_now and ids["ia"] not in listed_now
        # The delegate picks the representative.
        assert story_post(client, ids["ia"], action="lead").status_code == 200
        listed_now = listed(page(client, "/desk/tri"))
        assert ids["ia"] in listed_now and ids["lyon"] not in listed_now


REWORDED = (
    "La région publie un jeu de données ouvert sur les transports scolaires de ses "
    "lycées, avec les horaires, les arrêts et la fréquentation de chaque ligne.",
    "Les réutilisateurs peuvent déjà croiser ces informations avec les données des "
    "communes pour proposer des trajets plus courts aux familles concernées.",
    "Le service chargé de l'ouverture promet une mise à jour mensuelle du fichier et "
    "invite les associations de parents à signaler les erreurs constatées sur le terrain.",
)


def test_corrections_survive_a_new_collection_cycle(
    server: HostileServer,  # noqa: F811
    settings: Settings,
    sessions: sessionmaker[Session],
) -> None:
    base = server.base_url
    original = make_pages()[0]
    copy = Page("reprise", original.title + " (dépêche)", original.paragraphs, age_hours=1)
    third = Page("troisieme", original.title + " : la suite", original.paragraphs, age_hours=0)
    other = Page("transports", "Transports scolaires : les données ouvertes", REWORDED, age_hours=2)
    for p in (original, copy, third, other):
        server.route(
            f"/articles/{p.slug}",
            static(article_html(base, p, canonical=False), content_type="text/html; charset=utf-8"),
        )
    server.route(
        "/feeds/a.xml",
        static(rss(base, "A", [(f"{base}/articles/{p.slug}", p) for p in (original, other)])),
    )
    server.route("/feeds/b.xml", static(rss(base, "B", [(f"{base}/articles/{copy.slug}", copy)])))
    config = write_config(
        settings,
        f"""sources:
  - {{key: a, name: A, url: "{base}/feeds/a.xml"}}
  - {{key: b, name: B, url: "{base}/feeds/b.xml"}}
""",
    )
    refresh_due(context(settings, sessions, config))

    def by_slug() -> dict[str, ArticleRow]:
        with sessions() as session:
            rows = list(session.scalars(select(ArticleRow)))
            session.expunge_all()
        return {r.url.rsplit("/", 1)[1]: r for r in rows}

    rows = by_slug()
    assert rows["reprise"].story_id == rows[original.slug].story_id  # the collector's merge
    with sessions() as session, session.begin():
        desk_stories.take_out(session, rows["reprise"].id)
        desk_stories.join(session, rows[original.slug].id, rows["transports"].id)
    before = by_slug()

    # Next cycle: a third version of the story appears on B; everything is collected again.
    server.route(
        "/feeds/b.xml",
        static(
            rss(
                base,
                "B",
                [(f"{base}/articles/{p.slug}", p) for p in (copy, third)],
            )
        ),
    )
    later = datetime.now(UTC) + timedelta(days=1)  # every source is due again
    refresh_due(context(settings, sessions, config, clock=later))
    after = by_slug()
    assert "troisieme" in after  # the cycle did collect
    for slug in ("reprise", original.slug, "transports"):
        assert after[slug].story_id == before[slug].story_id, slug
    assert after["reprise"].story_id != after[original.slug].story_id  # still out
    assert after["transports"].story_id == after[original.slug].story_id  # still joined
    assert after["reprise"].story_pinned and after["transports"].story_pinned
