"""The delegate's members desk over a real uvicorn and a real SMTP server: login guard,
list, search, filters and pages, edits and status moves with their trail, adding by hand,
CSV import from the browser form, CSRF on every form, and hostile names shown escaped."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from lxml import html as lxml_html
from sqlalchemy import select

from tests.members_site import MemberSite, link_in, running_members_site
from veille.config import Settings
from veille.db import members as member_db
from veille.db.tables import MemberEventRow, MemberRow
from veille.desk import accounts

EMAIL = "delegue@exemple.fr"
PASSWORD = "une phrase de passe solide"
LONG_AGO = datetime(2020, 1, 6, 9, 0, tzinfo=UTC)
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"


@dataclass
class Desk:
    site: MemberSite
    client: httpx.Client

    def csrf(self, path: str) -> str:
        response = self.client.get(path)
        assert response.status_code == 200, response.text
        values = doc(response).xpath('//main//form[@method="post"]//input[@name="csrf"]/@value')
        assert values, f"no csrf field on {path}"
        return str(values[0])

    def post(self, path: str, form_page: str, **data: Any) -> httpx.Response:
        return self.client.post(path, data={"csrf": self.csrf(form_page), **data})


def doc(response: httpx.Response) -> Any:
    return lxml_html.fromstring(response.content)


def log_in(client: httpx.Client) -> None:
    page = client.get("/desk/connexion")
    fields = {i.get("name"): i.get("value") or "" for i in doc(page).cssselect("form input")}
    fields.update(email=EMAIL, password=PASSWORD)
    response = client.post("/desk/connexion", data=fields)
    assert response.status_code == 303 and response.headers["location"] == "/desk"


@contextmanager
def open_desk(settings: Settings) -> Iterator[Desk]:
    with running_members_site(settings) as site:
        with site.sessions() as session, session.begin():
            accounts.add_user(session, EMAIL, "delegate", PASSWORD, now=datetime.now(UTC))
        log_in(site.client)
        yield Desk(site, site.client)


@pytest.fixture
def desk(settings: Settings) -> Iterator[Desk]:
    with open_desk(settings) as opened:
        yield opened


def add_member(
    site: MemberSite,
    email: str,
    *,
    name: str = "",
    organisation: str = "",
    status: str = "active",
    themes: list[str] | None = None,
    created_at: datetime | None = None,
    last_activity_at: datetime | None = None,
) -> int:
    created = created_at or datetime.now(UTC) - timedelta(days=1)
    with site.sessions() as session, session.begin():
        row = MemberRow(
            email=email,
            email_key=member_db.email_key(email),
            name=name,
            organisation=organisation,
            status=status,
            themes=themes,
            consent_at=created if status != "pending" else None,
            consent_method="form" if status != "pending" else None,
            token_salt=member_db.new_salt(),
            created_at=created,
            updated_at=created,
            last_activity_at=last_activity_at,
        )
        session.add(row)
        session.flush()
        return row.id


def member_by_id(site: MemberSite, member_id: int) -> MemberRow | None:
    with site.sessions() as session:
        row = member_db.by_id(session, member_id)
        if row is not None:
            session.expunge(row)
        return row


def member_by_email(site: MemberSite, email: str) -> MemberRow | None:
    with site.sessions() as session:
        row = member_db.by_email(session, email)
        if row is not None:
            session.expunge(row)
        return row


def events(site: MemberSite, member_id: int) -> list[tuple[str, dict[str, Any]]]:
    with site.sessions() as session:
        rows = session.scalars(
            select(MemberEventRow)
            .where(MemberEventRow.member_id == member_id)
            .order_by(MemberEventRow.id)
        )
        return [(e.kind, dict(e.detail or {})) for e in rows]


def table_emails(response: httpx.Response) -> list[str]:
    return [a.text_content() for a in doc(response).cssselect("table.members-table tbody th a")]


# --- access ------------------------------------------------------------------------------


def test_desk_pages_need_a_login(settings: Settings) -> None:
    with running_members_site(settings) as site:
        member_id = add_member(site, "alice@exemple.fr")
        for path in ("/desk", "/desk/membres?q=lyon", f"/desk/membres/{member_id}"):
            response = site.client.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/desk/connexion?suite=%2Fdesk")
        for path in (f"/desk/membres/{member_id}/supprimer", "/desk/membres/ajouter"):
            refused = site.client.post(path, data={"csrf": "x", "email": "bob@exemple.fr"})
            assert refused.status_code == 401, path
        assert member_by_id(site, member_id) is not None
        assert member_by_email(site, "bob@exemple.fr") is None


def test_landing_page_links_to_members_and_logout_form(desk: Desk) -> None:
    add_member(desk.site, "alice@exemple.fr")
    page = desk.client.get("/desk")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert doc(page).xpath('//main//a[@href="/desk/membres"]')
    assert "actifs : 1" in doc(page).text_content()
    logout = doc(page).xpath('//form[@action="/desk/deconnexion"]//input[@name="csrf"]/@value')
    assert logout
    out = desk.client.post("/desk/deconnexion", data={"csrf": logout[0]})
    assert out.status_code == 303
    assert desk.client.get("/desk").status_code == 303


# --- list ------------------------------------------------------------------------------


def test_list_search_status_filter_reconsent_and_pages(desk: Desk) -> None:
    site = desk.site
    base = datetime.now(UTC) - timedelta(days=10)
    for i in range(52):
        add_member(
            site,
            f"membre{i:02d}@exemple.fr",
            name=f"Membre {i:02d}",
            organisation="Ville de Lyon" if i < 3 else "Commune",
            created_at=base + timedelta(minutes=i),
        )
    paused = add_member(site, "pause@exemple.fr", name="Paula", status="paused")
    add_member(site, "attente@exemple.fr", status="pending")
    add_member(site, "parti@exemple.fr", status="unsubscribed")
    old = add_member(site, "ancien@exemple.fr", name="Ancien", created_at=LONG_AGO)
    add_member(site, "themes@exemple.fr", themes=["ia"], name="Thémis")

    first = desk.client.get("/desk/membres")
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-store"
    text = doc(first).text_content()
    for expected in ("Actifs : 54", "En attente : 1", "Suspendus : 1", "Désabonnés : 1"):
        assert expected in text
    assert "À relancer : 1" in text
    assert len(table_emails(first)) == 50
    assert "57 membres" in doc(first).cssselect("caption")[0].text_content()
    assert doc(first).xpath('//th[@scope="col"]')
    next_link = doc(first).xpath('//a[@rel="next"]/@href')
    assert next_link == ["/desk/membres?page=2"]
    second = desk.client.get(next_link[0])
    assert len(table_emails(second)) == 7
    assert not set(table_emails(first)) & set(table_emails(second))

    lyon = desk.client.get("/desk/membres", params={"q": "lyon"})
    assert sorted(table_emails(lyon)) == [f"membre0{i}@exemple.fr" for i in range(3)]
    by_name = desk.client.get("/desk/membres", params={"q": "PAULA"})
    assert table_emails(by_name) == ["pause@exemple.fr"]
    row = doc(by_name).cssselect("table.members-table tbody tr")[0].text_content()
    assert "suspendu" in row and "tous" in row and "formulaire" in row

    only_paused = desk.client.get("/desk/membres", params={"statut": "paused"})
    assert table_emails(only_paused) == ["pause@exemple.fr"]
    pending = desk.client.get("/desk/membres", params={"statut": "pending"})
    assert table_emails(pending) == ["attente@exemple.fr"]
    themed = desk.client.get("/desk/membres", params={"q": "themes@"})
    assert "Intelligence artificielle" in doc(themed).cssselect("tbody tr")[0].text_content()

    remind = desk.client.get("/desk/membres", params={"relance": "1"})
    assert table_emails(remind) == ["ancien@exemple.fr"]
    assert "à relancer" in doc(remind).cssselect("tbody tr")[0].text_content()
    everyone = desk.client.get("/desk/membres", params={"q": "ancien"})
    assert "à relancer" in doc(everyone).cssselect("tbody tr")[0].text_content()
    assert "à relancer" not in doc(by_name).cssselect("tbody tr")[0].text_content()

    assert desk.client.get("/desk/membres", params={"statut": "nimporte"}).status_code == 400
    assert desk.client.get("/desk/membres", params={"page": "0"}).status_code == 400
    empty = desk.client.get("/desk/membres", params={"q": "personne-ici"})
    assert "Aucun membre ne correspond" in doc(empty).text_content()
    assert member_by_id(site, paused) is not None and member_by_id(site, old) is not None


# --- one member ------------------------------------------------------------------------


def test_edit_name_organisation_and_themes(desk: Desk) -> None:
    site = desk.site
    member_id = add_member(site, "claire@exemple.fr", name="Claire", organisation="Lyon")
    path = f"/desk/membres/{member_id}"
    page = desk.client.get(path)
    assert page.status_code == 200
    form = doc(page)
    assert form.xpath('//input[@id="name"]/@value') == ["Claire"]
    assert form.xpath('//label[@for="organisation"]')

    saved = desk.post(
        path, path, name="  Claire   Martin ", organisation="Métropole de Lyon", themes=["ia"]
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"{path}?fait=enregistre"
    after = member_by_id(site, member_id)
    assert after is not None
    assert (after.name, after.organisation, after.themes) == (
        "Claire Martin",
        "Métropole de Lyon",
        ["ia"],
    )
    assert after.last_activity_at is None  # the desk acting is not the member's sign of life
    kind, detail = events(site, member_id)[-1]
    assert kind == "edit" and detail["by"] == EMAIL
    assert detail["fields"] == ["name", "organisation", "themes"]
    shown = desk.client.get(saved.headers["location"])
    assert "Modifications enregistrées." in shown.text
    assert f"bureau : {EMAIL}" in doc(shown).cssselect("table.events-table")[0].text_content()

    every = desk.post(
        path,
        path,
        name="Claire Martin",
        organisation="Métropole de Lyon",
        themes=["open_data", "ia", "donnees_interet_general"],
    )
    assert every.status_code == 303
    assert member_by_id(site, member_id).themes is None  # type: ignore[union-attr]

    bad = desk.post(path, path, name="Autre", themes=["cuisine"])
    assert bad.status_code == 400
    assert "Thème inconnu" in doc(bad).cssselect('[role="alert"]')[0].text_content()
    assert doc(bad).xpath('//input[@id="name"]/@value') == ["Autre"]  # what was typed stays
    unchanged = member_by_id(site, member_id)
    assert unchanged is not None and unchanged.name == "Claire Martin"

    assert desk.client.get("/desk/membres/999999").status_code == 404


def test_pause_resume_unsubscribe_and_delete(desk: Desk) -> None:
    site = desk.site
    member_id = add_member(site, "denis@exemple.fr")
    path = f"/desk/membres/{member_id}"

    def status() -> str:
        row = member_by_id(site, member_id)
        assert row is not None
        return row.status

    paused = desk.post(f"{path}/suspendre", path)
    assert paused.status_code == 303 and status() == "paused"
    page = desk.client.get(paused.headers["location"])
    assert "Abonnement suspendu." in page.text
    assert doc(page).xpath(f'//form[@action="{path}/reprendre"]')
    assert not doc(page).xpath(f'//form[@action="{path}/suspendre"]')

    assert desk.post(f"{path}/reprendre", path).status_code == 303 and status() == "active"
    assert desk.post(f"{path}/desabonner", path).status_code == 303 and status() == "unsubscribed"
    trail = events(site, member_id)
    assert [k for k, _ in trail] == ["pause", "resume", "unsubscribe"]
    assert all(d["by"] == EMAIL for _, d in trail)
    assert trail[-1][1]["how"] == "desk"
    # An unsubscribed member cannot be resumed by the desk: only a new consent brings them back.
    assert desk.post(f"{path}/reprendre", path).status_code == 303 and status() == "unsubscribed"

    ask = desk.client.get(f"{path}/supprimer")
    assert ask.status_code == 200 and "définitive" in ask.text
    assert status() == "unsubscribed"  # asking deletes nothing
    gone = desk.post(f"{path}/supprimer", f"{path}/supprimer")
    assert gone.status_code == 303 and gone.headers["location"] == "/desk/membres?fait=supprime"
    assert member_by_id(site, member_id) is None
    assert events(site, member_id) == []
    assert desk.client.get(path).status_code == 404


# --- adding by hand ----------------------------------------------------------------------


def test_add_by_hand_with_and_without_confirmation(desk: Desk) -> None:
    site = desk.site
    form = "/desk/membres/ajouter"
    page = desk.client.get(form)
    assert doc(page).xpath('//label[@for="confirmation"]')

    direct = desk.post(form, form, email="Eve@Exemple.FR", name="Ève", organisation="Nantes")
    assert direct.status_code == 303
    eve = member_by_email(site, "eve@exemple.fr")
    assert eve is not None and eve.status == "active"
    assert (eve.consent_method, eve.name, eve.themes) == ("desk", "Ève", None)
    assert direct.headers["location"] == f"/desk/membres/{eve.id}?fait=ajoute"
    kind, detail = events(site, eve.id)[0]
    assert kind == "subscribe" and detail["by"] == EMAIL and detail["method"] == "desk"

    asked = desk.post(
        form, form, email="fanny@exemple.fr", name="Fanny", themes=["open_data"], confirmation="1"
    )
    assert asked.status_code == 303 and asked.headers["location"].endswith("fait=confirmation")
    fanny = member_by_email(site, "fanny@exemple.fr")
    assert fanny is not None and fanny.status == "pending" and fanny.themes == ["open_data"]
    mail = site.wait_for_mail(1)[0]
    assert len(site.smtp.messages) == 1  # Ève, added without confirmation, got nothing
    assert site.smtp.messages[0].rcpt_tos == ("fanny@exemple.fr",)
    confirm = link_in(mail, "/abonnement/confirmer/").removeprefix(site.base_url)
    token = site.form_token(confirm)
    assert site.client.post(confirm, data={"csrf": token}).status_code == 200
    confirmed = member_by_email(site, "fanny@exemple.fr")
    assert confirmed is not None and confirmed.status == "active"

    again = desk.post(form, form, email="EVE@exemple.fr")
    assert again.status_code == 400
    assert "déjà inscrite" in doc(again).cssselect('[role="alert"]')[0].text_content()
    assert doc(again).xpath(f'//a[@href="/desk/membres/{eve.id}"]')

    invalid = desk.post(form, form, email="pas-une-adresse", name="Gus")
    assert invalid.status_code == 400 and "Adresse e-mail invalide" in invalid.text
    assert doc(invalid).xpath('//input[@id="name"]/@value') == ["Gus"]

    gone = add_member(site, "parti@exemple.fr", status="unsubscribed")
    refused = desk.post(form, form, email="parti@exemple.fr")
    assert refused.status_code == 400 and "s’est désabonnée" in refused.text
    row = member_by_id(site, gone)
    assert row is not None and row.status == "unsubscribed"


# --- CSV import ------------------------------------------------------------------------

CSV = (
    "email;nom;organisation;thèmes\n"
    "hugo@exemple.fr;Hugo;Ville de Rennes;open_data\n"
    "pas-une-adresse;Personne;Nulle part;\n"
    "ines@exemple.fr;Inès;Département du Gers;\n"
).encode()


def upload(desk: Desk, content: bytes, filename: str = "membres.csv", **flags: str) -> Any:
    token = desk.csrf("/desk/membres/import")
    return desk.client.post(
        "/desk/membres/import",
        data={"csrf": token, **flags},
        files={"fichier": (filename, content, "text/csv")},
    )


def test_csv_import_from_the_browser_form(desk: Desk) -> None:
    site = desk.site
    page = desk.client.get("/desk/membres/import")
    assert doc(page).xpath('//form[@enctype="multipart/form-data"]//input[@type="file"]')

    checked = upload(desk, CSV, verifier="1")
    assert checked.status_code == 200
    report = doc(checked)
    assert "rien n’a été importé" in report.text_content()
    assert "Ligne 3 :" in report.cssselect(".line-errors")[0].text_content()
    assert "Seraient créés" in report.text_content()
    assert member_by_email(site, "hugo@exemple.fr") is None  # the dry run changed nothing

    done = upload(desk, CSV)
    assert done.status_code == 200
    rows = {
        tr.cssselect("th")[0].text_content(): tr.cssselect("td")[0].text_content()
        for tr in doc(done).cssselect("table.report-table tr")
    }
    assert rows["Créés"] == "2" and rows["Lignes invalides"] == "1"
    errors = [li.text_content() for li in doc(done).cssselect(".line-errors li")]
    assert len(errors) == 1 and errors[0].startswith("Ligne 3 :")
    hugo = member_by_email(site, "hugo@exemple.fr")
    assert hugo is not None and hugo.status == "active" and hugo.consent_method == "import"
    assert hugo.themes == ["open_data"]

    asked = upload(
        desk, b"email\njules@exemple.fr\nhugo@exemple.fr\n", "nouveaux.csv", confirmation="1"
    )
    assert asked.status_code == 200 and "1 e-mail de confirmation" in asked.text
    jules = member_by_email(site, "jules@exemple.fr")
    assert jules is not None and jules.status == "pending"
    site.wait_for_mail(1)
    assert site.smtp.messages[0].rcpt_tos == ("jules@exemple.fr",)

    site.smtp.reject("nina@exemple.fr")  # a refused mail is kept in the trail; the rest go
    upload(desk, b"email\nnina@exemple.fr\noscar@exemple.fr\n", confirmation="1")
    site.wait_for_mail(2)
    assert site.smtp.messages[1].rcpt_tos == ("oscar@exemple.fr",)
    nina = member_by_email(site, "nina@exemple.fr")
    assert nina is not None and nina.status == "pending"
    assert [kind for kind, _ in events(site, nina.id)] == ["mail_failed"]

    no_column = upload(desk, b"nom;organisation\nKarl;Metz\n")
    assert no_column.status_code == 400
    assert "membres.csv" in doc(no_column).cssselect('[role="alert"]')[0].text_content()
    missing = desk.client.post(
        "/desk/membres/import",
        data={"csrf": desk.csrf("/desk/membres/import")},
        files={"fichier": ("", b"", "application/octet-stream")},
    )
    assert missing.status_code == 400 and "Choisissez un fichier" in missing.text


def test_import_reports_at_most_200_invalid_lines(desk: Desk) -> None:
    lines = "".join(f"mauvaise{i}\n" for i in range(250))
    response = upload(desk, ("email\n" + lines).encode())
    assert response.status_code == 200
    assert len(doc(response).cssselect(".line-errors li")) == 200
    assert "et 50 autres lignes invalides" in response.text


# --- CSRF ------------------------------------------------------------------------------


def test_every_form_refuses_a_missing_or_wrong_csrf_token(desk: Desk) -> None:
    site = desk.site
    member_id = add_member(site, "lena@exemple.fr", name="Léna")
    path = f"/desk/membres/{member_id}"
    desk.csrf(path)  # a real token exists for this session; the posts below do not carry it
    posts: list[tuple[str, dict[str, Any]]] = [
        (path, {"name": "Pirate", "themes": ["ia"]}),
        (f"{path}/suspendre", {}),
        (f"{path}/desabonner", {}),
        (f"{path}/supprimer", {}),
        ("/desk/membres/ajouter", {"email": "intrus@exemple.fr"}),
    ]
    for target, data in posts:
        for token in (None, "", "faux-jeton-" + "x" * 32):
            sent = dict(data) if token is None else {**data, "csrf": token}
            response = desk.client.post(target, data=sent)
            assert response.status_code == 403, (target, token)
            assert "Le formulaire a expiré" in response.text
    for token in (None, "faux"):
        response = desk.client.post(
            "/desk/membres/import",
            data={} if token is None else {"csrf": token},
            files={"fichier": ("m.csv", b"email\nintrus2@exemple.fr\n", "text/csv")},
        )
        assert response.status_code == 403
    row = member_by_id(site, member_id)
    assert row is not None and (row.name, row.status, row.themes) == ("Léna", "active", None)
    assert events(site, member_id) == []
    assert member_by_email(site, "intrus@exemple.fr") is None
    assert member_by_email(site, "intrus2@exemple.fr") is None


def test_another_sessions_token_is_refused(settings: Settings) -> None:
    with open_desk(settings) as desk:
        member_id = add_member(desk.site, "marc@exemple.fr")
        stolen = desk.csrf(f"/desk/membres/{member_id}")
        with httpx.Client(base_url=desk.site.base_url, timeout=10) as other:
            log_in(other)
            response = other.post(f"/desk/membres/{member_id}/suspendre", data={"csrf": stolen})
            assert response.status_code == 403
        row = member_by_id(desk.site, member_id)
        assert row is not None and row.status == "active"


# --- escaping --------------------------------------------------------------------------


def assert_escaped(response: httpx.Response) -> None:
    raw = response.text
    assert "<script>alert(1)" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert "<img src=x" not in raw
    assert "&lt;img src=x onerror=alert(2)&gt;" in raw


def test_hostile_names_are_shown_escaped(desk: Desk) -> None:
    site = desk.site
    member_id = add_member(site, "xss@exemple.fr", name=SCRIPT, organisation=IMG)
    listed = desk.client.get("/desk/membres")
    assert_escaped(listed)
    cells = doc(listed).cssselect("tbody tr")[0].cssselect("td")
    assert cells[0].text_content() == SCRIPT and cells[1].text_content() == IMG
    assert_escaped(desk.client.get(f"/desk/membres/{member_id}"))
    assert_escaped(desk.client.get(f"/desk/membres/{member_id}/supprimer"))
    assert_escaped(desk.client.get("/desk/membres", params={"q": "xss"}))

    reflected = desk.client.get("/desk/membres", params={"q": '"><script>alert(3)</script>'})
    assert "<script>alert(3)" not in reflected.text
    assert doc(reflected).xpath('//input[@id="q"]/@value') == ['"><script>alert(3)</script>']

    # Typed into the forms: stored as typed, shown escaped.
    path = f"/desk/membres/{member_id}"
    assert desk.post(path, path, name=SCRIPT, organisation=IMG).status_code == 303
    added = desk.post(
        "/desk/membres/ajouter",
        "/desk/membres/ajouter",
        email="autre@exemple.fr",
        name=SCRIPT,
        organisation=IMG,
    )
    assert added.status_code == 303
    assert_escaped(desk.client.get(added.headers["location"]))

    hostile_csv = f"email;nom\n{SCRIPT};x\nok@exemple.fr;{IMG}\n".encode()
    report = upload(desk, hostile_csv, filename="<b>liste</b>.csv", verifier="1")
    assert report.status_code == 200
    assert "<script>alert(1)" not in report.text and "<b>liste" not in report.text
    assert "&lt;b&gt;liste&lt;/b&gt;.csv" in report.text
