"""`veille members …`: the membership list from the terminal."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from veille.cli.common import err, handles_errors, open_db, out, print_json, settings_from_env
from veille.frenchformat import number

members_app = typer.Typer(
    help="Membres de la lettre : importer, exporter, lister.", no_args_is_help=True
)

EXPORT_COLUMNS = (
    "email",
    "name",
    "organisation",
    "status",
    "themes",
    "consent_at",
    "consent_method",
    "consent_wording",
    "created_at",
    "confirmed_at",
    "unsubscribed_at",
    "last_activity_at",
    "needs_reconsent",
    "alerts",
)
SHOWN_ERRORS = 50


@members_app.command("import")
@handles_errors
def members_import(
    file: Annotated[
        Path, typer.Argument(help="Le fichier CSV : colonnes email, name, organisation, themes.")
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Vérifier et compter, sans rien changer.")
    ] = False,
    require_confirmation: Annotated[
        bool,
        typer.Option(
            "--require-confirmation",
            help="Les nouveaux membres restent en attente et reçoivent le mail de confirmation.",
        ),
    ] = False,
) -> None:
    """Importer ou mettre à jour des membres depuis un fichier CSV.

    Séparé par « ; » ou « , », en UTF-8 ou Windows-1252.
    """
    from veille.members.csvfile import read_members_csv
    from veille.members.importer import import_lines

    settings = settings_from_env()
    sessions = open_db(settings)
    now = datetime.now(UTC)
    lines = read_members_csv(file)  # a file that cannot be read at all fails here
    with sessions() as session:
        session.begin()
        report = import_lines(session, lines, now=now, require_confirmation=require_confirmation)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    for error in report.errors[:SHOWN_ERRORS]:
        err.print(f"{file.name}, ligne {error.line} : {error.reason}", highlight=False)
    if len(report.errors) > SHOWN_ERRORS:
        err.print(f"… et {len(report.errors) - SHOWN_ERRORS} autres lignes invalides.")
    mailed = failed = 0
    if require_confirmation and not dry_run and report.to_confirm:
        mailed, failed = _send_confirmations(settings, sessions, report.to_confirm)
    prefix = "Essai à blanc, rien d'enregistré : " if dry_run else ""
    out.print(
        f"{prefix}{report.created} créé(s), {report.updated} mis à jour, "
        f"{report.unchanged} inchangé(s), {report.kept_unsubscribed} restés désinscrits, "
        f"{len(report.errors)} ligne(s) invalide(s)."
        + (
            f" Mails de confirmation : {mailed} envoyé(s), {failed} en échec."
            if mailed or failed
            else ""
        ),
        highlight=False,
    )
    if report.valid == 0 and report.errors:
        raise typer.Exit(1)


def _send_confirmations(settings: Any, sessions: Any, member_ids: list[int]) -> tuple[int, int]:
    """The import's double opt-in mails; each failure printed, the others still go."""
    from veille.members.mails import send_confirmations
    from veille.sources import theme_labels_from

    labels = theme_labels_from(settings.config_file)
    run = send_confirmations(settings, sessions, member_ids, labels)
    for address, error in run.failures:
        err.print(f"{address}: {error}", highlight=False)
    return run.sent, len(run.failures)


@members_app.command("export")
@handles_errors
def members_export(
    format_: Annotated[str, typer.Option("--format", "-f", help="csv ou jsonl.")] = "csv",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Fichier (par défaut : la sortie standard)."),
    ] = None,
) -> None:
    """Exporter tous les membres avec leur preuve de consentement, en flux."""
    from veille.db import alerts as alert_db
    from veille.db import members as member_db
    from veille.members.alerts import alert_summary
    from veille.members.csvfile import write_members_csv
    from veille.members.subscriptions import export_record

    if format_ not in ("csv", "jsonl"):
        raise typer.BadParameter("--format : csv ou jsonl.")
    sessions = open_db(settings_from_env())
    now = datetime.now(UTC)
    # A CSV file gets a BOM: without it, Excel in French opens UTF-8 as Windows-1252.
    encoding = "utf-8-sig" if format_ == "csv" else "utf-8"
    stream = output.open("w", encoding=encoding, newline="") if output else sys.stdout
    try:
        with sessions() as session:
            alerts = alert_db.by_member(session)  # few rows: one query, not one per member
            records = (
                export_record(m, now) | {"alerts": [alert_summary(a) for a in alerts.get(m.id, ())]}
                for m in member_db.iter_all(session)
            )
            if format_ == "csv":
                write_members_csv(records, stream, EXPORT_COLUMNS)
            else:
                for record in records:
                    stream.write(json.dumps(record, ensure_ascii=False) + "\n")
    finally:
        if output:
            stream.close()


@members_app.command("list")
@handles_errors
def members_list(
    status: Annotated[
        str | None,
        typer.Option(help="pending, active, paused, unsubscribed, bounced ou complained."),
    ] = None,
    search: Annotated[
        str, typer.Option(help="Partie d'une adresse, d'un nom ou d'une organisation.")
    ] = "",
    reconsent: Annotated[
        bool, typer.Option("--reconsent", help="Seulement les membres silencieux depuis 3 ans.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Membres affichés, au plus.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
) -> None:
    """Les membres, du plus récent au plus ancien, avec leur nombre par statut."""
    from veille.db import members as member_db
    from veille.members.reconsent import reconsent_fields
    from veille.members.subscriptions import RECONSENT_AFTER, export_record

    if status is not None and status not in member_db.STATUSES:
        raise typer.BadParameter(f"--status : l'un de {', '.join(member_db.STATUSES)}.")
    sessions = open_db(settings_from_env())
    now = datetime.now(UTC)
    with sessions() as session:
        counts = member_db.counts_by_status(session)
        found = member_db.search(
            session,
            text=search,
            status=status,
            inactive_before=now - RECONSENT_AFTER if reconsent else None,
            limit=limit,
        )
        records = [export_record(m, now) | reconsent_fields(m, now) for m in found.items]
    if as_json:
        print_json(json.dumps({"counts": counts, "total": found.total, "items": records}))
        return
    table = Table(title=f"{number(found.total)} membre(s)", title_justify="left")
    for column in ("adresse", "nom", "organisation", "statut", "thèmes", "consentement", "relance"):
        table.add_column(column)
    for r in records:
        table.add_row(
            r["email"],
            r["name"],
            r["organisation"],
            r["status"],
            "all" if r["all_themes"] else ", ".join(r["themes"]),
            f"{r['consent_method'] or '—'} {(r['consent_at'] or '')[:10]}",
            r["reconsent"],
        )
    out.print(table)
    out.print(" · ".join(f"{k}: {v}" for k, v in counts.items()), highlight=False)
