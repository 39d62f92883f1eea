"""CPU per answer of distinct archive queries, in-process: the app of one worker
(`app_from_env`) driven by httpx's ASGITransport over `load.distinct_mix` paths, route
threads run inline, `time.process_time` around each request, reported per kind of path.

    python benchmarks/distinct_cpu.py --store /tmp/crowd-1m/archive-bench.db
    python benchmarks/distinct_cpu.py --store … --code /tmp/main-copy --pairs 2
                                     # interleaved with another checkout (« before »)
    python benchmarks/distinct_cpu.py --store /tmp/copy.db --code /tmp/main-copy \
        --code-store /tmp/crowd-1m/archive-bench.db   # when this code migrates its store

The wrk run (`load.py --distinct`) measures the same answers through HTTP, two workers and
thread pools on a shared machine; this one isolates the CPU an answer costs, which is what
requests per second on two cores are bounded by (150 requests/s: ≤ 13 ms an answer).
`--code` runs the same measurement in a subprocess with that checkout first on the path,
so before/after pairs can be interleaved in one invocation (`--pairs`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _asgi import ROOT, child_env


def kind_of(path: str) -> str:
    """The kind `distinct_mix` drew a path from (its `kinds` keys)."""
    if path.startswith("/articles/"):
        return "article"
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/feeds/"):
        return "feed"
    if "page=" in path:
        return "pages"
    if "source=" in path:
        return "theme_source"
    if "q=" in path and "from=" in path:
        return "search_window"
    return "search"


def measure(store: Path, count: int, warm: int, seed: int) -> dict[str, object]:
    """Run in this process: the app on `store`, `warm` paths then `count` timed."""
    import httpx

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _asgi import inline_app
    from load import distinct_mix

    app = inline_app()
    paths = distinct_mix(store, warm + count, seed=seed)
    per_kind: dict[str, list[float]] = {}
    statuses: dict[int, int] = {}

    async def drive() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for i, path in enumerate(paths):
                start = time.process_time()
                answer = await client.get(path, headers={"Accept": "text/html"})
                spent = time.process_time() - start
                if i >= warm:
                    statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
                    per_kind.setdefault(kind_of(path), []).append(spent)

    asyncio.run(drive())
    every = [s for spent in per_kind.values() for s in spent]
    return {
        "code": str(Path(sys.modules["veille"].__file__ or "").parent.parent),
        "load_before": round(os.getloadavg()[0], 1),
        "cpu_ms_per_answer": round(1000 * statistics.fmean(every), 1),
        "statuses": statuses,
        "per_kind_ms": {
            k: [len(v), round(1000 * statistics.fmean(v), 1)] for k, v in sorted(per_kind.items())
        },
    }


def in_subprocess(args: argparse.Namespace, code: Path | None) -> dict[str, object]:
    """One measurement by `code` (None: this checkout) on its store. The app upgrades
    the schema it opens: a checkout with a newer migration needs a copy of the store."""
    store = args.code_store if code is not None and args.code_store else args.store
    env = child_env(store, code or ROOT)
    command = [sys.executable, __file__, "--store", str(store), "--inner"]
    command += ["--count", str(args.count), "--warm", str(args.warm), "--seed", str(args.seed)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--code", type=Path, default=None, help="the « before » checkout")
    parser.add_argument("--code-store", type=Path, default=None, help="--code's own store")
    parser.add_argument("--pairs", type=int, default=1)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--warm", type=int, default=40)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        print(json.dumps(measure(args.store, args.count, args.warm, args.seed)))
        return
    for _ in range(args.pairs):
        for code in [None, args.code] if args.code else [None]:
            print(json.dumps(in_subprocess(args, code), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
