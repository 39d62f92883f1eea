"""Sources from the desk: add (discovery + preview against a real local site), edit in
place, pause and resume — and feeds.yaml, the file of record, keeps the delegate's comments
and order, says what `veille sources list` then shows, and refuses what the CLI refuses
with the same sentence. Two writers at once take turns; a stuck writer gives a French 409."""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.hostile_server import HostileServer, static
from tests.test_desk_members import Desk, doc, open_desk
from veille import feedsfile
from veille.cli import app
from veille.config import Settings
from veille.errors import ConflictError

runner = CliRunner()

ORIGINAL = """\
# Mes sources — notes de la déléguée
themes:
  - id: open_data
    label: Open data
sources:
  # Les portails nationaux d'abord
  - key: portail
    name: Le portail
    url: https://portail.example/feed.xml
    weight: 2.0  # la référence
  # Puis les blogs
  - key: blog
    name: Un blog
    url: https://blog.example/rss
    interval: 120
"""


def rss(base: str, n: int = 3) -> bytes:
    items = "".join(
        f"<item><title>Article numéro {i} sur les données ouvertes</title>"
        f"<link>{base}/articles/{i}.html</link><guid>{base}/articles/{i}</guid>"
        "<pubDate>Mon, 23 Nov 2026 08:00:00 +0000</pubDate></item>"
        for i in range(1, n + 1)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Le fil de la mairie</title><link>{base}/</link>{items}</channel></rss>"
    ).encode()


@pytest.fixture
def desk(settings: Settings) -> Iterator[Desk]:
    with open_desk(settings) as opened:
        yield opened


@pytest.fixture
def site() -> HostileServer:
    server = HostileServer()
    server.__enter__()
    base = server.base_url
    server.route(
        "/",
        static(
            '<html><head><title>Mairie</title><link rel="alternate" '
            f'type="application/rss+xml" href="{base}/actus/rss.xml"></head>'
            "<body>Accueil</body></html>".encode(),
            content_type="text/html; charset=utf-8",
        ),
    )
    server.route("/actus/rss.xml", static(rss(base), content_type="application/rss+xml"))
    yield server  # type: ignore[misc]
    server.__exit__(None, None, None)


def cli_env(settings: Settings) -> dict[str, str]:
    return {
        "VEILLE_DATABASE_URL": settings.database_url,
        "VEILLE_CONFIG_FILE": str(settings.config_file),
        "VEILLE_ALLOW_PRIVATE_NETWORKS": "true",
    }


def listed(settings: Settings) -> dict[str, dict[str, object]]:
    result = runner.invoke(app, ["sources", "list", "--json"], env=cli_env(settings))
    assert result.exit_code == 0, result.output
    return {s["key"]: s for s in json.loads(result.stdout)}


