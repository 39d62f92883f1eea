"""`veille db …`: schema maintenance from the terminal."""

from __future__ import annotations

import typer

from veille.cli.common import handles_errors, out, settings_from_env

db_app = typer.Typer(help="Maintenance de la base de données.", no_args_is_help=True)


@db_app.command("upgrade")
@handles_errors
def db_upgrade() -> None:
    """Créer le schéma de la base de données, ou le migrer vers la dernière version."""
    from veille.db.engine import current_revision, make_engine, upgrade

    engine = make_engine(settings_from_env().database_url)
    upgrade(engine)
    out.print(f"Base de données à jour (révision {current_revision(engine)}).")
