"""The `veille` command line: the contract for scripts, cron users and checks.

Only this package knows the terminal. Domain errors become one sentence on stderr and a
non-zero exit; a cycle in which some sources failed still exits 0 (it did its job).
One module per command group; this one only names them, in the order `--help` lists
them, and imports a command's module only when that command runs (or `--help` lists
them all): cron's `veille collect` every few minutes pays for the collector alone, not
for the classifier's, the members' or the editions' imports. Command modules import
their heavy dependencies inside the commands, for the same reason.

Naming the commands imports no typer either: the typer app (`app`, built in `cli/root.py`)
is made on first use, and the process's entry point (`cli/entry.py`) runs cron's plain
`veille collect [--all] [--json] …` without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from veille.cli.root import app

__all__ = ["COMMANDS", "COMMANDS_PANEL", "HELP", "app"]

# name → (module, attribute): a plain function is a command, a Typer a command group.
COMMANDS: dict[str, tuple[str, str]] = {
    "collect": ("veille.cli.collect", "collect"),
    "export": ("veille.cli.collect", "export"),
    "serve": ("veille.cli.run", "serve"),
    "run": ("veille.cli.run", "run"),
    "worker": ("veille.cli.run", "worker"),
    "demo": ("veille.cli.run", "demo"),
    "sources": ("veille.cli.sources", "sources_app"),
    "db": ("veille.cli.db", "db_app"),
    "classify": ("veille.cli.classify", "classify_app"),
    "members": ("veille.cli.members", "members_app"),
    "users": ("veille.cli.users", "users_app"),
    "edition": ("veille.cli.editions", "edition_app"),
}

# The panel `--help` lists the commands in: typer's own title is English (« Commands »);
# « Options » and « Arguments » read the same in French.
COMMANDS_PANEL = "Commandes"

# The help texts are French, as every screen (docstrings of the commands included: typer
# shows them); a person reads them on a terminal, so they follow the « Typography » rule.
HELP = "veille : veille de l'actualité et lettre d'information."


def __getattr__(name: str) -> Any:
    """`app`, the typer app, imported (with typer) when something asks for it."""
    if name == "app":
        from veille.cli.root import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
