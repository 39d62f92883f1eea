"""The JSON API, its OpenAPI description, and the streamed CSV / JSON Lines exports, over
HTTP against a real server."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import SEEDS, Site, running_archive
from veille.archive.export import EXPORT_FIELDS
from veille.config import Settings

pytestmark = pytest.mark.postgres  # behaviour depends on the database: CI reruns it on PostgreSQL


@pytest.fixture
def site(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[Site]:
    with running_archive(settings, sessions) as running:
        yield running


def test_api_articles_shape_and_filters(site: Site) -> None:
    response = site.get("/api/articles?theme=open_data&sort=score")
    assert response.status_code == 200
    data = response.json()
    # 24 open-data articles, 23 stories: one item per story by default.
    assert data["total"] == 23 and data["page"] == 1 and data["pages"] == 2
    assert len(data["items"]) == 20
    first = data["items"][0]
    assert {"url", "title", "source", "published_at", "themes", "score", "text"} <= set(first)
    assert {"id", "summary", "coverage"} <= set(first)
    assert first["title"] == "La métropole de Lyon ouvre son portail de données"
    assert first["source"] == "courrier"
    assert first["published_at"] == "2026-11-22T13:00:00+00:00"
    assert first["themes"] == ["open_data"] and first["score"] == 82.5
    assert first["coverage"] == 2 and first["id"] == site.ids["lyon"]
    assert first["also"] == [
        {
            "id": site.ids["lyon-bis"],
            "source": "gazette",
            "url": "https://gazette.example.fr/articles/lyon-bis",
            "title": "Lyon : un portail open data pour les réutilisateurs",
        }
    ]
    every = site.get("/api/articles?theme=open_data&group=none").json()
    assert every["total"] == 24
    assert site.ids["lyon-bis"] in {i["id"] for i in every["items"]}
    assert first["text"].startswith("La métropole de Lyon")
    scores = [item["score"] for item in data["items"]]
    assert scores == sorted(scores, reverse=True)
    second = site.get("/api/articles?theme=open_data&sort=score&page=2").json()
    assert second["page"] == 2 and len(second["items"]) == 3
    ids = {i["id"] for i in data["items"]} | {i["id"] for i in second["items"]}
    assert len(ids) == 23  # every story once


def test_api_errors_are_json(site: Site) -> None:
    for params in ("page=-1", "page=99999999999", "theme=cuisine", "from=demain"):
        response = site.get(f"/api/articles?{params}")
        assert response.status_code == 400, params
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["detail"]
    assert site.get("/api/nulle-part").json() == {"detail": "Page introuvable"}


def test_openapi_and_docs(site: Site) -> None:
    schema = site.get("/api/openapi.json").json()
    assert "/api/articles" in schema["paths"]
    names = {p["name"] for p in schema["paths"]["/api/articles"]["get"]["parameters"]}
    assert {"theme", "source", "q", "from", "to", "period", "sort", "page"} <= names
    assert "/export.csv" in schema["paths"] and "/feeds/{theme}.atom" in schema["paths"]
    assert "/" not in schema["paths"]  # the HTML pages are not API
    docs = site.get("/api/docs")
    assert docs.status_code == 200 and "/api/openapi.json" in docs.text


def test_csv_export_is_streamed_with_documented_columns(site: Site) -> None:
    with httpx.stream("GET", site.base_url + "/export.csv?source=courrier", timeout=10) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/csv")
        assert r.headers["content-disposition"] == (
            'attachment; filename="veille-articles-2026-11-23.csv"'
        )
        assert "content-length" not in r.headers  # streamed, not built in memory
        body = r.read().decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert list(rows[0]) == EXPORT_FIELDS
    assert len(rows) == sum(1 for s in SEEDS if s.source == "courrier")
    lyon = next(r for r in rows if r["id"] == str(site.ids["lyon"]))
    assert lyon["themes"] == "open_data" and lyon["partial"] == "false"
    assert lyon["author"] == "Claire Martin" and lyon["score"] == "82.5"
    assert {r["source"] for r in rows} == {"courrier"}


def test_jsonl_export_follows_the_filters(site: Site) -> None:
    response = site.get("/export.jsonl?theme=ia")
    assert response.status_code == 200
    assert response.headers["content-disposition"].endswith('.jsonl"')
    rows = [json.loads(line) for line in response.text.splitlines()]
    assert sorted(r["id"] for r in rows) == sorted([site.ids["ia"], site.ids["piege"]])
    assert all(list(r) == EXPORT_FIELDS for r in rows)
    everything = site.get("/export.jsonl").text.splitlines()
    assert len(everything) == len(SEEDS)
    nothing = site.get("/export.jsonl?q=zzzinexistant")
    assert nothing.status_code == 200 and nothing.text == ""
    header_only = site.get("/export.csv?q=zzzinexistant").text
    assert header_only.strip() == ",".join(EXPORT_FIELDS)


def test_spreadsheet_export_opens_in_columns_in_french(site: Site) -> None:
    """`/export.csv?tableur=1`: what Excel or LibreOffice set to French split into columns
    and read as dates and numbers; the default CSV above stays as programs expect it."""
    response = site.get("/export.csv?source=courrier&tableur=1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == (
        'attachment; filename="veille-articles-2026-11-23-tableur.csv"'
    )
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel guesses the encoding from it
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert list(rows[0]) == [
        "Adresse",
        "Titre",
        "Source",
        "Date de publication",
        "Thèmes",
        "Valeur (sur 100)",
        "Résumé",
        "Texte",
        "Auteur",
        "Langue",
        "Sujet",
        "Extrait partiel",
        "Numéro",
        "Date de collecte",
    ]
    assert len(rows) == sum(1 for s in SEEDS if s.source == "courrier")
    lyon = next(r for r in rows if r["Numéro"] == str(site.ids["lyon"]))
    assert lyon["Titre"] == "La métropole de Lyon ouvre son portail de données"
    assert lyon["Valeur (sur 100)"] == "82,5"
    # Published 2026-11-22 13:00 UTC: 22/11/2026 in Paris.
    assert lyon["Date de publication"] == "22/11/2026"
    assert lyon["Thèmes"] == "Open data" and lyon["Extrait partiel"] == "non"
    assert lyon["Auteur"] == "Claire Martin"
    # Same articles as the program CSV, in the same order.
    plain = list(csv.DictReader(io.StringIO(site.get("/export.csv?source=courrier").text)))
    assert [r["Numéro"] for r in rows] == [r["id"] for r in plain]
    assert plain[0]["published_at"].startswith("20")  # the default CSV did not change
