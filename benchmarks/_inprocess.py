"""Collection cycles inside one long-lived process, as `veille run` runs them.

Run by `benchmarks/collect.py --in-process` with the checkout on PYTHONPATH and the
project's environment (`project_env`). The process does what `veille run`'s parent does
before its first tick (settings, feeds.yaml checked, the database opened and migrated; the
web app runs in uvicorn's worker processes when there are two cores or more, not here),
starts the real scheduler (`scheduler.build_scheduler`: APScheduler, every job, the memory
job store) and lets its `collect-due` job run the cycles in APScheduler's own thread, as in a
deployment; imports are paid once, by the first tick.

Protocol on stdin/stdout, one JSON object a line, so the benchmark can alternate the
cycles of several checkouts within seconds of each other:

* `tick` → when the previous cycle left the sources not due, every source's next fetch
  time is moved back one day (what the passing of the interval does; a plain `sqlite3`
  UPDATE, untimed), then the job is scheduled to run now; the answer, once APScheduler
  reports the job executed: its wall time (scheduled → executed), the CPU seconds of this
  process (all its threads) and of its child processes (the forkserver and its extraction
  workers, reaped or alive), and the summary the cycle recorded (`cycles` table).
* `quit` → the scheduler is shut down as `veille run` shuts it down, the process exits.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import sqlite3
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path


def _children_cpu() -> float:
    """CPU of the live descendants (their own and what they reaped) and of reaped ones."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    me = str(os.getpid())
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if fields[1].decode() == me:  # utime, stime, cutime, cstime
            total += sum(int(x) for x in fields[11:15]) / tick
    return total


def _make_due(db: Path) -> int:
    """Move every source's next fetch time back one day: what a day passing does."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT id, next_fetch_at FROM sources").fetchall()
        moved = []
        for source_id, at in rows:
            if at is None:
                continue
            then = datetime.fromisoformat(at) - timedelta(days=1)
            moved.append((then.isoformat(sep=" "), source_id))
        conn.executemany("UPDATE sources SET next_fetch_at = ? WHERE id = ?", moved)
    return len(moved)


def _last_summary(db: Path) -> dict[str, object]:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT summary FROM cycles ORDER BY id DESC LIMIT 1").fetchone()
    return json.loads(row[0]) if row else {}


def main() -> None:
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

    from veille import scheduler as sched
    from veille import server
    from veille.cli.common import open_db, settings_from_env
    from veille.sources import load_feeds_config

    # What `veille run` does before its scheduler starts (`cli/run.py`, `server.serve_app`;
    # with more than one web worker, as on 2 cores, the app runs in the workers).
    settings = settings_from_env(None)
    load_feeds_config(settings.config_file)
    open_db(settings)
    server.configure_logging()
    db = Path(settings.database_url.removeprefix("sqlite:///"))
    done = threading.Event()

    def executed(event: object) -> None:
        if getattr(event, "job_id", None) == "collect-due":
            done.set()

    # The first tick runs at start (`next_run_time=now`): held until asked for, so that the
    # benchmark decides when each cycle runs.
    scheduler = sched.build_scheduler(settings)
    scheduler.add_listener(executed, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.get_job("collect-due").pause()
    scheduler.start(paused=False)
    fresh = True  # the first tick finds every source new, hence due
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        if not fresh:
            _make_due(db)
        done.clear()
        wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
        scheduler.modify_job("collect-due", next_run_time=datetime.now(sched.PARIS))
        done.wait()
        wall = time.perf_counter() - wall
        scheduler.pause_job("collect-due")  # until asked again (its next tick: 1 min away)
        cpu = time.process_time() - cpu
        children = _children_cpu() - children
        fresh = False
        print(
            json.dumps(
                {
                    "wall": wall,
                    "cpu_process": cpu,
                    "cpu_children": children,
                    "summary": _last_summary(db),
                }
            ),
            flush=True,
        )
    scheduler.shutdown(wait=True)
    logging.shutdown()


if __name__ == "__main__":
    main()
