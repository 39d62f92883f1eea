"""The archive under a crowd: wrk, 50 connections, 30 s, on a URL mix, against `veille
serve` as an operator starts it.

    sudo apt-get install wrk                    # Debian's wrk 4.x (LuaJIT scripts)
    python benchmarks/load.py                   # default workers (one per core)
    python benchmarks/load.py --workers 1       # one process
    python benchmarks/load.py --code /tmp/old   # another checkout (e.g. the landed code),
                                                # same store, same mix

The store is the demo's (`veille demo --once`: its bundled sample site, collected offline)
in `--workdir`, collected once and reused, so before/after runs read the same articles.
The server runs through its real entry point, `python -m veille serve`, in a subprocess
(with `PYTHONPATH=--code` for another checkout). The mix (`mix()`): the home page, theme
and period filters, searches, article pages, the JSON API, Atom feeds and /sources,
written to a wrk Lua script that requests them in turn and prints requests/s, p50/p99 and
errors as JSON. The CPU check: the server's processes' CPU seconds over the run (how many
cores it really got) and the load average before, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parent.parent
SEARCHES = ("données", "budget", "open data", "intelligence artificielle", "ville", "portail")

LUA = """
local paths = {%s}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write("WRKJSON " .. string.format(
    '{"requests": %%d, "seconds": %%.3f, "p50_ms": %%.1f, "p90_ms": %%.1f, "p99_ms": %%.1f, ' ..
    '"max_ms": %%.1f, "connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(90) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    e.connect, e.read, e.write, e.status, e.timeout) .. "\\n")
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env_for(workdir: Path, code: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEILLE_")}
    env["VEILLE_DATABASE_URL"] = f"sqlite:///{workdir / 'veille.db'}"
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
    collect_store(workdir, args.code)
    port = free_port()
    command = [sys.executable, "-m", "veille", "serve", "--port", str(port)]
    if args.workers is not None:
        command += ["--workers", str(args.workers)]
    server = subprocess.Popen(
        command,
        env=env_for(workdir, args.code),
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                articles = httpx.get(f"{base}/healthz", timeout=2).json()["articles"]
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("veille serve did not start") from None
                time.sleep(0.3)
        paths = mix(base)
        for path in paths:  # warm: each worker's first answers, the templates
            assert httpx.get(base + path, timeout=30).status_code == 200, path
        script = workdir / "mix.lua"
        script.write_text(LUA % ", ".join(json.dumps(p) for p in paths), encoding="utf-8")
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
    line = next(x for x in wrk.stdout.splitlines() if x.startswith("WRKJSON "))
    figures = json.loads(line.removeprefix("WRKJSON "))
    seconds = figures["seconds"]
    errors = sum(figures[k] for k in ("connect", "read", "write", "status", "timeout"))
    return {
        "code": str(args.code or ROOT),
        "workers": args.workers if args.workers is not None else "default",
        "articles": articles,
        "paths": len(paths),
        "connections": args.connections,
        "requests_per_s": round(figures["requests"] / seconds, 1),
        "p50_ms": figures["p50_ms"],
        "p90_ms": figures["p90_ms"],
        "p99_ms": figures["p99_ms"],
        "max_ms": figures["max_ms"],
        "errors": errors,
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
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: sudo apt-get install wrk")
    print(json.dumps(run(args), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