def test_add_edit_pause_from_the_desk_keep_the_file_the_delegates(
    desk: Desk, site: HostileServer, settings: Settings
) -> None:
    config = settings.config_file
    config.write_text(ORIGINAL, encoding="utf-8")
    page = desk.client.get("/desk/sources")
    assert page.status_code == 200
    cards = doc(page).cssselect(".source-card")
    assert [c.get("id") for c in cards] == ["source-portail", "source-blog"]  # file order
    assert "pas encore relevée" in cards[0].text_content()

    # Step 1: any URL of the site → its feed found, first articles shown, nothing saved.
    preview = desk.post("/desk/sources/apercu", "/desk/sources/ajouter", url=site.url("/"))
    assert preview.status_code == 200, preview.text
    shown = [a.text_content() for a in doc(preview).cssselect(".preview-list a")]
    assert shown == [f"Article numéro {i} sur les données ouvertes" for i in (1, 2, 3)]
    assert doc(preview).xpath('//input[@name="url"][@type="hidden"]/@value') == [
        site.url("/actus/rss.xml")
    ]
    assert config.read_text(encoding="utf-8") == ORIGINAL

    # Step 2: saved with the delegate's name and a French weight.
    added = desk.post(
        "/desk/sources/ajouter",
        "/desk/sources/ajouter",
        url=site.url("/actus/rss.xml"),
        kind="feed",
        name="Mairie de Test",
        weight="1,5",
        interval="30",
    )
    assert added.status_code == 303, added.text
    text = config.read_text(encoding="utf-8")
    assert text.startswith(ORIGINAL)  # every comment and line of the delegate kept, in order
    assert text[len(ORIGINAL) :] == (
        "  - key: 127-0-0-1\n"
        "    name: Mairie de Test\n"
        f"    url: {site.url('/actus/rss.xml')}\n"
        "    kind: feed\n"
        "    weight: 1.5\n"
        "    interval: 30\n"
    )
    after = desk.client.get(added.headers["location"])
    assert "Source ajoutée" in after.text
    assert "Mairie de Test" in doc(after).cssselect("#source-127-0-0-1")[0].text_content()

    # Edit in place, then pause: only the changed lines move.
    edited = desk.post(
        "/desk/sources/portail/modifier", "/desk/sources", name="Portail national",
        weight="2,5", interval="30",
    )  # fmt: skip
    assert edited.status_code == 303
    paused = desk.post("/desk/sources/blog/pause", "/desk/sources")
    assert paused.status_code == 303
    text = config.read_text(encoding="utf-8")
    expected = (
        ORIGINAL.replace("name: Le portail", "name: Portail national")
        .replace("weight: 2.0  # la référence", "weight: 2.5  # la référence\n    interval: 30")
        .replace("    interval: 120\n", "    interval: 120\n    enabled: false\n")
    )
    assert text.startswith(expected)  # the new lines sit above « # Puis les blogs »
    rows = listed(settings)
    assert rows["portail"]["name"] == "Portail national" and rows["portail"]["weight"] == 2.5
    assert rows["blog"]["enabled"] is False
    assert rows["127-0-0-1"]["interval"] == 30
    card = doc(desk.client.get("/desk/sources")).cssselect("#source-blog")[0]
    assert "la déléguée l’a arrêtée" in card.text_content()

    resumed = desk.post("/desk/sources/blog/reprendre", "/desk/sources", suite="sources")
    assert resumed.status_code == 303 and resumed.headers["location"].startswith("/desk/sources")
    assert listed(settings)["blog"]["enabled"] is True
    assert "Puis les blogs" in config.read_text(encoding="utf-8")


def test_bad_input_gets_the_clis_sentence_and_changes_nothing(
    desk: Desk, site: HostileServer, settings: Settings
) -> None:
    config = settings.config_file
    config.write_text(ORIGINAL, encoding="utf-8")
    env = cli_env(settings)

    bad = desk.post("/desk/sources/apercu", "/desk/sources/ajouter", url="ftp://serveur/flux")
    cli_bad = runner.invoke(app, ["sources", "add", "ftp://serveur/flux"], env=env)
    sentence = "Adresse invalide « ftp://serveur/flux » : elle doit commencer par http://"
    assert bad.status_code == 400 and sentence in doc(bad).cssselect(".alert")[0].text_content()
    # The console wraps at any space, no-break ones included: the CLI's words, compared
    # with every space as one (its typography is test_typography's static check).
    cli_words = " ".join(cli_bad.output.split())
    assert cli_bad.exit_code == 1 and " ".join(sentence.split()) in cli_words

    duplicate = desk.post(
        "/desk/sources/ajouter", "/desk/sources/ajouter",
        url="https://blog.example/rss", kind="feed", name="Encore",
    )  # fmt: skip
    message = "Cette adresse est déjà suivie : source « Un blog » (blog)."
    assert duplicate.status_code == 400 and message in duplicate.text
    site.route("/blog", static(rss(site.base_url), content_type="application/rss+xml"))
    first = runner.invoke(app, ["sources", "add", site.url("/blog")], env=env)
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["sources", "add", site.url("/blog")], env=env)
    assert again.exit_code == 1 and "Cette adresse est déjà suivie" in again.output

    before = config.read_text(encoding="utf-8")
    too_heavy = desk.post(
        "/desk/sources/portail/modifier", "/desk/sources", name="Le portail", weight="9",
        interval="60",
    )  # fmt: skip
    assert too_heavy.status_code == 400
    alert = doc(too_heavy).cssselect("#source-portail .alert")[0].text_content()
    assert alert.startswith("Poids invalide « 9 » : un nombre de 0 à 5")
    assert doc(too_heavy).xpath('//input[@id="weight-portail"]/@value') == ["9"]  # kept
    no_name = desk.post(
        "/desk/sources/portail/modifier", "/desk/sources", name="  ", weight="1", interval="60"
    )
    assert no_name.status_code == 400 and "ne peut pas être vide" in no_name.text
    assert config.read_text(encoding="utf-8") == before


