"""Subscription, double opt-in, preferences, GDPR and one-click unsubscribe, over HTTP
against a real uvicorn server and a real SMTP server."""

from __future__ import annotations

import http.client
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from lxml import html as lxml_html
from sqlalchemy import select

from tests.members_site import MemberSite, html_part, link_in, running_members_site, text_part
from veille.config import Settings
from veille.db import members as member_db
from veille.db.tables import MemberEventRow, MemberRow
from veille.members.subscriptions import CONSENT_WORDING
from veille.members.tokens import make_token


def member(site: MemberSite, email: str) -> MemberRow | None:
    with site.sessions() as session:
        row = member_db.by_email(session, email)
        if row is not None:
            session.expunge(row)
        return row


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def confirm_via_mail(site: MemberSite, mail_index: int = 0) -> str:
    """Follow the confirmation link of a mail and press its button; returns the page."""
    mail = site.wait_for_mail(mail_index + 1)[mail_index]
    path = path_of(link_in(mail, "/abonnement/confirmer/"))
    token = site.form_token(path)
    response = site.client.post(path, data={"csrf": token})
    assert response.status_code == 200
    return response.text


def test_double_opt_in_from_form_to_active(settings: Settings) -> None:
    with running_members_site(settings) as site:
        form = lxml_html.fromstring(site.client.get("/abonnement").content)
        assert not form.xpath('//input[@name="themes"][@checked]')  # none pre-ticked
        assert "tous les thèmes" in form.text_content()
        response = site.subscribe(
            email="Claire.Martin@Exemple.FR",
            name="Claire Martin",
            organisation="Ville de Lyon",
            themes=["open_data", "ia"],
        )
        assert response.status_code == 200
        assert "Vérifiez votre boîte" in response.text
        pending = member(site, "claire.martin@exemple.fr")
        assert pending is not None and pending.status == "pending"
        assert pending.themes == ["ia", "open_data"]

        mail = site.wait_for_mail(1)[0]
        assert site.smtp.messages[0].rcpt_tos == ("Claire.Martin@exemple.fr",)
        assert mail["Subject"].startswith("Confirmez votre inscription")
        assert mail.get_content_type() == "multipart/alternative"
        assert "Claire Martin" in text_part(mail)
        assert 'style="' in html_part(mail)  # CSS inlined for mail clients
        link = link_in(mail, "/abonnement/confirmer/")
        assert link.startswith(site.base_url)

        # Opening the link (as a mail scanner would) does not confirm.
        page = site.client.get(path_of(link))
        assert page.status_code == 200 and "Je confirme" in page.text
        still = member(site, "claire.martin@exemple.fr")
        assert still is not None and still.status == "pending"

        assert "Inscription confirmée" in confirm_via_mail(site)
        active = member(site, "claire.martin@exemple.fr")
        assert active is not None and active.status == "active"
        assert active.consent_method == "form"
        assert active.consent_wording == CONSENT_WORDING
        assert active.consent_ip == "127.0.0.1"
        assert active.consent_at is not None and active.last_activity_at is not None


def test_same_answer_whether_the_address_is_known(settings: Settings) -> None:
    with running_members_site(settings) as site:
        first = site.subscribe(email="paul@exemple.fr")
        confirm_via_mail(site)
        again = site.subscribe(email="PAUL@exemple.fr", name="Autre nom")
        unknown = site.subscribe(email="inconnu@exemple.fr")

        def main_text(html: str) -> str:
            return lxml_html.fromstring(html).xpath("//main")[0].text_content()

        assert main_text(first.text) == main_text(again.text) == main_text(unknown.text)
        mails = site.wait_for_mail(3)
        assert mails[1]["Subject"].startswith("Votre abonnement")  # "already subscribed"
        kept = member(site, "paul@exemple.fr")
        assert kept is not None and kept.status == "active" and kept.name == ""
        with site.sessions() as session:
            assert session.scalar(
                select(MemberRow.id).where(MemberRow.email_key == "paul@exemple.fr")
            )
            count = len(list(session.scalars(select(MemberRow))))
        assert count == 2


