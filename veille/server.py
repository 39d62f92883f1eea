"""Process wiring for `veille run`/`serve`: uvicorn in the foreground, the scheduler beside
it. uvicorn owns SIGINT/SIGTERM while it runs; when it returns, the scheduler is shut down,
waiting for a running cycle (bounded by the fetch timeouts) so the process exits cleanly.

Checked before listening, what `veille run`, `serve` and `demo` may expose to the network:
the signing secret, and which proxies may speak for clients.

The shipped `change-me` secret signs setup links, member links and CSRF tokens: anyone
who knows it (everyone: it is in the README) forges them. On a loopback interface only the
machine's own users reach the app, so a laptop trial still starts; anything else is
refused. `veille demo` gets a random secret of its own instead (`demo_secret`), kept in
its folder.

`veille serve` and `veille run` serve with `VEILLE_WEB_WORKERS` processes (0, the default:
one per core; `--workers N` wins): a crowd arriving from a letter is otherwise queued
behind one Python process. uvicorn's multi-process mode starts each worker afresh from an
import string, so the settings reach the workers through their environment
(`newsletter.worker.worker_env`, as for the send worker) and each builds its app with
`veille.web.app:app_from_env`. The scheduler runs once, in the parent. What each worker
keeps in memory stays per worker: the response cache (keyed on the shared data version,
so never stale); what they render they also share through one SQLite file in a private
temporary folder (`veille.web.shared_answers`), so a page is rendered once per machine
after the version moves, not once per worker; and none listens before all are ready, each
warmed (`veille.web.worker_start`: the first one ready took a crowd's connections). The
rate limiters and login throttle count in the database
(`veille.web.ratelimit.SharedRateLimiter`), so they hold across workers and machines.

`VEILLE_TRUSTED_PROXIES` lists the reverse proxies whose `X-Forwarded-For` /
`X-Forwarded-Proto` uvicorn believes; empty (the default) means no proxy headers at all —
uvicorn would otherwise trust them from 127.0.0.1, i.e. from anyone on the machine and from
any local proxy passing the header through.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import secrets
import signal
import tempfile
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn

from veille.config import Settings, is_default_secret
from veille.errors import ConfigError
from veille.newsletter.worker import ENV_PREFIX, worker_env
from veille.web.shared_answers import SHARED_ANSWERS_ENV
from veille.web.shared_answers import prepare as prepare_shared_answers
from veille.web.worker_start import START_GATE_ENV, StartGate

LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_secret(settings: Settings, host: str) -> None:
    """ConfigError (one line, exit code 1 in the CLI) when the default secret would be
    served beyond this machine."""
    if is_default_secret(settings.secret_key) and not is_loopback(host):
        raise ConfigError(
            f"Refusing to listen on {host} with the default VEILLE_SECRET_KEY 'change-me': "
            "set it to a long random value (python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))') or listen on 127.0.0.1."
        )


def demo_secret(settings: Settings, workdir: Path) -> str:
    """The demo's secret: the configured one, or when it is the default a random one kept in
    the demo's folder, so links and sessions survive a restart of the demo and commands run
    against the demo's database (with the same folder) sign what the demo accepts."""
    if not is_default_secret(settings.secret_key):
        return settings.secret_key
    path = workdir / "secret.txt"
    if path.exists() and (kept := path.read_text(encoding="utf-8").strip()):
        return kept
    fresh = secrets.token_urlsafe(32)
    path.write_text(fresh + "\n", encoding="utf-8")
    path.chmod(0o600)
    return fresh


def trusted_proxies(settings: Settings) -> list[str]:
    """The parsed `VEILLE_TRUSTED_PROXIES` (IPs or CIDR networks); ConfigError on a typo, so
    a proxy meant to be trusted is not silently ignored."""
    found: list[str] = []
    for item in settings.trusted_proxies.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfigError(
                f"Invalid VEILLE_TRUSTED_PROXIES entry '{item}': expected an IP address or "
                "a network such as 10.0.0.0/8."
            ) from None
        found.append(str(network) if "/" in item else str(network.network_address))
    return found


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """`uvicorn.Config` keywords: proxy headers only from the trusted proxies."""
    proxies = trusted_proxies(settings)
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies}


def cores() -> int:
    """CPUs this process may run on (a container's quota of cores, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def web_workers(settings: Settings, requested: int | None = None) -> int:
    """`--workers` when given, else `VEILLE_WEB_WORKERS`; 0 means one per core."""
    wanted = settings.web_workers if requested is None else requested
    if wanted < 0:
        raise ConfigError(f"Invalid number of web workers: {wanted} (0 = one per core).")
    return wanted or cores()


def export_settings(settings: Settings) -> None:
    """Put `settings` in this process's environment as `VEILLE_*` variables, for the
    worker processes uvicorn spawns (they inherit it, and read nothing else)."""
    fresh = worker_env(settings)
    for name in [n for n in os.environ if n.startswith(ENV_PREFIX)]:
        del os.environ[name]
    os.environ.update({k: v for k, v in fresh.items() if k.startswith(ENV_PREFIX)})


def _stopped(signum: int, frame: FrameType | None) -> None:
    """uvicorn re-raises the signal that stopped it once it has shut down; by then the stop
    is already under way, so the signal is acknowledged instead of killing the process."""


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # APScheduler says "Running job … executed successfully" at INFO on every tick: a line a
    # minute that buries ours. Its warnings (a missed run) and errors still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def run_collector(settings: Settings) -> None:
    """`veille worker`: the collection tick alone, until SIGINT/SIGTERM; then the running
    cycle ends (bounded by the fetch timeouts) before the process exits. Leases share the
    due sources with every other collector on the database (`veille.db.leases`)."""
    import threading

    from veille import scheduler as sched

    configure_logging()
    stop = threading.Event()

    def stopping(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, stopping) for sig in (signal.SIGINT, signal.SIGTERM)}
    scheduler = sched.start(settings, collect_only=True)
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def serve_app(
    settings: Settings, *, host: str, port: int, with_scheduler: bool, workers: int = 1
) -> None:
    """Serve until stopped: in this process when `workers` is 1, else in `workers`
    uvicorn worker processes; the scheduler (if any) runs here, once, either way."""
    from veille.web.app import create_app, ready_to_serve

    check_secret(settings, host)
    proxy_options = uvicorn_options(settings)
    configure_logging()
    scheduler = None
    if with_scheduler:
        from veille import scheduler as sched

        scheduler = sched.start(settings)
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    stack = contextlib.ExitStack()
    try:
        if workers > 1:
            export_settings(settings)
            shared = tempfile.TemporaryDirectory(prefix="veille-answers-")
            stack.callback(shared.cleanup)
            answers = Path(shared.name) / "answers.sqlite"
            prepare_shared_answers(answers)  # once, before the workers race to create it
            os.environ[SHARED_ANSWERS_ENV] = str(answers)
            gate = Path(shared.name) / "started"
            gate.mkdir()
            os.environ[START_GATE_ENV] = StartGate(gate, workers).value()
            uvicorn.run(
                "veille.web.app:app_from_env",
                factory=True,
                workers=workers,
                host=host,
                port=port,
                log_level="info",
                **proxy_options,
            )
        else:
            server = uvicorn.Server(
                uvicorn.Config(
                    ready_to_serve(create_app(settings)),
                    host=host,
                    port=port,
                    log_level="info",
                    **proxy_options,
                )
            )
            server.run()
    finally:
        stack.close()
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
