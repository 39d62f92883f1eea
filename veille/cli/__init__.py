"""The `veille` command line: the contract for scripts, cron users and checks.

Only this package knows the terminal. Domain errors become one sentence on stderr and a
non-zero exit; a cycle in which some sources failed still exits 0 (it did its job).
One module per command group; this one only assembles them, in the order `--help` lists
them. Command modules import their heavy dependencies inside the commands, so that
`veille --help` and a typo stay instant.
"""

from __future__ import annotations

import typer

from veille.cli.classify import classify_app
from veille.cli.collect import collect, export
from veille.cli.db import db_app
from veille.cli.editions import edition_app
from veille.cli.members import members_app
from veille.cli.run import demo, run, serve, worker
from veille.cli.sources import sources_app
from veille.cli.users import users_app

app = typer.Typer(help="veille: news monitoring and newsletter engine.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(db_app, name="db")
app.add_typer(classify_app, name="classify")
app.add_typer(members_app, name="members")
app.add_typer(users_app, name="users")
app.add_typer(edition_app, name="edition")
for command in (collect, export, serve, run, worker, demo):
    app.command()(command)
