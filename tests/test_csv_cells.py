"""No CSV the project writes carries a live spreadsheet formula: hostile feed text comes
out of `/export.csv` neutralised (a real server), numbers stay numbers, and the members'
export uses the same rule."""

from __future__ import annotations

import csv
import io

import httpx
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import NOW, Seed, populate, serve
from veille.config import Settings
from veille.members.csvfile import write_members_csv
from veille.text import csvcells

HOSTILE = {
    "hyperlink": '=HYPERLINK("http://x","y")',
    "at": "@SUM(1)",
    "plus": "+1",
    "minus": "-1+2",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}


def test_export_csv_neutralises_formulas_and_keeps_numbers(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    from veille.web.app import create_app

    seeds = [
        Seed(key, "courrier", title, ("open_data",), 5, 40.0 + n, author="@auteur")
        for n, (key, title) in enumerate(HOSTILE.items())
    ]
    stored = populate(sessions, seeds)
    with serve(create_app(settings, clock=lambda: NOW)) as base_url:
        body = httpx.get(base_url + "/export.csv", timeout=10).text
    rows = {int(row["id"]): row for row in csv.DictReader(io.StringIO(body))}
    assert len(rows) == len(HOSTILE)
    for n, (key, title) in enumerate(HOSTILE.items()):
        row = rows[stored.ids[key]]
        assert row["title"] == "'" + title, key
        assert row["author"] == "'@auteur"
        assert not row["text"].startswith(csvcells.FORMULA_START)
        assert row["score"] == str(40.0 + n)  # a number, not a neutralised string
        assert row["id"] == str(stored.ids[key])


def test_one_rule_for_members_and_archive() -> None:
    out = io.StringIO()
    write_members_csv([{"email": "a@exemple.fr", "name": "=1+1"}], out, ["email", "name"])
    assert out.getvalue().splitlines()[1] == "a@exemple.fr,'=1+1"
    assert csvcells.neutralise(-3) == -3 and csvcells.neutralise(2.5) == 2.5
    for text in HOSTILE.values():
        assert csvcells.restore(str(csvcells.neutralise(text))) == text
    assert csvcells.neutralise("Bonjour") == "Bonjour"


def test_spreadsheet_export_keeps_the_formula_rule(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    from veille.web.app import create_app

    seeds = [
        Seed(key, "courrier", title, ("open_data",), 5, 40.5, author="@auteur")
        for key, title in HOSTILE.items()
    ]
    stored = populate(sessions, seeds)
    with serve(create_app(settings, clock=lambda: NOW)) as base_url:
        body = httpx.get(base_url + "/export.csv?tableur=1", timeout=10).content
    reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=";")
    rows = {int(row["Numéro"]): row for row in reader}
    assert len(rows) == len(HOSTILE)
    for key, title in HOSTILE.items():
        row = rows[stored.ids[key]]
        assert row["Titre"] == "'" + title, key
        assert row["Auteur"] == "'@auteur"
        assert row["Valeur (sur 100)"] == "40,5"
