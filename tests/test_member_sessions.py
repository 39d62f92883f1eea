"""The members' archive session is revocable server-side: logging out kills the cookie
everywhere (a copy replayed later opens nothing), erasure deletes the member's sessions, and
sessions end after 30 days. A real uvicorn server and a real SMTP server; time on the
injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select

from tests.members_site import MemberSite, link_in, running_members_site
from tests.test_members_web import confirm_via_mail, path_of
from veille.config import Settings
from veille.db import members as member_db
from veille.db.tables import MemberSessionRow
from veille.members import subscriptions
from veille.web import member_login


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def signed_in(site: MemberSite, email: str) -> str:
    """Subscribe, confirm, ask a login link and press its button: the session cookie."""
    site.subscribe(email=email)
    confirm_via_mail(site)
    token = site.form_token("/connexion")
    site.client.post("/connexion", data={"csrf": token, "email": email})
    path = path_of(link_in(site.wait_for_mail(2)[1], "/connexion/"))
    assert site.client.post(path, data={"csrf": site.form_token(path)}).status_code == 303
    cookie = site.client.cookies.get(member_login.COOKIE)
    assert cookie
    assert site.client.get("/").status_code == 200
    return cookie


def replay(site: MemberSite, cookie: str) -> httpx.Response:
    with httpx.Client(base_url=site.base_url, timeout=10) as thief:
        thief.cookies.set(member_login.COOKIE, cookie)
        return thief.get("/")


def session_count(site: MemberSite) -> int:
    with site.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(MemberSessionRow)) or 0)


def test_logout_revokes_the_member_cookie(settings: Settings) -> None:
    closed = settings.model_copy(update={"archive_access": "members"})
    with running_members_site(closed) as site:
        cookie = signed_in(site, "olga@exemple.fr")
        assert replay(site, cookie).status_code == 200  # a copy works while signed in
        out = site.client.post("/deconnexion", data={"csrf": site.form_token("/connexion")})
        assert out.status_code == 303
        assert site.client.get("/").status_code == 401
        # The copied cookie, replayed after logout: not signed in, as if never signed in.
        assert replay(site, cookie).status_code == 401
        assert session_count(site) == 0


def test_erasure_deletes_the_member_sessions(settings: Settings) -> None:
    closed = settings.model_copy(update={"archive_access": "members"})
    with running_members_site(closed) as site:
        cookie = signed_in(site, "paul@exemple.fr")
        assert session_count(site) == 1
        with site.sessions.begin() as session:
            member = member_db.by_email(session, "paul@exemple.fr")
            assert member is not None
            subscriptions.erase(session, member)
        assert session_count(site) == 0
        assert replay(site, cookie).status_code == 401


def test_member_sessions_end_after_thirty_days(settings: Settings) -> None:
    closed = settings.model_copy(update={"archive_access": "members"})
    clock = Clock()
    with running_members_site(closed, clock=clock) as site:
        cookie = signed_in(site, "lea@exemple.fr")
        clock.now += timedelta(days=29, hours=23)
        assert replay(site, cookie).status_code == 200
        clock.now += timedelta(hours=1, seconds=1)
        assert replay(site, cookie).status_code == 401
        forged = replay(site, "x" * 43)  # a well-formed value that matches no session
        assert forged.status_code == 401


def test_a_member_with_alerts_only_signs_in_like_a_subscriber(settings: Settings) -> None:
    """An address confirmed through an alert (status `alerts`, no newsletter) proved it is
    its owner's as a subscriber's did: once the archive is members-only, its sign-in link
    opens the archive."""
    from tests.test_alerts import ask_alert, confirm_alert

    with running_members_site(settings) as open_site:  # alerts are asked on an open archive
        assert ask_alert(open_site, "theme=open_data", email="ines@exemple.fr").status_code == 200
        confirm_alert(open_site, open_site.wait_for_mail(1)[0])
        with open_site.sessions() as session:
            member = member_db.by_email(session, "ines@exemple.fr")
            assert member is not None and member.status == "alerts"
    closed = settings.model_copy(update={"archive_access": "members"})
    with running_members_site(closed) as site:
        assert site.client.get("/").status_code == 401
        token = site.form_token("/connexion")
        site.client.post("/connexion", data={"csrf": token, "email": "ines@exemple.fr"})
        path = path_of(link_in(site.wait_for_mail(1)[0], "/connexion/"))
        assert site.client.post(path, data={"csrf": site.form_token(path)}).status_code == 303
        assert site.client.get("/").status_code == 200
