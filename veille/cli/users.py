"""`veille users …`: desk accounts (delegates, admins) from the terminal."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from veille.cli.common import handles_errors, open_db, out, settings_from_env

users_app = typer.Typer(help="Comptes du desk (délégués, administrateurs).", no_args_is_help=True)


@users_app.command("add")
@handles_errors
def users_add(
    email: Annotated[str, typer.Argument(help="Adresse e-mail de la personne.")],
    role: Annotated[str, typer.Option(help="delegate ou admin.")] = "delegate",
    link: Annotated[
        bool,
        typer.Option(
            "--link",
            help="Afficher un lien à usage unique pour choisir le mot de passe, sans le demander.",
        ),
    ] = False,
) -> None:
    """Créer un compte du desk.

    Un mot de passe tapé deux fois sur un terminal (ou lu sur l'entrée standard), ou un lien à
    usage unique (48 h) à envoyer à la personne.
    """
    from veille.desk.accounts import add_user, setup_link

    settings = settings_from_env()
    sessions = open_db(settings)
    password: str | None = None
    if not link:
        if not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\n") or None
        else:
            password = typer.prompt(
                "Mot de passe (12 caractères ou plus)", hide_input=True, confirmation_prompt=True
            )
    now = datetime.now(UTC)
    with sessions.begin() as session:
        user = add_user(session, email, role, password, now=now)
        url = setup_link(settings, user, now) if password is None else None
    role = "délégué" if user.role == "delegate" else "administrateur"
    out.print(f"Compte du desk créé : {user.email} ({role}).", highlight=False)
    if url:
        out.print(
            f"Lien à usage unique pour choisir le mot de passe (valable 48 h) : {url}",
            highlight=False,
        )
