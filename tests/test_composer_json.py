"""The composer's JSON side, against a real uvicorn server (`tests/test_desk_editions.py`'s
`desk`): the form routes answer JSON to the script (autosave, moves, removals, the
greeting), refusals keep their French reason, the send's live figures are `veille edition
status --json`'s, and « Ajouter un article » works from a search."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from lxml import html as lxml_html

from tests import test_desk_editions
from tests.archive_site import NOW
from tests.test_desk_editions import Desk, new_draft
from veille.newsletter.deliveries import edition_status, seconds_left

desk = test_desk_editions.desk  # the fixture: a logged-in desk on a real server

JSON = {"Accept": "application/json"}


def post_json(desk: Desk, path: str, **data: object) -> tuple[int, dict[str, object]]:
    response = desk.client.post(path, data=data, headers={**JSON, "X-CSRF-Token": desk.csrf()})
    return response.status_code, response.json()


def test_autosave_answers_the_version_and_the_preview(desk: Desk) -> None:
    new_draft(desk)
    version = desk.edition().version
    status, body = post_json(
        desk,
        "/desk/editions/1",
        title="La lettre",
        edito="Cette semaine, **trois sujets**.\n\n<script>alert(1)</script>",
        version=version,
    )
    assert status == 200, body
    assert body["version"] == desk.edition().version == version + 1
    assert body["note"] == "Modifications enregistrées."
    assert "<strong>trois sujets</strong>" in str(body["edito_html"])
    assert "<script" not in str(body["edito_html"])
    # the same text again: nothing written, the version stays
    status, body = post_json(
        desk, "/desk/editions/1", title="La lettre", edito=desk.edition().edito, version=version + 1
    )
    assert (status, body["version"], body["note"]) == (200, version + 1, "Aucune modification.")
    # a stale version (another tab): 409 with the reason, the stored text untouched
    status, body = post_json(
        desk, "/desk/editions/1", title="Autre", edito="perdu ?", version=version
    )
    assert status == 409 and "modifiée entre-temps" in str(body["detail"])
    assert desk.edition().title == "La lettre"
    # an empty title: 400, in French
    status, body = post_json(desk, "/desk/editions/1", title=" ", edito="", version=version + 1)
    assert status == 400 and body["detail"] == "Le titre de l’édition ne peut pas être vide."


def test_another_delegates_change_elsewhere_is_no_conflict(desk: Desk) -> None:
    """The script sends the texts it last stored: a version moved by a change of an item
    does not stop the edito; a change of the edito itself does."""
    new_draft(desk)
    edition = desk.edition()
    started = (edition.version, edition.title, edition.edito)
    item = desk.items()["ia"][0]
    status, _ = post_json(desk, f"/desk/editions/1/articles/{item.id}/retirer")  # elsewhere
    assert status == 200 and desk.edition().version > started[0]
    status, body = post_json(
        desk,
        "/desk/editions/1",
        title=started[1],
        edito="Mon édito.",
        version=started[0],
        base="1",
        base_title=started[1],
        base_edito=started[2],
    )
    assert status == 200, body
    assert (body["title"], body["edito"]) == (started[1], "Mon édito.")
    # the other delegate now changes the edito: the first one's next save is refused
    other = desk.edition().version
    status, _ = post_json(
        desk,
        "/desk/editions/1",
        title=started[1],
        edito="L'édito de l'autre.",
        version=other,
        base="1",
        base_title=started[1],
        base_edito="Mon édito.",
    )
    assert status == 200
    status, body = post_json(
        desk,
        "/desk/editions/1",
        title=started[1],
        edito="Mon édito, suite.",
        version=other,
        base="1",
        base_title=started[1],
        base_edito="Mon édito.",
    )
    assert status == 409 and "modifiée entre-temps" in str(body["detail"])
    assert desk.edition().edito == "L'édito de l'autre."


def test_items_save_move_and_go_without_a_reload(desk: Desk) -> None:
    new_draft(desk)
    first, second = desk.items()["ia"][:2]
    status, body = post_json(
        desk,
        f"/desk/editions/1/articles/{first.id}",
        title=first.title,
        summary=first.summary,
        comment="À lire.",
    )
    assert status == 200 and body["version"] == desk.edition().version
    assert desk.items()["ia"][0].comment == "À lire."
    status, body = post_json(desk, f"/desk/editions/1/articles/{second.id}/deplacer", sens="monter")
    assert status == 200 and body["note"] == "Ordre modifié."
    assert [i.id for i in desk.items()["ia"]] == [second.id, first.id]
    status, body = post_json(desk, f"/desk/editions/1/articles/{first.id}/retirer")
    assert status == 200 and body["version"] == desk.edition().version
    assert [i.id for i in desk.items()["ia"]] == [second.id]
    status, body = post_json(desk, f"/desk/editions/1/articles/{first.id}/retirer")
    assert status == 400 and "ne fait pas partie" in str(body["detail"])
    # without the CSRF token: refused, nothing removed
    refused = desk.client.post(f"/desk/editions/1/articles/{second.id}/retirer", headers=JSON)
    assert refused.status_code == 403
    assert [i.id for i in desk.items()["ia"]] == [second.id]


def test_the_greeting_form(desk: Desk) -> None:
    new_draft(desk)
    _, doc = desk.page("/desk/editions/1")
    assert doc.cssselect("[data-role=greeting-preview]")[0].text_content() == "Bonjour Marie,"
    assert doc.cssselect("#greeting_on")[0].get("checked") is not None
    status, body = post_json(
        desk, "/desk/editions/1/salutation", greeting_on="1", wording="Chère {prenom},"
    )
    assert status == 200 and body["greeting"] == "Chère Marie,"
    status, body = post_json(desk, "/desk/editions/1/salutation", wording="Chère {prénom},")
    assert status == 200 and body["greeting"] == ""  # unticked: no greeting
    assert (desk.edition().greeting, desk.edition().greeting_on) == ("Chère {prénom},", False)
    status, body = post_json(desk, "/desk/editions/1/salutation", greeting_on="1", wording="{x}")
    assert status == 400 and "{x}" in str(body["detail"])
    # without JavaScript: a form post, then back to the composer
    response = desk.post("/desk/editions/1/salutation", greeting_on="1", wording="Bonjour {nom},")
    assert response.status_code == 303
    assert response.headers["location"].endswith("#salutation")
    _, doc = desk.page("/desk/editions/1")
    assert doc.cssselect("[data-role=greeting-preview]")[0].text_content() == (
        "Bonjour Marie Dupont,"
    )
    log = doc.cssselect(".audit-table")[0].text_content()
    assert "formule d’appel modifiée" in log


@pytest.mark.postgres  # the archive's full-text search differs between the two databases
def test_add_an_article_found_by_a_search(desk: Desk) -> None:
    new_draft(desk)
    loi = desk.stored.ids["loi"]  # 20 days old: not in this week's draft
    _, doc = desk.page("/desk/editions/1?chercher=intérêt général")
    found = doc.cssselect(".found-list li")
    assert found and "ce que change la loi" in found[0].text_content()
    form = found[0].cssselect("form")[0]
    fields = {i.get("name"): i.get("value") for i in form.cssselect("input")}
    assert fields["article"] == str(loi) and fields["chercher"] == "intérêt général"
    response = desk.post(
        "/desk/editions/1/articles", **{k: v for k, v in fields.items() if k != "csrf"}
    )
    assert response.status_code == 303
    assert "chercher=" in response.headers["location"]
    assert loi in {i.article_id for items in desk.items().values() for i in items}
    _, doc = desk.page("/desk/editions/1?chercher=intérêt général")
    assert "déjà dans l’édition" in doc.cssselect(".found-list li")[0].text_content()
    # by the source's name, accents and case aside
    _, doc = desk.page("/desk/editions/1?chercher=LABO ia")
    sources = {li.text_content() for li in doc.cssselect(".found-list li")}
    assert sources and all("Labo IA publique" in s for s in sources)
    _, doc = desk.page("/desk/editions/1?chercher=zzzintrouvable")
    assert "Aucun article pour « zzzintrouvable »" in doc.text_content()
    assert not lxml_html.tostring(doc).count(b"found-list")


def test_the_live_send_figures_are_the_status_commands(desk: Desk) -> None:
    new_draft(desk)
    progress = desk.client.get("/desk/editions/1/envoi.json")
    assert progress.status_code == 200
    body = progress.json()
    assert (body["status"], body["status_label"], body["total"]) == ("draft", "brouillon", 0)
    assert body["seconds_left"] is None
    response = desk.post("/desk/editions/1/envoyer")
    assert response.status_code == 303
    deadline = time.monotonic() + 10
    while desk.edition().status != "sent" and time.monotonic() < deadline:
        time.sleep(0.02)  # the send finishes in the server's thread
    body = desk.client.get("/desk/editions/1/envoi.json").json()
    with desk.site.sessions() as session:
        expected = edition_status(session, 1)
    assert {k: body[k] for k in expected} == expected
    assert (body["status_label"], body["sent"], body["total"], body["remaining"]) == (
        "envoyée",
        2,
        2,
        0,
    )
    assert body["seconds_left"] is None
    assert desk.client.get("/desk/editions/99/envoi.json").status_code == 404


def test_time_left() -> None:
    start = desk_now = NOW
    status = {
        "status": "sending",
        "remaining": 90,
        "sent": 10,
        "failed": 0,
        "sending_started_at": start.isoformat(),
    }
    # 10 sent in 20 s: the 90 others in 180 s, whatever the configured rate
    assert seconds_left(status, desk_now + timedelta(seconds=20), 1000.0) == 180
    # nothing sent yet: the configured rate
    assert seconds_left({**status, "sent": 0}, desk_now, 30.0) == 3
    assert seconds_left({**status, "sent": 0}, desk_now, 0.0) is None
    assert seconds_left({**status, "remaining": 0}, desk_now, 30.0) is None
    assert seconds_left({**status, "status": "sent"}, desk_now, 30.0) is None
