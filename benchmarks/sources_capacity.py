"""How many sources one machine keeps fresh: steady-state collection of many small feeds.

    python benchmarks/sources_capacity.py                       # 10,000 sources, SQLite
    python benchmarks/sources_capacity.py --sources 2000
    python benchmarks/sources_capacity.py --database-url postgresql://user@host/db

A local server (its own process, asyncio, one listening socket per address on
127.0.0.2–127.0.0.101, no per-host delay) serves N small RSS feeds of one entry each
(`--empty-feeds`: none), with an ETag; it answers `If-None-Match` with 304. The
collector is the scheduler's own job, `veille.scheduler.collect_due` (it reads feeds.yaml,
claims due sources by leases, runs cycles of `CLAIM_PER_CYCLE` sources until none is
due), in this process with its extraction workers.

1. Warm-up: one full first collection (every feed 200, every article page fetched and
   extracted), timed and reported apart.
2. Steady state, `--rounds` times: every source is made due at once (as if their interval
   had elapsed together, the worst case), one feed in twenty changed its ETag (a 200 with
   the same entry: parsed, looked up, unchanged), the others answer 304. The round's wall
   time gives the capacity: sources per hour = N / seconds × 3600.
3. A tick with nothing due.

The server shares the machine's cores; its CPU is reported beside the collector's.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import tempfile
import time
from datetime import UTC, datetime
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

from _machine import cpu_check

HOSTS = tuple(f"127.0.0.{i}" for i in range(2, 102))
CHANGED_EVERY = 20  # one feed in twenty answers 200 (new ETag, same entry) each round


def feed_url(port: int, n: int) -> str:
    return f"http://{HOSTS[n % len(HOSTS)]}:{port}/feeds/{n}.xml"


def feed_body(port: int, n: int, empty: bool = False) -> bytes:
    host = HOSTS[n % len(HOSTS)]
    head = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Commune {n}</title><link>http://{host}:{port}/</link>"
    )
    if empty:
        return (head + "</channel></rss>").encode()
    return (
        head + f"<item><title>La commune {n} ouvre ses données budgétaires</title>"
        f"<link>http://{host}:{port}/articles/{n}</link>"
        f"<guid>http://{host}:{port}/articles/{n}</guid>"
        "<pubDate>Fri, 20 Nov 2026 08:00:00 +0000</pubDate>"
        f"<description>Le budget {n} est publié en open data.</description>"
        "</item></channel></rss>"
    ).encode()


def article_body(n: int) -> bytes:
    text = " ".join(
        f"La commune numéro {n} publie son budget primitif, ses subventions et ses marchés "
        f"publics en données ouvertes (paragraphe {p})."
        for p in range(6)
    )
    return (
        f'<!doctype html><html lang="fr"><head><title>Commune {n}</title></head><body>'
        f"<article><h1>La commune {n} ouvre ses données budgétaires</h1><p>{text}</p>"
        f"<p>{text}</p></article></body></html>"
    ).encode()


# --------------------------------------------------------------------------- server


def serve(port: int, generation: Synchronized[int], ready: Synchronized[int], empty: bool) -> None:
    """Answer until killed: feeds (ETag, 304), article pages, 404 for anything else."""

    def answer(path: str, headers: dict[str, str]) -> bytes:
        if path.startswith("/feeds/"):
            n = int(path[7:].split(".")[0])
            gen = generation.value if n % CHANGED_EVERY == 0 else 0
            etag = f'"{n}-{gen}"'
            if headers.get("if-none-match") == etag:
                return f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\n\r\n".encode()
            body = feed_body(port, n, empty)
            head = f"Content-Type: application/rss+xml\r\nETag: {etag}\r\n"
        elif path.startswith("/articles/"):
            body = article_body(int(path[10:]))
            head = "Content-Type: text/html; charset=utf-8\r\n"
        else:
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        return f"HTTP/1.1 200 OK\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode() + body

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await reader.readuntil(b"\r\n\r\n")
                lines = request.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                writer.write(answer(path, headers))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError, ValueError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = [await asyncio.start_server(handle, host, port) for host in HOSTS]
        ready.value = 1
        await asyncio.gather(*(s.serve_forever() for s in servers))

    asyncio.run(main())


# --------------------------------------------------------------------------- driver


def cpu_self_and_children() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> str:
    model = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    usable = len(os.sched_getaffinity(0))
    return f"{os.cpu_count()} CPUs ({usable} usable), {model}, load {os.getloadavg()[0]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--port", type=int, default=18_411)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--empty-feeds",
        action="store_true",
        help="feeds without entries: no article pages, so the warm-up is quick and the "
        "steady state measures polling alone, over an empty store",
    )
    args = parser.parse_args()
    n = args.sources

    import logging

    from sqlalchemy import update

    from veille import scheduler
    from veille.config import get_settings
    from veille.db.engine import make_engine, session_factory, transaction, upgrade
    from veille.db.tables import SourceRow

    logging.basicConfig(level=logging.WARNING)
    print(f"machine: {machine()}; CPU check {cpu_check():.2f} s (~0.55 s when quiet)")
    generation = multiprocessing.Value("i", 1)
    ready = multiprocessing.Value("i", 0)
    server = multiprocessing.Process(
        target=serve, args=(args.port, generation, ready, args.empty_feeds)
    )
    server.start()
    assert server.pid is not None
    server_pid = server.pid
    try:
        while not ready.value:
            time.sleep(0.05)
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "feeds.yaml"
            lines = ["sources:"] + [
                f'  - {{key: s{i}, name: Source {i}, url: "{feed_url(args.port, i)}"}}'
                for i in range(n)
            ]
            config.write_text("\n".join(lines) + "\n", encoding="utf-8")
            url = args.database_url or f"sqlite:///{tmp}/capacity.db"
            settings = get_settings(
                database_url=url,
                config_file=config,
                allow_private_networks=True,
                per_host_delay=0.0,
                per_host_concurrency=2,
                concurrency=64,
            )
            engine = make_engine(url)
            upgrade(engine)
            sessions = session_factory(engine)
            backend = engine.dialect.name
            kind = "empty feeds" if args.empty_feeds else "one entry each"
            print(f"{n} sources ({kind}) on {len(HOSTS)} hosts, {backend}")

            def timed(label: str) -> float:
                cpu, server_cpu, wall = cpu_self_and_children(), cpu_of(server_pid), time.time()
                scheduler.collect_due(settings)
                wall = time.time() - wall
                cpu = cpu_self_and_children() - cpu
                server_cpu = cpu_of(server_pid) - server_cpu
                print(
                    f"{label}: {wall:.1f} s wall, collector CPU {cpu:.1f} s, "
                    f"server CPU {server_cpu:.1f} s"
                )
                return wall

            timed("warm-up (first collection, every page extracted)")
            for r in range(args.rounds):
                generation.value += 1
                with transaction(sessions) as session:
                    session.execute(update(SourceRow).values(next_fetch_at=datetime.now(UTC)))
                wall = timed(f"steady round {r + 1} (all {n} due, 1 in {CHANGED_EVERY} changed)")
                print(f"  → {n / wall * 3600:,.0f} sources per hour kept fresh")
            timed("tick with nothing due")
            engine.dispose()
    finally:
        server.kill()
        server.join()
    print(f"CPU check after: {cpu_check():.2f} s, load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
