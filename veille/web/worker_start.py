"""What a serving process does before it accepts its first connection.

Measured on a freshly started `veille serve` under a crowd (benchmarks/README.md, « Load »,
« A fresh server »), two things made its first seconds slow, whatever was cached:

- **The first worker ready took every connection.** uvicorn's workers listen on one
  socket, each as soon as its own start-up is over; the worker that pre-rendered the
  most-read pages was still at it when the other started listening, so the crowd's
  keep-alive connections all went to the other one — half the cores for the whole visit —
  and that worker then waited on the pre-rendering worker's claims. So each worker waits
  at a `StartGate` until every worker of the server is ready, and they all open together.
- **Each process paid its first-time work on the crowd's first requests**: loading the
  theme model (article pages), FastAPI's first look at each route, first statements of
  each query shape — while the other requests of that worker waited for the GIL. The
  pre-render does it in one worker only (the others find its answers in the shared file,
  unrendered), so each worker asks its own app for one page of each kind a crowd opens
  (`first_asks`), marked so the response cache neither keeps nor shares them: this
  process renders them, whatever another worker did.

Then the start-up heap (the model, compiled statements, the answers' connections) is
frozen out of the garbage collector's full walks, as `ready_to_serve` does for the import.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import anyio
import anyio.to_thread
from starlette.types import ASGIApp

from veille.web.prerender import BROWSER_ACCEPT, READER_ACCEPT, Ask, ask_app
from veille.web.response_cache import UNKEPT

log = logging.getLogger(__name__)

START_GATE_ENV = "VEILLE_START_GATE"  # "<workers> <folder>", set by `veille serve`
GATE_SECONDS = 60.0  # a worker that never gets ready (crashed) holds the others this long
GATE_POLL = 0.01
SEARCH_WORD = "données"  # any word: the search's code paths, not its results, are warmed


@dataclass(frozen=True)
class StartGate:
    """Files in a folder private to one `veille serve`: one per worker that is ready. A
    worker started later (uvicorn replaces a dead one) finds the count met and waits for
    nothing."""

    folder: Path
    workers: int
    timeout: float = GATE_SECONDS
    poll: float = GATE_POLL

    def arrive(self) -> None:
        (self.folder / f"{os.getpid()}.ready").touch()

    def ready(self) -> int:
        return sum(1 for _ in self.folder.glob("*.ready"))

    async def wait(self) -> bool:
        """Say this worker is ready and wait for the others (bounded); True when all came."""
        await anyio.to_thread.run_sync(self.arrive)
        deadline = time.monotonic() + self.timeout
        while await anyio.to_thread.run_sync(self.ready) < self.workers:
            if time.monotonic() > deadline:
                log.warning("not every web worker started within %.0f s: serving", self.timeout)
                return False
            await anyio.sleep(self.poll)
        return True

    def value(self) -> str:
        return f"{self.workers} {self.folder}"


def gate_from(value: str | None) -> StartGate | None:
    """The gate `veille serve` passed in `START_GATE_ENV`; None for a lone process."""
    if not value:
        return None
    workers, folder = value.split(" ", 1)
    return StartGate(Path(folder), int(workers))


def first_asks(newest_article: int | None, themes: list[str]) -> list[Ask]:
    """One page of each kind a crowd opens: listings, a search, an article, the sources,
    the editions, the API and the Atom feeds (a theme's and a search's)."""
    asks = [
        Ask("/", "", BROWSER_ACCEPT),
        Ask("/", f"q={SEARCH_WORD}", BROWSER_ACCEPT),
        Ask("/sources", "", BROWSER_ACCEPT),
        Ask("/editions", "", BROWSER_ACCEPT),
        Ask("/feeds/search.atom", f"q={SEARCH_WORD}", READER_ACCEPT),
    ]
    if themes:
        asks.append(Ask(f"/feeds/{themes[0]}.atom", "", READER_ACCEPT))
    if newest_article is not None:
        asks.append(Ask(f"/articles/{newest_article}", "", BROWSER_ACCEPT))
    return asks


async def warm(app: ASGIApp, host: bytes, themes: list[str]) -> int:
    """Render `first_asks` in this process, unkept; the number of answers that were 200."""
    extra = {UNKEPT: True}
    status, body = await ask_app(app, host, Ask("/api/articles", "", b"*/*"), extra)
    newest = None
    if status == 200:
        items = json.loads(body).get("items") or []
        newest = items[0].get("id") if items else None
    fine = int(status == 200)
    for ask in first_asks(newest if isinstance(newest, int) else None, themes):
        status, _ = await ask_app(app, host, ask, extra)
        fine += status == 200
    return fine
