"""Process wiring for `veille run`/`serve`: uvicorn in the foreground, the scheduler beside
it. uvicorn owns SIGINT/SIGTERM while it runs; when it returns, the scheduler is shut down,
waiting for a running cycle (bounded by the fetch timeouts) so the process exits cleanly."""

from __future__ import annotations

import logging
import signal
from types import FrameType

import uvicorn

from veille import exposure
from veille.config import Settings


def _stopped(signum: int, frame: FrameType | None) -> None:
    """uvicorn re-raises the signal that stopped it once it has shut down; by then the stop
    is already under way, so the signal is acknowledged instead of killing the process."""


def serve_app(settings: Settings, *, host: str, port: int, with_scheduler: bool) -> None:
    from veille.web.app import create_app

    exposure.check_secret(settings, host)
    proxy_options = exposure.uvicorn_options(settings)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    scheduler = None
    if with_scheduler:
        from veille import scheduler as sched

        scheduler = sched.start(settings)
    previous = {sig: signal.signal(sig, _stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings), host=host, port=port, log_level="info", **proxy_options
            )
        )
        server.run()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
