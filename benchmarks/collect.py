"""Collection speed: `veille collect --all` against naive feedparser + trafilatura scripts.

A synthetic web (benchmarks/_site.py: 100 sites on 127.0.0.2–127.0.0.101, 500 feeds × 50
entries, 2,000 distinct ~100 KB article pages relisted with tracking parameters; `--small`:
9 sites, 9 feeds, 189 articles) is served by a separate process. Each contender runs in its
own subprocess on a fresh temp dir:

* the project, through its real entry point `python -m veille collect --all --json`, on a
  fresh SQLite database, twice (the second cycle gets 304 for every feed);
* the baselines (benchmarks/_baseline.py): `naive` fetches each entry URL not seen before as
  an exact string, `canon` canonicalises URLs first (the honest comparison).

Each figure is run `--repeat` times (default 3) and the median is reported, with the CPU
seconds of the whole process tree (getrusage of the reaped children, and /proc sampled for
the processes that are not reaped, such as the forkserver) and the load average: the
machine is shared, so CPU is the steadier figure.

Peak memory is sampled every 50 ms from /proc over the contender's whole process tree
(the main process, the forkserver, the extraction workers): the sum of RSS (counts pages
shared between processes once per process, so it overstates) and the sum of PSS (from
/proc/PID/smaps_rollup, shared pages split between their users: the honest total).

Run: python benchmarks/collect.py                      # delays 1.0 and 0.25 s, full baselines
     python benchmarks/collect.py --delays 0.25         # one per-host delay
     python benchmarks/collect.py --small --delays 0    # the small web, no per-host delay
     python benchmarks/collect.py --repo /tmp/before    # the project from another checkout
     python benchmarks/collect.py --baseline-sample 100 # baselines extrapolated from 100 each
     python benchmarks/collect.py --server-only         # how fast the server alone is
     python benchmarks/collect.py --profile prof.out    # cProfile (main thread's CPU clock)
     python benchmarks/collect.py --keep /tmp/dbs       # keep each run's database
     python benchmarks/collect.py --delays 0.25 --second-only --repo /tmp/before --repo .
                                    # one first cycle, then each checkout's second cycle
                                    # (every feed 304) on copies of its database, interleaved
     python benchmarks/collect.py --delays 0.25 --in-process --repo /tmp/before --repo .
                                    # the cycles as `veille run` runs them: one long-lived
                                    # process per checkout, its scheduler's job runs the first
                                    # cycle, then the second ones, interleaved (_inprocess.py)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import _site  # noqa: E402
from _machine import cpu_check  # noqa: E402

DEFAULT_DELAY = 0.25
DEFAULT_CONCURRENCY = 64

# --------------------------------------------------------------------------- memory


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(b")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _tree(root: int) -> list[int]:
    tree = _children()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(tree.get(pid, ()))
    return out


def _kb(path: str, field: bytes) -> int:
    try:
        with open(path, "rb") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class MemorySampler:
    """Peak summed RSS and PSS (MB) of a process tree, sampled in a thread."""

    def __init__(self, pid: int, every: float = 0.05) -> None:
        self.pid = pid
        self.every = every
        self.peak_rss = 0.0
        self.peak_pss = 0.0
        self.peak_procs = 0
        self.peak_main_rss = 0.0  # the root process alone
        self.cpu: dict[int, float] = {}  # last CPU seconds seen per process of the tree
        self.cpu_main_thread = 0.0  # the root process's main thread (the cycle's writer)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = _tree(self.pid)
            each = [_kb(f"/proc/{p}/status", b"VmRSS:") / 1024 for p in pids]
            rss = sum(each)
            self.peak_main_rss = max(self.peak_main_rss, each[0] if each else 0.0)
            pss = sum(_kb(f"/proc/{p}/smaps_rollup", b"Pss:") for p in pids) / 1024
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_procs = max(self.peak_procs, len(pids))
            for p in pids:
                with contextlib.suppress(OSError, IndexError, ValueError):
                    self.cpu[p] = cpu_seconds(p)
            with contextlib.suppress(OSError, IndexError, ValueError):
                self.cpu_main_thread = cpu_seconds(self.pid, f"task/{self.pid}/")
            self._stop.wait(self.every)

    def cpu_split(self) -> tuple[float, float]:
        """CPU seconds of the root process and of all its descendants (as last sampled)."""
        main = self.cpu.get(self.pid, 0.0)
        return main, sum(self.cpu.values()) - main

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Run:
    label: str
    seconds: float
    peak_rss_mb: float
    peak_pss_mb: float
    processes: int
    detail: dict[str, Any]
    cpu_main: float = 0.0
    cpu_children: float = 0.0
    peak_main_rss_mb: float = 0.0
    cpu_main_thread: float = 0.0  # of cpu_main: the rest is the I/O and other threads


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(label: str, cmd: list[str], env: dict[str, str], cwd: Path) -> Run:
    started = time.monotonic()
    cpu_before = _children_cpu()
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler = MemorySampler(proc.pid)
    out, err = proc.communicate()
    seconds = time.monotonic() - started
    reaped = _children_cpu() - cpu_before
    sampler.stop()
    if proc.returncode != 0:
        raise SystemExit(f"{label} failed ({proc.returncode}):\n{err[-3000:]}")
    for line in err.splitlines():
        if line.startswith("cpu profile:"):  # `_cpuprofile.py`: the main thread's share
            print(f"{label}: {line}", flush=True)
    try:
        detail = json.loads(out[out.index("{") :])
    except ValueError:
        detail = {"stdout": out[-500:]}
    main, children = sampler.cpu_split()
    # Reaped processes are counted exactly by getrusage; the forkserver is never reaped by
    # the project's process, so what it and its workers used comes from the samples.
    detail["cpu_seconds"] = max(reaped, main + children)
    return Run(
        label,
        seconds,
        sampler.peak_rss,
        sampler.peak_pss,
        sampler.peak_procs,
        detail,
        cpu_main=main,
        cpu_children=children,
        peak_main_rss_mb=sampler.peak_main_rss,
        cpu_main_thread=sampler.cpu_main_thread,
    )


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind((_site.HOSTS[0], 0))
        return int(s.getsockname()[1])


def start_server(seed: int, port: int, shape: _site.Shape = _site.FULL) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "_site.py"), "serve", str(seed), str(port), shape.name],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        proc.kill()
        raise SystemExit(f"benchmark server did not start: {line!r}")
    print(f"server: {line.strip()[6:]} on {shape.hosts} addresses, port {port}", flush=True)
    return proc


def cpu_seconds(pid: int, task: str = "") -> float:
    """User + system CPU time of a process so far (`task`: "task/TID/", one thread's)."""
    with open(f"/proc/{pid}/{task}stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_only(p: _site.Plan, server_pid: int, threads: int = 16) -> None:
    """Every resource once, from `threads` threads sharing an httpx client."""
    import httpx

    urls = [p.feed_url(f) for f in p.feeds] + [p.article_url(a.index) for a in p.articles]
    # One client per thread: a shared client's pool is the bottleneck at 100+ connections
    # (httpcore's pool bookkeeping is quadratic in its connection count; see README).
    local = threading.local()

    def get(url: str) -> int:
        if not hasattr(local, "client"):
            local.client = httpx.Client()
        return len(local.client.get(url, headers={"Accept-Encoding": "gzip"}).content)

    for attempt in ("warm-up", "measured"):
        started = time.monotonic()
        cpu = cpu_seconds(server_pid)
        with ThreadPoolExecutor(threads) as pool:
            size = sum(pool.map(get, urls))
        seconds = time.monotonic() - started
        cpu = cpu_seconds(server_pid) - cpu
        print(
            f"server alone ({attempt}): {len(urls)} requests in {seconds:.2f} s = "
            f"{len(urls) / seconds:,.0f} req/s, {size / seconds / 1e6:,.0f} MB/s decoded "
            f"({threads} client threads, gzip); server CPU {cpu:.2f} s = "
            f"{cpu / len(urls) * 1e6:.0f} µs per request"
        )


# --------------------------------------------------------------------------- project


def write_config(p: _site.Plan, path: Path) -> None:
    lines = ["themes: []", "sources:"]
    for f in p.feeds:
        lines += [
            f"  - key: {f.key}",
            f"    name: Flux {f.key}",
            f"    url: {p.feed_url(f)}",
            "    kind: feed",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def compile_checkout(repo: Path) -> None:
    """Write the bytecode of the checkout's `veille` package, as `pip install` does.

    With PYTHONDONTWRITEBYTECODE set (this machine's shells set it), a checkout run from
    its sources compiles every veille module again in every process: ~50 ms of CPU per
    command that a deployed collector never pays. Not timed."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cmd = [sys.executable, "-m", "compileall", "-q", str(repo / "veille")]
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)


def prepare_seed_model(repo: Path = REPO) -> None:
    """Build the seed theme model once, before anything is timed.

    A new installation trains it on its first classification (~4 s on 2 cores) and caches
    it in ~/.cache/veille; every later run loads it. The cycles measured here are those of
    an installed collector, so a machine where the cache is missing builds it first, and
    the report says how long that took.
    """
    started = time.monotonic()
    code = "from veille.classify.classifier import default_model; default_model()"
    env = {**os.environ, "PYTHONPATH": str(repo)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    print(f"seed model ready in {time.monotonic() - started:.1f} s (not timed)", flush=True)


def project_env(work: Path, delay: float, concurrency: int, repo: Path) -> dict[str, str]:
    return {
        **os.environ,
        "VEILLE_DATABASE_URL": f"sqlite:///{work / 'veille.db'}",
        "VEILLE_CONFIG_FILE": str(work / "feeds.yaml"),
        "VEILLE_ALLOW_PRIVATE_NETWORKS": "1",
        "VEILLE_PER_HOST_CONCURRENCY": "2",
        "VEILLE_PER_HOST_DELAY": str(delay),
        "VEILLE_CONCURRENCY": str(concurrency),
        "PYTHONPATH": str(repo),
    }


COLLECT = [sys.executable, "-m", "veille", "collect", "--all", "--json"]
TICK = [sys.executable, "-m", "veille", "collect", "--json"]  # no --all: nothing due


def run_project(
    p: _site.Plan,
    delay: float,
    concurrency: int,
    profile: Path | None,
    repo: Path = REPO,
    keep: Path | None = None,
) -> tuple[Run, Run]:
    with tempfile.TemporaryDirectory(prefix="veille-bench-") as tmp:
        work = Path(tmp)
        write_config(p, work / "feeds.yaml")
        env = project_env(work, delay, concurrency, repo)
        first_cmd = COLLECT
        if profile is not None:
            # Timed by the main thread's CPU clock (`_cpuprofile.py`), not the wall clock:
            # profiles taken at different loads then compare.
            first_cmd = [
                sys.executable,
                str(HERE / "_cpuprofile.py"),
                str(profile.resolve()),
                *COLLECT[2:],
            ]
        first = measure(f"project, delay {delay:g} s: first cycle", first_cmd, env, work)
        second = measure(f"project, delay {delay:g} s: second cycle", COLLECT, env, work)
        if keep is not None:  # the store, to compare what two checkouts stored
            keep.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / "veille.db", keep)
        return first, second


def second_only(
    p: _site.Plan, delay: float, concurrency: int, repos: list[Path], repeat: int
) -> None:
    """The second cycle alone: one first cycle (by the first checkout: give the oldest
    first, its schema is the one every checkout can upgrade), then `repeat` rounds in which
    each checkout runs the second cycle on a fresh copy of that database, so the checkouts
    alternate within seconds of each other and see the same load."""
    with tempfile.TemporaryDirectory(prefix="veille-bench-") as tmp:
        work = Path(tmp)
        write_config(p, work / "feeds.yaml")
        first = measure(
            "first cycle", COLLECT, project_env(work, delay, concurrency, repos[0]), work
        )
        print(
            f"first cycle ({repos[0]}): {first.seconds:.1f} s, CPU "
            f"{first.detail['cpu_seconds']:.1f} s, {first.detail.get('new_articles')} new",
            flush=True,
        )
        runs: dict[Path, list[tuple[float, float, float, str]]] = {r: [] for r in repos}
        for _ in range(repeat):
            for repo in repos:
                run = work / "second"
                shutil.rmtree(run, ignore_errors=True)
                run.mkdir()
                for name in ("veille.db", "veille.db-wal", "feeds.yaml"):
                    if (work / name).exists():
                        shutil.copy(work / name, run / name)
                env = project_env(run, delay, concurrency, repo)
                # Untimed, a tick of this checkout with nothing due (every source was just
                # fetched): it upgrades the schema of a checkout newer than the first
                # cycle's and syncs feeds.yaml as this checkout does, as the cycles before
                # the measured one did in a deployment (it migrates once, not each cycle).
                subprocess.run(TICK, env=env, cwd=run, check=True, stdout=subprocess.DEVNULL)
                now_load = load()
                second = measure(f"second cycle ({repo})", COLLECT, env, run)
                d = second.detail
                assert d.get("sources_not_modified") == len(p.feeds), d
                runs[repo].append((d["cpu_seconds"], second.seconds, d["seconds"], now_load))
                print(
                    f"{repo}: second cycle CPU {d['cpu_seconds']:.2f} s, wall "
                    f"{second.seconds:.2f} s ({d['seconds']:.2f} s in-process), load {now_load}",
                    flush=True,
                )
    print()
    print("| checkout | 2nd cycle CPU | 2nd cycle wall | in-process | load at each run |")
    print("| --- | --- | --- | --- | --- |")
    for repo, values in runs.items():
        cpu, wall, inside, loads = (list(v) for v in zip(*values, strict=True))
        print(f"| {repo} | {med(cpu)} s | {med(wall)} s | {med(inside)} s | {', '.join(loads)} |")


class InProcess:
    """A checkout's long-lived process running cycles through its scheduler's job
    (`_inprocess.py`), one cycle each `tick()`."""

    def __init__(self, repo: Path, work: Path, delay: float, concurrency: int) -> None:
        self.repo = repo
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "_inprocess.py")],
            env=project_env(work, delay, concurrency, repo),
            cwd=work,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # the scheduler's log lines
            text=True,
        )

    def tick(self) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("tick\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"{self.repo}: the in-process runner died ({self.proc.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        self.proc.wait()


def in_process(
    p: _site.Plan, delay: float, concurrency: int, repos: list[Path], repeat: int
) -> None:
    """The cycles as `veille run` runs them: one long-lived process per checkout whose
    scheduler job runs its first cycle (imports paid there, once), then `repeat` rounds in
    which each checkout's process runs a second cycle (every feed 304), interleaved."""
    with tempfile.TemporaryDirectory(prefix="veille-bench-") as tmp:
        runners: list[InProcess] = []
        try:
            for n, repo in enumerate(repos):
                work = Path(tmp) / str(n)
                work.mkdir()
                write_config(p, work / "feeds.yaml")
                runners.append(InProcess(repo, work, delay, concurrency))
            firsts: dict[Path, dict[str, Any]] = {}
            for r in runners:
                first = r.tick()
                firsts[r.repo] = first
                s = first["summary"]
                print(
                    f"{r.repo}: first cycle in `veille run` {first['wall']:.1f} s wall, CPU "
                    f"{first['cpu_process']:.1f} s (process) + {first['cpu_children']:.1f} s "
                    f"(extraction), {s.get('new_articles')} new, load {load()}",
                    flush=True,
                )
            runs: dict[Path, list[tuple[float, float, float, str]]] = {r: [] for r in repos}
            for _ in range(repeat):
                for r in runners:
                    now_load = load()
                    second = r.tick()
                    s = second["summary"]
                    assert s.get("sources_not_modified") == len(p.feeds), s
                    cpu = second["cpu_process"] + second["cpu_children"]
                    runs[r.repo].append((cpu, second["wall"], float(s["seconds"]), now_load))
                    print(
                        f"{r.repo}: second cycle in `veille run` CPU {cpu:.3f} s, wall "
                        f"{second['wall']:.3f} s ({s['seconds']:.3f} s in the cycle), "
                        f"load {now_load}",
                        flush=True,
                    )
        finally:
            for r in runners:
                r.close()
    print()
    print(
        "| checkout | 1st cycle wall | 1st cycle CPU | 2nd cycle CPU | 2nd cycle wall "
        "| in the cycle | load at each run |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for repo, values in runs.items():
        cpu, wall, inside, loads = (list(v) for v in zip(*values, strict=True))
        first = firsts[repo]
        print(
            f"| {repo} (in `veille run`) | {first['wall']:.1f} s | "
            f"{first['cpu_process'] + first['cpu_children']:.1f} s | {med(cpu, 3)} s | "
            f"{med(wall, 3)} s | {med(inside, 3)} s | {', '.join(loads)} |"
        )


# --------------------------------------------------------------------------- baselines


def run_baseline(p: _site.Plan, kind: str, sample: int) -> Run:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [
        sys.executable,
        str(HERE / "_baseline.py"),
        kind,
        str(p.seed),
        str(p.port),
        p.shape.name,
        str(sample),
    ]
    with tempfile.TemporaryDirectory(prefix="veille-bench-") as tmp:
        return measure(f"baseline {kind}", cmd, env, Path(tmp))


# --------------------------------------------------------------------------- report


def machine() -> str:
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = _kb("/proc/meminfo", b"MemTotal:") / 1024 / 1024
    return (
        f"{os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), {model}, "
        f"{mem:.0f} GB RAM, Python {sys.version.split()[0]}"
    )


def load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def med(values: list[float], digits: int = 2) -> str:
    """`median (min–max)` of a figure measured several times."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}–{max(values):.{digits}f})"
    )


@dataclass
class Figures:
    """One contender's runs of the same figure."""

    label: str
    wall: list[float]
    cpu: list[float]
    pss: list[float]
    second_wall: list[float]
    second_cpu: list[float]
    loads: list[str]
    details: list[dict[str, Any]]

    def row(self) -> str:
        return (
            f"| {self.label} | {med(self.wall)} s | {med(self.cpu)} s | {med(self.pss)} MB | "
            f"{med(self.second_wall)} s | {med(self.second_cpu)} s | {', '.join(self.loads)} |"
        )


def report(figures: list[Figures], checks: tuple[float, float]) -> None:
    print()
    print(f"machine: {machine()}")
    before, after = checks
    print(f"CPU check (fixed loop, lower is faster): {before:.2f} s before, {after:.2f} s after")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}; load average now {load()}")
    print("median (min–max) of the runs; CPU = user + system of the whole process tree")
    print()
    print(
        "| contender | 1st cycle wall | 1st cycle CPU | peak PSS | 2nd cycle wall | "
        "2nd cycle CPU | load average (1/5/15 min) at each run |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for f in figures:
        print(f.row())
    print()
    for f in figures:
        for d in f.details:
            print(f"  {f.label}: {json.dumps(d)[:400]}")
    project = [f for f in figures if f.label.startswith("veille")]
    for b in (f for f in figures if f.label.startswith("baseline")):
        for f in project:
            ratio = statistics.median(b.wall) / statistics.median(f.wall)
            cpu = statistics.median(b.cpu) / statistics.median(f.cpu)
            print(f"  {f.label} against {b.label}: {ratio:.2f}× faster (wall), {cpu:.2f}× (CPU)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--port", type=int, default=0, help="0: a free port")
    ap.add_argument("--small", action="store_true", help="the small web (9 feeds, 189 articles)")
    ap.add_argument(
        "--delays",
        default=f"1.0,{DEFAULT_DELAY}",
        help="per-host delays (s) to run the project with, comma-separated",
    )
    ap.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure (median reported)")
    ap.add_argument(
        "--repo",
        type=Path,
        action="append",
        help="checkout(s) to run the project from (default: this one); repeat to compare",
    )
    ap.add_argument("--baselines", default="canon,naive", help="comma-separated, or ''")
    ap.add_argument("--baseline-sample", type=int, default=0, help="0: full baselines")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--server-only", action="store_true")
    ap.add_argument("--profile", type=Path, help="cProfile output of the project's 1st cycle")
    ap.add_argument(
        "--second-only",
        action="store_true",
        help="one first cycle, then only each checkout's second cycle, interleaved",
    )
    ap.add_argument(
        "--in-process",
        action="store_true",
        help="cycles inside one long-lived process per checkout, as `veille run` runs them",
    )
    ap.add_argument(
        "--keep",
        type=Path,
        help="directory where each run's database is copied (to compare two checkouts' results)",
    )
    args = ap.parse_args()

    shape = _site.SMALL if args.small else _site.FULL
    port = args.port or free_port()
    p = _site.plan(args.seed, port, shape)
    print(
        f"site: {len(p.feeds)} feeds × {shape.entries_per_feed} entries, {len(p.articles)} "
        f"articles, {p.distinct_entry_urls()} distinct entry URL strings",
        flush=True,
    )
    server = start_server(args.seed, port, shape)
    repos = args.repo or [REPO]
    kinds = [] if args.no_baseline else [k for k in args.baselines.split(",") if k]
    try:
        if args.server_only:
            server_only(p, server.pid)
            return
        for repo in repos:
            compile_checkout(repo)
            prepare_seed_model(repo)
        check_before = cpu_check()
        if args.in_process:
            delay = float(args.delays.split(",")[0])
            in_process(p, delay, args.concurrency, repos, args.repeat)
            print(f"CPU check: {check_before:.2f} s before, {cpu_check():.2f} s after")
            return
        if args.second_only:
            delay = float(args.delays.split(",")[0])
            second_only(p, delay, args.concurrency, repos, args.repeat)
            print(f"CPU check: {check_before:.2f} s before, {cpu_check():.2f} s after")
            return
        figures: list[Figures] = []
        for delay in (float(x) for x in args.delays.split(",")):
            group = []
            for repo in repos:
                name = "" if repo == REPO and len(repos) == 1 else f" ({repo})"
                group.append(
                    (repo, Figures(f"veille{name}, delay {delay:g} s", [], [], [], [], [], [], []))
                )
            for i in range(args.repeat):  # checkouts interleaved: they see the same load
                for n, (repo, f) in enumerate(group):
                    f.loads.append(load())
                    kept = args.keep / f"{n}-{repo.name}-{delay:g}-{i}.db" if args.keep else None
                    profile = args.profile
                    if profile is not None and len(group) > 1:  # one profile per checkout
                        profile = profile.with_name(f"{profile.stem}-{n}-{repo.name}.prof")
                    first, second = run_project(p, delay, args.concurrency, profile, repo, kept)
                    f.wall.append(first.seconds)
                    f.cpu.append(first.detail["cpu_seconds"])
                    f.pss.append(first.peak_pss_mb)
                    f.second_wall.append(second.seconds)
                    f.second_cpu.append(second.detail["cpu_seconds"])
                    f.details.append(
                        {
                            k: first.detail.get(k)
                            for k in ("new_articles", "duplicates_merged", "sources_failed")
                        }
                        | {"in_process": first.detail.get("seconds"), "procs": first.processes}
                    )
                    print(
                        f"{f.label}: first {first.seconds:.1f} s "
                        f"(CPU {first.detail['cpu_seconds']:.1f} s: main process "
                        f"{first.cpu_main:.1f} s (main thread {first.cpu_main_thread:.1f} s), "
                        f"the others {first.cpu_children:.1f} s; PSS "
                        f"{first.peak_pss_mb:.1f} MB, main process RSS "
                        f"{first.peak_main_rss_mb:.1f} MB, {first.processes} process(es) at "
                        f"most), second {second.seconds:.2f} s",
                        flush=True,
                    )
            figures.extend(f for _, f in group)
        for kind in kinds:
            f = Figures(f"baseline {kind}", [], [], [], [], [], [], [])
            for _ in range(args.repeat):
                f.loads.append(load())
                run = run_baseline(p, kind, args.baseline_sample)
                b = run.detail
                f.wall.append(b["first_cycle_seconds"])
                f.cpu.append(b["cpu_seconds"])
                f.pss.append(run.peak_pss_mb)
                f.second_wall.append(b["second_cycle_seconds"])
                f.second_cpu.append(float("nan"))
                f.details.append(
                    {k: b[k] for k in ("sampled", "distinct_urls", "feeds_seconds")}
                    | {"pages_seconds": b["pages_seconds"]}
                )
                print(f"{f.label}: first {b['first_cycle_seconds']:.1f} s", flush=True)
            figures.append(f)
        report(figures, (check_before, cpu_check()))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
