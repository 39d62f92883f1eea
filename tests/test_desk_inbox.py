"""The weekly inbox `/desk/tri` and its JSON actions, against a real uvicorn server with
logged-in desk users: order, the score's « pourquoi », the story's other sources, keep /
discard / star / edit / re-theme persisted, concurrent desks, bulk, CSRF, login, and the
hostile article never rendered as markup."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from lxml import html as lxml_html
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import HOSTILE_TITLE, NOW, SEEDS, Seed, populate, serve
from tests.test_auth import login
from veille.config import Settings
from veille.db.editions import audit_of
from veille.db.tables import (
    ArticleRow,
    ArticleThemeRow,
    CurationRow,
    EditionRow,
    EditorLabelRow,
)
from veille.desk import accounts
from veille.web.app import create_app

SECRET = "clé de test assez longue pour signer"
ANNE, BRUNO = "anne@exemple.fr", "bruno@exemple.fr"
PASSWORD = "une phrase de passe solide"

EXTRA = [
    Seed("ia-top", "labo", "Un assistant d'IA pour les marchés publics", ("ia",), 30, 70.0),
    Seed("hors", "courrier", "Le marché de Noël ouvre ses portes", (), 10, 90.0),
]


@dataclass
class DeskSite:
    base_url: str
    ids: dict[str, int]
    sessions: sessionmaker[Session]

    @contextmanager
    def client(self, email: str = ANNE) -> Iterator[httpx.Client]:
        """A logged-in desk user's client."""
        with httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=10) as client:
            response = login(client, email, PASSWORD, suite="/desk/tri")
            assert response.status_code == 303, response.text
            yield client


