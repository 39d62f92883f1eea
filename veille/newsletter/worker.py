"""The send worker: a desk's « send now » runs in a process of its own, never in the web
server's, so a send of thousands of messages (minutes, at the configured rate) never holds
a web worker, and survives the server being restarted.

The desk's request only does the bookkeeping (`editions.start_sending`: the edition goes
`sending`, audited under the desk user), then starts `python -m veille edition send N
--yes`, the very command an operator would run, in its own session. Its settings — database
and SMTP URLs, secret key, everything — go through the child's environment as `VEILLE_*`
variables, never through its arguments (which any local user can read with `ps`); only the
desk user's address goes as `--actor`, so the audit log still says who sent it. Should the
worker never start or die midway, the scheduler's minute tick resumes every edition left
`sending` (the send is exactly-once and resumable, see `veille.newsletter.send`).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping

from veille.config import Settings

log = logging.getLogger(__name__)
ENV_PREFIX = "VEILLE_"

# What the web app calls to get an edition sent once the request is recorded: the number of
# the edition and who asked. The app's default is `start_send_worker` with its settings.
SendStarter = Callable[[int, str], None]


def worker_env(settings: Settings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (the current environment by default) with every `VEILLE_*` variable replaced
    by the values of `settings`, so the child reads the very settings the caller has, not
    whatever the caller's own environment says."""
    env = {
        k: v
        for k, v in (os.environ if base is None else base).items()
        if not k.startswith(ENV_PREFIX)
    }
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        env[ENV_PREFIX + name.upper()] = text
    return env


def worker_command(number: int, actor: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "veille",
        "edition",
        "send",
        str(number),
        "--yes",
        f"--actor={actor}",
    ]


def start_send_worker(settings: Settings, number: int, actor: str) -> subprocess.Popen[bytes]:
    """Start the send of edition `number` in a new process and return at once. The child
    has its own session (a Ctrl-C or a restart of the server does not stop a send) and
    writes its summary to the server's own output; a thread reaps it and logs how it ended."""
    process = subprocess.Popen(
        worker_command(number, actor),
        env=worker_env(settings),
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.info("edition %d: send worker started (pid %d) for %s", number, process.pid, actor)
    threading.Thread(
        target=_reap, args=(process, number), name=f"send-worker-{number}", daemon=True
    ).start()
    return process


def _reap(process: subprocess.Popen[bytes], number: int) -> None:
    code = process.wait()
    if code == 0:
        log.info("edition %d: send worker %d done", number, process.pid)
    else:  # interrupted, paused or busy: the composer and `veille edition status` say which
        log.warning("edition %d: send worker %d exited with %d", number, process.pid, code)
