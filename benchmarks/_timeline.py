"""Run `veille collect` with a sampler of where the cycle's CPU and work sit, each tick.

Run by `benchmarks/timeline.py` (the project's environment, the checkout on PYTHONPATH):

    python benchmarks/_timeline.py OUT.json [INTERVAL] veille collect --all --json

A thread of this process reads, every INTERVAL seconds (0.25 by default):

* the CPU seconds of each thread of this process (`/proc/self/task/*/stat`), filed by the
  Python thread's name (the main thread is the writer; `veille-io_N` the I/O threads;
  `veille-extract` the inline extraction; `veille-host-timer`; the process pool's manager
  thread) and of each other process of the tree (the forkserver, the extraction workers);
* the cycle's queues, read from the live `Cycle` and `Pools` objects (no lock taken: a
  snapshot may be off by one item): listings on their way, pages on their way and, of
  those, waiting for their host's turn, being fetched or extracted, submitted to the
  extraction processes; fetched pages waiting for the writer; sources waiting for pages or
  ready to be saved;
* what the main thread is doing (`Cycle`'s steps are wrapped to note their start and end).

The sampler's own thread is left out of the CPU (its name is `timeline-sampler`). At exit
the samples go to OUT.json. Nothing in the cycle is changed: the wrappers call the methods
they wrap and only note the time.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import threading
import time
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")
STEPS = ("listings_arrived", "pages_arrived", "sources_done")


def _stat(path: str) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a /proc stat file."""
    try:
        with open(path, "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(f"/proc/{entry}/stat")) is not None:
            children.setdefault(st[0], []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            out.append(child)
            todo.append(child)
    return out


class Sampler:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.t0 = time.monotonic()
        self.samples: list[dict[str, Any]] = []
        self.events: list[tuple[float, str, str]] = []  # (t, step, "start"/"end")
        self.cycle: Any = None
        self.pools: Any = None
        self.names: dict[int, str] = {}  # native thread id → Python thread name
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name="timeline-sampler", daemon=True)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def run(self) -> None:
        me = os.getpid()
        while not self.stop.is_set():
            for t in threading.enumerate():
                if t.native_id is not None:
                    self.names[t.native_id] = t.name
            threads: dict[str, float] = {}
            for tid in os.listdir(f"/proc/{me}/task"):
                st = _stat(f"/proc/{me}/task/{tid}/stat")
                if st is not None:
                    threads[tid] = st[1]
            procs: dict[str, float] = {}
            for pid in _descendants(me):
                st = _stat(f"/proc/{pid}/stat")
                if st is not None:
                    procs[str(pid)] = st[1]
            self.samples.append(
                {"t": self.now(), "threads": threads, "procs": procs, "queues": self.queues()}
            )
            self.stop.wait(self.interval)

    def queues(self) -> dict[str, int]:
        cycle, pools = self.cycle, self.pools
        if cycle is None or pools is None:
            return {}
        try:
            hosts = pools.hosts
            held = 0  # tasks in the host queue, not handed to the I/O pool yet
            for queue in list(hosts._queues.values()):
                # a deque per host, or (urgent, normal) deques before round 24
                held += sum(map(len, queue)) if isinstance(queue, tuple) else len(queue)
            pool = pools.pool
            extracting = len(getattr(pool, "_pending_work_items", ())) if pool else 0
            return {
                "listings_on_way": len(cycle.listing_futures),
                "pages_on_way": len(cycle.page_futures),
                "held": held,  # waiting for their host's turn or slot, or a thread
                "running_tasks": sum(hosts._running.values()),  # in an I/O thread
                "extraction_submitted": extracting,  # in the process pool, not done
                "arrived": len(cycle.arrived) + pools.done.qsize(),  # wait for the writer
                "sources_waiting": len(cycle.waiting),
                "sources_ready": len(cycle.ready),
                "pool": 1 if pool is not None else 0,
            }
        except Exception as exc:  # a snapshot taken while a dict changed size
            return {"error": 1, "what": str(exc)[:40]}  # type: ignore[dict-item]


def install(sampler: Sampler) -> None:
    from veille.collect import pipeline

    cycle_cls = pipeline.Cycle
    run = cycle_cls.run

    def traced_run(self: Any, pools: Any) -> None:
        sampler.cycle, sampler.pools = self, pools
        sampler.events.append((sampler.now(), "cycle", "start"))
        try:
            run(self, pools)
        finally:
            sampler.events.append((sampler.now(), "cycle", "end"))

    cycle_cls.run = traced_run  # type: ignore[method-assign]
    for name in STEPS:
        original = getattr(cycle_cls, name)

        def traced(self: Any, *args: Any, _f: Any = original, _n: str = name) -> Any:
            sampler.events.append((sampler.now(), _n, "start"))
            try:
                return _f(self, *args)
            finally:
                sampler.events.append((sampler.now(), _n, "end"))

        setattr(cycle_cls, name, traced)


def main() -> None:
    out, *rest = sys.argv[1:]
    interval = 0.25
    if rest and rest[0].replace(".", "", 1).isdigit():
        interval = float(rest.pop(0))
    module, *args = rest
    sys.argv = [module, *args]
    sampler = Sampler(interval)
    install(sampler)
    sampler.thread.start()
    code = 0
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    finally:
        sampler.stop.set()
        sampler.thread.join()
        with open(out, "w") as f:
            json.dump(
                {
                    "pid": os.getpid(),
                    "interval": interval,
                    "names": {str(k): v for k, v in sampler.names.items()},
                    "samples": sampler.samples,
                    "events": sampler.events,
                },
                f,
            )
    sys.exit(code)


if __name__ == "__main__":
    main()
