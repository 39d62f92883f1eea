"""The transport findings of the security review: client IPs cannot be forged with
`X-Forwarded-For` unless the proxy is trusted (through a real uvicorn server configured as
`veille serve` configures it), every cookie is `__Host-` and `Secure` over HTTPS with HSTS
on every answer, and the default secret is refused beyond loopback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import Request
from typer.testing import CliRunner

from tests.archive_site import free_socket
from tests.members_site import MemberSite, link_in
from tests.smtp_server import SmtpTestServer
from tests.test_auth import EMAIL, PASSWORD, SECRET, Clock, form_of
from veille import server as exposure
from veille.cli import app as cli_app
from veille.config import Settings
from veille.db.engine import make_engine, session_factory, upgrade
from veille.desk import accounts as users
from veille.errors import ConfigError
from veille.web import transport
from veille.web.app import create_app

FORGED = {"X-Forwarded-For": "6.6.6.6"}


@contextmanager
def serve_like_veille(app: object, settings: Settings) -> Iterator[str]:
    """uvicorn with the options `veille serve` gives it (veille.server), in a thread."""
    import threading
    import time

    sock = free_socket()
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        log_level="warning",
        access_log=False,
        **exposure.uvicorn_options(settings),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)  # another thread's startup: no clock to inject
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def app_showing_client_ip(settings: Settings) -> object:
    app = create_app(settings)

    @app.get("/essai-ip")
    def seen(request: Request) -> dict[str, str]:
        return {"ip": transport.client_ip(request)}

    return app


@pytest.mark.parametrize(
    ("trusted", "seen"),
    [("", "127.0.0.1"), ("127.0.0.1", "6.6.6.6"), ("10.0.0.0/8, 127.0.0.0/8", "6.6.6.6")],
)
def test_forwarded_for_is_believed_only_from_trusted_proxies(
    settings: Settings, trusted: str, seen: str
) -> None:
    configured = settings.model_copy(update={"trusted_proxies": trusted})
    upgrade(make_engine(configured.database_url))
    with serve_like_veille(app_showing_client_ip(configured), configured) as base_url:
        answer = httpx.get(base_url + "/essai-ip", headers=FORGED, timeout=10)
    assert answer.json() == {"ip": seen}


def test_a_bad_trusted_proxy_entry_is_a_clear_error(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"Invalid VEILLE_TRUSTED_PROXIES entry 'proxy\.local'"):
        exposure.trusted_proxies(settings.model_copy(update={"trusted_proxies": "proxy.local"}))
    assert exposure.uvicorn_options(settings) == {"proxy_headers": False, "forwarded_allow_ips": []}


def cookie_attributes(response: httpx.Response, prefix: str) -> set[str]:
    (header,) = [c for c in response.headers.get_list("set-cookie") if c.startswith(prefix)]
    return {part.strip().lower() for part in header.split(";")}


def https_client(base_url: str) -> httpx.Client:
    """httpx keeps Secure cookies for https only: echo them by hand over the test's http."""
    client = httpx.Client(base_url=base_url, follow_redirects=False, timeout=10)

    def echo(response: httpx.Response) -> None:
        response.read()
        for name, value in response.cookies.items():
            client.cookies.set(name, value)

    client.event_hooks["response"] = [echo]
    return client


def test_cookies_are_host_prefixed_and_secure_over_https_with_hsts(settings: Settings) -> None:
    secure = settings.model_copy(
        update={"base_url": "https://veille.exemple.fr", "secret_key": SECRET}
    )
    upgrade(make_engine(secure.database_url))
    sessions = session_factory(make_engine(secure.database_url))
    clock = Clock()
    with sessions.begin() as session:
        users.add_user(session, EMAIL, "delegate", PASSWORD, now=clock())
    served = serve_like_veille(create_app(secure, clock=clock), secure)
    with served as base_url, https_client(base_url) as client:
        page = client.get("/desk/connexion")
        form = cookie_attributes(page, "__Host-veille_desk_form=")
        assert {"secure", "path=/", "httponly", "samesite=strict"} <= form
        assert not any(a.startswith("domain") for a in form)
        response = client.post(
            "/desk/connexion", data={**form_of(page), "email": EMAIL, "password": PASSWORD}
        )
        assert response.status_code == 303
        desk = cookie_attributes(response, "__Host-veille_desk=")
        assert {"secure", "path=/", "httponly", "samesite=lax"} <= desk
        assert client.get("/desk").status_code == 200  # the prefixed cookie is read
        public = cookie_attributes(client.get("/abonnement"), "__Host-veille_csrf=")
        assert {"secure", "path=/"} <= public
        answers = [page, response, client.get("/"), client.get("/nulle-part")]
        for answer in answers:
            assert answer.headers["strict-transport-security"] == "max-age=31536000"
        # The unprefixed name means nothing any more: it could be planted by a subdomain.
        planted = httpx.get(base_url + "/desk", cookies={"veille_desk": "x" * 43})
        assert planted.status_code == 303


