"""Open-data export of articles: one record shape for `veille export`, `/export.csv`,
`/export.jsonl` and the JSON API, written as CSV or JSON Lines a batch at a time.

Columns (in this order): url, title, source (source key), published_at (ISO 8601, the fetch
date when the publication date is unknown), themes (theme ids; `|`-separated in CSV),
score (0–100 value score, empty when not scored), summary, text (extracted plain text),
author, language, story_id (articles of one story share it), partial (true when only the
feed's excerpt could be stored), id, fetched_at (ISO 8601).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy.orm import Session

from veille.archive.query import ArchiveQuery
from veille.archive.search import ArticleHit, iter_matching
from veille.db import articles as article_db
from veille.db.articles import export_record
from veille.frenchformat import PARIS
from veille.text import csvcells

EXPORT_FIELDS = [
    "url",
    "title",
    "source",
    "published_at",
    "themes",
    "score",
    "summary",
    "text",
    "author",
    "language",
    "story_id",
    "partial",
    "id",
    "fetched_at",
]
BATCH = 500


article_record = export_record  # one record shape, defined beside the query that streams it


def records_for_hits(session: Session, hits: Sequence[ArticleHit]) -> list[dict[str, Any]]:
    """Full records for search hits, in the hits' order (one query for the batch), with
    the story's coverage the archive computed."""
    if not hits:
        return []
    rows = article_db.rows_by_id(session, article_db.EXPORTED, [h.id for h in hits])
    out: list[dict[str, Any]] = []
    for hit in hits:
        row = rows.get(hit.id)
        if row is None:  # deleted between the search and this read
            continue
        record = article_record(row, hit.source_key, hit.themes)
        record["coverage"] = hit.coverage
        record["also"] = [
            {"id": o.id, "source": o.source_key, "url": o.url, "title": o.title} for o in hit.also
        ]
        out.append(record)
    return out


def iter_records(session: Session, query: ArchiveQuery) -> Iterator[dict[str, Any]]:
    """Every record matching `query`, a batch at a time, never the whole set in memory.
    Per article, whatever the query's grouping: an export is data, one row per article,
    with `story_id` to regroup them."""
    hits = iter_matching(session, replace(query, group=False))
    while True:
        batch = list(islice(hits, BATCH))
        if not batch:
            return
        yield from records_for_hits(session, batch)
        session.expunge_all()


def csv_value(record: dict[str, Any], field: str) -> Any:
    value = record.get(field)
    if field == "themes":
        return "|".join(value or ())
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def csv_chunks(records: Iterable[dict[str, Any]], *, every: int = 200) -> Iterator[str]:
    """CSV text (header first) in chunks of `every` rows, for a streamed response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_FIELDS)
    pending = 0
    for record in records:  # feed text is hostile: no cell may run as a spreadsheet formula
        writer.writerow([csvcells.neutralise(csv_value(record, f)) for f in EXPORT_FIELDS])
        pending += 1
        if pending >= every:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


def jsonl_chunks(records: Iterable[dict[str, Any]], *, every: int = 200) -> Iterator[str]:
    lines: list[str] = []
    for record in records:
        lines.append(json.dumps({f: record.get(f) for f in EXPORT_FIELDS}, ensure_ascii=False))
        if len(lines) >= every:
            yield "\n".join(lines) + "\n"
            lines = []
    if lines:
        yield "\n".join(lines) + "\n"


# « Exporter pour un tableur »: the same rows for Excel and LibreOffice set to French, which
# split a CSV on `;` (the comma is the decimal separator), guess UTF-8 only from a BOM,
# and read 12/11/2026 and 82,5 as a date and a number. The default CSV stays for programs.
SPREADSHEET_COLUMNS = {
    "url": "Adresse",
    "title": "Titre",
    "source": "Source",
    "published_at": "Date de publication",
    "themes": "Thèmes",
    "score": "Valeur (sur 100)",
    "summary": "Résumé",
    "text": "Texte",
    "author": "Auteur",
    "language": "Langue",
    "story_id": "Sujet",
    "partial": "Extrait partiel",
    "id": "Numéro",
    "fetched_at": "Date de collecte",
}
BOM = "\ufeff"


def spreadsheet_value(record: dict[str, Any], field: str, theme_labels: dict[str, str]) -> str:
    """One cell as a French spreadsheet reads it; text cells that a spreadsheet would run
    as a formula are neutralised (`csvcells`), numbers and dates are written by us."""
    value = record.get(field)
    if value is None or value == "":
        return ""
    if field in ("published_at", "fetched_at"):
        return datetime.fromisoformat(str(value)).astimezone(PARIS).strftime("%d/%m/%Y")
    if field == "themes":
        return csvcells.neutralise_text(", ".join(theme_labels.get(t, t) for t in value))
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    if isinstance(value, int):
        return str(value)
    return csvcells.neutralise_text(str(value))


def spreadsheet_chunks(
    records: Iterable[dict[str, Any]], theme_labels: dict[str, str], *, every: int = 200
) -> Iterator[str]:
    """`;`-separated CSV with a BOM and French headers, dates and decimals, in chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    buffer.write(BOM)
    writer.writerow(SPREADSHEET_COLUMNS[f] for f in EXPORT_FIELDS)
    pending = 0
    for record in records:
        writer.writerow(spreadsheet_value(record, f, theme_labels) for f in EXPORT_FIELDS)
        pending += 1
        if pending >= every:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()
