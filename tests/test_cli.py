"""The command line contract: names, flags, exit codes, one-sentence errors."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.hostile_server import HostileServer, static
from tests.site_builder import feeds_yaml, mount_site
from veille.cli import app
from veille.config import Settings

runner = CliRunner()


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    return {
        "VEILLE_DATABASE_URL": settings.database_url,
        "VEILLE_ALLOW_PRIVATE_NETWORKS": "1",
        "VEILLE_PER_HOST_DELAY": "0",
        "VEILLE_EXTRACT_WORKERS": "1",
        "VEILLE_FETCH_TIMEOUT": "5",
    }


@pytest.fixture
def site() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        mount_site(srv)
        srv.route("/feeds/broken.xml", static(b"oops", status=500))
        yield srv


def test_collect_summary_list_and_export(
    site: HostileServer, env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        feeds_yaml(
            site.base_url,
            f"  - key: casse\n    name: Cassé\n    url: {site.base_url}/feeds/broken.xml\n",
        ),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["collect", "--config", str(config), "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["sources_ok"] == 3 and data["sources_failed"] == 1
    assert data["new_articles"] == 6
    assert "answered HTTP 500" in data["failures"]["casse"]  # programs get the raw message

    table = runner.invoke(app, ["collect", "--config", str(config), "--all"], env=env)
    assert table.exit_code == 0
    assert "Collecte" in table.stdout and "Sources en échec" in table.stdout
    assert re.search(r"nouveaux articles\s*│\s*0 │", table.stdout), table.stdout
    assert "casse" in table.stdout
    # The delegate reads the failure in French, the same sentence as on the desk.
    assert "Le site est en panne (erreur 500) : la collecte réessaiera." in table.stdout
    for english in ("Collection", "modified", "merged", "Failed", "answered", "Server Error"):
        assert english not in table.stdout

    listed = runner.invoke(app, ["sources", "list", "--json", "--config", str(config)], env=env)
    assert listed.exit_code == 0, listed.output
    health = {row["key"]: row for row in json.loads(listed.stdout)}
    assert health["casse"]["consecutive_failures"] == 2
    assert health["casse"]["last_error"]
    assert health["flux-a"]["last_status"] in ("ok", "not_modified")
    assert health["flux-a"]["articles"] == 4
    assert health["flux-a"]["next_fetch_at"]

    jsonl = runner.invoke(app, ["export", "--format", "jsonl"], env=env)
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert len(rows) == 6
    for row in rows:
        assert {"url", "title", "source", "published_at", "themes", "score", "text"} <= set(row)
        assert row["published_at"][:4] == "2026"
    as_csv = runner.invoke(app, ["export", "--format", "csv", "--since", "2000-01-01"], env=env)
    assert len(list(csv.DictReader(io.StringIO(as_csv.stdout)))) == 6
    future = runner.invoke(app, ["export", "--since", "2999-01-01"], env=env)
    assert future.stdout == ""

    # The site writes about open data: stored articles carry that theme and a score.
    assert all("open_data" in row["themes"] for row in rows), rows
    assert all(0 < row["score"] <= 100 for row in rows)
    only = runner.invoke(app, ["export", "--theme", "open_data"], env=env)
    assert len(only.stdout.splitlines()) == 6
    none = runner.invoke(app, ["export", "--theme", "ia"], env=env)
    assert none.stdout == ""

    explained = runner.invoke(
        app, ["classify", "explain", rows[0]["url"], "--json", "--config", str(config)], env=env
    )
    assert explained.exit_code == 0, explained.output
    why = json.loads(explained.stdout)
    assert "open_data" in why["themes"] and why["terms"]["open_data"]
    assert set(why["components"]) >= {"confidence", "source", "coverage", "substance"}
    missing = runner.invoke(app, ["classify", "explain", "999999"], env=env)
    assert missing.exit_code == 1 and "Aucun article enregistré" in missing.output

    again = runner.invoke(app, ["classify", "reclassify", "--config", str(config)], env=env)
    assert again.exit_code == 0 and "6 article(s) reclassé(s) : 6 dans le sujet" in again.stdout


def test_errors_are_one_sentence_and_non_zero(env: dict[str, str], tmp_path: Path) -> None:
    missing = runner.invoke(app, ["collect", "--config", str(tmp_path / "nope.yaml")], env=env)
    assert missing.exit_code == 1
    assert "file not found" in missing.output and "Traceback" not in missing.output

    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - key: x\n    name: X\n    url: notaurl\n", encoding="utf-8")
    result = runner.invoke(app, ["collect", "--config", str(bad)], env=env)
    assert result.exit_code == 1 and "line 4" in result.output

    wrong_db = runner.invoke(
        app, ["db", "upgrade"], env={**env, "VEILLE_DATABASE_URL": "nosuch://x"}
    )
    assert wrong_db.exit_code == 1 and "Invalid database URL" in wrong_db.output

    unknown = runner.invoke(app, ["collect", "--config", str(bad), "--source", "zzz"], env=env)
    assert unknown.exit_code == 1


def test_sources_add_discovers_the_feed(
    site: HostileServer, env: dict[str, str], tmp_path: Path
) -> None:
    base = site.base_url
    site.route(
        "/",
        static(
            '<html><head><link rel="alternate" type="application/rss+xml" '
            f'href="{base}/feeds/a.xml">'
            "</head><body>Accueil</body></html>".encode(),
            content_type="text/html; charset=utf-8",
        ),
    )
    config = tmp_path / "feeds.yaml"
    config.write_text("# mes sources\nthemes: []\nsources:\n", encoding="utf-8")
    result = runner.invoke(app, ["sources", "add", base + "/", "--config", str(config)], env=env)
    assert result.exit_code == 0, result.output
    text = config.read_text(encoding="utf-8")
    assert "# mes sources" in text and f"{base}/feeds/a.xml" in text

    again = runner.invoke(app, ["sources", "add", base + "/", "--config", str(config)], env=env)
    assert again.exit_code == 1 and "Cette adresse est déjà suivie" in again.output
    assert config.read_text(encoding="utf-8").count("/feeds/a.xml") == 1


def test_opml_round_trip(env: dict[str, str], tmp_path: Path) -> None:
    opml = tmp_path / "abonnements.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>Mes flux</title></head><body>'
        '<outline text="Open data"><outline text="Portail" type="rss" xmlUrl="https://portail.example/feed.xml"/>'
        '<outline text="Blog" type="rss" xmlUrl="https://blog.example/rss"/></outline>'
        "</body></opml>",
        encoding="utf-8",
    )
    config = tmp_path / "feeds.yaml"
    result = runner.invoke(
        app, ["sources", "import-opml", str(opml), "--config", str(config)], env=env
    )
    assert result.exit_code == 0, result.output
    assert "2 source(s) importée(s)" in result.stdout
    again = runner.invoke(
        app, ["sources", "import-opml", str(opml), "--config", str(config)], env=env
    )
    assert "0 source(s) importée(s)" in again.stdout and "2 déjà présente(s)" in again.stdout
    exported = runner.invoke(app, ["sources", "export-opml", "--config", str(config)], env=env)
    assert exported.exit_code == 0
    assert "https://portail.example/feed.xml" in exported.stdout
    assert "https://blog.example/rss" in exported.stdout

    junk = tmp_path / "junk.opml"
    junk.write_text("ceci n'est pas un fichier OPML", encoding="utf-8")
    bad = runner.invoke(
        app, ["sources", "import-opml", str(junk), "--config", str(config)], env=env
    )
    assert bad.exit_code == 1 and "OPML" in bad.output
