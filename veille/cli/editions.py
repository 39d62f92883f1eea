"""`veille edition …`: draft, preview, send and follow a newsletter edition from the terminal.

`send` is the command to rerun after anything went wrong (crash, outage, pause): it only
ever sends to the members not yet served. Exit code 0 when the edition is fully sent (or
the dry run written), 1 when the run stopped early, with the reason on stderr.
"""

from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from veille.cli.common import (
    err,
    fmt_utc,
    handles_errors,
    open_db,
    out,
    print_json,
    settings_from_env,
)

edition_app = typer.Typer(
    help="Éditions de la lettre : brouillon, aperçu, envoi, état.", no_args_is_help=True
)

# The delivery states as the delegate reads them (the --json keys stay English).
DELIVERY_WORDS = {
    "sent": "envoyé(s)",
    "pending": "en attente",
    "sending": "en cours",
    "failed": "en échec",
    "skipped": "sans objet",
}

# What came back from the members' mail servers (the --json keys stay English).
RETURN_WORDS = {
    "bounced": "rejet(s) définitif(s)",
    "soft_bounces": "rejet(s) temporaire(s)",
    "complaints": "plainte(s)",
}

NumberArg = Annotated[int, typer.Argument(help="Numéro de l'édition.", min=1)]


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"


@edition_app.command("draft")
@handles_errors
def edition_draft(
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
) -> None:
    """Créer maintenant le brouillon d'une édition.

    Prérempli des articles retenus, sinon des meilleurs.
    """
    from veille.db import editions as edition_db
    from veille.newsletter.editions import create_draft

    sessions = open_db(settings_from_env())
    with sessions.begin() as session:
        edition = create_draft(session, now=datetime.now(UTC), actor=_actor())
        number, items = edition.number, len(edition_db.items_of(session, edition.id))
    if as_json:
        print_json(json.dumps({"number": number, "items": items}))
    else:
        out.print(f"Brouillon de l'édition {number} créé avec {items} article(s).", highlight=False)


@edition_app.command("preview")
@handles_errors
def edition_preview(
    number: NumberArg,
    member: Annotated[
        str | None, typer.Option("--member", help="Telle que ce membre la reçoit (son adresse).")
    ] = None,
    as_text: Annotated[bool, typer.Option("--text", help="La partie en texte brut.")] = False,
) -> None:
    """Afficher l'édition telle qu'un membre la reçoit.

    Son HTML, ou sa partie texte ; par défaut, avec tous les thèmes.
    """
    from veille.db import members as member_db
    from veille.errors import MemberError
    from veille.members.mails import MemberLinks, links_for
    from veille.members.subscriptions import themes_of
    from veille.newsletter.editions import get
    from veille.newsletter.render import Renderer, edition_view
    from veille.sources import THEME_IDS, theme_labels_from

    settings = settings_from_env()
    sessions = open_db(settings)
    with sessions() as session:
        edition = get(session, number)
        view = edition_view(session, edition, theme_labels_from(settings.config_file))
        if member is not None:
            row = member_db.by_email(session, member)
            if row is None:
                raise MemberError(f"Aucun membre à l'adresse {member}.")
            themes, links, name = themes_of(row), links_for(settings, row), row.name
        else:
            base = settings.base_url.rstrip("/")
            themes, name = THEME_IDS, ""
            links = MemberLinks(
                confirm=f"{base}/abonnement",
                preferences=f"{base}/preferences/exemple",
                unsubscribe=f"{base}/unsubscribe/exemple",
            )
    rendered = Renderer(view, settings).render(themes, links, name)
    if rendered is None:
        err.print(
            f"L'édition {number} n'a aucun article dans ces thèmes : aucun mail ne partirait."
        )
        raise typer.Exit(1)
    sys.stdout.write(rendered.text if as_text else rendered.html)
    sys.stdout.flush()


