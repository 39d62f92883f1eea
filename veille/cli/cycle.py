"""One collection cycle from the terminal: `veille collect`'s work, without typer.

`collect` is the command's body: `cli/collect.py` declares the command's options for typer,
and `cli/entry.py` calls it directly for cron's plain `veille collect [--all] [--json]
[--source KEY]… [--config PATH]`, so that a process started every few minutes imports
neither typer nor the pydantic adapters typer builds for each option (~0.1 s of CPU of a
nothing-due run). `run_cycle` and `print_summary` are shared with `veille demo`
(cli/run.py).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from veille.cli.common import (
    err,
    freeze_at_exit,
    open_engine,
    out,
    print_json,
    settings_from_env,
)
from veille.config_env import plain_paths

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from veille.collect.due import FeedsFile
    from veille.config import Settings


def collect(config: Path | None, sources: list[str] | None, all_: bool, json_out: bool) -> None:
    """Run one cycle (due sources; every source with `all_`; these with `sources`) and
    print its summary: a French table, or JSON with `json_out`."""
    freeze_at_exit()  # cron starts this every few minutes: no teardown to pay at its end
    # cron's plain `veille collect`: its two settings, if they can be read without pydantic
    paths = None if all_ or sources else plain_paths()
    summary = nothing_due_before_settings(paths, config) if paths is not None else None
    if summary is None:
        summary = run_cycle(
            settings_from_env(config),
            keys=sources,
            force=all_ or bool(sources),
            show_progress=sys.stderr.isatty() and not json_out,
            asked_driver=paths is not None,
        )
    if json_out:
        print_json(json.dumps(summary.as_dict()))
    else:
        print_summary(summary)


def nothing_due_before_settings(paths: tuple[str, Path], config: Path | None) -> Any:
    """cron's `veille collect` between due times, answered before the settings are built:
    with the database and feeds.yaml the environment gives (`config_env.plain_paths`: no
    `VEILLE_*` variable set could be refused, so building the settings could not fail),
    on the database's driver alone (`db/quick_due.py`), without pydantic (~0.15 s of CPU
    of a ~0.2 s run). The empty summary, or None: "build the settings and go on" (a source
    due, a changed file, anything unsure)."""
    from veille.collect.due import FeedsFile, nothing_due_on_driver

    database_url, config_file = paths
    feeds = FeedsFile.read(config if config is not None else config_file)
    now = datetime.now(UTC)
    if not nothing_due_on_driver(database_url, feeds, now):
        return None
    from veille.collect.summary import CycleSummary

    return CycleSummary(started_at=now, finished_at=now)


def run_cycle(
    settings: Settings,
    *,
    keys: list[str] | None,
    force: bool,
    show_progress: bool,
    asked_driver: bool = False,
) -> Any:
    """One cycle on the settings' database; `asked_driver`: `nothing_due_before_settings`
    has just asked the driver, with these settings' database and file, and was not sure."""
    from veille.collect.due import FeedsFile, nothing_due_on_driver

    feeds = FeedsFile.read(settings.config_file)  # parsed only if it changed since the sync
    if keys:
        for key in keys:
            feeds.config.source(key)  # unknown key → ConfigError naming it
    now = datetime.now(UTC)
    # cron's `veille collect` between due times: answered on the database's driver alone,
    # without importing SQLAlchemy (`db/quick_due.py`); unsure → the path below.
    if (
        not keys
        and not force
        and not asked_driver
        and nothing_due_on_driver(settings.database_url, feeds, now)
    ):
        from veille.collect.summary import CycleSummary

        return CycleSummary(started_at=now, finished_at=now)
    engine = open_engine(settings, apart=True)
    try:
        return _cycle(settings, engine, feeds, keys=keys, force=force, show_progress=show_progress)
    finally:
        # Its connections closed here, by their owner (SQLite checkpoints its WAL, PostgreSQL
        # is told goodbye), not left to the interpreter's teardown, which `collect` skips.
        engine.dispose()


