"""The `veille` command line: the contract for scripts, cron users and checks.

Only this module knows the terminal. Domain errors become one sentence on stderr and a
non-zero exit; a cycle in which some sources failed still exits 0 (it did its job).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from veille.cli_editions import edition_app
from veille.cli_members import members_app, users_app
from veille.cli_sources_pause import sources_resume
from veille.clitools import ConfigOpt, err, fmt_utc, handles_errors, open_db, out, settings_from_env
from veille.config import Settings

app = typer.Typer(help="veille: news monitoring and newsletter engine.", no_args_is_help=True)
sources_app = typer.Typer(help="Manage sources and see their health.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
classify_app = typer.Typer(help="Theme classifier: train, evaluate, explain.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
sources_app.command("resume")(sources_resume)
app.add_typer(db_app, name="db")
app.add_typer(classify_app, name="classify")
app.add_typer(members_app, name="members")
app.add_typer(users_app, name="users")
app.add_typer(edition_app, name="edition")

# --- db -----------------------------------------------------------------------------------


@db_app.command("upgrade")
@handles_errors
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest version."""
    from veille.db.engine import current_revision, make_engine, upgrade

    engine = make_engine(settings_from_env().database_url)
    upgrade(engine)
    out.print(f"Database at revision {current_revision(engine)}.")


# --- collect ------------------------------------------------------------------------------


def run_cycle(
    settings: Settings, *, keys: list[str] | None, force: bool, show_progress: bool
) -> Any:
    from veille.collect.pipeline import CollectContext, refresh_due
    from veille.sources import load_feeds_config

    config = load_feeds_config(settings.config_file)
    if keys:
        for key in keys:
            config.source(key)  # unknown key → ConfigError naming it
    sessions = open_db(settings)
    ctx = CollectContext(settings=settings, sessions=sessions, config=config)
    if show_progress and _first_run(sessions):  # training the seed model: say so first
        ctx.classifier = _load_classifier(sessions, config, show_progress)
    else:  # loaded when a source has new articles: unchanged feeds need no model
        ctx.classifier_loader = lambda: _load_classifier(sessions, config, False)
    if not show_progress:
        return refresh_due(ctx, keys=keys, force=force)
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
            with err.status("Training the default theme model on the seed corpus (first run)…"):
                return load_classifier(session, config)
        return load_classifier(session, config)


def print_summary(summary: Any) -> None:
    table = Table(title="Collection cycle", show_header=True)
    for col in (
        "sources ok",
        "not modified",
        "failed",
        "new articles",
        "duplicates merged",
        "partial",
        "time",
    ):
        table.add_column(col, justify="right")
    data = summary.as_dict()
    table.add_row(
        str(data["sources_ok"]),
        str(data["sources_not_modified"]),
        str(data["sources_failed"]),
        str(data["new_articles"]),
        str(data["duplicates_merged"]),
        str(data["partial_articles"]),
        f"{data['seconds']:.1f} s",
    )
    out.print(table)
    failed = [s for s in summary.sources if s.status == "failed"]
    if failed:
        ftable = Table(title="Failed sources", show_header=True)
        ftable.add_column("source")
        ftable.add_column("error")
        for s in sorted(failed, key=lambda s: s.key):
            ftable.add_row(s.key, s.error or "")
        out.print(ftable)


