"""A source's collection error in French where the delegate reads it: each kind of failure
made for real (the hostile HTTP server, a closed port, TLS spoken to a plain HTTP server, a
name that does not resolve, robots.txt), collected by one real cycle, then read back from
the database as `/sources`, the desk and `veille sources list` show it."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from lxml import html as lxml_html
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.archive_site import serve
from tests.hostile_server import HostileServer, static
from veille.cli import app as cli_app
from veille.collect.error_text import describe, kind_of
from veille.collect.pipeline import CollectContext, refresh_due
from veille.config import Settings
from veille.db.tables import SourceRow
from veille.sources import load_feeds_config


@pytest.fixture
def server() -> Iterator[HostileServer]:
    with HostileServer(trickle_interval=0.5) as srv:
        srv.robots_txt = "User-agent: *\nDisallow: /interdit/\n"
        srv.route(
            "/page.html",
            static(
                b"<!doctype html><title>Accueil</title><p>Bonjour</p>", content_type="text/html"
            ),
        )
        srv.route(
            "/interdit/", static(b"<ul><li><a href='/a'>A</a></li></ul>", content_type="text/html")
        )
        yield srv


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# key: (kind read back, words of the French sentence)
EXPECTED = {
    "lent": ("timeout", "n'a pas répondu à temps"),
    "enorme": ("too_large", "trop volumineuse"),
    "boucle": ("redirects", "boucle de redirections"),
    "e404": ("http", "n'existe plus sur le site (erreur 404)"),
    "e500": ("http", "en panne (erreur 500)"),
    "e429": ("http", "demande de ralentir (erreur 429)"),
    "e403": ("http", "refuse l'accès à la veille (erreur 403)"),
    "page": ("html", "est une page web, pas un flux"),
    "texte": ("parse", "n'est pas un flux RSS, Atom ou JSON"),
    "ferme": ("refused", "refuse la connexion"),
    "tls": ("tls", "connexion sécurisée (HTTPS) a échoué"),
    "dns": ("dns", "introuvable (DNS)"),
    "robots": ("robots", "robots.txt"),
}


def test_each_error_kind_reads_as_french(
    server: HostileServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    port = server.port
    urls = {
        "lent": server.url("/never-answers"),
        "enorme": server.url("/huge"),
        "boucle": server.url("/redirect-loop"),
        "e404": server.url("/404"),
        "e500": server.url("/500"),
        "e429": server.url("/429"),
        "e403": server.url("/status/403"),
        "page": server.url("/page.html"),
        "texte": server.url("/status/200"),
        "ferme": f"http://127.0.0.1:{closed_port()}/flux.xml",
        "tls": f"https://127.0.0.1:{port}/ok.xml",
        "dns": "http://flux-qui-n-existe-pas.invalid/rss.xml",
        "robots": server.url("/interdit/"),
    }
    lines = "".join(
        f'  - {{key: {key}, name: {key}, url: "{url}"'
        + (", kind: page" if key == "robots" else "")
        + "}\n"
        for key, url in urls.items()
    )
    settings.config_file.write_text(
        f"themes:\n  - id: open_data\n    label: Open data\nsources:\n{lines}", encoding="utf-8"
    )
    settings = settings.model_copy(update={"fetch_timeout": 1.0, "max_body_bytes": 1_000_000})
    ctx = CollectContext(
        settings=settings, sessions=sessions, config=load_feeds_config(settings.config_file)
    )
    refresh_due(ctx)

    with sessions() as session:
        rows = {r.key: r for r in session.scalars(select(SourceRow))}
    for key, (kind, words) in EXPECTED.items():
        row = rows[key]
        assert row.last_error, key
        found = describe(row.last_error, row.last_http_status)
        assert found is not None
        assert (found.kind, key) == (kind, key), row.last_error
        assert words in found.sentence, (key, found.sentence)
        assert found.detail == row.last_error  # the technical message stays available

    # /sources: the sentence, and the collector's message as the « détail » line.
    from veille.web.app import create_app

    with serve(create_app(settings)) as base_url:
        import httpx

        page = lxml_html.fromstring(httpx.get(base_url + "/sources", timeout=10).content)
    cards = {
        card.cssselect("h2")[0].text_content().strip(): card
        for card in page.cssselect(".source-card")
    }
    e404 = cards["e404"].cssselect(".source-error")[0].text_content()
    assert "L'adresse n'existe plus sur le site (erreur 404)" in e404
    assert "Détail : The server 127.0.0.1 answered HTTP 404" in e404

    # `veille sources list`: French in the table, both forms in --json.
    env = {"VEILLE_DATABASE_URL": settings.database_url}
    runner = CliRunner()
    listed = runner.invoke(
        cli_app, ["sources", "list", "--json", "--config", str(settings.config_file)], env=env
    )
    assert listed.exit_code == 0, listed.output
    health = {row["key"]: row for row in json.loads(listed.stdout)}
    assert health["dns"]["error_fr"].startswith("Le nom du site est introuvable")
    assert health["dns"]["last_error"].startswith("Could not resolve the host name")
    table = runner.invoke(
        cli_app,
        ["sources", "list", "--config", str(settings.config_file)],
        env={**env, "COLUMNS": "400"},
    )
    assert table.exit_code == 0, table.output
    assert "Le site refuse la connexion" in table.stdout


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("internal error: ValueError('x')", "internal"),
        ("Refused to fetch from 10.0.0.1: 10.0.0.1 is a private address, and only…", "blocked"),
        ("The response from a.example is corrupt: bad gzip.", "decode"),
        ("The document is empty.", "empty"),
        ("Something nobody wrote yet", "other"),
    ],
)
def test_kinds_without_a_server_of_their_own(message: str, kind: str) -> None:
    assert kind_of(message) == kind
    found = describe(message)
    assert found is not None and found.sentence and found.detail == message
    assert describe(None) is None and describe("") is None
