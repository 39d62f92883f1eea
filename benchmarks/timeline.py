"""A first cycle's timeline: where the cores sit idle, second by second and by phase.

    python benchmarks/timeline.py --delay 0.25                 # one first cycle of this checkout
    python benchmarks/timeline.py --repo /tmp/before --repo .  # one each, interleaved
    python benchmarks/timeline.py --json run.json              # also keep the raw samples

Runs `veille collect --all --json` on a fresh database against the benchmark's site (as
`collect.py` does, same settings) under `_timeline.py`, which samples the CPU of each
thread of the collector and of each of its child processes, and the cycle's queues, every
0.25 s. Prints the CPU in cores (CPU seconds per wall second) per second of the run for the
writer (the main thread), the I/O threads, the other threads of the main process (inline
extraction, host timer, the process pool's manager) and the extraction processes (the
forkserver and its workers), with the queues' depths at the end of each second; then the
same by phase:

* start-up: the process until the cycle starts (imports, migrations, claiming);
* start: until the first page is submitted to the extraction processes;
* middle: until no page is on its way (every page fetched and extracted);
* writer's tail: until the cycle ends (the last pages stored, the sources saved);
* exit: the summary recorded, the pools shut down, the process's exit.

    python benchmarks/timeline.py --report run-0-0.json  # the tables again, from kept samples
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _site  # noqa: E402
import collect  # noqa: E402

GROUPS = ("writer", "io", "other", "extraction")
QUEUES = (
    ("listings_on_way", "lst"),
    ("held", "held"),
    ("running_tasks", "run"),
    ("extraction_submitted", "xq"),
    ("arrived", "arr"),
    ("sources_waiting", "srcw"),
    ("sources_ready", "rdy"),
)


def group_of(tid: str, pid: int, names: dict[str, str]) -> str | None:
    if int(tid) == pid:
        return "writer"
    name = names.get(tid, "")
    if name == "timeline-sampler":
        return None
    if name.startswith("veille-io"):
        return "io"
    return "other"


def series(data: dict[str, Any]) -> list[tuple[float, dict[str, float], dict[str, int]]]:
    """(t, cumulative CPU per group, queues) for each sample."""
    pid, names = data["pid"], data["names"]
    seen: dict[str, float] = {}  # last CPU of each process: the dead keep their last
    out = []
    for s in data["samples"]:
        cpu = dict.fromkeys(GROUPS, 0.0)
        for tid, sec in s["threads"].items():
            if (g := group_of(tid, pid, names)) is not None:
                cpu[g] += sec
        seen.update(s["procs"])
        cpu["extraction"] = sum(seen.values())
        out.append((s["t"], cpu, s["queues"]))
    # Threads that ended (I/O threads at shutdown) drop out of later samples: keep each
    # group's cumulative CPU non-decreasing.
    for i in range(1, len(out)):
        for g in GROUPS:
            out[i][1][g] = max(out[i][1][g], out[i - 1][1][g])
    return out


def boundaries(data: dict[str, Any], rows: list[Any]) -> list[tuple[str, float]]:
    events = data["events"]
    start = next(t for t, step, what in events if step == "cycle" and what == "start")
    end = next(t for t, step, what in events if step == "cycle" and what == "end")
    first_xq = next((t for t, _, q in rows if q.get("extraction_submitted", 0) > 0), start)
    last_page = max((t for t, _, q in rows if q.get("pages_on_way", 0) > 0), default=end)
    return [
        ("start-up", start),
        ("start", max(start, first_xq)),
        ("middle", min(max(first_xq, last_page), end)),
        ("writer's tail", end),
        ("exit", rows[-1][0]),
    ]


def milestones(data: dict[str, Any], rows: list[Any]) -> str:
    """When every listing was in, and when the writer first saved sources."""
    listings = next(
        (t for t, _, q in rows if q and q.get("listings_on_way", 1) == 0), float("nan")
    )
    saved = next(
        (t for t, step, what in data["events"] if step == "sources_done" and what == "start"),
        float("nan"),
    )
    return f"every listing in at {listings:.1f} s; first sources saved at {saved:.1f} s"


def at(rows: list[Any], t: float) -> tuple[float, dict[str, float]]:
    """The last sample at or before `t`."""
    best = rows[0]
    for row in rows:
        if row[0] > t:
            break
        best = row
    return best[0], best[1]


def busy(data: dict[str, Any], since: float, until: float) -> dict[str, float]:
    """Seconds the writer spent in each step between `since` and `until`."""
    out: dict[str, float] = {}
    opened: dict[str, float] = {}
    for t, step, what in data["events"]:
        if step == "cycle":
            continue
        if what == "start":
            opened[step] = t
        elif step in opened:
            a, b = max(opened.pop(step), since), min(t, until)
            if b > a:
                out[step] = out.get(step, 0.0) + b - a
    return out


def report(label: str, data: dict[str, Any], wall: float) -> None:
    rows = series(data)
    print(f"\n== {label}: {wall:.1f} s wall, {len(rows)} samples")
    print("t(s) | writer io other extr | tree | " + " ".join(short for _, short in QUEUES))
    prev_t, prev = 0.0, dict.fromkeys(GROUPS, 0.0)
    second = 1.0
    for t, cpu, q in rows:
        if t < second and (t, cpu, q) != rows[-1]:
            continue
        span = max(t - prev_t, 1e-9)
        cores = {g: (cpu[g] - prev[g]) / span for g in GROUPS}
        depth = " ".join(f"{q.get(k, '-')!s:>{len(short)}}" for k, short in QUEUES)
        print(
            f"{t:5.1f} | {cores['writer']:.2f} {cores['io']:.2f} {cores['other']:.2f} "
            f"{cores['extraction']:.2f} | {sum(cores.values()):.2f} | {depth}"
        )
        prev_t, prev = t, cpu
        second = int(t) + 1.0
    bounds = boundaries(data, rows)
    print(
        "\nphase | from–to (s) | wall | CPU s: writer / io / other / extraction = tree | "
        "cores | writer in pages / sources / listings (s)"
    )
    since = 0.0
    t0, c0 = 0.0, dict.fromkeys(GROUPS, 0.0)
    for name, until in bounds:
        t1, c1 = at(rows, until)
        d = {g: c1[g] - c0[g] for g in GROUPS}
        span = max(t1 - t0, 1e-9)
        steps = busy(data, since, until)
        print(
            f"{name} | {t0:.1f}–{t1:.1f} | {t1 - t0:.1f} | "
            f"{d['writer']:.1f} / {d['io']:.1f} / {d['other']:.1f} / {d['extraction']:.1f} = "
            f"{sum(d.values()):.1f} | {sum(d.values()) / span:.2f} | "
            f"{steps.get('pages_arrived', 0):.1f} / {steps.get('sources_done', 0):.1f} / "
            f"{steps.get('listings_arrived', 0):.1f}"
        )
        since, t0, c0 = until, t1, c1
    total = rows[-1][1]
    print(milestones(data, rows))
    print(
        f"whole run: writer {total['writer']:.1f} s, io {total['io']:.1f} s, other "
        f"{total['other']:.1f} s, extraction {total['extraction']:.1f} s, tree "
        f"{sum(total.values()):.1f} s"
    )


def run_one(p: _site.Plan, delay: float, concurrency: int, repo: Path, keep: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="veille-timeline-") as tmp:
        work = Path(tmp)
        collect.write_config(p, work / "feeds.yaml")
        env = collect.project_env(work, delay, concurrency, repo)
        out = work / "timeline.json"
        cmd = [sys.executable, str(HERE / "_timeline.py"), str(out), *collect.COLLECT[2:]]
        load = collect.load()
        started = time.monotonic()
        proc = subprocess.run(cmd, env=env, cwd=work, capture_output=True, text=True)
        wall = time.monotonic() - started
        if proc.returncode != 0:
            raise SystemExit(f"the cycle failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        data = json.loads(out.read_text())
        summary = json.loads(proc.stdout[proc.stdout.index("{") :])
        counts = {k: summary.get(k) for k in ("new_articles", "duplicates_merged")}
        report(f"{repo} (load {load}; {counts})", data, wall)
        if keep is not None:
            keep.parent.mkdir(parents=True, exist_ok=True)
            keep.write_text(json.dumps(data))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--delay", type=float, default=collect.DEFAULT_DELAY)
    ap.add_argument("--concurrency", type=int, default=collect.DEFAULT_CONCURRENCY)
    ap.add_argument("--repo", type=Path, action="append")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", type=Path, help="keep the raw samples (suffixed per run)")
    ap.add_argument("--small", action="store_true", help="the small web")
    ap.add_argument("--report", type=Path, nargs="+", help="only report kept samples")
    args = ap.parse_args()
    if args.report:
        for path in args.report:
            report(str(path), json.loads(path.read_text()), float("nan"))
        return
    shape = _site.SMALL if args.small else _site.FULL
    port = collect.free_port()
    p = _site.plan(args.seed, port, shape)
    server = collect.start_server(args.seed, port, shape)
    repos = args.repo or [collect.REPO]
    try:
        for repo in repos:
            collect.compile_checkout(repo)
            collect.prepare_seed_model(repo)
        print(f"CPU check: {collect.cpu_check():.2f} s")
        for i in range(args.repeat):
            for n, repo in enumerate(repos):
                keep = args.json.with_name(f"{args.json.stem}-{i}-{n}.json") if args.json else None
                run_one(p, args.delay, args.concurrency, repo.resolve(), keep)
        print(f"CPU check: {collect.cpu_check():.2f} s")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