@app.command()
@handles_errors
def collect(
    config: ConfigOpt = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only this source key (repeatable).")
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Ignore due times: fetch every source.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Run one collection cycle over the due sources."""
    settings = settings_from_env(config)
    summary = run_cycle(
        settings,
        keys=source,
        force=all_ or bool(source),
        show_progress=sys.stderr.isatty() and not json_out,
    )
    if json_out:
        out.print_json(json.dumps(summary.as_dict()))
    else:
        print_summary(summary)


# --- sources ------------------------------------------------------------------------------


@sources_app.command("list")
@handles_errors
def sources_list(
    config: ConfigOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Each source's health: last status and error, failures, last new article, next fetch."""
    from veille.db import sources as source_db
    from veille.db.engine import transaction
    from veille.sources import load_feeds_config

    settings = settings_from_env(config)
    sessions = open_db(settings)
    with transaction(sessions) as session:
        if settings.config_file.exists():
            source_db.sync_sources(
                session, load_feeds_config(settings.config_file).sources, datetime.now(UTC)
            )
        health = source_db.list_health(session)
    if json_out:
        rows = []
        for h in health:
            item = dict(h.__dict__)
            for k, v in item.items():
                if isinstance(v, datetime):
                    item[k] = v.isoformat()
            rows.append(item)
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(show_header=True)
    for col in ("key", "kind", "status", "failures", "articles", "last new", "next fetch", "error"):
        table.add_column(col)
    for h in health:
        table.add_row(
            h.key,
            h.kind,
            "en pause" if h.paused_at else (h.last_status or "never"),
            str(h.consecutive_failures),
            str(h.articles),
            fmt_utc(h.last_new_article_at),
            fmt_utc(h.next_fetch_at),
            (h.last_error or "")[:80],
        )
    out.print(table)


@sources_app.command("add")
@handles_errors
def sources_add(
    url: str,
    config: ConfigOpt = None,
    key: Annotated[str | None, typer.Option(help="Source key (default: from the host).")] = None,
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    kind: Annotated[
        str | None, typer.Option(help="feed | page | sitemap (default: detect).")
    ] = None,
) -> None:
    """Find the feed of a site (autodiscovery) and add it to feeds.yaml."""
    from veille.feedsfile import add_sources
    from veille.sourcefinder import find_source

    settings = settings_from_env(config)
    found = find_source(url, settings, kind=kind)
    entry = {
        "key": key or found.key,
        "name": name or found.name,
        "url": found.url,
        "kind": found.kind,
    }
    add_sources(settings.config_file, [entry])
    out.print(f"Added source '{entry['key']}' ({entry['kind']}): {entry['url']}")


@sources_app.command("import-opml")
@handles_errors
def sources_import_opml(file: Path, config: ConfigOpt = None) -> None:
    """Add every feed of an OPML subscription list to feeds.yaml."""
    from veille.feedsfile import add_sources, entries_from_opml

    settings = settings_from_env(config)
    try:
        content = file.read_bytes()
    except OSError as exc:
        from veille.errors import ConfigError

        raise ConfigError(f"{file}: cannot be read ({exc.strerror}).") from None
    added, skipped = add_sources(
        settings.config_file, entries_from_opml(content, settings.config_file)
    )
    out.print(f"Imported {added} source(s) from {file}; {skipped} already present.")


@sources_app.command("export-opml")
@handles_errors
def sources_export_opml(
    config: ConfigOpt = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default: stdout).")
    ] = None,
) -> None:
    """Write the sources of feeds.yaml as an OPML subscription list."""
    from veille.feedsfile import opml_from_config
    from veille.sources import load_feeds_config

    settings = settings_from_env(config)
    data = opml_from_config(load_feeds_config(settings.config_file))
    if output:
        output.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)


# --- export -------------------------------------------------------------------------------


def _parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), time())
        except ValueError:
            raise typer.BadParameter(f"'{value}' is not a date (YYYY-MM-DD).") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command()
@handles_errors
def export(
    format_: Annotated[str, typer.Option("--format", "-f", help="jsonl or csv.")] = "jsonl",
    theme: Annotated[str | None, typer.Option(help="Only articles with this theme id.")] = None,
    since: Annotated[str | None, typer.Option(help="Only articles published since DATE.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default: stdout).")
    ] = None,
) -> None:
    """Export stored articles (streamed) as JSON Lines or CSV."""
    from veille.archive.export import csv_chunks, jsonl_chunks
    from veille.db.articles import iter_export
    from veille.sources import THEME_IDS

    if format_ not in ("jsonl", "csv"):
        raise typer.BadParameter("--format must be jsonl or csv.")
    if theme and theme not in THEME_IDS:
        raise typer.BadParameter(f"--theme must be one of {', '.join(THEME_IDS)}.")
    since_dt = _parse_since(since)
    sessions = open_db(settings_from_env())
    stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        with sessions() as session:
            rows: Iterator[dict[str, Any]] = iter_export(session, theme=theme, since=since_dt)
            # The same columns and encoding as the web exports (/export.csv, /export.jsonl).
            chunks = jsonl_chunks(rows) if format_ == "jsonl" else csv_chunks(rows)
            for chunk in chunks:
                stream.write(chunk)
    finally:
        if output:
            stream.close()


