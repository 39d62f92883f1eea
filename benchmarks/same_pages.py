"""Whether two checkouts answer the same distinct archive requests byte for byte: status,
headers (but the per-request `server-timing`) and body of each `load.distinct_mix` path,
fetched in-process from each checkout's app on the same store.

    python benchmarks/same_pages.py --store /tmp/copy.db --code /tmp/main-copy
    python benchmarks/same_pages.py --store … --code … --accept application/atom+xml

A change meant to cut CPU must not change what users get; `distinct_cpu.py` measures the
CPU, this checks the answers (run it on a copy of the store: the app migrates what it opens).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import subprocess
import sys
from pathlib import Path

from _asgi import ROOT, child_env

SKIPPED_HEADERS = {"server-timing"}  # the time this request took


def answers(store: Path, count: int, seed: int, accept: str) -> dict[str, str]:
    """In this process: path → digest of (status, headers, body) from this code's app."""
    import httpx

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from _asgi import inline_app
    from load import distinct_mix

    app = inline_app()
    out: dict[str, str] = {}

    async def drive() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for path in distinct_mix(store, count, seed=seed):
                answer = await client.get(path, headers={"Accept": accept})
                digest = hashlib.sha256(str(answer.status_code).encode())
                for name, value in answer.headers.multi_items():
                    if name.lower() not in SKIPPED_HEADERS:
                        digest.update(f"\n{name.lower()}: {value}".encode())
                digest.update(b"\n\n" + answer.content)
                out[path] = f"{answer.status_code} {digest.hexdigest()}"

    asyncio.run(drive())
    return out


def run(args: argparse.Namespace, code: Path) -> dict[str, str]:
    env = child_env(args.store, code)
    command = [sys.executable, __file__, "--store", str(args.store), "--inner"]
    command += ["--count", str(args.count), "--seed", str(args.seed), "--accept", args.accept]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    found: dict[str, str] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--code", type=Path, help="the « before » checkout")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--accept", default="text/html")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        print(json.dumps(answers(args.store, args.count, args.seed, args.accept)))
        return
    if args.code is None:
        parser.error("--code (the « before » checkout) is required")
    before, after = run(args, args.code), run(args, ROOT)
    differ = sorted(p for p in before if before[p] != after.get(p))
    statuses: dict[str, int] = {}
    for value in after.values():
        statuses[value.split()[0]] = statuses.get(value.split()[0], 0) + 1
    print(json.dumps({"paths": len(before), "statuses": statuses, "different": differ}))
    sys.exit(1 if differ or before.keys() != after.keys() else 0)


if __name__ == "__main__":
    main()
