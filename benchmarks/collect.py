"""Collection speed: `veille collect --all` against a naive feedparser + trafilatura script.

A synthetic web (benchmarks/_site.py: 100 sites on 127.0.0.2–127.0.0.101, 500 feeds × 50
entries, 2,000 distinct ~100 KB article pages relisted with tracking parameters) is served
by a separate process. Each contender runs in its own subprocess on a fresh temp dir:

* the project, through its real entry point `python -m veille collect --all --json`, on a
  fresh SQLite database, twice (the second cycle gets 304 for every feed);
* the naive baseline (`--baseline-worker`): `feedparser.parse(url)` for each feed, then
  `trafilatura.fetch_url` + `trafilatura.extract` for each article URL not seen before as an
  exact string; its second cycle passes the feeds' ETag/Last-Modified to feedparser and skips
  the URLs it has seen.

Peak memory is sampled every 50 ms from /proc over the contender's whole process tree
(the main process, the forkserver, the extraction workers): the sum of RSS (counts pages
shared between processes once per process, so it overstates) and the sum of PSS (from
/proc/PID/smaps_rollup, shared pages split between their users: the honest total).

Run: python benchmarks/collect.py                      # delays 1.0 and 0.25 s, full baseline
     python benchmarks/collect.py --delays 0.25         # one per-host delay
     python benchmarks/collect.py --baseline-sample 100 # baseline extrapolated from 100 each
     python benchmarks/collect.py --server-only         # how fast the server alone is
     python benchmarks/collect.py --profile prof.out    # cProfile the project's first cycle
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
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


def measure(label: str, cmd: list[str], env: dict[str, str], cwd: Path) -> Run:
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    sampler = MemorySampler(proc.pid)
    out, err = proc.communicate()
    seconds = time.monotonic() - started
    sampler.stop()
    if proc.returncode != 0:
        raise SystemExit(f"{label} failed ({proc.returncode}):\n{err[-3000:]}")
    try:
        detail = json.loads(out[out.index("{") :])
    except ValueError:
        detail = {"stdout": out[-500:]}
    main, children = sampler.cpu_split()
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
    )


# --------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket() as s:
        s.bind((_site.HOSTS[0], 0))
        return int(s.getsockname()[1])


def start_server(seed: int, port: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "_site.py"), "serve", str(seed), str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        proc.kill()
        raise SystemExit(f"benchmark server did not start: {line!r}")
    print(f"server: {line.strip()[6:]} on {len(_site.HOSTS)} addresses, port {port}", flush=True)
    return proc


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat", "rb") as f:
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


def prepare_seed_model() -> None:
    """Build the seed theme model once, before anything is timed.

    A new installation trains it on its first classification (~4 s on 2 cores) and caches
    it in ~/.cache/veille; every later run loads it. The cycles measured here are those of
    an installed collector, so a machine where the cache is missing builds it first, and
    the report says how long that took.
    """
    started = time.monotonic()
    code = "from veille.classify.classifier import default_model; default_model()"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    print(f"seed model ready in {time.monotonic() - started:.1f} s (not timed)", flush=True)


def run_project(
    p: _site.Plan, delay: float, concurrency: int, profile: Path | None
) -> tuple[Run, Run]:
    with tempfile.TemporaryDirectory(prefix="veille-bench-") as tmp:
        work = Path(tmp)
        write_config(p, work / "feeds.yaml")
        env = {
            **os.environ,
            "VEILLE_DATABASE_URL": f"sqlite:///{work / 'veille.db'}",
            "VEILLE_CONFIG_FILE": str(work / "feeds.yaml"),
            "VEILLE_ALLOW_PRIVATE_NETWORKS": "1",
            "VEILLE_PER_HOST_CONCURRENCY": "2",
            "VEILLE_PER_HOST_DELAY": str(delay),
            "VEILLE_CONCURRENCY": str(concurrency),
            "PYTHONPATH": str(REPO),
        }
        cmd = [sys.executable, "-m", "veille", "collect", "--all", "--json"]
        first_cmd = cmd
        if profile is not None:
            first_cmd = [sys.executable, "-m", "cProfile", "-o", str(profile.resolve()), *cmd[1:]]
        first = measure(f"project, delay {delay:g} s: first cycle", first_cmd, env, work)
        second = measure(f"project, delay {delay:g} s: second cycle", cmd, env, work)
        return first, second


# --------------------------------------------------------------------------- baseline


def baseline_worker(plan_args: list[str]) -> None:
    """The naive script, run in its own process; prints its timings as JSON."""
    import feedparser
    import trafilatura

    seed, port, sample = (int(x) for x in plan_args)
    p = _site.plan(seed, port)
    feed_urls = [p.feed_url(f) for f in p.feeds]
    n_feeds = len(feed_urls) if sample == 0 else min(sample, len(feed_urls))
    out: dict[str, Any] = {"sampled": sample != 0}

    started = time.monotonic()
    links: list[str] = []
    validators: dict[str, tuple[str | None, str | None]] = {}
    for url in feed_urls[:n_feeds]:
        parsed = feedparser.parse(url)
        validators[url] = (parsed.get("etag"), parsed.get("modified"))
        links.extend(e.link for e in parsed.entries if e.get("link"))
    feeds_seconds = time.monotonic() - started

    # A naive script dedupes by exact string; in sample mode the full plan says how many
    # distinct strings the 500 feeds hold.
    distinct = list(dict.fromkeys(links))
    if sample:
        everything = [p.article_url(i, q) for f in p.feeds for i, q in f.entries]
        distinct = list(dict.fromkeys(everything))
    n_pages = len(distinct) if sample == 0 else min(sample, len(distinct))
    step = max(1, len(distinct) // n_pages)
    chosen = distinct[::step][:n_pages]
    # trafilatura >= 2.3 refuses non-public addresses by default: the benchmark's sites live
    # on 127.0.0.2-101, so its SSRF protection is switched off for this script only.
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "SSRF_PROTECTION", "off")
    started = time.monotonic()
    extracted = 0
    for url in chosen:
        html = trafilatura.fetch_url(url, config=config)
        if html and trafilatura.extract(html, url=url):
            extracted += 1
    if extracted < len(chosen) * 0.9:
        raise SystemExit(f"baseline extracted only {extracted} of {len(chosen)} pages")
    pages_seconds = time.monotonic() - started

    total_feeds, total_pages = len(feed_urls), len(distinct)
    out.update(
        feeds_timed=n_feeds,
        pages_timed=len(chosen),
        pages_extracted=extracted,
        distinct_urls=total_pages,
        feeds_seconds=feeds_seconds * total_feeds / n_feeds,
        pages_seconds=pages_seconds * total_pages / max(1, len(chosen)),
        seconds_per_feed=feeds_seconds / n_feeds,
        seconds_per_page=pages_seconds / max(1, len(chosen)),
    )
    out["first_cycle_seconds"] = out["feeds_seconds"] + out["pages_seconds"]

    started = time.monotonic()
    not_modified = 0
    for url in feed_urls[:n_feeds]:
        etag, modified = validators[url]
        parsed = feedparser.parse(url, etag=etag, modified=modified)
        not_modified += int(parsed.get("status") == 304)
        # seen URLs are skipped: nothing else to do when the feed did not change
    second = time.monotonic() - started
    out["second_cycle_not_modified"] = not_modified
    out["second_cycle_seconds"] = second * total_feeds / n_feeds
    print(json.dumps(out))


def run_baseline(p: _site.Plan, sample: int) -> Run:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--baseline-worker",
        str(p.seed),
        str(p.port),
        str(sample),
    ]
    with tempfile.TemporaryDirectory(prefix="veille-bench-") as tmp:
        return measure("baseline", cmd, env, Path(tmp))


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


def cpu_check() -> float:
    """CPU seconds of a fixed pure-Python loop: how fast this (virtual) machine runs now.

    Shared 2-core machines drift by a third from one hour to the next; a run's figures are
    only comparable with another's at a similar check (printed before and after the run).
    """
    started = time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i * i % 7
    return time.process_time() - started


def report(
    project: list[tuple[float, Run, Run]], baseline: Run | None, checks: tuple[float, float]
) -> None:
    print()
    print(f"machine: {machine()}")
    before, after = checks
    print(f"CPU check (fixed loop, lower is faster): {before:.2f} s before, {after:.2f} s after")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
    header = (
        f"{'contender':44} {'1st cycle':>10} {'peak RSS':>10} {'peak PSS':>10} {'2nd cycle':>10}"
    )
    print(header)
    print("-" * len(header))
    for delay, first, second in project:
        print(
            f"{'veille, per-host delay ' + format(delay, 'g') + ' s':44} {first.seconds:9.1f}s "
            f"{first.peak_rss_mb:8.0f}MB {first.peak_pss_mb:8.0f}MB {second.seconds:9.2f}s"
        )
        d1, d2 = first.detail, second.detail
        print(
            f"    first: {d1.get('new_articles')} new, {d1.get('duplicates_merged')} merged, "
            f"{d1.get('partial_articles')} partial, {d1.get('sources_failed')} failed, "
            f"cycle {d1.get('seconds')} s in-process; second: "
            f"{d2.get('sources_not_modified')} not modified, {d2.get('new_articles')} new, "
            f"cycle {d2.get('seconds')} s in-process, peak PSS {second.peak_pss_mb:.0f} MB"
        )
        print(
            f"    CPU (sampled every 50 ms): first cycle main process {first.cpu_main:.1f} s, "
            f"other processes {first.cpu_children:.1f} s; second cycle main process "
            f"{second.cpu_main:.1f} s, other processes {second.cpu_children:.1f} s; "
            f"peak RSS of the main process alone {first.peak_main_rss_mb:.0f} MB"
        )
    if baseline is not None:
        b = baseline.detail
        tag = " (extrapolated)" if b["sampled"] else ""
        print(
            f"{'naive baseline' + tag:44} {b['first_cycle_seconds']:9.1f}s "
            f"{baseline.peak_rss_mb:8.0f}MB {baseline.peak_pss_mb:8.0f}MB "
            f"{b['second_cycle_seconds']:9.2f}s"
        )
        print(
            f"    {b['feeds_timed']} feeds timed at {b['seconds_per_feed'] * 1000:.1f} ms, "
            f"{b['pages_timed']} pages timed at {b['seconds_per_page'] * 1000:.1f} ms; "
            f"{b['distinct_urls']} distinct URL strings fetched (2,000 distinct articles); "
            f"feeds {b['feeds_seconds']:.1f} s + pages {b['pages_seconds']:.1f} s; "
            f"second cycle {b['second_cycle_not_modified']} feeds answered 304"
        )
        for delay, first, _ in project:
            print(
                f"    speed-up at delay {delay:g} s: "
                f"{b['first_cycle_seconds'] / first.seconds:.1f}× "
                f"(a baseline that canonicalised URLs would fetch 2,000 pages: "
                f"{b['feeds_seconds'] + 2000 * b['seconds_per_page']:.0f} s, "
                f"{(b['feeds_seconds'] + 2000 * b['seconds_per_page']) / first.seconds:.1f}×)"
            )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--baseline-worker":
        baseline_worker(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--port", type=int, default=0, help="0: a free port")
    ap.add_argument(
        "--delays",
        default=f"1.0,{DEFAULT_DELAY}",
        help="per-host delays (s) to run the project with, comma-separated",
    )
    ap.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    ap.add_argument("--baseline-sample", type=int, default=0, help="0: full baseline")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--server-only", action="store_true")
    ap.add_argument("--profile", type=Path, help="cProfile output of the project's 1st cycle")
    args = ap.parse_args()

    port = args.port or free_port()
    p = _site.plan(args.seed, port)
    print(
        f"site: {len(p.feeds)} feeds × {_site.ENTRIES_PER_FEED} entries, {len(p.articles)} "
        f"articles, {p.distinct_entry_urls()} distinct entry URL strings",
        flush=True,
    )
    server = start_server(args.seed, port)
    try:
        if args.server_only:
            server_only(p, server.pid)
            return
        prepare_seed_model()
        check_before = cpu_check()
        results = []
        for delay in (float(x) for x in args.delays.split(",")):
            first, second = run_project(p, delay, args.concurrency, args.profile)
            print(
                f"project delay {delay:g}: first {first.seconds:.1f} s, "
                f"second {second.seconds:.2f} s",
                flush=True,
            )
            results.append((delay, first, second))
        baseline = None if args.no_baseline else run_baseline(p, args.baseline_sample)
        report(results, baseline, (check_before, cpu_check()))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
