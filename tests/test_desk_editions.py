"""The edition composer on the desk, against a real uvicorn server and a real SMTP server:
a draft from the desk, title and edito, items and sections reordered, the preview as a
member, a test mail, approval and scheduling, the log, conflicts and CSRF; then the
scheduler's two jobs (the weekly draft, the scheduled send) called as APScheduler would."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from lxml import html as lxml_html
from sqlalchemy import func, select

from tests.archive_site import NOW, Stored, populate
from tests.members_site import MemberSite, html_part, running_members_site, text_part
from tests.smtp_server import SmtpTestServer
from veille.config import Settings, get_settings
from veille.db import editions as edition_db
from veille.db.engine import make_engine, session_factory, transaction, upgrade
from veille.db.tables import ArticleRow, DeliveryRow, EditionItemRow, EditionRow
from veille.desk import accounts, stories
from veille.errors import ConflictError
from veille.members.subscriptions import add_by_hand
from veille.newsletter import editions, edits
from veille.scheduler import draft_weekly_edition, send_scheduled_editions

EMAIL = "delegue@exemple.fr"
PASSWORD = "une phrase de passe solide"
IA_ONLY = "ia.seulement@exemple.fr"
EVERYTHING = "tout@exemple.fr"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Desk:
    site: MemberSite
    stored: Stored
    clock: Clock

    @property
    def client(self) -> httpx.Client:
        return self.site.client

    def page(self, path: str) -> tuple[httpx.Response, lxml_html.HtmlElement]:
        response = self.client.get(path)
        assert response.status_code == 200, response.text
        return response, lxml_html.fromstring(response.content)

    def csrf(self, path: str = "/desk/editions") -> str:
        _, doc = self.page(path)
        return str(doc.xpath('//input[@name="csrf"]/@value')[0])

    def post(self, path: str, **data: object) -> httpx.Response:
        data.setdefault("csrf", self.csrf())
        return self.client.post(path, data=data)

    def edition(self, number: int = 1) -> EditionRow:
        with self.site.sessions() as session:
            edition = edition_db.by_number(session, number)
            assert edition is not None
            session.expunge(edition)
            return edition

    def items(self, number: int = 1) -> dict[str, list[EditionItemRow]]:
        with self.site.sessions() as session:
            edition = edition_db.by_number(session, number)
            assert edition is not None
            out: dict[str, list[EditionItemRow]] = {}
            for item in edition_db.items_of(session, edition.id):
                out.setdefault(item.theme, []).append(item)
            session.expunge_all()
        return {t: sorted(v, key=lambda i: i.position) for t, v in out.items()}


def add_members(site: MemberSite) -> None:
    with transaction(site.sessions) as session:
        for email, themes in ((IA_ONLY, ["ia"]), (EVERYTHING, None)):
            add_by_hand(
                session,
                email=email,
                name="Camille" if themes else "",
                organisation="",
                themes=themes,
                now=NOW,
                by="test",
                require_confirmation=False,
            )


@pytest.fixture
def desk(settings: Settings) -> Iterator[Desk]:
    clock = Clock()
    site_settings = settings.model_copy(
        update={"secret_key": "clé de test assez longue pour signer", "send_rate": 1000.0}
    )
    with running_members_site(site_settings, clock=clock) as site:
        stored = populate(site.sessions)
        with transaction(site.sessions) as session:
            accounts.add_user(session, EMAIL, "delegate", PASSWORD, now=NOW)
        add_members(site)
        log_in(site)
        yield Desk(site, stored, clock)


def log_in(site: MemberSite) -> None:
    login = site.client.get("/desk/connexion")
    doc = lxml_html.fromstring(login.content)
    fields = {i.get("name"): i.get("value") or "" for i in doc.cssselect("form input[name]")}
    fields.update(email=EMAIL, password=PASSWORD, suite="/desk/editions")
    response = site.client.post("/desk/connexion", data=fields)
    assert response.status_code == 303, response.text


def new_draft(desk: Desk) -> int:
    response = desk.post("/desk/editions")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/desk/editions/")
    return int(location.split("/")[-1].split("?")[0])


def section_titles(doc: lxml_html.HtmlElement) -> list[str]:
    return [h.text_content().split("(")[0].strip() for h in doc.cssselect(".composer-section h3")]


def item_ids(doc: lxml_html.HtmlElement, theme: str) -> list[int]:
    return [
        int(li.get("data-item"))
        for li in doc.cssselect(f'ol[data-theme="{theme}"] > li[data-item]')
    ]


# --- the composer -----------------------------------------------------------------------


def test_a_draft_from_the_desk_then_title_and_edito(desk: Desk) -> None:
    _, listing = desk.page("/desk/editions")
    assert "Aucune édition" in listing.text_content()
    number = new_draft(desk)
    assert number == 1
    response, doc = desk.page("/desk/editions/1?fait=cree")
    assert "Brouillon créé." in doc.cssselect(".notice")[0].text_content()
    # The week's best items, one per story (the two Lyon articles are one story).
    items = desk.items()
    assert [i.article_id for i in items["open_data"]] == [desk.stored.ids["lyon"]]
    assert {i.article_id for i in items["ia"]} == {desk.stored.ids["ia"], desk.stored.ids["piege"]}
    # The hostile title from the archive is text, never markup, on the desk.
    assert "<script>alert" not in response.text
    assert section_titles(doc) == [
        "Open data",
        "Intelligence artificielle",
        "Données d'intérêt général",
    ]

    version = doc.cssselect("input[name=version]")[0].get("value")
    response = desk.post(
        "/desk/editions/1",
        title="  La lettre  de la semaine ",
        edito=(
            "Cette semaine, **trois sujets**.\n\n<script>alert('édito')</script>\n\n"
            "[lien](javascript:alert(2))"
        ),
        version=version,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/desk/editions/1?fait=enregistre"
    edition = desk.edition()
    assert edition.title == "La lettre de la semaine"
    assert edition.version > int(version)
    page, doc = desk.page("/desk/editions/1")
    assert "<script>alert('édito')" not in page.text  # escaped in the textarea
    assert "<script>alert" in doc.cssselect("#edito")[0].text_content()
    assert "nettoyé" in doc.cssselect("#edito-aide")[0].text_content()

    # The mail's HTML keeps the edito's Markdown, not its script nor the javascript: link.
    mail = desk.client.get("/desk/editions/1/apercu/courriel")
    assert mail.status_code == 200
    assert "<strong>trois sujets</strong>" in mail.text
    assert "<script" not in mail.text
    assert 'href="javascript:' not in mail.text  # left as text, never a link
    assert "sandbox" in mail.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in mail.headers["content-security-policy"]

    # Nothing changed: nothing logged, version kept.
    response = desk.post(
        "/desk/editions/1", title=edition.title, edito=edition.edito, version=edition.version
    )
    assert response.headers["location"] == "/desk/editions/1?fait=inchange"
    assert desk.edition().version == edition.version

    _, listing = desk.page("/desk/editions")
    row = listing.cssselect(".editions-table tbody tr")[0]
    assert "La lettre de la semaine" in row.text_content()
    assert "brouillon" in row.text_content()


def test_items_and_sections_are_reordered_with_the_buttons(desk: Desk) -> None:
    new_draft(desk)
    _, doc = desk.page("/desk/editions/1")
    first, second = item_ids(doc, "ia")
    # The first item shows no « monter » button, the last no « descendre » (they are there,
    # hidden, for the script to show when the order changes without a reload).
    first_li = doc.cssselect(f"#article-{first}")[0]
    assert first_li.xpath('.//form[@hidden][input[@name="sens"][@value="monter"]]')
    assert first_li.xpath('.//form[not(@hidden)][input[@name="sens"][@value="descendre"]]')

    response = desk.post(f"/desk/editions/1/articles/{second}/deplacer", sens="monter")
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"#article-{second}")
    _, doc = desk.page("/desk/editions/1")
    assert item_ids(doc, "ia") == [second, first]
    assert [i.id for i in desk.items()["ia"]] == [second, first]

    # Drag and drop (what composer.js sends): another section, a position, JSON back.
    response = desk.client.post(
        f"/desk/editions/1/articles/{first}/deplacer",
        data={"theme": "open_data", "position": "0"},
        headers={"X-CSRF-Token": desk.csrf(), "Accept": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == desk.edition().version
    items = desk.items()
    assert items["open_data"][0].id == first
    assert [i.position for i in items["open_data"]] == [0, 1]
    assert [i.id for i in items["ia"]] == [second]
    assert items["ia"][0].position == 0

    response = desk.post("/desk/editions/1/rubriques/ia/monter")
    assert response.status_code == 303
    assert desk.edition().section_order[:2] == ["ia", "open_data"]
    _, doc = desk.page("/desk/editions/1")
    assert section_titles(doc)[:2] == ["Intelligence artificielle", "Open data"]
    # … and the mail follows the composer's order.
    _, doc = desk.page("/desk/editions/1/apercu?format=text")
    text = doc.cssselect("pre.mail-text")[0].text_content()
    assert text.index("Intelligence artificielle") < text.index("Open data")

    # Item texts, then removal.
    response = desk.post(
        f"/desk/editions/1/articles/{second}",
        title="Un titre réécrit",
        summary="Un résumé réécrit.",
        comment="À lire absolument.",
    )
    assert response.status_code == 303
    item = desk.items()["ia"][0]
    assert (item.title, item.summary, item.comment) == (
        "Un titre réécrit",
        "Un résumé réécrit.",
        "À lire absolument.",
    )
    response = desk.post(f"/desk/editions/1/articles/{second}/retirer")
    assert response.status_code == 303
    assert "ia" not in desk.items()
    # Adding it back by its article number, at the end of a chosen section.
    article_id = item.article_id
    response = desk.post("/desk/editions/1/articles", article=str(article_id), theme="ia")
    assert response.status_code == 303
    assert [i.article_id for i in desk.items()["ia"]] == [article_id]
    twice = desk.post("/desk/editions/1/articles", article=str(article_id), theme="ia")
    assert twice.status_code == 400
    assert "déjà dans l’édition" in twice.text


def test_the_kept_articles_of_the_period_can_be_added(desk: Desk) -> None:
    new_draft(desk)
    # « lyon-bis » was left out of the draft (same story as « lyon »); taken out of that
    # story, it is a story of its own that the draft does not carry: kept, it is offered.
    # (While in « lyon »'s story it is not: the edition carries that story already.)
    lyon_bis = desk.stored.ids["lyon-bis"]
    with transaction(desk.site.sessions) as session:
        stories.take_out(session, lyon_bis)
        article = session.get(ArticleRow, lyon_bis)
        assert article is not None
        article.curation = "kept"
    _, doc = desk.page("/desk/editions/1")
    [kept] = doc.cssselect(".kept-list li")
    assert "Lyon : un portail open data" in kept.text_content()
    fields = {i.get("name"): i.get("value") for i in kept.cssselect("input")}
    assert fields["article"] == str(lyon_bis)
    response = desk.client.post("/desk/editions/1/articles", data=fields)
    assert response.status_code == 303
    assert [i.article_id for i in desk.items()["open_data"]][-1] == lyon_bis
    _, doc = desk.page("/desk/editions/1")
    assert not doc.cssselect(".kept-list")
    bad = desk.post("/desk/editions/1/articles", article="abc")
    assert bad.status_code == 400
    assert "un nombre" in bad.text
    missing = desk.post("/desk/editions/1/articles", article="99999")
    assert missing.status_code == 400
    assert "n’existe pas" in missing.text


def test_preview_as_a_member_shows_only_their_sections(desk: Desk) -> None:
    new_draft(desk)
    _, doc = desk.page(f"/desk/editions/1/apercu?format=text&membre={IA_ONLY}")
    text = doc.cssselect("pre.mail-text")[0].text_content()
    assert "Intelligence artificielle" in text
    assert "L'intelligence artificielle au service des collectivités" in text
    assert "Open data" not in text
    assert "La métropole de Lyon" not in text
    assert "Camille" in text  # their name in the greeting

    _, doc = desk.page(f"/desk/editions/1/apercu?format=html&membre={IA_ONLY}")
    frame = doc.cssselect("iframe.mail-frame")[0]
    assert frame.get("sandbox") == ""
    mail = desk.client.get(frame.get("src"))
    assert "La métropole de Lyon" not in mail.text
    assert "au service des collectivités" in mail.text
    assert "<script" not in mail.text  # the hostile article's title is text

    everything = desk.client.get(f"/desk/editions/1/apercu/courriel?membre={EVERYTHING}")
    assert "La métropole de Lyon" in everything.text

    unknown = desk.client.get("/desk/editions/1/apercu?membre=personne@exemple.fr")
    assert unknown.status_code == 404
    assert "Aucun membre" in unknown.text


def test_a_test_mail_goes_to_me_only_and_writes_no_delivery(desk: Desk) -> None:
    new_draft(desk)
    response = desk.post("/desk/editions/1/test")
    assert response.status_code == 303
    assert response.headers["location"] == "/desk/editions/1?fait=test"
    [message] = desk.site.wait_for_mail(1)
    assert str(message["Subject"]).startswith("[TEST] ")
    assert message["To"].addresses[0].addr_spec == EMAIL
    assert "La métropole de Lyon" in text_part(message)  # every theme
    assert "au service des collectivités" in html_part(message)
    assert [r.rcpt_tos for r in desk.site.smtp.messages] == [(EMAIL,)]
    with desk.site.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DeliveryRow)) == 0
    assert desk.edition().status == "draft"
    _, doc = desk.page("/desk/editions/1")
    assert f"envoi de test à {EMAIL}" in doc.cssselect(".audit-table")[0].text_content()


def test_approve_schedule_and_the_log_says_who_and_when(desk: Desk) -> None:
    new_draft(desk)
    desk.clock.now = NOW + timedelta(minutes=5)  # 10:05 in Paris
    response = desk.post("/desk/editions/1/approuver")
    assert response.status_code == 303
    edition = desk.edition()
    assert (edition.status, edition.approved_by) == ("approved", EMAIL)

    response = desk.post("/desk/editions/1/programmer", quand="2026-11-24T09:30")
    assert response.status_code == 303
    edition = desk.edition()
    assert edition.status == "approved"
    assert edition.scheduled_at == datetime(2026, 11, 24, 8, 30, tzinfo=UTC)  # Paris = UTC+1
    _, doc = desk.page("/desk/editions/1")
    assert "envoi programmé le 24 novembre 2026 à 09:30" in doc.text_content()
    rows = [
        [td.text_content() for td in tr.cssselect("td")]
        for tr in doc.cssselect(".audit-table tbody tr")
    ]
    assert rows[0] == [
        "23 novembre 2026 à 10:05",
        EMAIL,
        "envoi programmé pour le 24 novembre 2026 à 09:30",
    ]
    assert rows[1] == ["23 novembre 2026 à 10:05", EMAIL, "approuvée"]
    assert rows[-1][1:] == [EMAIL, "brouillon créé (3 articles)"]

    past = desk.post("/desk/editions/1/programmer", quand="2026-11-23T09:00")
    assert past.status_code == 400
    assert "dans le futur" in past.text

    # Editing an approved edition takes it back to draft and drops the schedule, logged.
    _, doc = desk.page("/desk/editions/1")
    response = desk.post(
        "/desk/editions/1",
        title="Titre corrigé",
        edito="",
        version=doc.cssselect("input[name=version]")[0].get("value"),
    )
    assert response.status_code == 303
    edition = desk.edition()
    assert (edition.status, edition.scheduled_at) == ("draft", None)
    _, doc = desk.page("/desk/editions/1")
    log = doc.cssselect(".audit-table")[0].text_content()
    assert "repassée en brouillon" in log
    assert "titre ou édito modifié" in log


def test_a_stale_form_is_refused_and_keeps_the_text(desk: Desk) -> None:
    new_draft(desk)
    _, doc = desk.page("/desk/editions/1")
    stale = doc.cssselect("input[name=version]")[0].get("value")
    first = desk.post("/desk/editions/1", title="Premier titre", edito="", version=stale)
    assert first.status_code == 303
    second = desk.post("/desk/editions/1", title="Second titre", edito="Mon édito", version=stale)
    assert second.status_code == 409
    doc = lxml_html.fromstring(second.content)
    assert "modifiée entre-temps" in doc.cssselect("#erreur")[0].text_content()
    assert doc.cssselect("#title")[0].get("value") == "Premier titre"  # what is stored now
    assert doc.cssselect("#unsaved-title")[0].get("value") == "Second titre"
    assert desk.edition().title == "Premier titre"


def test_forms_without_the_csrf_token_are_refused(desk: Desk) -> None:
    new_draft(desk)
    before = desk.edition()
    item = desk.items()["ia"][0]
    for path, data in (
        ("/desk/editions/1", {"title": "Piraté", "edito": "", "version": before.version}),
        (f"/desk/editions/1/articles/{item.id}/deplacer", {"sens": "descendre"}),
        ("/desk/editions/1/approuver", {}),
        ("/desk/editions/1/test", {}),
        ("/desk/editions", {}),
    ):
        response = desk.client.post(path, data={**data, "csrf": "pas-le-bon"})
        assert response.status_code == 403, path
        response = desk.client.post(path, data=data)
        assert response.status_code == 403, path
    after = desk.edition()
    assert (after.title, after.status, after.version) == (before.title, "draft", before.version)
    assert desk.site.smtp.messages == []
    with desk.site.sessions() as session:
        assert edition_db.next_number(session) == 2


def test_send_now_asks_first_then_sends_to_every_member(desk: Desk) -> None:
    new_draft(desk)
    _, doc = desk.page("/desk/editions/1/envoyer")
    assert "2" in doc.cssselect("strong")[0].text_content()  # two active members
    response = desk.post("/desk/editions/1/envoyer")
    assert response.status_code == 303
    assert response.headers["location"] == "/desk/editions/1?fait=envoi#suivi"
    messages = desk.site.wait_for_mail(2)
    by_address = {m["To"].addresses[0].addr_spec: m for m in messages}
    assert set(by_address) == {IA_ONLY, EVERYTHING}
    assert "La métropole de Lyon" not in text_part(by_address[IA_ONLY])
    assert "La métropole de Lyon" in text_part(by_address[EVERYTHING])
    deadline = time.monotonic() + 10
    while desk.edition().status != "sent" and time.monotonic() < deadline:
        time.sleep(0.02)  # the send finishes in the server's thread: no clock to inject
    assert desk.edition().status == "sent"
    _, doc = desk.page("/desk/editions/1")
    counts = doc.cssselect(".delivery-counts")[0].text_content()
    assert "envoyés : 2" in " ".join(counts.split())
    assert not doc.cssselect("#title")  # a sent edition is no longer editable
    refused = desk.post(f"/desk/editions/1/articles/{desk.items()['ia'][0].id}/retirer")
    assert refused.status_code == 400
    assert "déjà envoyée" in refused.text


def test_send_now_runs_in_a_worker_process_under_the_desk_users_name(
    settings: Settings,
) -> None:
    """Without an injected clock the app starts the real worker (`veille edition send`), a
    process of its own that gets the site's database, SMTP server and secret through its
    environment; the request only records the send."""
    site_settings = settings.model_copy(
        update={"secret_key": "clé de test assez longue pour signer", "send_rate": 1000.0}
    )
    with running_members_site(site_settings) as site:
        stored = populate(site.sessions)
        with transaction(site.sessions) as session:
            accounts.add_user(session, EMAIL, "delegate", PASSWORD, now=NOW)
            editions.create_draft(session, now=NOW, actor=EMAIL)  # the week of the articles
        add_members(site)
        log_in(site)
        desk = Desk(site, stored, Clock())  # for its helpers; the app has the real clock
        response = desk.post("/desk/editions/1/envoyer")
        assert response.status_code == 303
        assert response.headers["location"] == "/desk/editions/1?fait=envoi#suivi"
        deadline = time.monotonic() + 90  # a fresh interpreter on a busy machine
        while time.monotonic() < deadline:
            with site.sessions() as session:
                edition = edition_db.by_number(session, 1)
                assert edition is not None
                if edition.status == "sent":
                    break
            time.sleep(0.1)  # another process sends: nothing to wait on but the database
        site.wait_for_mail(2)
        with site.sessions() as session:
            edition = edition_db.by_number(session, 1)
            assert edition is not None and edition.status == "sent"
            log = {r.action: r.actor for r in edition_db.audit_of(session, "edition", 1)}
        assert log["edition.sending"] == EMAIL
        assert log["edition.sent"] == EMAIL
        assert {m.rcpt_tos for m in site.smtp.messages} == {(IA_ONLY,), (EVERYTHING,)}


def test_pages_need_a_desk_session(desk: Desk) -> None:
    with httpx.Client(base_url=desk.site.base_url) as anonymous:
        response = anonymous.get("/desk/editions")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/desk/connexion")
        assert anonymous.post("/desk/editions", data={"csrf": "x"}).status_code == 401


# --- the scheduler's jobs ---------------------------------------------------------------


def test_the_weekly_draft_is_created_once_per_week(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    sessions = session_factory(engine)
    populate(sessions)
    monday = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # 08:00 in Paris, the default slot
    draft_weekly_edition(settings, now=monday)
    draft_weekly_edition(settings, now=monday + timedelta(hours=3))
    draft_weekly_edition(settings, now=monday + timedelta(days=6))
    with sessions() as session:
        found = edition_db.list_editions(session)
        assert [(e.number, e.status, e.created_by) for e in found] == [(1, "draft", "scheduler")]
        assert edition_db.items_of(session, found[0].id)  # pre-filled
    draft_weekly_edition(settings, now=monday + timedelta(days=7))
    with sessions() as session:
        second = edition_db.by_number(session, 2)
        assert second is not None
        assert second.period_start == monday  # starts where the first one ended
    # A draft made by hand on Tuesday counts for that week.
    with transaction(sessions) as session:
        editions.create_draft(session, now=monday + timedelta(days=8), actor=EMAIL)
    draft_weekly_edition(settings, now=monday + timedelta(days=13))
    with sessions() as session:
        assert edition_db.next_number(session) == 4
    engine.dispose()


def test_weekly_slot_follows_the_settings() -> None:
    wednesday = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert editions.weekly_slot(wednesday, "mon", "08:00") == datetime(
        2026, 11, 23, 7, 0, tzinfo=UTC
    )
    assert editions.weekly_slot(wednesday, "wed", "14:30") == datetime(
        2026, 11, 18, 13, 30, tzinfo=UTC
    )
    summer = datetime(2026, 7, 6, 6, 30, tzinfo=UTC)  # Monday 08:30 in Paris (UTC+2)
    assert editions.weekly_slot(summer, "mon", "08:00") == datetime(2026, 7, 6, 6, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        get_settings(edition_day="lundi")
    with pytest.raises(ValueError):
        get_settings(edition_time="8h")


def test_a_scheduled_edition_is_sent_by_the_job(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    sessions = session_factory(engine)
    populate(sessions)
    with SmtpTestServer() as smtp:
        job_settings = settings.model_copy(update={"smtp_url": smtp.url, "send_rate": 1000.0})
        with transaction(sessions) as session:
            for email, themes in ((IA_ONLY, ["ia"]), (EVERYTHING, None)):
                add_by_hand(
                    session,
                    email=email,
                    name="",
                    organisation="",
                    themes=themes,
                    now=NOW,
                    by="test",
                    require_confirmation=False,
                )
            edition = editions.create_draft(session, now=NOW, actor=EMAIL)
            editions.schedule(session, edition, NOW + timedelta(hours=2), actor=EMAIL, now=NOW)
        send_scheduled_editions(job_settings, now=NOW + timedelta(hours=1))  # not yet
        assert smtp.messages == []
        send_scheduled_editions(job_settings, now=NOW + timedelta(hours=2))
        assert sorted(m.rcpt_tos[0] for m in smtp.messages) == [IA_ONLY, EVERYTHING]
        send_scheduled_editions(job_settings, now=NOW + timedelta(hours=3))  # nothing twice
        assert len(smtp.messages) == 2
    with sessions() as session:
        sent = edition_db.by_number(session, 1)
        assert sent is not None and sent.status == "sent"
        actions = [r.action for r in edition_db.audit_of(session, "edition", 1)]
        assert actions[-2:] == ["edition.sending", "edition.sent"]
    engine.dispose()


def test_a_send_left_sending_is_resumed_by_the_job(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    sessions = session_factory(engine)
    populate(sessions)
    with SmtpTestServer() as smtp:
        job_settings = settings.model_copy(update={"smtp_url": smtp.url})
        with transaction(sessions) as session:
            add_by_hand(
                session,
                email=EVERYTHING,
                name="",
                organisation="",
                themes=None,
                now=NOW,
                by="test",
                require_confirmation=False,
            )
            edition = editions.create_draft(session, now=NOW, actor=EMAIL)
            # What a process killed right after starting leaves behind.
            editions.set_status(session, edition, "sending", actor=EMAIL, now=NOW)
        send_scheduled_editions(job_settings)
        assert [m.rcpt_tos for m in smtp.messages] == [(EVERYTHING,)]
    with sessions() as session:
        resumed = edition_db.by_number(session, 1)
        assert resumed is not None and resumed.status == "sent"
    engine.dispose()


def test_the_jobs_never_raise() -> None:
    broken = get_settings(database_url="postgresql://nobody@127.0.0.1:1/none")
    draft_weekly_edition(broken)
    send_scheduled_editions(broken)


def test_domain_refuses_what_the_statuses_forbid(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    sessions = session_factory(engine)
    populate(sessions)
    with transaction(sessions) as session:
        edition = editions.create_draft(session, now=NOW, actor=EMAIL)
        item = edition_db.items_of(session, edition.id)[0]
        with pytest.raises(ConflictError):
            edits.update_edition(
                session,
                edition,
                title="x",
                edito="",
                expected_version=edition.version - 1,
                actor=EMAIL,
                now=NOW,
            )
        with pytest.raises(editions.EditionError, match="vide"):
            edits.set_item_texts(
                session, edition, item.id, title=" ", summary="", comment="", actor=EMAIL, now=NOW
            )
        with pytest.raises(editions.EditionError, match="Thème inconnu"):
            edits.move_item(
                session, edition, item.id, position=0, theme="cuisine", actor=EMAIL, now=NOW
            )
        assert not edits.move_section(
            session, edition, edition.section_order[0], "up", actor=EMAIL, now=NOW
        )
        editions.set_status(session, edition, "sending", actor=EMAIL, now=NOW)
        with pytest.raises(editions.EditionError, match="en cours d’envoi"):
            edits.remove_item(session, edition, item.id, actor=EMAIL, now=NOW)
    engine.dispose()
