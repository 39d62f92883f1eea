"""The archive under a crowd: wrk, 50 connections, 30 s, on a URL mix, against `veille
serve` as an operator starts it.

    sudo apt-get install wrk                    # Debian's wrk 4.x (LuaJIT scripts)
    python benchmarks/load.py                   # default workers (one per core)
    python benchmarks/load.py --workers 1       # one process
    python benchmarks/load.py --code /tmp/old   # another checkout (e.g. the landed code),
                                                # same store, same mix
    python benchmarks/load.py --cold            # no warm-up: every cache empty, as when
                                                # an edition was just sent
    python benchmarks/load.py --moved 0         # warmed, then the data version moves and
                                                # the crowd comes at once (a cycle stored)
    python benchmarks/load.py --store /tmp/ab/archive-bench.db --distinct
                                                # a store of benchmarks/archive.py (1M
                                                # articles), every request a new query

The store is the demo's (`veille demo --once`: its bundled sample site, collected offline)
in `--workdir`, collected once and reused, so before/after runs read the same articles.
The server runs through its real entry point, `python -m veille serve`, in a subprocess
(with `PYTHONPATH=--code` for another checkout). The mix (`mix()`): the home page, theme
and period filters, searches, article pages, the JSON API, Atom feeds and /sources,
written to a wrk Lua script that requests them in turn and prints requests/s, p50/p99 and
errors as JSON (wrk 4.1 corrects its latencies for coordinated omission: a request that
took L on a connection also counts the requests that connection would have sent meanwhile,
at L − i, L − 2i, … for its mean interval i; so a stall of all 50 connections for L at the
start of a 30 s run makes a p99 of about L − 0.3 s, whatever the rest of the run). The
CPU check: the server's processes' CPU seconds over the run (how many cores it really got)
and the load average before, since the machine may be shared.

`--distinct` (`distinct_mix()`): every request is a query not asked before in the run, so
the response cache never answers — searches (a common word with a place name, a theme, a
period window), theme × source × period combinations, pages of results, article pages by
id, API queries and search feeds, drawn from the store itself (its ids and source keys)
and the generator's vocabulary (`benchmarks/archive.py`). The paths go to a file the wrk
script reads; each wrk thread takes every n-th one, so no path is requested twice.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parent.parent
# A crowd from a letter is browsers (and feed readers for the Atom feeds): the response
# cache keys on the class of the Accept header (`veille.web.conditional.accept_variant`).
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
READER = "application/atom+xml,application/rss+xml;q=0.9,*/*;q=0.8"
TURN = """
local paths = {%s}
local page = {["Accept"] = "%s"}
local reader = {["Accept"] = "%s"}
request = function()
  counter = counter + 1
  local p = paths[(counter %% #paths) + 1]
  if p:sub(1, 7) == "/feeds/" then return wrk.format("GET", p, reader) end
  if p:sub(1, 5) == "/api/" then return wrk.format("GET", p) end
  return wrk.format("GET", p, page)
end
"""
# Each thread reads the path file and takes lines tid, tid + threads, …: none is sent twice.
EACH_ONCE = """
local threads, made, all = %d, 0, {}
setup = function(thread)
  thread:set("tid", made)
  thread:set("wrapped", 0)
  made = made + 1
  all[made] = thread
end
init = function(args)
  paths = {}
  local n = 0
  for line in io.lines("%s") do
    if n %% threads == tid then paths[#paths + 1] = line end
    n = n + 1
  end
end
request = function()
  counter = counter + 1
  if counter > #paths then wrapped = 1 end
  return wrk.format("GET", paths[((counter - 1) %% #paths) + 1])
end
"""
SEARCHES = ("données", "budget", "open data", "intelligence artificielle", "ville", "portail")

LUA = """
local counter = 0
%s
done = function(summary, latency, requests)
  for _, thread in ipairs(all or {}) do
    if thread:get("wrapped") == 1 then io.write("WRKWRAPPED\\n") end
  end
  local e = summary.errors
  io.write("WRKJSON " .. string.format(
    '{"requests": %%d, "seconds": %%.3f, "p50_ms": %%.1f, "p90_ms": %%.1f, "p99_ms": %%.1f, ' ..
    '"max_ms": %%.1f, "connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    e.connect, e.read, e.write, e.status, e.timeout) .. "\\n")
end
"""


def accept_for(path: str) -> dict[str, str]:
    """The Accept header the crowd's client sends for `path` (as the TURN script)."""
    if path.startswith("/feeds/"):
        return {"Accept": READER}
    return {} if path.startswith("/api/") else {"Accept": BROWSER}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env_for(workdir: Path, code: Path | None, store: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEILLE_")}
    env["VEILLE_DATABASE_URL"] = f"sqlite:///{store or workdir / 'veille.db'}"
    if store is not None:  # archive.py's store: the project's themes
        env["VEILLE_CONFIG_FILE"] = str(ROOT / "feeds.yaml")
    env["VEILLE_SECRET_KEY"] = secrets.token_urlsafe(32)
    if code is not None:
        env["PYTHONPATH"] = str(code)
    return env


def collect_store(workdir: Path, code: Path | None) -> None:
    """The demo's store, collected offline once (kept for the next runs)."""
    if (workdir / "veille.db").exists():
        return
    workdir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "veille", "demo", "--once", "--workdir", str(workdir)]
    subprocess.run(command, env=env_for(workdir, code), cwd=workdir, check=True)


def mix(base: str) -> list[str]:
    """The URL mix: what a crowd from a letter opens, in rough proportion."""
    ids = [item["id"] for item in httpx.get(f"{base}/api/articles", timeout=30).json()["items"]]
    paths = ["/", "/", "/?sort=score", "/?theme=open_data", "/?theme=ia"]
    paths += ["/?theme=donnees_interet_general", "/?period=semaine", "/?period=mois"]
    paths += ["/?theme=ia&period=mois", "/?page=2", "/sources", "/editions"]
    paths += [f"/?q={quote(q)}" for q in SEARCHES]
    paths += [f"/articles/{i}" for i in ids[:20]]
    paths += ["/api/articles", "/api/articles?theme=open_data"]
    paths += [f"/api/articles?q={quote('données')}"]
    paths += ["/feeds/open_data.atom", "/feeds/ia.atom", f"/feeds/search.atom?q={quote('budget')}"]
    return paths


def distinct_mix(store: Path, count: int, seed: int) -> list[str]:
    """`count` different requests on an archive.py store (see the module's docstring)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from archive import END, WORDS, build_corpus

    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as db:
        low, high = db.execute("SELECT min(id), max(id) FROM articles").fetchone()
        sources = [row[0] for row in db.execute("SELECT key FROM sources")]
    rng = random.Random(seed)
    places = build_corpus().places
    themes = ("open_data", "ia", "donnees_interet_general")

    def window() -> str:
        start = END.date() - timedelta(days=rng.randint(7, 5 * 365))
        return f"from={start}&to={start + timedelta(days=rng.randint(1, 365))}"

    def query() -> str:
        r = rng.random()
        if r < 0.5:
            return quote(f"{rng.choice(WORDS)} {rng.choice(places)}")
        if r < 0.8:
            return quote(rng.choice(places))
        return quote(f'"{rng.choice(places)}" -{rng.choice(WORDS).split()[0]}')

    kinds = {
        "search": lambda: f"/?q={query()}&theme={rng.choice(themes)}",
        "search_window": lambda: f"/?q={quote(rng.choice(WORDS))}&{window()}",
        "theme_source": lambda: (
            f"/?theme={rng.choice(themes)}&source={rng.choice(sources)}&{window()}"
        ),
        "pages": lambda: f"/?theme={rng.choice(themes)}&{window()}&page={rng.randint(2, 20)}",
        "article": lambda: f"/articles/{rng.randint(low, high)}",
        "api": lambda: (
            f"/api/articles?theme={rng.choice(themes)}&{window()}"
            + ("&sort=score" if rng.random() < 0.3 else "")
        ),
        "feed": lambda: f"/feeds/search.atom?q={query()}",
    }
    weights = {"search": 20, "search_window": 10, "theme_source": 15, "pages": 10}
    weights |= {"article": 25, "api": 15, "feed": 5}
    names, shares = list(weights), list(weights.values())
    paths: dict[str, None] = {}
    while len(paths) < count:
        paths.setdefault(kinds[rng.choices(names, shares)[0]]())
    return list(paths)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of `pid` and its children (the workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def machine() -> dict[str, object]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    return {
        "cpus": len(os.sched_getaffinity(0)),
        "model": model,
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }


def run(args: argparse.Namespace) -> dict[str, object]:
    workdir = args.workdir.resolve()
    store = args.store.resolve() if args.store else None
    if store is None:
        collect_store(workdir, args.code)
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [sys.executable, "-m", "veille", "serve", "--port", str(port)]
    if args.workers is not None:
        command += ["--workers", str(args.workers)]
    server = subprocess.Popen(
        command,
        env=env_for(workdir, args.code, store),
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    launched = time.monotonic()
    try:
        deadline = launched + 60
        while True:
            try:
                articles = httpx.get(f"{base}/healthz", timeout=2).json()["articles"]
                started = time.monotonic() - launched  # the first answer: 0.3 s polls
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("veille serve did not start") from None
                time.sleep(0.3)
        script = workdir / "mix.lua"
        if store is not None and args.distinct:
            paths = distinct_mix(store, args.distinct_paths + 40, seed=1)
            warm, paths = paths[:40], paths[40:]  # other queries: warm without a hit later
            listed = workdir / "paths.txt"
            listed.write_text("\n".join(paths) + "\n", encoding="utf-8")
            body = EACH_ONCE % (args.threads, listed)
        else:
            paths = warm = mix(base)  # warm: each worker's first answers, the templates
            body = TURN % (", ".join(json.dumps(p) for p in paths), BROWSER, READER)
        for path in [] if args.cold else warm:
            answer = httpx.get(base + path, headers=accept_for(path), timeout=60)
            assert answer.status_code == 200, path
        if args.moved is not None:  # an edition just sent: every cache is of an old version
            with contextlib.closing(sqlite3.connect(store or workdir / "veille.db")) as db:
                db.execute("UPDATE data_version SET version = version + 1 WHERE id = 1")
                db.commit()
            time.sleep(args.moved)
        script.write_text(LUA % body, encoding="utf-8")
        info = machine()
        cpu_before = cpu_seconds(server.pid)
        wrk = subprocess.run(
            [
                "wrk",
                f"-t{args.threads}",
                f"-c{args.connections}",
                f"-d{args.duration}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                base,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        cpu = cpu_seconds(server.pid) - cpu_before
    finally:
        server.send_signal(signal.SIGTERM)  # the parent stops its workers
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            print("veille serve did not stop in 60 s: killed", file=sys.stderr)
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    if "WRKWRAPPED" in wrk.stdout:
        print("some paths were requested twice: raise --distinct-paths", file=sys.stderr)
    line = next(x for x in wrk.stdout.splitlines() if x.startswith("WRKJSON "))
    figures = json.loads(line.removeprefix("WRKJSON "))
    seconds = figures["seconds"]
    errors = sum(figures[k] for k in ("connect", "read", "write", "status", "timeout"))
    return {
        "code": str(args.code or ROOT),
        "workers": args.workers if args.workers is not None else "default",
        "mix": "distinct" if store is not None and args.distinct else "crowd",
        "cold": args.cold,
        "moved": args.moved,
        "wrapped": "WRKWRAPPED" in wrk.stdout,
        "articles": articles,
        "start_s": round(started, 1),
        "paths": len(paths),
        "connections": args.connections,
        "requests_per_s": round(figures["requests"] / seconds, 1),
        "p50_ms": figures["p50_ms"],
        "p90_ms": figures["p90_ms"],
        "p99_ms": figures["p99_ms"],
        "max_ms": figures["max_ms"],
        "errors": errors,
        # wrk counts a request slower than --timeout (10 s) as a timeout, outside the
        # latency figures; "status" is a non-2xx/3xx answer.
        "errors_by_kind": {
            k: figures[k] for k in ("connect", "read", "write", "status", "timeout")
        },
        "cpu_ms_per_answer": round(1000 * cpu / max(1, figures["requests"]), 1),
        "server_cores_used": round(cpu / seconds, 2),
        **info,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/veille-load"))
    parser.add_argument("--code", type=Path, default=None, help="another checkout to serve")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--store", type=Path, default=None, help="an archive.py SQLite store")
    parser.add_argument("--distinct", action="store_true", help="every request a new query")
    parser.add_argument("--distinct-paths", type=int, default=60_000)
    parser.add_argument(
        "--cold",
        action="store_true",
        help="no warm-up: the crowd meets empty caches, as right after an edition is sent",
    )
    parser.add_argument(
        "--moved",
        type=float,
        default=None,
        metavar="SECONDS",
        help="move the data version this long before the crowd comes (after any warm-up)",
    )
    args = parser.parse_args()
    if args.distinct and args.store is None:
        parser.error("--distinct needs --store (a store of benchmarks/archive.py)")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: sudo apt-get install wrk")
    print(json.dumps(run(args), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