@edition_app.command("send")
@handles_errors
def edition_send(
    number: NumberArg,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Sans demander de confirmation.")
    ] = False,
    dry_run: Annotated[
        Path | None,
        typer.Option("--dry-run", help="Écrire un .eml par membre dans DIR ; ne rien envoyer."),
    ] = None,
    actor: Annotated[
        str | None,
        # The desk's send worker (veille.newsletter.worker) names the desk user here.
        typer.Option("--actor", hidden=True, help="Qui l'a envoyée, pour le journal."),
    ] = None,
) -> None:
    """Envoyer l'édition (en approuvant un brouillon), ou reprendre un envoi interrompu."""
    from veille.newsletter.deliveries import edition_status
    from veille.newsletter.editions import STATUS_LABELS
    from veille.newsletter.send import send_edition

    settings = settings_from_env()
    sessions = open_db(settings)
    if dry_run is None and not yes:
        with sessions() as session:
            status = edition_status(session, number)
        if not sys.stdin.isatty():
            err.print(
                "[bold red]Erreur :[/] pas de terminal pour confirmer : ajoutez --yes.",
                highlight=False,
            )
            raise typer.Exit(1)
        if not typer.confirm(
            f"Envoyer maintenant l'édition {number} « {status['title']} » "
            f"({STATUS_LABELS.get(status['status'], status['status'])}) "
            f"aux membres actifs ?"
        ):
            err.print("Rien n'a été envoyé.")
            raise typer.Exit(1)
    report = send_edition(sessions, settings, number, actor=actor or _actor(), dry_run_dir=dry_run)
    counts = report.counts
    if report.outcome == "dry_run":
        out.print(
            f"Essai à blanc : {report.sent} message(s) écrit(s) dans {dry_run}, "
            f"{report.skipped} membre(s) sans article dans leurs thèmes. Rien n'a été envoyé.",
            highlight=False,
        )
        return
    out.print(
        f"Édition {number} : {report.sent} envoyé(s), {report.failed} en échec, "
        f"{report.skipped} sans objet dans ce passage ({report.seconds:.1f} s, "
        f"{report.connections} connexion(s)"
        + (f", {report.resumed} repris après une interruption" if report.resumed else "")
        + "). "
        + "En tout : "
        + ", ".join(
            f"{counts.get(k, 0)} {DELIVERY_WORDS[k]}"
            for k in ("sent", "failed", "skipped", "pending")
        ),
        highlight=False,
    )
    if report.outcome == "sent":
        out.print(f"L'édition {number} est envoyée.", highlight=False)
        return
    messages = {
        "interrupted": f"Interrompu, {report.pending} en attente : {report.reason} "
        f"Relancez `veille edition send {number}` pour reprendre.",
        "paused": f"En pause : {report.reason}. Vérifiez les adresses en échec "
        f"(`veille edition status {number}`), puis reprenez avec `veille edition send {number}`.",
        "busy": report.reason,
    }
    err.print(messages.get(report.outcome, report.reason), highlight=False)
    raise typer.Exit(1)


@edition_app.command("status")
@handles_errors
def edition_status_command(
    number: NumberArg,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
) -> None:
    """Les envois d'une édition, son statut et ses dates.

    Envoyés, en attente, en échec, sans objet ; puis ce qui est revenu et les clics.
    """
    from veille.newsletter.deliveries import edition_status
    from veille.newsletter.editions import STATUS_LABELS

    sessions = open_db(settings_from_env())
    with sessions() as session:
        status = edition_status(session, number)
    if as_json:
        print_json(json.dumps(status))
        return
    out.print(f"Édition {status['number']} — {status['title']}", highlight=False)
    label = STATUS_LABELS.get(status["status"], status["status"])
    out.print(f"Statut : {label}", highlight=False)
    out.print(
        ", ".join(
            f"{status[k]} {DELIVERY_WORDS[k]}"
            for k in ("sent", "pending", "sending", "failed", "skipped")
        )
        + f" (total {status['total']})",
        highlight=False,
    )
    out.print(
        "Retours : " + ", ".join(f"{status[k]} {word}" for k, word in RETURN_WORDS.items()),
        highlight=False,
    )
    out.print(f"Clics sur les articles : {status['clicks']['total']}", highlight=False)
    for label, key in (
        ("Créée", "created_at"),
        ("Approuvée", "approved_at"),
        ("Envoi commencé", "sending_started_at"),
        ("Envoyée", "sent_at"),
    ):
        value = status[key]
        out.print(
            f"{label} : {fmt_utc(datetime.fromisoformat(value)) if value else '—'}",
            highlight=False,
        )
