"""The typer app of the command line: the root group, whose commands are `COMMANDS`, each
built from its module when it runs (or when `--help` lists them all).

Apart from `veille/cli/__init__.py` so that naming the commands imports no typer: cron's
`veille collect` is parsed without it (`cli/entry.py`), and only the other command lines
build this app.
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

from veille.cli import COMMANDS, COMMANDS_PANEL, HELP


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


app = typer.Typer(cls=LazyGroup, help=HELP, no_args_is_help=True)


@app.callback()
def main() -> None:
    """veille : veille de l'actualité et lettre d'information."""
