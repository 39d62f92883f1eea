"""`veille sources resume KEY`: the one command that brings back a source the collector
paused after failing again and again (parsing args and printing only; the rule lives in
`collect.httpcache.should_pause`, the query in `db.source_pause`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from veille.clitools import err, handles_errors, open_db, out, settings_from_env


@handles_errors
def sources_resume(
    key: Annotated[str, typer.Argument(help="Key of the paused source (feeds.yaml).")],
) -> None:
    """Resume a paused source: due at once, its failure count reset."""
    from veille.db.engine import transaction
    from veille.db.source_pause import resume

    sessions = open_db(settings_from_env())
    with transaction(sessions) as session:
        outcome = resume(session, key, datetime.now(UTC))
    if outcome is None:
        err.print(f"[bold red]Erreur :[/] aucune source « {key} ».", highlight=False)
        raise typer.Exit(1)
    if outcome:
        out.print(f"Source « {key} » reprise : elle sera relevée au prochain passage.")
    else:
        out.print(
            f"La source « {key} » n’était pas en pause ; elle sera relevée au prochain passage."
        )