@pytest.fixture
def site(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[DeskSite]:
    settings = settings.model_copy(update={"secret_key": SECRET})
    stored = populate(sessions, SEEDS + EXTRA)
    with sessions() as session, session.begin():
        for email in (ANNE, BRUNO):
            accounts.add_user(session, email, "delegate", PASSWORD, now=NOW)
    with serve(create_app(settings, clock=lambda: NOW)) as base_url:
        yield DeskSite(base_url, stored.ids, sessions)


def page(client: httpx.Client, path: str = "/desk/tri") -> Any:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return lxml_html.fromstring(response.content)


def csrf_of(client: httpx.Client) -> str:
    token = page(client).cssselect('meta[name="csrf-token"]')[0].get("content")
    assert token
    return str(token)


def act(client: httpx.Client, article_id: int, **body: Any) -> httpx.Response:
    token = csrf_of(client)
    return client.post(
        f"/desk/api/articles/{article_id}", json=body, headers={"X-CSRF-Token": token}
    )


def listed(doc: Any) -> list[int]:
    return [int(el.get("data-id")) for el in doc.cssselect("article.desk-item")]


def item_el(doc: Any, article_id: int) -> Any:
    return doc.cssselect(f"#article-{article_id}")[0]


def article(site: DeskSite, key: str) -> ArticleRow:
    with site.sessions() as session:
        row = session.get(ArticleRow, site.ids[key])
        assert row is not None
        return row


def themes(site: DeskSite, key: str) -> dict[str, tuple[float, str]]:
    with site.sessions() as session:
        return {
            t.theme: (t.probability, t.origin)
            for t in session.scalars(
                select(ArticleThemeRow).where(ArticleThemeRow.article_id == site.ids[key])
            )
        }


def test_login_is_required(site: DeskSite) -> None:
    with httpx.Client(base_url=site.base_url, follow_redirects=False, timeout=10) as anonymous:
        response = anonymous.get("/desk/tri?theme=ia")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/desk/connexion?suite=%2Fdesk%2Ftri")
        refused = anonymous.post(f"/desk/api/articles/{site.ids['lyon']}", json={"action": "keep"})
        assert refused.status_code == 401
        assert anonymous.post(
            "/desk/api/bulk", json={"action": "keep", "ids": [1]}
        ).status_code == (401)
    assert article(site, "lyon").curation == "new"


def test_inbox_order_groups_scores_and_stories(site: DeskSite) -> None:
    ids = site.ids
    with site.client() as client:
        # Every article, off-topic ones included (by default: one per story, on-topic).
        response = client.get(
            "/desk/tri?group=none&theme=none&theme=open_data&theme=ia&theme=donnees_interet_general"
        )
        assert response.headers["cache-control"] == "no-store"
        assert "script-src 'self'" in response.headers["content-security-policy"]
        doc = lxml_html.fromstring(response.content)
        default = page(client, "/desk/tri")
    # By default: the story once (its representative « lyon »), no off-topic article.
    assert listed(default) == [ids[key] for key in ("lyon", "ia-top", "ia", "piege")]
    assert [
        h.text_content().split("(")[0].strip() for h in default.cssselect(".desk-group h2")
    ] == [
        "Open data",
        "Intelligence artificielle",
    ]
    # The last 7 days (no edition sent yet): on-topic first, grouped by theme in theme
    # order, best score first inside a group; the off-topic article last despite its 90.
    headings = [h.text_content().split("(")[0].strip() for h in doc.cssselect(".desk-group h2")]
    assert headings == ["Open data", "Intelligence artificielle", "Hors thèmes"]
    order = ["lyon", "lyon-bis", "ia-top", "ia", "piege", "hors"]
    assert listed(doc) == [ids[key] for key in order]
    lyon = item_el(doc, ids["lyon"])
    assert lyon.get("data-state") == "new"
    assert "Valeur 82/100" in lyon.cssselect('[data-role="score"]')[0].text_content()
    why = [row.text_content() for row in lyon.cssselect(".desk-why tbody tr")]
    assert len(why) == 7 and "Couverture" in why[3] and "couvert par 2 sources" in why[3]
    # Certainty in words on the theme notes and the score line, never a percentage.
    notes = [n.text_content() for n in lyon.cssselect('[data-role="theme-note"]')]
    said = [n for n in notes if n.strip()]
    assert said and all("%" not in n for n in notes), notes
    assert all(
        any(w in n for w in ("sûr", "probable", "à vérifier", "hors thème", "déléguée"))
        for n in said
    ), said
    assert not any("%" in row for row in why), why
    # The story's other sources: the sibling article's source, linked to that article.
    others = lyon.cssselect(".desk-others a")
    assert [(a.text_content(), a.get("href")) for a in others] == [
        ("La Gazette numérique", f"/articles/{ids['lyon-bis']}")
    ]
    # The automatic summary, marked as such, and the edit form pre-filled with it.
    summary = lyon.cssselect('[data-role="summary"]')[0].text_content().strip()
    assert "métropole de Lyon" in summary or "Trois cents jeux" in summary
    assert "automatique" in lyon.cssselect(".desk-summary")[0].text_content()
    assert lyon.cssselect("textarea[name=summary]")[0].text_content().strip() == summary
    # Without JavaScript the page reads fine; the controls wait for desk.js.
    assert lyon.cssselect(".desk-actions")[0].get("hidden") is not None
    assert [s.get("src") for s in doc.cssselect("script")] == ["/static/desk.js"]
    # The shortcuts are documented on the page.
    keys = [k.text_content() for k in doc.cssselect(".desk-shortcuts dt kbd")]
    assert {"j", "k", "r", "x", "s", "e", "u"} <= set(keys)


def test_hostile_article_is_never_markup(site: DeskSite) -> None:
    with site.client() as client:
        body = client.get("/desk/tri").text
        doc = lxml_html.fromstring(body)
    assert "<script>alert" not in body
    assert 'onerror="alert' not in body and "javascript:" not in body
    assert [s.get("src") for s in doc.cssselect("script")] == ["/static/desk.js"]
    assert not doc.cssselect("img")
    assert not [el for el in doc.iter() if any(k.lower().startswith("on") for k in el.attrib)]
    piege = item_el(doc, site.ids["piege"])
    assert piege.cssselect('[data-role="title"]')[0].text_content() == HOSTILE_TITLE
    assert "onerror" in piege.cssselect('[data-role="summary"]')[0].text_content()


def test_keep_discard_star_are_saved_shown_after_reload_and_audited(site: DeskSite) -> None:
    ids = site.ids
    with site.client() as client:
        kept = act(client, ids["lyon"], action="keep")
        assert kept.status_code == 200
        assert kept.json()["item"]["state"] == "kept" and kept.json()["changed"] is True
        assert act(client, ids["piege"], action="discard").json()["item"]["state"] == "discarded"
        starred = act(client, ids["ia"], action="star").json()["item"]
        assert starred["starred"] is True and starred["version"] == 1
        again = act(client, ids["ia"], action="star").json()
        assert again["changed"] is False and again["item"]["version"] == 1

        doc = page(client)
        assert item_el(doc, ids["lyon"]).get("data-state") == "kept"
        assert "state-kept" in item_el(doc, ids["lyon"]).get("class")
        assert item_el(doc, ids["piege"]).get("data-state") == "discarded"
        assert item_el(doc, ids["ia"]).get("data-starred") == "true"
        assert item_el(doc, ids["ia"]).cssselect('[data-role="star"]')[0].get("hidden") is None
        # The state filter of the page.
        assert listed(page(client, "/desk/tri?etat=retenus")) == [ids["lyon"]]
        assert listed(page(client, "/desk/tri?etat=favoris")) == [ids["ia"]]
        assert ids["lyon"] not in listed(page(client, "/desk/tri?etat=a-trier"))

        assert act(client, ids["lyon"], action="reset").json()["item"]["state"] == "new"
        assert act(client, ids["lyon"], action="keep").json()["item"]["version"] == 3

    assert article(site, "lyon").curation == "kept"
    assert article(site, "piege").curation == "discarded"
    with site.sessions() as session:
        trail = [
            (a.actor, a.action, a.detail.get("after"))
            for a in audit_of(session, "article", ids["lyon"])
        ]
    assert trail == [
        (ANNE, "curation.decide", "kept"),
        (ANNE, "curation.decide", "new"),
        (ANNE, "curation.decide", "kept"),
    ]
    # The value score reads the decisions: the source's recent articles are rescored.
    editor = article(site, "hors").score_components["editor"]
    assert editor["why"] == "1 retenu(s), 0 écarté(s) sur cette source"
    assert article(site, "ia-top").score_components["editor"]["why"].startswith("0 retenu(s), 1")


def test_edit_title_summary_and_comment(site: DeskSite) -> None:
    ids = site.ids
    with site.client() as client:
        answer = act(
            client,
            ids["ia"],
            action="edit",
            version=0,
            fields={
                "title": "  L'IA dans   les mairies ",
                "summary": "Des agents testent des assistants.",
                "comment": "À mettre en tête.",
            },
        )
        assert answer.status_code == 200, answer.text
        item = answer.json()["item"]
        assert item["title"] == "L'IA dans les mairies" and item["title_edited"] is True
        assert item["summary"] == "Des agents testent des assistants."
        assert item["summary_auto"] is False and item["comment"] == "À mettre en tête."

        el = item_el(page(client), ids["ia"])
        assert el.cssselect('[data-role="title"]')[0].text_content() == "L'IA dans les mairies"
        assert el.cssselect('[data-role="comment"]')[0].text_content() == "À mettre en tête."
        assert el.cssselect("input[name=title]")[0].get("value") == "L'IA dans les mairies"

        # An empty summary goes back to the automatic one; the original title is no edit.
        original = article(site, "ia").title
        back = act(
            client,
            ids["ia"],
            action="edit",
            version=item["version"],
            fields={"summary": "", "title": original},
        ).json()["item"]
        assert back["summary_auto"] is True and back["summary"]
        assert back["title"] == original and back["title_edited"] is False

        too_long = act(client, ids["ia"], action="edit", fields={"comment": "x" * 3001})
        assert too_long.status_code == 400 and "3000" in too_long.json()["detail"]
        unknown = act(client, ids["ia"], action="edit", fields={"author": "moi"})
        assert unknown.status_code == 400
    with site.sessions() as session:
        row = session.get(CurationRow, ids["ia"])
        assert row is not None
        assert (row.title, row.summary, row.comment) == (None, None, "À mettre en tête.")
        assert row.updated_by == ANNE


def test_rethemes_become_editor_labels_at_once(site: DeskSite) -> None:
    ids = site.ids
    with site.client() as client:
        answer = act(client, ids["lyon"], action="themes", add=["ia"], remove=["open_data"])
        assert answer.status_code == 200, answer.text
        item = answer.json()["item"]
        assert [(t["theme"], t["origin"]) for t in item["themes"]] == [("ia", "editor")]
        assert item["labels"] == {"ia": True, "open_data": False}
        confidence = next(c for c in item["components"] if c["name"] == "confidence")
        assert confidence["why"] == "thème choisi par la déléguée"
        assert themes(site, "lyon") == {"ia": (1.0, "editor")}
        with site.sessions() as session:
            labels = {
                (r.theme, r.present, r.author)
                for r in session.scalars(
                    select(EditorLabelRow).where(EditorLabelRow.article_id == ids["lyon"])
                )
            }
        assert labels == {("ia", True, ANNE), ("open_data", False, ANNE)}
        # The page lists it under its new theme.
        doc = page(client)
        ia_section = doc.cssselect("section[aria-labelledby=groupe-ia]")[0]
        assert ids["lyon"] in listed(ia_section)
        assert (
            item_el(doc, ids["lyon"]).cssselect("input[data-theme=ia]")[0].get("checked")
            is not None
        )

        # Undo: the labels are forgotten and the model's decision comes back.
        undone = act(client, ids["lyon"], action="themes", clear=["ia", "open_data"]).json()["item"]
        assert undone["labels"] == {}
        assert themes(site, "lyon") == {"open_data": (0.9, "model")}

        bad = act(client, ids["lyon"], action="themes", add=["sport"])
        assert bad.status_code == 400 and "sport" in bad.json()["detail"]


def test_two_desks_merge_different_fields_and_refuse_a_stale_same_field(site: DeskSite) -> None:
    lyon = site.ids["lyon"]
    with site.client(ANNE) as anne, site.client(BRUNO) as bruno:
        version = int(item_el(page(anne), lyon).get("data-version"))
        assert int(item_el(page(bruno), lyon).get("data-version")) == version == 0
        # Both start from version 0: different fields both survive.
        first = act(anne, lyon, action="edit", version=version, fields={"title": "Titre d'Anne"})
        assert first.status_code == 200
        second = act(
            bruno, lyon, action="edit", version=version, fields={"summary": "Résumé de Bruno."}
        )
        assert second.status_code == 200, second.text
        merged = second.json()["item"]
        assert (merged["title"], merged["summary"]) == ("Titre d'Anne", "Résumé de Bruno.")
        # A decision and a star meanwhile do not block a text edit either.
        assert act(bruno, lyon, action="star").status_code == 200
        comment = act(anne, lyon, action="edit", version=1, fields={"comment": "Vu."})
        assert comment.status_code == 200

        # The same field from a stale version: 409 with the text now stored.
        stale = act(bruno, lyon, action="edit", version=0, fields={"title": "Titre de Bruno"})
        assert stale.status_code == 409
        body = stale.json()
        assert body["conflicts"] == {"title": "Titre d'Anne"}
        assert body["version"] == 4 and body["item"]["title"] == "Titre d'Anne"
        assert "modifié entre-temps" in body["detail"]
        # Writing the same text as the stored one is no conflict.
        same = act(bruno, lyon, action="edit", version=0, fields={"title": "Titre d'Anne"})
        assert same.status_code == 200 and same.json()["changed"] is False
        # Knowing the current version, Bruno overwrites on purpose.
        forced = act(
            bruno, lyon, action="edit", version=body["version"], fields={"title": "Titre de Bruno"}
        )
        assert forced.status_code == 200

        doc = page(anne)
        el = item_el(doc, lyon)
        assert el.cssselect('[data-role="title"]')[0].text_content() == "Titre de Bruno"
        assert el.cssselect('[data-role="summary"]')[0].text_content() == "Résumé de Bruno."
        assert el.cssselect('[data-role="comment"]')[0].text_content() == "Vu."
        assert el.get("data-starred") == "true"


def test_simultaneous_actions_lose_nothing(site: DeskSite) -> None:
    """Many requests at the same moment from two desks, all from version 0, each on its
    own field or decision: every one is stored."""
    ids = site.ids
    with site.client(ANNE) as anne, site.client(BRUNO) as bruno:
        tokens = {id(anne): csrf_of(anne), id(bruno): csrf_of(bruno)}

        def send(job: tuple[httpx.Client, str, dict[str, Any]]) -> int:
            client, key, body = job
            return client.post(
                f"/desk/api/articles/{ids[key]}",
                json=body,
                headers={"X-CSRF-Token": tokens[id(client)]},
            ).status_code

        jobs: list[tuple[httpx.Client, str, dict[str, Any]]] = []
        for key in ("lyon", "lyon-bis", "ia", "ia-top"):
            jobs += [
                (anne, key, {"action": "edit", "version": 0, "fields": {"title": f"A {key}"}}),
                (bruno, key, {"action": "edit", "version": 0, "fields": {"comment": f"B {key}"}}),
                (anne, key, {"action": "keep"}),
                (bruno, key, {"action": "star"}),
            ]
        with ThreadPoolExecutor(max_workers=8) as pool:
            assert list(pool.map(send, jobs)) == [200] * len(jobs)
    with site.sessions() as session:
        for key in ("lyon", "lyon-bis", "ia", "ia-top"):
            row = session.get(CurationRow, ids[key])
            assert row is not None
            assert (row.title, row.comment, row.starred, row.version) == (
                f"A {key}",
                f"B {key}",
                True,
                4,
            )
            assert session.get(ArticleRow, ids[key]).curation == "kept"  # type: ignore[union-attr]


def test_bulk_actions(site: DeskSite) -> None:
    ids = site.ids
    chosen = [ids["ia"], ids["lyon"], ids["piege"]]
    with site.client() as client:
        token = csrf_of(client)
        answer = client.post(
            "/desk/api/bulk",
            json={"action": "keep", "ids": chosen},
            headers={"X-CSRF-Token": token},
        )
        assert answer.status_code == 200, answer.text
        # Keeping « lyon » keeps its story: « lyon-bis » too.
        assert sorted(i["id"] for i in answer.json()["items"]) == sorted([*chosen, ids["lyon-bis"]])
        assert {i["state"] for i in answer.json()["items"]} == {"kept"}
        assert answer.json()["changed"] == 4
        assert set(listed(page(client, "/desk/tri?etat=retenus"))) == set(chosen)

        starred = client.post(
            "/desk/api/bulk",
            json={"action": "star", "ids": chosen[:2]},
            headers={"X-CSRF-Token": token},
        )
        assert all(i["starred"] for i in starred.json()["items"])
        # One unknown id: nothing of the batch is applied.
        missing = client.post(
            "/desk/api/bulk",
            json={"action": "discard", "ids": [ids["ia-top"], 999_999]},
            headers={"X-CSRF-Token": token},
        )
        assert missing.status_code == 404
        assert article(site, "ia-top").curation == "new"
        unknown = client.post(
            "/desk/api/bulk",
            json={"action": "edit", "ids": chosen},
            headers={"X-CSRF-Token": token},
        )
        assert unknown.status_code == 400
        empty = client.post(
            "/desk/api/bulk", json={"action": "keep", "ids": []}, headers={"X-CSRF-Token": token}
        )
        assert empty.status_code == 400


def test_actions_need_the_csrf_token(site: DeskSite) -> None:
    lyon = site.ids["lyon"]
    with site.client() as client:
        assert client.post(f"/desk/api/articles/{lyon}", json={"action": "keep"}).status_code == 403
        wrong = client.post(
            f"/desk/api/articles/{lyon}",
            json={"action": "keep"},
            headers={"X-CSRF-Token": "x" * 43},
        )
        assert wrong.status_code == 403
        assert client.post(
            "/desk/api/bulk", json={"action": "keep", "ids": [lyon]}
        ).status_code == (403)
        # Another user's token does not work either.
        with site.client(BRUNO) as bruno:
            other = csrf_of(bruno)
        stolen = client.post(
            f"/desk/api/articles/{lyon}", json={"action": "keep"}, headers={"X-CSRF-Token": other}
        )
        assert stolen.status_code == 403
    assert article(site, "lyon").curation == "new"


def test_refused_actions(site: DeskSite) -> None:
    with site.client() as client:
        assert act(client, site.ids["lyon"], action="fly").status_code == 400
        missing = act(client, 999_999, action="keep")
        assert missing.status_code == 404 and "999999" in missing.json()["detail"]


def test_filters_like_the_archive(site: DeskSite) -> None:
    ids = site.ids
    with site.client() as client:
        assert listed(page(client, "/desk/tri?q=portail&group=none")) == [
            ids["lyon"],
            ids["lyon-bis"],
        ]
        assert listed(page(client, "/desk/tri?q=portail")) == [ids["lyon"]]  # one story
        assert listed(page(client, "/desk/tri?source=labo")) == [
            ids["ia-top"],
            ids["ia"],
            ids["piege"],
        ]
        assert listed(page(client, "/desk/tri?theme=ia")) == [
            ids["ia-top"],
            ids["ia"],
            ids["piege"],
        ]
        # Older articles with a start date; an article with two themes is listed under the
        # filtered one.
        doc = page(client, "/desk/tri?from=2026-10-30&theme=donnees_interet_general")
        assert listed(doc) == [ids["loi"]]
        assert doc.cssselect("section[aria-labelledby=groupe-donnees_interet_general]")
        assert client.get("/desk/tri?etat=perdu").status_code == 400
        assert client.get("/desk/tri?theme=sport").status_code == 400


def test_the_inbox_starts_after_the_last_sent_edition(site: DeskSite) -> None:
    with site.sessions() as session, session.begin():
        session.add(
            EditionRow(
                number=1,
                title="Lettre 1",
                status="sent",
                period_start=NOW - timedelta(days=8),
                period_end=NOW - timedelta(hours=22),
                section_order=[],
                created_at=NOW,
                version=1,
            )
        )
    with site.client() as client:
        assert set(listed(page(client))) == {site.ids["lyon"]}
        assert set(listed(page(client, "/desk/tri?theme=none"))) == {site.ids["hors"]}