# --- classify -----------------------------------------------------------------------------


def _print_metrics(title: str, figures: dict[str, Any]) -> None:
    table = Table(title=title, show_header=True)
    for col in ("theme", "precision", "recall", "F1", "support"):
        table.add_column(col, justify="right" if col != "theme" else "left")
    for theme, m in figures["themes"].items():
        table.add_row(
            theme,
            f"{m['precision']:.3f}",
            f"{m['recall']:.3f}",
            f"{m['f1']:.3f}",
            str(m["support"]),
        )
    rel = figures["relevance"]
    table.add_row(
        "on-topic", f"{rel['precision']:.3f}", f"{rel['recall']:.3f}", f"{rel['f1']:.3f}", ""
    )
    out.print(table)
    out.print(f"macro-F1 over the three themes: {figures['macro_f1']:.3f}")


@classify_app.command("eval")
@handles_errors
def classify_eval(
    file: Path,
    json_out: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Evaluate the classifier on a JSON Lines file of {title, text, labels}.

    Uses the model trained on the packaged seed corpus (no database, no network) and the
    theme keywords of feeds.yaml when the file is there.
    """
    from veille.classify.classifier import Classifier, ClassItem, default_model
    from veille.classify.corpus import read_jsonl
    from veille.classify.evaluate import metrics
    from veille.classify.service import keywords_of
    from veille.sources import load_feeds_config

    items = read_jsonl(file)
    if not items:
        from veille.errors import ConfigError

        raise ConfigError(f"{file}: no labelled item in the file.")
    settings = settings_from_env(config)
    feeds = load_feeds_config(settings.config_file) if settings.config_file.exists() else None
    classifier = Classifier(default_model(), keywords_of(feeds))
    predictions = classifier.predict([ClassItem(it.title, it.text, it.lang) for it in items])
    figures = metrics([it.labels for it in items], [frozenset(p.themes) for p in predictions])
    if json_out:
        sys.stdout.write(json.dumps(figures) + "\n")
    else:
        _print_metrics(f"{file} ({len(items)} items)", figures)


def _classifier_and_sessions(settings: Settings) -> tuple[Any, Any]:
    from veille.classify.service import load_classifier
    from veille.db.engine import transaction
    from veille.sources import load_feeds_config

    sessions = open_db(settings)
    feeds = load_feeds_config(settings.config_file) if settings.config_file.exists() else None
    with transaction(sessions) as session:
        classifier = load_classifier(session, feeds)
    return classifier, sessions


@classify_app.command("train")
@handles_errors
def classify_train(config: ConfigOpt = None) -> None:
    """Retrain on the seed corpus plus the delegate's labels; make it the active model."""
    from veille.classify.service import retrain
    from veille.db.engine import transaction

    sessions = open_db(settings_from_env(config))
    with transaction(sessions) as session:
        model = retrain(session)
    out.print(
        f"Trained model {model.version}: {model.training_size} items "
        f"({model.editor_labels} from the delegate)."
    )
    _print_metrics("5-fold cross-validation", model.cv_metrics)


@classify_app.command("reclassify")
@handles_errors
def classify_reclassify(config: ConfigOpt = None) -> None:
    """Re-run classification and scoring over the whole archive with the active model."""
    from veille.classify.service import reclassify_all

    classifier, sessions = _classifier_and_sessions(settings_from_env(config))
    done, on_topic = reclassify_all(sessions, classifier)
    out.print(f"Reclassified {done} article(s): {on_topic} on-topic.")


@classify_app.command("explain")
@handles_errors
def classify_explain(
    article: Annotated[str, typer.Argument(help="Article id or URL.")],
    config: ConfigOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Why an article has its themes (top terms, keyword rules) and its score."""
    from veille.classify.service import explain_article
    from veille.errors import ConfigError

    classifier, sessions = _classifier_and_sessions(settings_from_env(config))
    with sessions() as session:
        found = explain_article(session, classifier, article)
    if found is None:
        raise ConfigError(f"No stored article matches '{article}'.")
    if json_out:
        sys.stdout.write(json.dumps(found.__dict__, ensure_ascii=False, default=list) + "\n")
        return
    out.print(f"[bold]{found.title}[/] (#{found.article_id}, model {found.model_version})")
    themes = ", ".join(f"{t} ({o}, {p:.2f})" for t, (p, o) in found.themes.items()) or "hors thème"
    out.print(f"Themes: {themes}")
    for theme, prob in found.probabilities.items():
        terms = ", ".join(term for term, _ in found.terms.get(theme, [])) or "—"
        rules = ", ".join(found.rules.get(theme, ())) or "—"
        out.print(
            f"  {theme}: p={prob:.2f} (threshold {found.thresholds[theme]:.2f}); "
            f"terms: {terms}; keywords: {rules}"
        )
    if found.score is not None:
        out.print(f"Score {found.score:.1f}/100")
        for name, comp in found.components.items():
            out.print(f"  {name}: {comp['points']}/{comp['max']} — {comp['why']}")


# --- run, serve, demo ---------------------------------------------------------------------


@app.command()
@handles_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Serve the web app only (no scheduler)."""
    from veille.server import serve_app

    settings = settings_from_env()
    open_db(settings)
    serve_app(settings, host=host, port=port, with_scheduler=False)


@app.command()
@handles_errors
def run(
    config: ConfigOpt = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Run the scheduler (collection of due sources) and the web app."""
    from veille.server import serve_app
    from veille.sources import load_feeds_config

    settings = settings_from_env(config)
    load_feeds_config(settings.config_file)  # fail early on a bad file
    open_db(settings)
    serve_app(settings, host=host, port=port, with_scheduler=True)


@app.command()
@handles_errors
def demo(
    host: Annotated[str, typer.Option(help="Interface of the web app.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the web app.")] = 8000,
    workdir: Annotated[Path, typer.Option(help="Where the demo keeps feeds.yaml.")] = Path(
        "veille-demo"
    ),
    once: Annotated[
        bool, typer.Option("--once", help="Collect once, print the summary, exit.")
    ] = False,
) -> None:
    """Serve a bundled sample site on localhost and run veille on it, offline."""
    import os

    from veille.demo.feeds import demo_feeds_yaml
    from veille.demo.site import start_demo_site
    from veille.server import serve_app

    with start_demo_site() as site:
        workdir.mkdir(parents=True, exist_ok=True)
        config_path = workdir / "feeds.yaml"
        config_path.write_text(demo_feeds_yaml(site.base_url), encoding="utf-8")
        overrides: dict[str, Any] = {
            "config_file": config_path,
            "allow_private_networks": True,
            "per_host_delay": 0.0,
            "per_host_concurrency": 4,
        }
        if "VEILLE_DATABASE_URL" not in os.environ:
            overrides["database_url"] = f"sqlite:///{(workdir / 'veille.db').resolve()}"
        settings = settings_from_env().model_copy(update=overrides)
        err.print(f"Demo site: {site.base_url}  ·  database: {settings.database_url}")
        summary = run_cycle(settings, keys=None, force=True, show_progress=sys.stderr.isatty())
        print_summary(summary)
        if once:
            return
        out.print(f"Web app: http://{host}:{port}/  (Ctrl+C to stop)")
        serve_app(settings, host=host, port=port, with_scheduler=True)


def main() -> None:  # pragma: no cover
    app()
