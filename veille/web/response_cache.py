"""Answers of the public archive kept until the data changes, and `304 Not Modified`.

A letter to thousands of members brings a crowd to the same few pages within minutes,
while the archive only changes when a cycle stores, the delegate decides or an edition is
sent. This pure ASGI layer, inside `WebGuard` (so hits still get the security headers):

- reads the data version (one primary-key SELECT: on the event loop for SQLite, a local
  file read of tens of microseconds that a thread hop would cost more than; in a thread
  for a database across the network);
- answers a conditional request whose ETag / date still holds with a 304, unrendered;
- replays a kept answer for the same key (`veille.web.conditional.validators`: method,
  path, normalised query, variant headers, data version, day), else renders, adds the
  validators and keeps the answer in a bounded LRU (entries and bytes).

A crowd meets a cold cache whenever the version moves (a cycle stored) and in a freshly
started worker. Measured under wrk (benchmarks/README.md, « Load »), that was the whole
p99 tail: in the first seconds, dozens of renders ran at once in the thread pool — the
same page several times over — and the event loop, replaying kept answers, got one GIL
turn in twenty. So a miss renders once per key (`single flight`: identical requests
arriving meanwhile wait for that answer and replay it), and at most `RENDERS_AT_ONCE` misses
render at a time per worker, the others queueing in order while hits keep flowing. The
rendered answer is collected under that bound and sent after it, so a slow reader never
holds a render slot.

What is never shared between users, and so never kept nor given validators:
anything but GET on the public archive paths (`PUBLIC_EXACT`, `PUBLIC_PREFIXES`: not the
desk, the members' pages, the logins nor the streamed exports); the whole archive when
`VEILLE_ARCHIVE_ACCESS=members` (its answer depends on who asks); a request carrying a desk
or member session cookie; an answer that is not a 200, sets a cookie or says `no-store`.

Each worker process keeps its own cache; the version they share is in the database, so
they all drop their entries as soon as it moves. Under `veille serve --workers N` a miss
first looks in the machine's shared answers (`veille.web.shared_answers`, same key), and
what a worker renders goes there too: after the version moves, each page is rendered once
per machine instead of once per worker.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from veille.db.data_version import DataVersion
from veille.web.conditional import Validators, not_modified, validators
from veille.web.shared_answers import SharedAnswers

PUBLIC_EXACT = frozenset({"/", "/sources", "/editions", "/api/articles"})
PUBLIC_PREFIXES = ("/articles/", "/feeds/", "/editions/", "/api/articles/")
IDENTITY_COOKIES = (b"veille_desk", b"veille_member")  # also their __Host- forms
CACHE_CONTROL = (b"cache-control", b"no-cache")  # keep, but ask us again each time
MAX_ENTRIES = 2048
MAX_BYTES = 64 * 1024 * 1024  # per worker
MAX_ENTRY_BYTES = 2 * 1024 * 1024
# Renders in progress per worker. Python runs one at a time under the GIL, but a render
# waiting on the database (a 3 GB archive not all in memory) holds no CPU: at 2, the 1M
# distinct-query benchmark left the server at 0.48 of a core against 1.0 for anyio's 40
# threads. 8 keeps that overlap while the event loop still gets a GIL turn in nine, not
# in forty-one (benchmarks/README.md, « Load »).
RENDERS_AT_ONCE = 8
CLAIM_POLL = 0.005  # seconds between two looks for another worker's render
# A scope key: render this request, neither kept nor shared (a worker's own warm-up,
# `veille.web.worker_start`, which must do the rendering itself, whatever is cached).
UNKEPT = "veille.unkept"


@dataclass(frozen=True)
class Entry:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class LRU:
    """Entries bounded in number and total size, least recently used dropped first."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[tuple[str, ...], Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: tuple[str, ...]) -> Entry | None:
        entry = self._items.get(key)
        if entry is not None:
            self._items.move_to_end(key)
        return entry

    def put(self, key: tuple[str, ...], entry: Entry) -> None:
        if key in self._items:
            self.size -= len(self._items.pop(key).body)
        self._items[key] = entry
        self.size += len(entry.body)
        while self._items and (len(self._items) > self.max_entries or self.size > self.max_bytes):
            self.size -= len(self._items.popitem(last=False)[1].body)

    def clear(self) -> None:
        self._items.clear()
        self.size = 0


def is_public(scope: Scope, archive_public: bool) -> bool:
    """A GET on the public archive by someone the answer does not depend on."""
    if not archive_public or scope["method"] != "GET":
        return False
    path: str = scope["path"]
    if path not in PUBLIC_EXACT and not path.startswith(PUBLIC_PREFIXES):
        return False
    for name, value in scope["headers"]:
        if name == b"cookie" and any(c in value for c in IDENTITY_COOKIES):
            return False
    return True


def _storable(message: Message) -> bool:
    if message["status"] != 200:
        return False
    for name, value in message.get("headers", []):
        lowered = name.lower()
        if lowered == b"set-cookie":
            return False
        if lowered == b"cache-control" and b"no-store" in value.lower():
            return False
    return True


def response_cache_of(app: object) -> ResponseCache | None:
    """The app's ResponseCache instance once its middleware stack is built (Starlette
    builds it on the first call), following each layer's `.app`."""
    layer = getattr(app, "middleware_stack", None)
    while layer is not None and not isinstance(layer, ResponseCache):
        layer = getattr(layer, "app", None)
    return layer