def _cycle(
    settings: Settings,
    engine: Engine,
    feeds: FeedsFile,
    *,
    keys: list[str] | None,
    force: bool,
    show_progress: bool,
) -> Any:
    from veille.collect.due import anything_due, due_if_synced
    from veille.collect.summary import CycleSummary
    from veille.db.engine import LazySessions

    now = datetime.now(UTC)
    # Asked on a Core connection: with feeds.yaml unchanged since the last sync (the usual
    # case), neither the ORM nor the pipeline is imported to answer (`collect.due`), and
    # cron's `veille collect` between due times stops here. A changed file is synced
    # through the ORM (`anything_due`).
    sessions = LazySessions(engine)  # the ORM comes with the first session (see its doc)
    due = due_if_synced(engine, feeds, now, keys=keys, force=force)
    if due == 0 or (due is None and not anything_due(sessions, feeds, now, keys=keys, force=force)):
        return CycleSummary(started_at=now, finished_at=now)
    from veille.collect.pipeline import CollectContext, refresh_due

    # feeds.yaml is in the sources table now: once is enough. The themes of feeds.yaml are
    # read with the classifier, when a source has new articles. The claim runs on a Core
    # connection of `engine`: a cycle of 304s makes its requests before any session.
    ctx = CollectContext(settings=settings, sessions=sessions, sync=False, engine=engine)
    if show_progress and _first_run(sessions):  # training the seed model: say so first
        ctx.classifier = _load_classifier(sessions, feeds.config, show_progress)
    else:  # loaded when a source has new articles: unchanged feeds need no model
        ctx.classifier_loader = lambda: _load_classifier(sessions, feeds.config, False)
    if not show_progress:
        return refresh_due(ctx, keys=keys, force=force)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]Collecte"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(event: str, value: str) -> None:
            if event == "start":
                bar.update(task, total=int(value))
            else:
                bar.update(task, advance=1, description=value)

        return refresh_due(ctx, keys=keys, force=force, progress=progress)


def _first_run(sessions: Any) -> bool:
    from veille.db.engine import transaction
    from veille.db.themes import active_model

    with transaction(sessions) as session:
        return active_model(session) is None


def _load_classifier(sessions: Any, config: Any, show_progress: bool) -> Any:
    """Load the active theme model; on a first run this trains the seed model (~20 s),
    which deserves a word on the terminal rather than a silent pause."""
    from veille.classify.service import load_classifier
    from veille.db.engine import transaction
    from veille.db.themes import active_model

    with transaction(sessions) as session:
        if active_model(session) is None and show_progress:
            with err.status("Premier lancement : entraînement du modèle de thèmes (~20 s)…"):
                return load_classifier(session, config)
        return load_classifier(session, config)


def print_summary(summary: Any) -> None:
    """The cycle as a French table (labels in `collect/cycle_report.py`), then the sources
    that failed with their error in French (`collect/error_text.py`, as on the desk and in
    `veille sources list`); `--json` keeps the collector's own message for programs."""
    from rich.table import Table

    from veille.collect import cycle_report, error_text

    # One row per figure: French labels are long, and seven columns did not fit 80 columns.
    table = Table(title=cycle_report.TITLE, show_header=False, title_justify="left")
    table.add_column("", justify="left")
    table.add_column("", justify="right")
    labels = [label for _, label in cycle_report.COLUMNS] + [cycle_report.DURATION]
    for label, cell in zip(labels, cycle_report.table_row(summary.as_dict()), strict=True):
        table.add_row(label, cell)
    out.print(table)
    failed = [s for s in summary.sources if s.status == "failed"]
    if failed:
        ftable = Table(title=cycle_report.FAILED_TITLE, show_header=True)
        ftable.add_column("source")
        ftable.add_column("erreur")
        for s in sorted(failed, key=lambda s: s.key):
            ftable.add_row(s.key, error_text.sentence(s.error))
        out.print(ftable)
