"""What every command module shares: the two consoles, the error wrapper that turns domain
errors into one sentence and exit code 1, settings from the environment, the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from veille.config import Settings, get_settings
from veille.errors import VeilleError

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", "-c", help="feeds.yaml (default: VEILLE_CONFIG_FILE).")
]


def handles_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into one line on stderr and exit code 1 (never a traceback)."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except VeilleError as exc:
            err.print(f"[bold red]Erreur :[/] {exc}", highlight=False)
            raise typer.Exit(1) from None

    return wrapper


def settings_from_env(config: Path | None = None) -> Settings:
    try:
        settings = get_settings()
    except Exception as exc:  # pydantic ValidationError: a bad VEILLE_* value
        from veille.errors import ConfigError

        raise ConfigError(f"Réglage VEILLE_* invalide : {exc}") from None
    if config is not None:
        settings = settings.model_copy(update={"config_file": config})
    return settings


def open_db(settings: Settings) -> Any:
    from veille.db.engine import make_engine, session_factory, upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    return session_factory(engine)


def fmt_utc(when: datetime | None) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if when else "—"
