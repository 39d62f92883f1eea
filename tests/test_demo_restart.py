"""`veille demo` run twice in one folder is one demo: the same sample-site URLs, so the same
articles; a desk account to sign in with; a printed command line that reaches its database
with its secret. Runs the real command (CliRunner, then bash for the printed line) against
the real sample site, and the desk on a real uvicorn server."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import httpx
import pytest
from lxml import html as lxml_html
from sqlalchemy import select
from typer.testing import CliRunner

from tests.archive_site import free_socket, serve
from veille.cli import app
from veille.config import get_settings
from veille.db.engine import make_engine, session_factory
from veille.db.tables import ArticleRow
from veille.demo.folder import SITE_PORT_FILE, remembered_port, start_site_in
from veille.errors import ConfigError
from veille.web.app import create_app

runner = CliRunner()
# The demo must choose its own database, secret and base URL, whatever the caller exports.
CLEAN_ENV: dict[str, str | None] = {
    "VEILLE_DATABASE_URL": None,
    "VEILLE_SECRET_KEY": None,
    "VEILLE_BASE_URL": None,
    "VEILLE_CONFIG_FILE": None,
}
PASSWORD = "une phrase de passe pour la démo"
LINK = re.compile(r"https?://\S+/desk/mot-de-passe/\S+")


def demo_once(workdir: Path, port: int = 8000) -> str:
    result = runner.invoke(
        app, ["demo", "--once", "--workdir", str(workdir), "--port", str(port)], env=CLEAN_ENV
    )
    assert result.exit_code == 0, result.output
    return result.output


def articles(workdir: Path) -> dict[int, str]:
    engine = make_engine(f"sqlite:///{workdir / 'veille.db'}")
    try:
        with session_factory(engine)() as session:
            return {r.id: r.url for r in session.scalars(select(ArticleRow))}
    finally:
        engine.dispose()


def test_a_restarted_demo_finds_the_same_articles(tmp_path: Path) -> None:
    workdir = tmp_path / "veille-demo"
    demo_once(workdir)
    first = articles(workdir)
    assert len(first) > 100

    demo_once(workdir)
    assert len(articles(workdir)) == len(first)  # nothing doubled…
    assert articles(workdir) == first  # …the same rows: zero new articles
    port = remembered_port(workdir)
    assert port is not None
    assert all(url.startswith(f"http://127.0.0.1:{port}/") for url in first.values())


def test_a_taken_port_moves_the_site_for_one_run_and_says_so(tmp_path: Path) -> None:
    first = start_site_in(tmp_path)
    assert first.notice is None
    kept = remembered_port(tmp_path)
    with first.site:
        assert first.site.base_url == f"http://127.0.0.1:{kept}"
        moved = start_site_in(tmp_path)  # the port is held by the first site
        with moved.site:
            assert moved.site.base_url != first.site.base_url
            assert moved.notice is not None and f"port {kept}" in moved.notice
            assert "collectés une seconde fois" in moved.notice
            assert httpx.get(moved.site.url("/")).status_code == 200
    assert remembered_port(tmp_path) == kept  # the demo's port is still the first one
    with start_site_in(tmp_path).site as again:
        assert again.base_url == f"http://127.0.0.1:{kept}"


def test_a_damaged_port_file_is_a_clear_error_and_is_kept(tmp_path: Path) -> None:
    (tmp_path / SITE_PORT_FILE).write_text("huit mille\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="n'est pas un numéro de port"):
        start_site_in(tmp_path)
    assert (tmp_path / SITE_PORT_FILE).read_text(encoding="utf-8") == "huit mille\n"
    workdir = tmp_path / "cli"
    workdir.mkdir()
    (workdir / SITE_PORT_FILE).write_text("99999", encoding="utf-8")
    refused = runner.invoke(app, ["demo", "--once", "--workdir", str(workdir)], env=CLEAN_ENV)
    assert refused.exit_code == 1 and "99999" in refused.output
    assert "Traceback" not in refused.output and not (workdir / "veille.db").exists()


def form_of(response: httpx.Response) -> dict[str, str]:
    doc = lxml_html.fromstring(response.content)
    return {i.get("name"): i.get("value") or "" for i in doc.cssselect("form input[name]")}


def set_password(client: httpx.Client, link: str) -> None:
    page = client.get(link)
    assert page.status_code == 200, page.text
    fields = {**form_of(page), "password": PASSWORD, "confirmation": PASSWORD}
    done = client.post(link, data=fields)
    assert done.status_code == 303 and done.headers["location"] == "/desk/connexion?motdepasse"


def log_in(client: httpx.Client, email: str) -> None:
    fields = {**form_of(client.get("/desk/connexion")), "email": email, "password": PASSWORD}
    assert client.post("/desk/connexion", data=fields).status_code == 303
    assert client.get("/desk/tri").status_code == 200


def test_the_printed_sign_in_link_and_command_line_work_against_the_demo(
    tmp_path: Path,
) -> None:
    workdir = tmp_path / "veille-demo"
    sock = free_socket()
    port = sock.getsockname()[1]
    output = demo_once(workdir, port)
    links = LINK.findall(output)
    assert len(links) == 1 and links[0].startswith(f"http://127.0.0.1:{port}/")
    assert "delegue@demo.example" in output
    line = next(x.strip() for x in output.splitlines() if x.strip().endswith("--link"))
    assert (workdir / "secret.txt").read_text().strip() not in output  # read, never shown

    # The demo's web app, as `veille demo` serves it: its folder's database and secret.
    secret = (workdir / "secret.txt").read_text(encoding="utf-8").strip()
    settings = get_settings(
        database_url=f"sqlite:///{(workdir / 'veille.db').resolve()}",
        secret_key=secret,
        base_url=f"http://127.0.0.1:{port}",
        config_file=workdir / "feeds.yaml",
    )
    with serve(create_app(settings), sock) as base, httpx.Client(base_url=base) as client:
        set_password(client, links[0])
        log_in(client, "delegue@demo.example")

        # The printed line, run by a shell from another folder, reaches the same database
        # and signs with the same secret: its link opens the demo's desk too.
        command = line.replace("ADRESSE", shlex.quote("seconde@demo.example"))
        added = subprocess.run(
            ["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
        assert added.returncode == 0, added.stderr
        (second,) = LINK.findall(added.stdout)
        with httpx.Client(base_url=base) as other:
            set_password(other, second)
            log_in(other, "seconde@demo.example")
    assert not (tmp_path / "veille.db").exists()

    again = demo_once(workdir, port)  # a password is set: no new link, the login page
    assert not LINK.findall(again)
    assert f"http://127.0.0.1:{port}/desk/connexion" in again
