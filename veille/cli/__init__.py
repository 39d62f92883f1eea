"""The `veille` command line: the contract for scripts, cron users and checks.

Only this package knows the terminal. Domain errors become one sentence on stderr and a
non-zero exit; a cycle in which some sources failed still exits 0 (it did its job).
One module per command group; this one only names them, in the order `--help` lists
them, and imports a command's module only when that command runs (or `--help` lists
them all): cron's `veille collect` every few minutes pays for the collector alone, not
for the classifier's, the members' or the editions' imports. Command modules import
their heavy dependencies inside the commands, for the same reason.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from typing import Any

import typer
from typer import _click as click  # typer vendors click: its commands are these, not click's
from typer.core import TyperGroup
from typer.main import get_command_from_info, get_group_from_info
from typer.models import CommandInfo, TyperInfo

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


def load_command(name: str) -> click.Command:
    """Import the command's module and build its click command, as `add_typer` and
    `app.command()` would have at start-up."""
    module, attribute = COMMANDS[name]
    found: Any = getattr(importlib.import_module(module), attribute)
    if isinstance(found, typer.Typer):
        group = get_group_from_info(
            TyperInfo(found, name=name, rich_help_panel=COMMANDS_PANEL),
            pretty_exceptions_short=app.pretty_exceptions_short,
            suggest_commands=True,
            rich_markup_mode=app.rich_markup_mode,
        )
        for command in group.commands.values():  # as `@app.command(rich_help_panel=…)` would
            command.rich_help_panel = COMMANDS_PANEL  # type: ignore[attr-defined]
        return group
    return get_command_from_info(
        CommandInfo(name=name, callback=found, rich_help_panel=COMMANDS_PANEL),
        pretty_exceptions_short=app.pretty_exceptions_short,
        rich_markup_mode=app.rich_markup_mode,
    )


class _Commands(MutableMapping[str, click.Command]):
    """The group's commands by name, each built on first use."""

    def __init__(self) -> None:
        self._built: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            self._built[name] = load_command(name)
        return self._built[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*COMMANDS, *self._built]))

    def __len__(self) -> int:
        return len(dict.fromkeys([*COMMANDS, *self._built]))


class LazyGroup(TyperGroup):
    """The root group, with `COMMANDS` as its commands: listing them costs nothing,
    running one imports its module only."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["commands"] = _Commands()
        super().__init__(**kwargs)


# The help texts are French, as every screen (docstrings of the commands included: typer
# shows them); a person reads them on a terminal, so they follow the « Typography » rule.
HELP = "veille : veille de l'actualité et lettre d'information."

app = typer.Typer(cls=LazyGroup, help=HELP, no_args_is_help=True)


@app.callback()
def main() -> None:
    """veille : veille de l'actualité et lettre d'information."""
