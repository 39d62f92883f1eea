"""The most-read public pages rendered ahead of the crowd, once per machine.

A letter sends its readers to the same few pages within minutes of the edition being
sent — which moves the data version and so empties every response cache. Measured with
`benchmarks/load.py --cold` (benchmarks/README.md, « Load »), the crowd's first seconds
then waited for the first renders: p99 748 ms, max 1.3 s, against ~22 ms warmed.

So each serving process watches the data version (one primary-key SELECT a second, in a
thread) and, when it moves — and once at start-up, before the worker accepts a request —
asks its own app for `most_read` pages: the home page, each theme's page, /sources, the
themes' Atom feeds, page 1 of /api/articles, then the pages of the articles that page
lists (the home page's: where its readers go next). It asks through the app itself, the ASGI path
a request takes, with the headers a browser or a feed reader sends, so the answers land in
the response cache under exactly the keys and ETags of real requests (and in the machine's
shared answers: `veille.web.shared_answers`). One worker per machine claims each version's
pre-render in that file; the others find the answers there on their first miss.

The walk runs on the server's event loop as a background task — the response cache's
single-flight state belongs to that loop — one page at a time, each render in the thread
pool as a request's, so it holds one render slot of eight and never blocks a request; it
stops at `BUDGET_SECONDS`. Nothing personal is asked (no cookie, only public paths), and
nothing at all when the archive is members-only: its answers are never shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message

from veille.db.data_version import DataVersion
from veille.web.shared_answers import SharedAnswers

log = logging.getLogger(__name__)

# What Chromium and Firefox send when navigating, and what feed readers send: the Accept
# classes « html » and « » (`veille.web.conditional.accept_variant`).
BROWSER_ACCEPT = b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
READER_ACCEPT = b"application/atom+xml,application/rss+xml;q=0.9,*/*;q=0.8"
POLL_SECONDS = 1.0
BUDGET_SECONDS = 20.0  # per version: a few dozen pages take well under a second when idle
CLAIM = "prerender"


@dataclass(frozen=True)
class Ask:
    path: str
    query: str
    accept: bytes


# Page 1 of the archive in JSON: the articles the home page lists, same query, same order.
LISTING = Ask("/api/articles", "", b"*/*")


def most_read(themes: Iterable[str]) -> list[Ask]:
    """The pages a crowd from a letter opens first (a few dozen at most); the walk adds
    the pages of the articles the home page lists (`listed_articles`)."""
    themes = list(themes)
    asks = [Ask("/", "", BROWSER_ACCEPT)]
    asks += [Ask("/", f"theme={t}", BROWSER_ACCEPT) for t in themes]
    asks += [Ask("/sources", "", BROWSER_ACCEPT), LISTING]
    asks += [Ask(f"/feeds/{t}.atom", "", READER_ACCEPT) for t in themes]
    return asks


def listed_articles(listing: bytes) -> list[Ask]:
    """The article pages of a `LISTING` answer: what the home page's readers open next
    (a letter's links lead to the sources' sites, the archive's home to these)."""
    try:
        items = json.loads(listing).get("items") or []
    except (ValueError, AttributeError):
        return []
    ids = [item.get("id") for item in items if isinstance(item, dict)]
    return [Ask(f"/articles/{i}", "", BROWSER_ACCEPT) for i in ids if isinstance(i, int)]


@dataclass
class Prerenderer:
    app: ASGIApp
    version: Callable[[], DataVersion | None]
    archive_public: Callable[[], bool]
    asks: list[Ask]
    host: bytes
    shared: SharedAnswers | None = None
    budget: float = BUDGET_SECONDS
    poll: float = POLL_SECONDS
    done: int | None = None  # the last version this process looked at
    checks: int = 0  # looks at the version (a test waits on it: no clock to inject)
    walked: list[int] = field(default_factory=list)  # versions this process rendered ahead

    async def once(self) -> int:
        """Pre-render for the current version unless already looked at, private, or
        claimed by another worker; the number of pages asked."""
        self.checks += 1
        version = await anyio.to_thread.run_sync(self.version)
        if version is None or version.number == self.done or not self.archive_public():
            return 0
        self.done = version.number
        shared = self.shared
        key = (CLAIM, str(version.number))
        if shared is not None and not await anyio.to_thread.run_sync(
            shared.claim, key, version.number
        ):
            return 0  # another worker of this machine renders them; its answers are shared
        asked = 0
        walk = list(self.asks)
        with anyio.move_on_after(self.budget):
            while asked < len(walk) and self.archive_public():
                ask = walk[asked]
                status, body = await ask_app(self.app, self.host, ask)
                asked += 1
                if ask == LISTING and status == 200:
                    walk += listed_articles(body)
        self.walked.append(version.number)
        return asked

    async def watch(self) -> None:
        """`once` every `poll` seconds, for the life of the worker."""
        while True:
            await anyio.sleep(self.poll)
            try:
                await self.once()
            except Exception:  # a failed pre-render is a cold cache, never a stopped worker
                log.exception("pre-rendering the most-read pages failed")


async def ask_app(
    app: ASGIApp, host: bytes, ask: Ask, extra: dict[str, Any] | None = None
) -> tuple[int, bytes]:
    """Ask `app` for `ask` through the ASGI path of a request (`extra`: more scope keys);
    its status and body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": ask.path,
        "raw_path": ask.path.encode(),
        "query_string": ask.query.encode(),
        "root_path": "",
        "headers": [(b"host", host), (b"accept", ask.accept)],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 80),
        "state": {},
        **(extra or {}),
    }
    sent = False
    answer: dict[str, Any] = {"status": 0, "body": []}

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await anyio.sleep_forever()  # no disconnect: the answer is wanted whole
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"].append(message.get("body", b""))

    await app(scope, receive, send)
    return answer["status"], b"".join(answer["body"])


def host_of(base_url: str) -> bytes:
    return (urlsplit(base_url).netloc or "localhost").encode("latin-1")


def run_with(
    app: Starlette,
    prerenderer: Prerenderer,
    before_serving: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Pre-render once in the app's lifespan start-up (uvicorn accepts no request before
    it completes), then `before_serving` (`veille.web.worker_start`), then watch in a
    background task until the worker stops."""
    previous = app.router.lifespan_context
    tasks: list[asyncio.Task[None]] = []

    @contextlib.asynccontextmanager
    async def lifespan(inner: Any) -> AsyncIterator[Any]:
        async with previous(inner) as state:
            try:
                await prerenderer.once()
            except Exception:  # a cold cache, never a worker that does not start
                log.exception("pre-rendering the most-read pages failed")
            if before_serving is not None:
                await before_serving()
            tasks.append(asyncio.get_running_loop().create_task(prerenderer.watch()))
            try:
                yield state
            finally:
                for task in tasks:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    app.router.lifespan_context = lifespan