def test_bad_form_input_and_honeypot(settings: Settings) -> None:
    with running_members_site(settings) as site:
        bad = site.subscribe(email="pas-une-adresse")
        assert bad.status_code == 400 and "Adresse e-mail invalide" in bad.text
        unknown_theme = site.subscribe(email="a@exemple.fr", themes=["meteo"])
        assert unknown_theme.status_code == 400 and "Thème inconnu" in unknown_theme.text
        bot = site.subscribe(email="bot@exemple.fr", site_web="http://spam.example")
        assert bot.status_code == 200 and "Vérifiez votre boîte" in bot.text
        assert member(site, "bot@exemple.fr") is None
        hostile = site.subscribe(email="x@exemple.fr", name="<script>alert(1)</script>")
        assert hostile.status_code == 200
        site.wait_for_mail(1)
        assert "<script>alert(1)</script>" not in html_part(site.smtp.messages[0].message)
        assert len(site.smtp.messages) == 1


def test_csrf_is_required_on_forms(settings: Settings) -> None:
    with running_members_site(settings) as site:
        missing = site.client.post("/abonnement", data={"email": "a@exemple.fr"})
        assert missing.status_code == 403 and "formulaire a expiré" in missing.text
        site.form_token("/abonnement")  # sets the cookie
        forged = site.client.post("/abonnement", data={"email": "a@exemple.fr", "csrf": "0" * 64})
        assert forged.status_code == 403
        assert member(site, "a@exemple.fr") is None


def test_rate_limits_per_address_and_per_ip(settings: Settings) -> None:
    with running_members_site(settings) as site:
        for _ in range(5):
            assert site.subscribe(email="cible@exemple.fr").status_code == 200
        site.wait_for_mail(3)
        assert len(site.smtp.messages) == 3  # no more than 3 mails an hour to one address
        statuses = [site.subscribe(email=f"p{i}@exemple.fr").status_code for i in range(8)]
        assert statuses[:5] == [200] * 5 and statuses[-1] == 429


def test_preferences_pause_data_and_erasure(settings: Settings) -> None:
    with running_members_site(settings) as site:
        site.subscribe(email="lea@exemple.fr", name="Léa")
        confirm_via_mail(site)
        token = make_token(
            site.settings.secret_key,
            member(site, "lea@exemple.fr").id,  # type: ignore[union-attr]
            member(site, "lea@exemple.fr").token_salt,  # type: ignore[union-attr]
            "prefs",
        )
        path = f"/preferences/{token}"
        csrf = site.form_token(path)
        saved = site.client.post(path, data={"csrf": csrf, "action": "themes", "themes": ["ia"]})
        assert saved.status_code == 303
        assert member(site, "lea@exemple.fr").themes == ["ia"]  # type: ignore[union-attr]
        assert "Vos thèmes sont enregistrés" in site.client.get(saved.headers["location"]).text

        site.client.post(path, data={"csrf": csrf, "action": "pause"})
        assert member(site, "lea@exemple.fr").status == "paused"  # type: ignore[union-attr]
        site.client.post(path, data={"csrf": csrf, "action": "resume"})
        assert member(site, "lea@exemple.fr").status == "active"  # type: ignore[union-attr]
        everything = site.client.post(
            path, data={"csrf": csrf, "action": "themes"}
        )  # no box ticked = all themes
        assert everything.status_code == 303
        assert member(site, "lea@exemple.fr").themes is None  # type: ignore[union-attr]

        data = site.client.get(f"{path}/donnees.json")
        assert data.status_code == 200 and "attachment" in data.headers["content-disposition"]
        record = json.loads(data.text)
        assert record["email"] == "lea@exemple.fr" and record["name"] == "Léa"
        assert record["consent_method"] == "form" and record["consent_text"]
        kinds = [event["kind"] for event in record["events"]]
        assert kinds[:2] == ["subscribe", "confirm"] and "pause" in kinds

        erased = site.client.post(path, data={"csrf": csrf, "action": "delete"})
        assert erased.status_code == 200 and "Données effacées" in erased.text
        assert member(site, "lea@exemple.fr") is None
        with site.sessions() as session:
            assert list(session.scalars(select(MemberEventRow))) == []
        gone = site.client.get(path)
        assert gone.status_code == 403 and "plus valable" in gone.text


