"""`veille serve`, `veille run`, `veille demo`: the long-running processes.

Plain functions: `veille/cli/__init__.py` registers them on the app, in `--help` order.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from veille.cli.common import err, handles_errors, open_db, out, settings_from_env
from veille.cli.cycle import print_summary, run_cycle
from veille.cli.options import ConfigOpt

WorkersOpt = Annotated[
    int | None,
    typer.Option(
        min=0,
        help="Processus du serveur web (par défaut VEILLE_WEB_WORKERS ; 0 = un par cœur).",
    ),
]


@handles_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: WorkersOpt = None,
) -> None:
    """Servir l'application web seule (sans planificateur)."""
    from veille.server import check_secret, serve_app, web_workers

    settings = settings_from_env()
    check_secret(settings, host)
    count = web_workers(settings, workers)
    open_db(settings, apart=True)
    serve_app(settings, host=host, port=port, with_scheduler=False, workers=count)


@handles_errors
def run(
    config: ConfigOpt = None,
    host: Annotated[str, typer.Option(help="Interface d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: WorkersOpt = None,
) -> None:
    """Lancer le planificateur (collecte des sources à relever) et l'application web."""
    from veille.server import check_secret, serve_app, web_workers
    from veille.sources import load_feeds_config

    settings = settings_from_env(config)
    check_secret(settings, host)
    count = web_workers(settings, workers)
    load_feeds_config(settings.config_file)  # fail early on a bad file
    open_db(settings, apart=True)
    serve_app(settings, host=host, port=port, with_scheduler=True, workers=count)


@handles_errors
def worker(config: ConfigOpt = None) -> None:
    """Relever les sources dont c'est l'heure, rien d'autre : pour des machines d'appoint.

    Ni application web, ni tâches ponctuelles, ni envois ; les sources sont partagées avec
    toute autre veille sur la même base.
    """
    from veille.server import run_collector
    from veille.sources import load_feeds_config

    settings = settings_from_env(config)
    load_feeds_config(settings.config_file)  # fail early on a bad file
    open_db(settings, apart=True)
    run_collector(settings)


@handles_errors
def demo(
    host: Annotated[str, typer.Option(help="Interface de l'application web.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port de l'application web.")] = 8000,
    workdir: Annotated[Path, typer.Option(help="Dossier où la démo garde feeds.yaml.")] = Path(
        "veille-demo"
    ),
    once: Annotated[
        bool, typer.Option("--once", help="Collecter une fois, afficher le bilan, quitter.")
    ] = False,
) -> None:
    """Servir en local un site d'exemple fourni et y faire tourner veille, hors ligne."""
    import os
    from datetime import UTC, datetime

    from veille.config import is_default_secret
    from veille.demo.feeds import demo_feeds_yaml
    from veille.demo.folder import start_site_in
    from veille.demo.signin import command_prefix, desk_sign_in
    from veille.server import demo_secret, serve_app

    workdir.mkdir(parents=True, exist_ok=True)
    started = start_site_in(workdir)
    if started.notice:
        err.print(started.notice, highlight=False)
    with started.site as site:
        config_path = workdir / "feeds.yaml"
        config_path.write_text(demo_feeds_yaml(site.base_url), encoding="utf-8")
        env_settings = settings_from_env()
        overrides: dict[str, Any] = {
            "config_file": config_path,
            "allow_private_networks": True,
            "per_host_delay": 0.0,
            "per_host_concurrency": 4,
            "secret_key": demo_secret(env_settings, workdir),
        }
        if "VEILLE_DATABASE_URL" not in os.environ:
            overrides["database_url"] = f"sqlite:///{(workdir / 'veille.db').resolve()}"
        if "VEILLE_BASE_URL" not in os.environ:
            overrides["base_url"] = f"http://{host}:{port}"
        settings = env_settings.model_copy(update=overrides)
        err.print(
            f"Site de démo : {site.base_url}  ·  base : {settings.database_url}", highlight=False
        )
        summary = run_cycle(settings, keys=None, force=True, show_progress=sys.stderr.isatty())
        print_summary(summary)
        out.print(
            desk_sign_in(settings, open_db(settings), datetime.now(UTC)),
            highlight=False,
            markup=False,
        )
        from_folder = is_default_secret(env_settings.secret_key)
        prefix = command_prefix(
            settings, secret_file=workdir / "secret.txt" if from_folder else None, env=os.environ
        )
        out.print(
            f"Autres commandes sur cette démo (sa base, ses sources, son secret) :\n"
            f"  {prefix} users add ADRESSE --link",
            highlight=False,
            markup=False,
        )
        if once:
            return
        out.print(f"Application web : http://{host}:{port}/  (Ctrl+C pour arrêter)")
        serve_app(settings, host=host, port=port, with_scheduler=True)
