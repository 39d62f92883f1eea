"""`veille sources …`: the sources of feeds.yaml, their health, OPML in and out."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from veille.cli.common import (
    err,
    fmt_utc,
    handles_errors,
    open_db,
    out,
    settings_from_env,
)
from veille.cli.options import ConfigOpt

sources_app = typer.Typer(help="Gérer les sources et voir leur santé.", no_args_is_help=True)

# The collector's status words (`sources.last_status`), as the table says them.
STATUS_FR = {"ok": "ok", "not_modified": "inchangée", "error": "en échec"}


@sources_app.command("list")
@handles_errors
def sources_list(
    config: ConfigOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Afficher en JSON.")] = False,
) -> None:
    """La santé de chaque source.

    Dernier état et dernière erreur, échecs, dernier nouvel article, prochaine relève.
    """
    from veille.collect import error_text
    from veille.db import sources as source_db
    from veille.db.engine import transaction
    from veille.sources import load_feeds_config

    settings = settings_from_env(config)
    sessions = open_db(settings)
    with transaction(sessions) as session:
        if settings.config_file.exists():
            source_db.sync_sources(
                session, load_feeds_config(settings.config_file).sources, datetime.now(UTC)
            )
        health = source_db.list_health(session)
    if json_out:
        rows = []
        for h in health:
            item = dict(h.__dict__)
            for k, v in item.items():
                if isinstance(v, datetime):
                    item[k] = v.isoformat()
            # The French sentence the delegate reads beside the collector's raw message.
            item["error_fr"] = error_text.sentence(h.last_error, h.last_http_status) or None
            rows.append(item)
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(show_header=True)
    # French for the delegate who reads the table; `--json` keeps the field names for programs.
    headers = ("clé", "type", "état", "échecs", "articles", "dernier nouvel article")
    for col in (*headers, "prochaine relève", "erreur"):
        table.add_column(col)
    for h in health:
        table.add_row(
            h.key,
            h.kind,
            "en pause" if h.paused_at else STATUS_FR.get(h.last_status or "", "jamais relevée"),
            str(h.consecutive_failures),
            str(h.articles),
            fmt_utc(h.last_new_article_at),
            fmt_utc(h.next_fetch_at),
            error_text.sentence(h.last_error, h.last_http_status),
        )
    out.print(table)


@sources_app.command("add")
@handles_errors
def sources_add(
    url: Annotated[str, typer.Argument(help="Adresse du site ou de son flux.")],
    config: ConfigOpt = None,
    key: Annotated[
        str | None, typer.Option(help="Clé de la source (par défaut : tirée de l'hôte).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Nom affiché.")] = None,
    kind: Annotated[
        str | None, typer.Option(help="feed | page | sitemap (par défaut : détecté).")
    ] = None,
) -> None:
    """Trouver le flux d'un site (autodécouverte) et l'ajouter à feeds.yaml."""
    from veille.collect.discovery import find_source
    from veille.feedsfile import add_source, check_url

    settings = settings_from_env(config)
    found = find_source(check_url(url), settings, kind=kind)
    # The same checks and French messages as the desk's « Ajouter une source ».
    entry = add_source(
        settings.config_file,
        {"key": key, "name": name or found.name, "url": found.url, "kind": found.kind},
    )
    out.print(
        f"Source ajoutée : {entry['key']} ({entry['kind']}) : {entry['url']}", highlight=False
    )


@sources_app.command("import-opml")
@handles_errors
def sources_import_opml(
    file: Annotated[Path, typer.Argument(help="Liste d'abonnements OPML.")],
    config: ConfigOpt = None,
) -> None:
    """Ajouter à feeds.yaml tous les flux d'une liste d'abonnements OPML."""
    from veille.feedsfile import add_sources, entries_from_opml

    settings = settings_from_env(config)
    try:
        content = file.read_bytes()
    except OSError as exc:
        from veille.errors import ConfigError

        raise ConfigError(f"{file} : lecture impossible ({exc.strerror}).") from None
    added, skipped = add_sources(
        settings.config_file, entries_from_opml(content, settings.config_file)
    )
    out.print(
        f"{added} source(s) importée(s) de {file} ; {skipped} déjà présente(s).", highlight=False
    )


@sources_app.command("export-opml")
@handles_errors
def sources_export_opml(
    config: ConfigOpt = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Fichier (par défaut : la sortie standard)."),
    ] = None,
) -> None:
    """Écrire les sources de feeds.yaml en liste d'abonnements OPML."""
    from veille.feedsfile import opml_from_config
    from veille.sources import load_feeds_config

    settings = settings_from_env(config)
    data = opml_from_config(load_feeds_config(settings.config_file))
    if output:
        output.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)


@sources_app.command("resume")
@handles_errors
def sources_resume(
    key: Annotated[str, typer.Argument(help="Clé de la source en pause (feeds.yaml).")],
) -> None:
    """Reprendre une source en pause : relevée au prochain passage, ses échecs remis à zéro."""
    # The collector pauses a source after failing again and again: `collect.httpcache.should_pause`.
    from veille.db.engine import transaction
    from veille.db.source_pause import resume

    sessions = open_db(settings_from_env())
    with transaction(sessions) as session:
        outcome = resume(session, key, datetime.now(UTC))
    if outcome is None:
        err.print(f"[bold red]Erreur :[/] aucune source « {key} ».", highlight=False)
        raise typer.Exit(1)
    if outcome:
        out.print(f"Source « {key} » reprise : elle sera relevée au prochain passage.")
    else:
        out.print(
            f"La source « {key} » n’était pas en pause ; elle sera relevée au prochain passage."
        )
