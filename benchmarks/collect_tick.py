"""What a collection tick with nothing due costs: the scheduler's `collect_due` inside a
running `veille run`, and `veille collect` started by cron.

The small web of benchmarks/_site.py is served; feeds.yaml lists `--sources` sources (its 9
feeds under distinct query strings, the server ignores them). A first `veille collect`
fetches them all (not timed): none is due for a while after it. Then, for each checkout
given with `--repo` (interleaved, so they see the same load):

* `veille collect --json` (nothing due), `--repeat` times: wall, CPU (user + system, from
  getrusage of the reaped child) and peak PSS of the process;
* in one process that imports what `veille run` imports (the web app, the scheduler), the
  scheduler's job `collect_due` called `--ticks` times: wall and CPU of each call (the
  first one pays the job's own imports once per process; the median of the others is the
  steady tick), the modules the ticks imported and the processes they left.

Run: python benchmarks/collect_tick.py                     # this checkout, 500 sources
     python benchmarks/collect_tick.py --repo /tmp/before --repo .
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _site  # noqa: E402
from _machine import cpu_check  # noqa: E402
from collect import (  # noqa: E402
    REPO,
    compile_checkout,
    free_port,
    load,
    machine,
    measure,
    start_server,
)

TICKER = """
import json, os, resource, sys, time
from veille.config import get_settings
from veille import scheduler, server  # what `veille run` has imported before its first tick
from veille.web.app import create_app

settings = get_settings()
create_app(settings)
before = set(sys.modules)
ticks = []
for _ in range(int(sys.argv[1])):
    wall, cpu = time.perf_counter(), time.process_time()
    scheduler.collect_due(settings)
    ticks.append((time.perf_counter() - wall, time.process_time() - cpu))
me = str(os.getpid())
children = [
    p for p in os.listdir("/proc") if p.isdigit() and open(f"/proc/{p}/stat", "rb").read()
    .rsplit(b")", 1)[1].split()[1].decode() == me
]
heavy = ("trafilatura", "lxml", "sklearn", "numpy", "httpx", "veille.collect.pipeline")
print(json.dumps({
    "ticks": ticks,
    "imported": sorted(m for m in set(sys.modules) - before if m.split(".")[0] in
                       {h.split(".")[0] for h in heavy} and m in heavy),
    "children": len(children),
}))
"""


def write_config(p: _site.Plan, sources: int, path: Path) -> None:
    lines = ["themes: []", "sources:"]
    for n in range(sources):
        f = p.feeds[n % len(p.feeds)]
        lines += [
            f"  - key: {f.key}-{n}",
            f"    name: Flux {f.key} {n}",
            f"    url: {p.feed_url(f)}?copie={n}",
            "    kind: feed",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def env_for(work: Path, repo: Path) -> dict[str, str]:
    return {
        **os.environ,
        "VEILLE_DATABASE_URL": f"sqlite:///{work / 'veille.db'}",
        "VEILLE_CONFIG_FILE": str(work / "feeds.yaml"),
        "VEILLE_ALLOW_PRIVATE_NETWORKS": "1",
        "VEILLE_PER_HOST_DELAY": "0",
        "VEILLE_PER_HOST_CONCURRENCY": "4",
        "VEILLE_SECRET_KEY": "benchmark-secret-key-not-the-default-0123456789",
        "PYTHONPATH": str(repo),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sources", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ticks", type=int, default=6)
    ap.add_argument("--repo", type=Path, action="append")
    args = ap.parse_args()
    repos = [r.resolve() for r in args.repo or [REPO]]
    port = free_port()
    p = _site.plan(2026, port, _site.SMALL)
    server = start_server(2026, port, _site.SMALL)
    collect = [sys.executable, "-m", "veille", "collect", "--json"]
    results: dict[Path, dict[str, list[float]]] = {
        r: {"wall": [], "cpu": [], "pss": [], "tick_wall": [], "tick_cpu": [], "first": []}
        for r in repos
    }
    notes: dict[Path, list[str]] = {r: [] for r in repos}
    try:
        for repo in repos:
            compile_checkout(repo)
        check = cpu_check()
        with tempfile.TemporaryDirectory(prefix="veille-tick-") as tmp:
            works = {}
            for n, repo in enumerate(repos):
                work = Path(tmp) / str(n)
                work.mkdir()
                write_config(p, args.sources, work / "feeds.yaml")
                started = time.monotonic()
                first = measure("first cycle", collect, env_for(work, repo), work)
                print(
                    f"{repo}: first cycle {time.monotonic() - started:.1f} s, "
                    f"{first.detail.get('sources_ok')} sources read (not timed)",
                    flush=True,
                )
                works[repo] = work
            for _ in range(args.repeat):
                for repo in repos:
                    r = results[repo]
                    run = measure("nothing due", collect, env_for(works[repo], repo), works[repo])
                    assert run.detail.get("sources_ok") == 0, run.detail
                    r["wall"].append(run.seconds)
                    r["cpu"].append(run.detail["cpu_seconds"])
                    r["pss"].append(run.peak_pss_mb)
                    ticker = subprocess.run(
                        [sys.executable, "-c", TICKER, str(args.ticks)],
                        env=env_for(works[repo], repo),
                        cwd=works[repo],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    out = json.loads(ticker.stdout.strip().splitlines()[-1])
                    ticks = out["ticks"]
                    r["first"].append(ticks[0][1])
                    r["tick_wall"].append(statistics.median(t[0] for t in ticks[1:]))
                    r["tick_cpu"].append(statistics.median(t[1] for t in ticks[1:]))
                    notes[repo].append(
                        f"load {load()}; ticks imported {out['imported'] or 'nothing heavy'}, "
                        f"{out['children']} child processes left"
                    )
                    print(f"{repo}: {run.seconds:.2f} s CLI, ticks {ticks}", flush=True)
        print()
        print(f"machine: {machine()}; CPU check {check:.2f} s before, {cpu_check():.2f} s after")
        print(f"{args.sources} sources, nothing due; median (min–max) of {args.repeat} runs")
        print()
        print(
            "| checkout | `veille collect` wall | CPU | peak PSS | `collect_due` tick wall | "
            "CPU | first tick CPU (its imports) |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for repo in repos:
            r = results[repo]

            def med(key: str, unit: str, r: dict[str, list[float]] = r) -> str:
                v = r[key]
                return f"{statistics.median(v):.3f} {unit} ({min(v):.3f}–{max(v):.3f})"

            print(
                f"| {repo} | {med('wall', 's')} | {med('cpu', 's')} | {med('pss', 'MB')} | "
                f"{med('tick_wall', 's')} | {med('tick_cpu', 's')} | {med('first', 's')} |"
            )
        for repo in repos:
            for note in notes[repo]:
                print(f"  {repo}: {note}")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
