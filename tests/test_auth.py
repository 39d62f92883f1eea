"""Desk accounts and login, against a real uvicorn server: hardened session cookies, new
session ids, one answer for every bad credential, throttling, logout, expiry, CSRF, setup
links and the `suite` redirect."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import Form
from lxml import html as lxml_html
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import serve
from veille.config import Settings
from veille.db.tables import DeskSessionRow, UserRow
from veille.desk import accounts
from veille.errors import UserError
from veille.web import auth
from veille.web.app import create_app

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SECRET = "clé de test assez longue pour signer"
EMAIL = "delegue@exemple.fr"
PASSWORD = "une phrase de passe solide"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Desk:
    base_url: str
    clock: Clock
    sessions: sessionmaker[Session]
    settings: Settings

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, follow_redirects=False, timeout=10)


def add(desk: Desk, email: str, password: str | None, role: str = "delegate") -> UserRow:
    with desk.sessions() as session, session.begin():
        return accounts.add_user(session, email, role, password, now=desk.clock())


def form_of(response: httpx.Response) -> dict[str, str]:
    doc = lxml_html.fromstring(response.content)
    return {i.get("name"): i.get("value") or "" for i in doc.cssselect("form input[name]")}


def login(
    client: httpx.Client, email: str = EMAIL, password: str = PASSWORD, suite: str | None = None
) -> httpx.Response:
    page = client.get("/desk/connexion", params={"suite": suite} if suite else None)
    assert page.status_code == 200
    fields = form_of(page)
    fields.update(email=email, password=password)
    if suite is not None:  # posted as given, so the post's own check is what is tested
        fields["suite"] = suite
    return client.post("/desk/connexion", data=fields)


def error_text(response: httpx.Response) -> str:
    doc = lxml_html.fromstring(response.content)
    return " ".join(p.text_content().strip() for p in doc.cssselect(".error-message"))


def me(client: httpx.Client) -> httpx.Response:
    return client.get("/desk/essai")


@pytest.fixture
def desk_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"secret_key": SECRET})


def make_desk_app(settings: Settings, clock: Clock) -> Any:
    app = create_app(settings, clock=clock)
    auth.install(app)

    @app.get("/desk/essai")
    def protected(user: auth.DeskUserDep) -> dict[str, str]:
        return {"email": user.email, "role": user.role, "csrf": user.csrf}

    @app.post("/desk/essai")
    def protected_form(
        user: auth.CsrfDeskUserDep, note: Annotated[str, Form()] = ""
    ) -> dict[str, str]:
        return {"email": user.email, "note": note}

    return app


@pytest.fixture
def desk(desk_settings: Settings, sessions: sessionmaker[Session]) -> Iterator[Desk]:
    clock = Clock()
    with serve(make_desk_app(desk_settings, clock)) as base_url:
        desk = Desk(base_url, clock, sessions, desk_settings)
        add(desk, EMAIL, PASSWORD)
        yield desk


def session_rows(desk: Desk) -> list[DeskSessionRow]:
    with desk.sessions() as session:
        return list(session.scalars(select(DeskSessionRow)))


def test_login_sets_a_hardened_cookie_and_opens_the_desk(desk: Desk) -> None:
    with desk.client() as client:
        # Not logged in: an HTML GET goes to the login page, remembering where it was going;
        # anything else is a plain 401.
        response = me(client)
        assert response.status_code == 303
        assert response.headers["location"] == "/desk/connexion?suite=%2Fdesk%2Fessai"
        refused = client.post("/desk/essai", data={"csrf": "x"})
        assert refused.status_code == 401
        assert "reconnectez-vous" in refused.text

        page = client.get(response.headers["location"])
        doc = lxml_html.fromstring(page.content)
        assert doc.cssselect('label[for="email"]')[0].text_content() == "Adresse e-mail"
        assert doc.cssselect('label[for="password"]')[0].text_content() == "Mot de passe"
        assert doc.cssselect('input#password[type="password"]')
        assert form_of(page)["suite"] == "/desk/essai"
        assert page.headers["cache-control"] == "no-store"

        response = login(client, suite="/desk/essai")
        assert response.status_code == 303
        assert response.headers["location"] == "/desk/essai"
        cookie = next(
            c for c in response.headers.get_list("set-cookie") if c.startswith("veille_desk=")
        )
        attributes = {part.strip().lower() for part in cookie.split(";")}
        assert {"httponly", "samesite=lax", "path=/"} <= attributes
        assert "secure" not in attributes  # http base_url
        value = client.cookies["veille_desk"]

        assert me(client).json()["email"] == EMAIL
    # Only the digest of the cookie is stored.
    (row,) = session_rows(desk)
    assert row.id == hashlib.sha256(value.encode()).hexdigest() != value
    with desk.sessions() as session:
        user = session.scalar(select(UserRow))
        assert user is not None and user.last_login_at == START


def test_cookie_is_secure_behind_https(
    desk_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    settings = desk_settings.model_copy(update={"base_url": "https://veille.exemple.fr"})
    clock = Clock()
    with serve(make_desk_app(settings, clock)) as base_url:
        desk = Desk(base_url, clock, sessions, settings)
        add(desk, EMAIL, PASSWORD)
        with desk.client() as client:
            page = client.get("/desk/connexion")
            fields = form_of(page)
            # httpx does not send Secure cookies over http: echo the form cookie by hand.
            form_cookie = page.cookies["__Host-veille_desk_form"]
            fields.update(email=EMAIL, password=PASSWORD)
            client.cookies.set("__Host-veille_desk_form", form_cookie)
            response = client.post("/desk/connexion", data=fields)
    assert response.status_code == 303
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("__Host-veille_desk=")
    )
    assert "secure" in {part.strip().lower() for part in cookie.split(";")}


def test_each_login_gets_a_new_session_id(desk: Desk) -> None:
    with desk.client() as first, desk.client() as second:
        fields = {**form_of(first.get("/desk/connexion")), "email": EMAIL, "password": PASSWORD}
        assert first.post("/desk/connexion", data=fields).status_code == 303
        old = first.cookies["veille_desk"]
        # Logging in again over a live session (or a cookie planted by someone else).
        assert first.post("/desk/connexion", data=fields).status_code == 303
        new = first.cookies["veille_desk"]
        assert new != old
        # The session the browser came with is gone, not left lying around.
        with desk.client() as stale:
            stale.cookies.set("veille_desk", old)
            assert me(stale).status_code == 303
        login(second)
        assert second.cookies["veille_desk"] not in {old, new}
        assert me(first).status_code == 200 and me(second).status_code == 200
    assert len(session_rows(desk)) == 2


def test_wrong_password_and_unknown_email_get_the_same_answer(desk: Desk) -> None:
    add(desk, "sans-mot-de-passe@exemple.fr", None)
    with desk.client() as client:
        answers = [
            login(client, EMAIL, "pas le bon mot de passe"),
            login(client, "inconnu@exemple.fr", PASSWORD),
            login(client, "sans-mot-de-passe@exemple.fr", ""),
            login(client, "pas une adresse", PASSWORD),
        ]
        assert {r.status_code for r in answers} == {401}
        assert {error_text(r) for r in answers} == {auth.BAD_CREDENTIALS}
        assert "veille_desk" not in client.cookies
        # The address typed is given back, the password never.
        fields = form_of(answers[0])
        assert fields["email"] == EMAIL and fields["password"] == ""
        assert PASSWORD not in answers[1].text
    assert session_rows(desk) == []


def test_login_is_throttled_after_five_failures(desk: Desk) -> None:
    add(desk, "autre@exemple.fr", PASSWORD)
    with desk.client() as client:
        for _ in range(5):
            assert login(client, EMAIL, "mauvais mot de passe").status_code == 401
        blocked = login(client, EMAIL, PASSWORD)  # even the right password waits
        assert blocked.status_code == 429
        assert "Trop de tentatives de connexion : réessayez dans 15 minutes." in error_text(blocked)
        assert 1 <= int(blocked.headers["retry-after"]) <= 15 * 60
        # Another address from here is not held back by these five (test_login_throttle).
        with desk.client() as other:
            assert login(other, "autre@exemple.fr", PASSWORD).status_code == 303
        desk.clock.advance(minutes=15, seconds=1)
        assert login(client, EMAIL, PASSWORD).status_code == 303
        assert me(client).status_code == 200


def test_logout_revokes_the_session(desk: Desk) -> None:
    with desk.client() as client:
        login(client)
        cookie = client.cookies["veille_desk"]
        csrf = me(client).json()["csrf"]
        assert client.post("/desk/deconnexion", data={"csrf": "faux"}).status_code == 403
        assert me(client).status_code == 200
        response = client.post("/desk/deconnexion", data={"csrf": csrf})
        assert response.status_code == 303
        assert response.headers["location"] == "/desk/connexion?deconnexion"
        assert "veille_desk" not in client.cookies
        assert "Vous êtes déconnecté." in client.get(response.headers["location"]).text
    assert session_rows(desk) == []
    with desk.client() as thief:  # the old cookie, replayed
        thief.cookies.set("veille_desk", cookie)
        assert me(thief).status_code == 303


def test_sessions_expire_after_twelve_idle_hours(desk: Desk) -> None:
    with desk.client() as client:
        login(client)
        desk.clock.advance(seconds=30)
        assert me(client).status_code == 200
        (row,) = session_rows(desk)
        assert row.last_seen_at == START  # touched at most once a minute
        desk.clock.advance(hours=11, minutes=59)
        assert me(client).status_code == 200  # activity slides the expiry
        (row,) = session_rows(desk)
        assert row.expires_at == desk.clock() + timedelta(hours=12)
        desk.clock.advance(hours=12, seconds=1)
        response = me(client)
        assert response.status_code == 303
        assert "veille_desk" not in client.cookies  # the dead cookie is cleared


def test_desk_forms_need_the_session_csrf_token(desk: Desk) -> None:
    with desk.client() as client:
        login(client)
        csrf = me(client).json()["csrf"]
        assert len(csrf) >= 32
        for data in ({"note": "sans jeton"}, {"note": "faux", "csrf": csrf[:-1] + "x"}):
            response = client.post("/desk/essai", data=data)
            assert response.status_code == 403
            assert "ne vient pas de ce site" in error_text(response)
        ok = client.post("/desk/essai", data={"note": "bonjour", "csrf": csrf})
        assert ok.status_code == 200 and ok.json()["note"] == "bonjour"
        # The login form is protected too (double submit): a forged post is refused.
    with desk.client() as attacker:
        forged = attacker.post(
            "/desk/connexion", data={"email": EMAIL, "password": PASSWORD, "csrf": "x" * 43}
        )
        assert forged.status_code == 403 and "veille_desk" not in attacker.cookies


def test_setup_link_sets_a_password_once(desk: Desk) -> None:
    user = add(desk, "nouvelle@exemple.fr", None, role="admin")
    link = accounts.setup_link(desk.settings, user, desk.clock())
    path = link.removeprefix(desk.settings.base_url)
    assert path.startswith("/desk/mot-de-passe/")
    with desk.client() as client:
        page = client.get(path)
        assert page.status_code == 200
        doc = lxml_html.fromstring(page.content)
        assert doc.cssselect('label[for="password"]')[0].text_content() == "Nouveau mot de passe"
        assert doc.cssselect('label[for="confirmation"]')
        fields = form_of(page)

        mismatch = client.post(path, data={**fields, "password": PASSWORD, "confirmation": "x"})
        assert mismatch.status_code == 400
        assert "pas identiques" in error_text(mismatch)
        short = client.post(path, data={**fields, "password": "court", "confirmation": "court"})
        assert short.status_code == 400
        assert "au moins 12 caractères" in error_text(short)
        no_csrf = {"password": PASSWORD, "confirmation": PASSWORD}
        assert client.post(path, data=no_csrf).status_code == 403

        done = client.post(path, data={**fields, **no_csrf})
        assert done.status_code == 303
        assert done.headers["location"] == "/desk/connexion?motdepasse"
        with desk.sessions() as session:
            stored = session.get(UserRow, user.id)
            assert stored is not None and stored.password_hash is not None
            assert stored.password_hash.startswith("$argon2id$")

        # Used: the link is dead, for reading and for posting.
        again = client.get(path)
        assert again.status_code == 400 and "déjà servi" in error_text(again)
        replay = client.post(path, data={**fields, "password": "x" * 20, "confirmation": "x" * 20})
        assert replay.status_code == 400
        assert login(client, "nouvelle@exemple.fr", PASSWORD).status_code == 303
        assert me(client).json()["role"] == "admin"

        # A fresh link (an admin's reset) ends the sessions once the new password is set.
        with desk.sessions() as session:
            fresh = session.get(UserRow, user.id)
            assert fresh is not None
            reset = accounts.setup_link(desk.settings, fresh, desk.clock())
        reset_path = reset.removeprefix(desk.settings.base_url)
        fields = form_of(client.get(reset_path))
        new_password = "un autre mot de passe encore"
        client.post(
            reset_path, data={**fields, "password": new_password, "confirmation": new_password}
        )
        assert me(client).status_code == 303
        assert login(client, "nouvelle@exemple.fr", new_password).status_code == 303


def test_setup_links_expire_and_cannot_be_forged(desk: Desk) -> None:
    user = add(desk, "tardive@exemple.fr", None)
    token = accounts.setup_token(desk.settings, user, desk.clock())
    with desk.client() as client:
        assert client.get(f"/desk/mot-de-passe/{token}").status_code == 200
        tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        assert client.get(f"/desk/mot-de-passe/{tampered}").status_code == 400
        other_key = desk.settings.model_copy(update={"secret_key": "une autre clé assez longue"})
        forged = accounts.setup_token(other_key, user, desk.clock())
        assert client.get(f"/desk/mot-de-passe/{forged}").status_code == 400
        desk.clock.advance(hours=48, seconds=1)
        assert client.get(f"/desk/mot-de-passe/{token}").status_code == 400
    # The shipped default key would let anyone forge a link: refused outright.
    with pytest.raises(UserError, match="VEILLE_SECRET_KEY"):
        accounts.setup_token(
            desk.settings.model_copy(update={"secret_key": "change-me"}), user, START
        )


def test_suite_never_leaves_the_desk(desk: Desk) -> None:
    hostile = [
        "https://pirate.example/desk",
        "//pirate.example/desk",
        "/\\pirate.example",
        "\\\\pirate.example/desk",
        "/desk/../admin",
        "/desk/%2e%2e/admin",
        "/archive",
        "/desks",
        "javascript:alert(1)",
        "/desk\r\nLocation: https://pirate.example",
    ]
    with desk.client() as client:
        for target in hostile:
            page = client.get("/desk/connexion", params={"suite": target})
            assert form_of(page)["suite"] == "/desk", target
            response = login(client, suite=target)
            assert response.headers["location"] == "/desk", target
            client.cookies.delete("veille_desk")
        kept = login(client, suite="/desk/membres?page=2&q=lyon")
        assert kept.headers["location"] == "/desk/membres?page=2&q=lyon"
        # Already logged in: the login page forwards, with the same rule.
        forwarded = client.get("/desk/connexion", params={"suite": "https://pirate.example"})
        assert forwarded.status_code == 303 and forwarded.headers["location"] == "/desk"


def test_add_user_checks_its_input(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        user = accounts.add_user(session, "  Delegue@Exemple.FR ", "delegate", PASSWORD, now=START)
        assert (user.email, user.email_key) == ("Delegue@exemple.fr", "delegue@exemple.fr")
        assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")
        assert user.active and user.role == "delegate"
    cases = [
        ("DELEGUE@exemple.fr", "delegate", None, "existe déjà"),
        ("president@exemple.fr", "superuser", None, "Rôle inconnu"),
        ("pas-une-adresse", "delegate", None, "Adresse e-mail invalide"),
        ("court@exemple.fr", "admin", "trop court", "au moins 12 caractères"),
    ]
    for email, role, password, message in cases:
        with sessions() as session, session.begin(), pytest.raises(UserError, match=message):
            accounts.add_user(session, email, role, password, now=START)
    with sessions() as session:
        assert session.scalar(select(UserRow.email_key).where(UserRow.id != user.id)) is None


def test_verify_password_upgrades_weak_hashes(sessions: sessionmaker[Session]) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192).hash(PASSWORD)
    with sessions() as session, session.begin():
        user = accounts.add_user(session, EMAIL, "delegate", None, now=START)
        user.password_hash = weak
    with sessions() as session, session.begin():
        user = session.scalars(select(UserRow)).one()
        assert not accounts.verify_password(session, user, "mauvais mot de passe")
        assert accounts.verify_password(session, user, PASSWORD)
    with sessions() as session:
        stored = session.scalars(select(UserRow)).one().password_hash
        assert stored is not None and stored != weak
        assert not PasswordHasher().check_needs_rehash(stored)


def test_safe_next_keeps_only_desk_paths() -> None:
    assert auth.safe_next(None) == "/desk"
    assert auth.safe_next("/desk") == "/desk"
    assert auth.safe_next("/desk/membres#liste") == "/desk/membres#liste"
    for bad in ("", "desk", "http:/desk", "/desk/./x", "/%64esk", "/desk\x00", "x" * 2100):
        assert auth.safe_next(bad) == "/desk", bad