class ResponseCache:
    def __init__(
        self,
        app: ASGIApp,
        *,
        version: Callable[[], DataVersion | None],
        today: Callable[[], date],
        archive_public: Callable[[], bool],
        local_database: bool = False,
        lru: LRU | None = None,
        renders_at_once: int = RENDERS_AT_ONCE,
        shared: SharedAnswers | None = None,
    ) -> None:
        self.app = app
        self.local_database = local_database
        self.version = version
        self.today = today
        self.archive_public = archive_public
        self.lru = lru if lru is not None else LRU()
        self.shared = shared
        self._seen: int | None = None
        self._renders = anyio.CapacityLimiter(renders_at_once)
        self._in_flight: dict[tuple[str, ...], anyio.Event] = {}
        self.renders = 0  # answers this worker rendered itself (not replayed nor shared)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get(UNKEPT)
            or not is_public(scope, self.archive_public())
        ):
            await self.app(scope, receive, send)
            return
        if self.local_database:
            version = self.version()
        else:
            version = await anyio.to_thread.run_sync(self.version)
        if version is None:
            await self.app(scope, receive, send)
            return
        if version.number != self._seen:  # every kept answer is of an older version
            self.lru.clear()
            self._seen = version.number
        headers = dict(scope["headers"])
        v = validators("GET", scope["path"], scope["query_string"], headers, version, self.today())
        if not_modified(v, headers):
            await _send(send, 304, [*v.headers(), CACHE_CONTROL], b"")
            return
        entry = self.lru.get(v.key)
        if entry is None and (rendering := self._in_flight.get(v.key)) is not None:
            await rendering.wait()  # the same answer is being rendered: replay it
            entry = self.lru.get(v.key)
        shared = self.shared
        if entry is None and shared is not None and (found := shared.get(v.key)) is not None:
            entry = Entry(*found)  # another worker rendered it
            self.lru.put(v.key, entry)
        if entry is not None:
            await _send(send, entry.status, entry.headers, entry.body)
            return
        await self._render_once(scope, receive, send, v, version.number)

    async def _render_once(
        self, scope: Scope, receive: Receive, send: Send, v: Validators, version: int
    ) -> None:
        """Render under the bound, announced to identical requests (unless one is already
        announced: a waiter whose answer was not kept renders its own, unannounced)."""
        mine = v.key not in self._in_flight
        done = anyio.Event()
        if mine:
            self._in_flight[v.key] = done
        messages: list[Message] = []

        async def collect(message: Message) -> None:
            messages.append(message)

        found = None
        claimed = False
        shared = self.shared
        try:
            if mine and shared is not None:
                found, claimed = await self._from_other_worker(shared, v.key, version)
            if found is None:
                async with self._renders:
                    # the other worker may have rendered it while this one waited for a slot
                    found = shared.get(v.key) if shared is not None else None
                    if found is None:
                        kept = await self._render(scope, receive, collect, v)
            if found is not None:
                self.lru.put(v.key, Entry(*found))
            elif shared is not None and kept is not None:
                answer = (kept.status, kept.headers, kept.body)
                await anyio.to_thread.run_sync(shared.put, v.key, version, *answer)
            elif shared is not None and claimed:  # not an answer to keep: others render
                await anyio.to_thread.run_sync(shared.release, v.key)
        finally:
            if mine:
                del self._in_flight[v.key]
                done.set()
        if found is not None:
            await _send(send, *found)
            return
        for message in messages:
            await send(message)

    async def _from_other_worker(
        self, shared: SharedAnswers, key: tuple[str, ...], version: int
    ) -> tuple[tuple[int, list[tuple[bytes, bytes]], bytes] | None, bool]:
        """(the answer another worker rendered meanwhile, whether this worker claimed the
        render). Without a claim of its own, this worker waits — holding no render slot —
        for the claimer's answer; if the claim is released (an answer not to keep) or goes
        stale (its worker died), it renders its own."""
        if await anyio.to_thread.run_sync(shared.claim, key, version):
            return None, True
        while True:
            await anyio.sleep(CLAIM_POLL)
            if (found := shared.get(key)) is not None:
                return found, False
            if not shared.claimed(key):
                return shared.get(key), False

    async def _render(
        self, scope: Scope, receive: Receive, send: Send, v: Validators
    ) -> Entry | None:
        """Render, keeping the answer in the LRU when it may be shared; return it then."""
        kept: list[Message] = []
        entry: list[Entry] = []
        body: list[bytes] = []
        state = {"store": False, "size": 0}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                if _storable(message):
                    state["store"] = True
                    names = {name.lower() for name, _ in message.get("headers", [])}
                    extra = v.headers() + ([] if b"cache-control" in names else [CACHE_CONTROL])
                    message = {**message, "headers": [*message.get("headers", []), *extra]}
                    kept.append(message)
            elif message["type"] == "http.response.body" and state["store"]:
                chunk = message.get("body", b"")
                state["size"] += len(chunk)
                if state["size"] > MAX_ENTRY_BYTES:
                    state["store"] = False
                body.append(chunk)
                if not message.get("more_body", False) and state["store"]:
                    start = kept[0]
                    entry.append(Entry(start["status"], list(start["headers"]), b"".join(body)))
                    self.lru.put(v.key, entry[0])
            await send(message)

        self.renders += 1
        await self.app(scope, receive, capture)
        return entry[0] if entry else None


async def _send(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    out = [(n, val) for n, val in headers if n.lower() != b"content-length"]
    if status != 304:
        out.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body})