def test_private_networks_are_refused_unless_allowed(
    desk: Desk, site: HostileServer, settings: Settings
) -> None:
    settings.config_file.write_text(ORIGINAL, encoding="utf-8")
    desk.site.settings.__dict__["allow_private_networks"] = False
    try:
        refused = desk.post("/desk/sources/apercu", "/desk/sources/ajouter", url=site.url("/"))
    finally:
        desk.site.settings.__dict__["allow_private_networks"] = True
    assert refused.status_code == 400
    assert "Adresse refusée : la veille ne collecte que des sites publics" in refused.text
    assert not site.hits.get("/actus/rss.xml")


def test_two_writers_take_turns_and_a_stuck_one_gives_a_french_conflict(
    desk: Desk, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = settings.config_file
    config.write_text(ORIGINAL, encoding="utf-8")
    errors: list[BaseException] = []

    def bump(key: str, field: str) -> None:
        try:
            for i in range(15):
                feedsfile.update_source(config, key, {field: str(10 + i)})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=bump, args=("portail", "interval")),
        threading.Thread(target=bump, args=("blog", "interval")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    text = config.read_text(encoding="utf-8")
    assert text.count("interval: 24") == 2 and "# la référence" in text  # both last edits

    monkeypatch.setattr(feedsfile, "LOCK_WAIT", 0.2)
    fd = os.open(config.with_name(config.name + ".lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(ConflictError, match="en cours de modification"):
            feedsfile.update_source(config, "blog", {"name": "Autre"})
        stuck = desk.post(
            "/desk/sources/blog/modifier", "/desk/sources", name="Autre", weight="1",
            interval="60",
        )  # fmt: skip
        assert stuck.status_code == 409 and "réessayez dans un instant" in stuck.text
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    assert "Autre" not in config.read_text(encoding="utf-8")


def test_an_untouched_file_round_trips_byte_for_byte(tmp_path: Path) -> None:
    """The repository's feeds.yaml and the demo's: a no-op edit writes nothing different."""
    from veille.demo import demo_feeds_yaml

    repo_file = Path(__file__).resolve().parents[1] / "feeds.yaml"
    for text in (repo_file.read_text(encoding="utf-8"), demo_feeds_yaml("http://127.0.0.1:9")):
        path = tmp_path / "feeds.yaml"
        path.write_text(text, encoding="utf-8")
        first = feedsfile.parse_feeds_config(text).sources[0]
        assert feedsfile.update_source(path, first.key, {"name": first.name}) == {}
        assert path.read_text(encoding="utf-8") == text


def test_a_hostile_feed_previews_as_text_with_web_links_only(
    desk: Desk, site: HostileServer, settings: Settings
) -> None:
    settings.config_file.write_text(ORIGINAL, encoding="utf-8")
    base = site.base_url
    site.route(
        "/piege.xml",
        static(
            (
                '<?xml version="1.0"?><rss version="2.0"><channel><title>Piège</title>'
                "<item><title>&lt;script&gt;alert(1)&lt;/script&gt;Titre piégé</title>"
                "<link>javascript:alert(2)</link></item>"
                f"<item><title>&lt;img src=x onerror=alert(3)&gt;Vrai article</title>"
                f"<link>{base}/vrai.html</link></item>"
                "</channel></rss>"
            ).encode(),
            content_type="application/rss+xml",
        ),
    )
    preview = desk.post("/desk/sources/apercu", "/desk/sources/ajouter", url=site.url("/piege.xml"))
    assert preview.status_code == 200, preview.text
    links = doc(preview).cssselect(".preview-list a")
    assert [a.get("href") for a in links] == [f"{base}/vrai.html"]
    assert "javascript:" not in preview.text
    assert "<img" not in preview.text and "<script>alert" not in preview.text