def test_forged_and_expired_links_get_a_french_403(settings: Settings) -> None:
    with running_members_site(settings) as site:
        site.subscribe(email="zoe@exemple.fr")
        site.wait_for_mail(1)
        row = member(site, "zoe@exemple.fr")
        assert row is not None
        for path in (
            "/preferences/abc.def.ghi",
            "/unsubscribe/" + "x" * 40,
            "/abonnement/confirmer/not-a-token",
            "/preferences/" + "y" * 2000,
        ):
            response = site.client.get(path)
            assert response.status_code == 403, path
            assert "Accès refusé" in response.text and 'lang="fr"' in response.text
        old = datetime.now(UTC) - timedelta(days=8)
        expired = make_token(
            site.settings.secret_key, row.id, row.token_salt, "confirm", clock=lambda: old
        )
        response = site.client.get(f"/abonnement/confirmer/{expired}")
        assert response.status_code == 403 and "expiré" in response.text
        other_key = make_token("another-secret", row.id, row.token_salt, "prefs")
        assert site.client.get(f"/preferences/{other_key}").status_code == 403
        # A confirmation link is not a preferences link.
        confirm_token = make_token(site.settings.secret_key, row.id, row.token_salt, "confirm")
        assert site.client.get(f"/preferences/{confirm_token}").status_code == 403


def test_one_click_unsubscribe_rfc8058(settings: Settings) -> None:
    with running_members_site(settings) as site:
        site.subscribe(email="jean@exemple.fr")
        confirm_via_mail(site)
        row = member(site, "jean@exemple.fr")
        assert row is not None
        token = make_token(site.settings.secret_key, row.id, row.token_salt, "prefs")

        page = site.client.get(f"/unsubscribe/{token}")  # a link scanner's prefetch
        assert page.status_code == 200 and "Me désabonner" in page.text
        assert member(site, "jean@exemple.fr").status == "active"  # type: ignore[union-attr]

        # What a mail client sends: a bare POST, no cookie, no CSRF field.
        parts = urlsplit(site.base_url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        body = "List-Unsubscribe=One-Click"
        conn.request(
            "POST",
            f"/unsubscribe/{token}",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        reply = conn.getresponse()
        assert reply.status == 200
        assert "désabonné" in reply.read().decode()
        conn.close()
        gone = member(site, "jean@exemple.fr")
        assert gone is not None and gone.status == "unsubscribed"
        assert gone.unsubscribed_at is not None


def test_members_only_archive_signs_in_by_mailed_link(settings: Settings) -> None:
    closed = settings.model_copy(update={"archive_access": "members"})
    with running_members_site(closed) as site:
        refused = site.client.get("/")
        assert refused.status_code == 401 and 'href="/connexion"' in refused.text
        site.subscribe(email="olga@exemple.fr")
        confirm_via_mail(site)

        token = site.form_token("/connexion")
        unknown = site.client.post("/connexion", data={"csrf": token, "email": "x@exemple.fr"})
        known = site.client.post("/connexion", data={"csrf": token, "email": "OLGA@exemple.fr"})
        assert unknown.status_code == known.status_code == 200
        assert unknown.text == known.text
        mail = site.wait_for_mail(2)[1]
        assert len(site.smtp.messages) == 2  # nothing for the unknown address
        path = path_of(link_in(mail, "/connexion/"))
        assert site.client.get("/").status_code == 401  # opening the link is not enough
        login = site.client.post(path, data={"csrf": site.form_token(path)})
        assert login.status_code == 303
        cookie = site.client.cookies.get("veille_member")
        assert cookie and "httponly" in login.headers["set-cookie"].lower()
        assert site.client.get("/").status_code == 200
        assert site.client.get("/api/articles").status_code == 200

        with site.sessions.begin() as session:
            row = member_db.by_email(session, "olga@exemple.fr")
            assert row is not None
            row.status = "unsubscribed"
        assert site.client.get("/").status_code == 401  # the cookie no longer opens it
