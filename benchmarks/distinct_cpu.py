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

    python benchmarks/distinct_cpu.py --store … --code /tmp/main-copy --interleave 2

`--interleave N`: both checkouts serve from two long-lived children at once and each path
goes to one then the other (which first alternates), N rounds of seeds seed, seed + 1, …: on a
shared machine whose speed moves by a third within minutes (benchmarks/README.md), whole
runs one after the other differ by more than a change of 1 ms an answer; request by
request, both codes meet the same machine. Reported per kind for each code, with the
median of the per-path differences.
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
from typing import Any

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


def serve(store: Path) -> None:
    """Child of `--interleave`: this checkout's app; a path a line on stdin, its CPU seconds
    and status a JSON line on stdout (the app and client live across requests)."""
    import httpx

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _asgi import inline_app

    app = inline_app()
    loop = asyncio.new_event_loop()
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url="http://bench")
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        path = line.strip()
        start = time.process_time()
        answer = loop.run_until_complete(client.get(path, headers={"Accept": "text/html"}))
        spent = time.process_time() - start
        print(json.dumps({"cpu": spent, "status": answer.status_code}), flush=True)


def interleaved(args: argparse.Namespace) -> dict[str, object]:
    """Both checkouts request by request (`--interleave`): per kind, each code's mean CPU
    ms per answer, and the median of the per-path differences (this checkout − `--code`)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from load import distinct_mix

    codes = {"this": ROOT, "code": args.code}
    children = {}
    for name, code in codes.items():
        store = args.code_store if name == "code" and args.code_store else args.store
        command = [sys.executable, __file__, "--store", str(store), "--serve"]
        children[name] = subprocess.Popen(
            command,
            env=child_env(store, code),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
    for child in children.values():
        assert child.stdout is not None
        json.loads(child.stdout.readline())
    spent: dict[str, dict[str, list[float]]] = {name: {} for name in codes}
    statuses: dict[str, dict[int, int]] = {name: {} for name in codes}
    loads = [os.getloadavg()[0]]
    for round_ in range(args.interleave):
        # A new seed each round: a path asked again would be replayed by the response cache.
        paths = distinct_mix(args.store, args.warm + args.count, seed=args.seed + round_)
        for i, path in enumerate(paths):
            order = ["this", "code"] if (i + round_) % 2 == 0 else ["code", "this"]
            for name in order:
                child = children[name]
                assert child.stdin is not None and child.stdout is not None
                child.stdin.write(path + "\n")
                child.stdin.flush()
                answer = json.loads(child.stdout.readline())
                if i >= args.warm:
                    spent[name].setdefault(f"{round_}|{path}", []).append(answer["cpu"])
                    got = statuses[name]
                    got[answer["status"]] = got.get(answer["status"], 0) + 1
        loads.append(os.getloadavg()[0])
    for child in children.values():
        assert child.stdin is not None
        child.stdin.close()
        child.wait()
    per_kind: dict[str, dict[str, list[float]]] = {}
    for key in spent["this"]:
        kind = kind_of(key.split("|", 1)[1])
        mine, theirs = spent["this"][key][0], spent["code"][key][0]
        slot = per_kind.setdefault(kind, {"this": [], "code": [], "diff": []})
        slot["this"].append(mine)
        slot["code"].append(theirs)
        slot["diff"].append(mine - theirs)
    every = {n: [s for v in per_kind.values() for s in v[n]] for n in ("this", "code", "diff")}

    def ms(values: list[float], how: Any = statistics.fmean) -> float:
        return round(1000 * how(values), 2)

    return {
        "this": str(ROOT),
        "code": str(args.code),
        "rounds": args.interleave,
        "load": [round(x, 1) for x in loads],
        "statuses": statuses,
        "all_ms": {
            "this": ms(every["this"]),
            "code": ms(every["code"]),
            "median_diff": ms(every["diff"], statistics.median),
        },
        "per_kind_ms": {
            k: {
                "n": len(v["this"]),
                "this": ms(v["this"]),
                "code": ms(v["code"]),
                "median_diff": ms(v["diff"], statistics.median),
            }
            for k, v in sorted(per_kind.items())
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
    parser.add_argument("--interleave", type=int, default=0, help="rounds, request by request")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.store)
        return
    if args.interleave:
        if args.code is None:
            parser.error("--interleave needs --code (the « before » checkout)")
        print(json.dumps(interleaved(args), ensure_ascii=False), flush=True)
        return
    if args.inner:
        print(json.dumps(measure(args.store, args.count, args.warm, args.seed)))
        return
    for _ in range(args.pairs):
        for code in [None, args.code] if args.code else [None]:
            print(json.dumps(in_subprocess(args, code), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