def test_member_cookie_is_host_prefixed_over_https(settings: Settings) -> None:
    with SmtpTestServer() as smtp:
        secure = settings.model_copy(
            update={
                "base_url": "https://veille.exemple.fr",
                "archive_access": "members",
                "smtp_url": smtp.url,
                "secret_key": SECRET,
            }
        )
        upgrade(make_engine(secure.database_url))
        served = serve_like_veille(create_app(secure), secure)
        with served as base_url, https_client(base_url) as client:
            site = MemberSite(
                base_url,
                secure,
                smtp,
                session_factory(make_engine(secure.database_url)),
                client,
            )

            def csrf_of(path: str) -> str:
                found = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
                assert found
                return found.group(1)

            client.post("/abonnement", data={"csrf": csrf_of("/abonnement"), "email": "a@b.fr"})
            confirm = link_in(site.wait_for_mail(1)[0], "/abonnement/confirmer/")
            path = confirm.removeprefix("https://veille.exemple.fr")
            assert client.post(path, data={"csrf": csrf_of(path)}).status_code == 200
            client.post("/connexion", data={"csrf": csrf_of("/connexion"), "email": "a@b.fr"})
            login = link_in(site.wait_for_mail(2)[1], "/connexion/")
            path = login.removeprefix("https://veille.exemple.fr")
            response = client.post(path, data={"csrf": csrf_of(path)})
            assert response.status_code == 303
            member = cookie_attributes(response, "__Host-veille_member=")
            assert {"secure", "path=/", "httponly"} <= member
            assert client.get("/").status_code == 200
            out = client.post("/deconnexion", data={"csrf": csrf_of("/connexion")})
            assert "__Host-veille_member=" in out.headers["set-cookie"]
            assert client.get("/").status_code == 401


def test_no_hsts_over_plain_http(settings: Settings) -> None:
    upgrade(make_engine(settings.database_url))
    with serve_like_veille(create_app(settings), settings) as base_url:
        answer = httpx.get(base_url + "/", timeout=10)
    assert "strict-transport-security" not in answer.headers
    assert "__Host-" not in answer.headers.get("set-cookie", "")


runner = CliRunner()


@pytest.mark.parametrize("command", ["serve", "run"])
def test_default_secret_is_refused_beyond_loopback(settings: Settings, command: str) -> None:
    env = {"VEILLE_DATABASE_URL": settings.database_url, "VEILLE_SECRET_KEY": "change-me"}
    result = runner.invoke(cli_app, [command, "--host", "0.0.0.0", "--port", "1"], env=env)
    assert result.exit_code == 1
    assert "Refusing to listen on 0.0.0.0 with the default VEILLE_SECRET_KEY" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_loopback_and_real_secrets_are_accepted(settings: Settings) -> None:
    default = settings.model_copy(update={"secret_key": "change-me"})
    for host in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"):
        exposure.check_secret(default, host)
    exposure.check_secret(settings.model_copy(update={"secret_key": SECRET}), "0.0.0.0")
    with pytest.raises(ConfigError):
        exposure.check_secret(default, "192.168.1.10")


def test_demo_makes_its_own_secret_when_the_default_is_in_force(
    settings: Settings, tmp_path: Path
) -> None:
    default = settings.model_copy(update={"secret_key": "change-me"})
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = exposure.demo_secret(default, tmp_path / "a")
    second = exposure.demo_secret(default, tmp_path / "b")
    assert first != second and len(first) >= 32 and "change-me" not in (first, second)
    # kept in the demo's folder: a restart (or a command run beside it) signs alike
    assert exposure.demo_secret(default, tmp_path / "a") == first
    configured = settings.model_copy(update={"secret_key": SECRET})
    assert exposure.demo_secret(configured, tmp_path) == SECRET
