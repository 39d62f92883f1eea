"""`veille collect` and `veille export`: one collection cycle, and the archive out.

The commands are plain functions that `veille/cli/__init__.py` registers on the app, in
`--help` order; the cycle itself is `cli/cycle.py`'s, which cron's plain `veille collect`
reaches without typer (`cli/entry.py`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any

import typer

from veille.cli import cycle
from veille.cli.common import handles_errors, open_db, settings_from_env
from veille.cli.options import ConfigOpt


@handles_errors
def collect(
    config: ConfigOpt = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Cette source seulement (sa clé ; à répéter)."),
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Sans échéances : relever toutes les sources.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Afficher le bilan en JSON.")] = False,
) -> None:
    """Lancer un cycle de collecte sur les sources à relever."""
    cycle.collect(config, source, all_, json_out)


def _parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), time())
        except ValueError:
            raise typer.BadParameter(f"« {value} » n'est pas une date (AAAA-MM-JJ).") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@handles_errors
def export(
    format_: Annotated[str, typer.Option("--format", "-f", help="jsonl ou csv.")] = "jsonl",
    theme: Annotated[
        str | None, typer.Option(help="Seulement les articles de ce thème (son identifiant).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Seulement les articles publiés depuis DATE (AAAA-MM-JJ).")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Fichier (par défaut : la sortie standard)."),
    ] = None,
) -> None:
    """Exporter les articles enregistrés, en flux, en JSON Lines ou en CSV."""
    from veille.archive.export import csv_chunks, jsonl_chunks
    from veille.db.articles import iter_export
    from veille.sources import THEME_IDS

    if format_ not in ("jsonl", "csv"):
        raise typer.BadParameter("--format : jsonl ou csv.")
    if theme and theme not in THEME_IDS:
        raise typer.BadParameter(f"--theme : l'un de {', '.join(THEME_IDS)}.")
    since_dt = _parse_since(since)
    sessions = open_db(settings_from_env())
    stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        with sessions() as session:
            rows: Iterator[dict[str, Any]] = iter_export(session, theme=theme, since=since_dt)
            # The same columns and encoding as the web exports (/export.csv, /export.jsonl).
            chunks = jsonl_chunks(rows) if format_ == "jsonl" else csv_chunks(rows)
            for chunk in chunks:
                stream.write(chunk)
    finally:
        if output:
            stream.close()
