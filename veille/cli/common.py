"""What every command module shares: the two consoles, the error wrapper that turns domain
errors into one sentence and exit code 1, settings from the environment, the database.

The consoles are rich's, created on their first use: importing rich's console is ~50 ms of
CPU that cron's `veille collect --json` with nothing due would pay for a JSON object a
script reads (`print_json` writes that one without rich when stdout is not a terminal).
Nor does it import typer: cron's `veille collect` runs without it (`cli/entry.py`)."""

from __future__ import annotations

import atexit
import gc
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from veille.errors import VeilleError

if TYPE_CHECKING:
    from rich.console import Console

    from veille.config import Settings


class _LazyConsole:
    """A rich `Console` built on first attribute access, with the arguments given here."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


out: Console = _LazyConsole(soft_wrap=True)  # type: ignore[assignment]
err: Console = _LazyConsole(stderr=True, soft_wrap=True)  # type: ignore[assignment]


def print_json(text: str) -> None:
    """Print a JSON document as rich's `print_json` does: indented by 2, non-ASCII kept.

    On a terminal rich prints it (highlighted); for a pipe or a file — scripts, cron —
    the same characters are written directly, without importing rich."""
    if sys.stdout.isatty():
        out.print_json(text)
    else:
        sys.stdout.write(json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n")


@cache
def freeze_at_exit() -> None:
    """End the process without the interpreter's last garbage collections over every object
    the command imported or made: `gc.freeze()` as an exit handler (once per process).

    After the exit handlers, the interpreter's teardown walks SQLAlchemy's, pydantic's and
    typer's objects to collect cycles the OS frees anyway: 0.17 s of CPU of a nothing-due
    `veille collect` (~0.8 s), 0.30 s of a cycle of 304s (~1.5 s), measured (benchmarks/
    README.md). Nothing relies on it: exit handlers still run (logging, worker pools),
    files are closed by their `with`, and the engine's connections by `run_cycle`. In a
    test run the freeze comes at the test process's own exit."""
    atexit.register(gc.freeze)


P = ParamSpec("P")
R = TypeVar("R")


def say_error(exc: VeilleError) -> None:
    """A domain error as the one line on stderr every command prints for it."""
    err.print(f"[bold red]Erreur :[/] {exc}", highlight=False)


def handles_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into one line on stderr and exit code 1 (never a traceback)."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except VeilleError as exc:
            import typer

            say_error(exc)
            raise typer.Exit(1) from None

    return wrapper


def settings_from_env(config: Path | None = None) -> Settings:
    from veille.config import get_settings  # pydantic: not for cron's nothing-due collect

    try:
        settings = get_settings()
    except Exception as exc:  # pydantic ValidationError: a bad VEILLE_* value
        from veille.errors import ConfigError

        raise ConfigError(f"Réglage VEILLE_* invalide : {exc}") from None
    if config is not None:
        settings = settings.model_copy(update={"config_file": config})
    return settings


def open_engine(settings: Settings, *, apart: bool = False) -> Any:
    """The settings' database, its schema at head; `apart`: a migration, if any, runs in a
    child process (`engine.upgrade_apart`: for the collector and the scheduler, which would
    otherwise keep Alembic's modules). An engine only: no ORM is imported until sessions
    are made (`open_db`), which a nothing-due `veille collect` never does."""
    from veille.db.engine import make_engine, upgrade, upgrade_apart

    engine = make_engine(settings.database_url)
    (upgrade_apart if apart else upgrade)(engine)
    return engine


def open_db(settings: Settings, *, apart: bool = False) -> Any:
    """Sessions on the settings' database, its schema at head (`open_engine`)."""
    from veille.db.engine import session_factory

    return session_factory(open_engine(settings, apart=apart))


def fmt_utc(when: datetime | None) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if when else "—"
