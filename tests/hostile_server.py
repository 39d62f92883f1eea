"""A local HTTP server of badly behaved sources, reusable by any test.

    with HostileServer() as server:
        fetcher.fetch(server.url("/never-answers"))
        server.route("/my-feed.xml", static(b"<rss/>", content_type="application/rss+xml"))

It is a `ThreadingHTTPServer` on an ephemeral port in a daemon thread, speaking HTTP/1.1
with keep-alive. Requests are dispatched through a route table: exact paths first, then the
longest registered prefix (routes added with `prefix=True`). A handler is any callable taking
the `Exchange` (the request handler, with `reply()` and the parsed path/query); built-in
routes are registered at construction and can be overridden.

Built-in routes (see `_builtin_routes` for the exact bodies):

    /ok.xml                 small valid RSS 2.0 (3 items)
    /gzip-ok.xml            the same, gzip-encoded when the client accepts gzip
    /etag.xml               ETag "v1" + Last-Modified; answers 304 to a matching validator
    /slow-trickle           200 then one byte every `trickle_interval` seconds, forever
    /never-answers          reads the request and never sends a status line
    /endless                200 then 64 KB chunks as fast as the client reads, forever
    /huge                   15 MB body with an honest Content-Length
    /huge-no-length         15 MB body without Content-Length (close-delimited)
    /gzip-bomb              ~120 KB gzip body inflating to 120 MB (Content-Encoding: gzip)
    /entities.xml           "billion laughs" XML entity expansion inside an RSS document
    /redirect-loop          302 → /redirect-loop-b → 302 → /redirect-loop
    /redirect-chain/N       exactly N redirects, the last one to /ok.xml
    /redirect-to-private    302 to `private_target` (default http://127.0.0.1:<port>/ok.xml)
    /500 /501 /503 /404     those statuses (503 carries no Retry-After)
    /429                    429 with Retry-After: 120
    /status/N               any status N
    /hold?ms=200            waits, then answers a small text body (concurrency tests)
    /no-charset.xml         Latin-1 bytes, no charset in Content-Type nor XML declaration
    /wrong-charset.xml      says charset=utf-8, bytes are Latin-1
    /changing-guids.xml     new GUIDs on every request, same links
    /robots.txt             `robots_txt` (404 when None)

Every request is recorded (`hits` per path, `requests` with headers) and the server counts
requests in flight (`active`, `max_active`, and per path `active_on`, `max_active_on`) so
tests can assert politeness. Endless handlers
stop when the client goes away or the server stops, so `stop()` never hangs.

To test the SSRF guard with a real redirect, bind the server to another loopback address
(`HostileServer(host="127.0.0.2")`, Linux routes all of 127/8 to lo), exempt that address in
the fetcher's policy and let `/redirect-to-private` point to 127.0.0.1.
"""

from __future__ import annotations

import gzip
import itertools
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

Handler = Callable[["Exchange"], None]

OK_RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
  <channel>
    <title>Flux de test</title>
    <link>http://example.test/</link>
    <description>Un petit flux valide pour les tests.</description>
    <ttl>90</ttl>
    <item>
      <title>Premier article sur les donn\xc3\xa9es ouvertes</title>
      <link>http://example.test/articles/1</link>
      <guid>urn:test:1</guid>
      <pubDate>Mon, 23 Nov 2026 08:00:00 +0100</pubDate>
      <description>R\xc3\xa9sum\xc3\xa9 du premier article.</description>
    </item>
    <item>
      <title>Deuxi\xc3\xa8me article</title>
      <link>http://example.test/articles/2</link>
      <guid>urn:test:2</guid>
      <pubDate>Sun, 22 Nov 2026 08:00:00 +0100</pubDate>
      <description>R\xc3\xa9sum\xc3\xa9 du deuxi\xc3\xa8me article.</description>
    </item>
    <item>
      <title>Troisi\xc3\xa8me article</title>
      <link>http://example.test/articles/3</link>
      <guid>urn:test:3</guid>
      <pubDate>Sat, 21 Nov 2026 08:00:00 +0100</pubDate>
      <description>R\xc3\xa9sum\xc3\xa9 du troisi\xc3\xa8me article.</description>
    </item>
  </channel>
</rss>
"""

ENTITIES_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE rss [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0">
  <channel>
    <title>&lol9;</title>
    <link>http://example.test/</link>
    <item>
      <title>&lol9;</title>
      <link>http://example.test/articles/lol</link>
      <description>&lol9;</description>
    </item>
  </channel>
</rss>
"""

# "é" is 0xE9 in Latin-1: invalid as UTF-8, which these two feeds rely on.
LATIN1_RSS = """<?xml version="1.0"?>
<rss version="2.0">
  <channel>
    <title>Actualit\u00e9s de la r\u00e9gion</title>
    <link>http://example.test/</link>
    <item>
      <title>Les donn\u00e9es ouvertes \u00e0 l'\u00e9cole</title>
      <link>http://example.test/articles/latin1</link>
      <guid>urn:test:latin1</guid>
      <description>Un r\u00e9sum\u00e9 accentu\u00e9.</description>
    </item>
  </channel>
</rss>
""".encode("latin-1")

HUGE_SIZE = 15 * 1024 * 1024
BOMB_INFLATED_SIZE = 120 * 1024 * 1024

_bomb_lock = threading.Lock()
_bomb: bytes | None = None


def gzip_bomb() -> bytes:
    """A gzip stream of 120 MB of zeros (~120 KB), built once, chunk by chunk."""
    global _bomb
    with _bomb_lock:
        if _bomb is None:
            packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            zeros = bytes(1024 * 1024)
            parts = [packer.compress(zeros) for _ in range(BOMB_INFLATED_SIZE // len(zeros))]
            parts.append(packer.flush())
            _bomb = b"".join(parts)
        return _bomb


def changing_guids_rss(counter: int) -> bytes:
    items = "".join(
        f"<item><title>Article {n}</title><link>http://example.test/stable/{n}</link>"
        f"<guid>urn:random:{counter}-{n}</guid></item>"
        for n in range(1, 4)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>GUID instables</title><link>http://example.test/</link>{items}"
        "</channel></rss>"
    ).encode()


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: Mapping[str, str]  # lower-case names
    at: float  # time.monotonic() when the request line was read
    client: tuple[str, int] = ("", 0)  # the connection's address: one per connection


class Exchange(BaseHTTPRequestHandler):
    """One request; handlers use `reply()` or write to `wfile` themselves."""

    protocol_version = "HTTP/1.1"
    server: _Server

    @property
    def hostile(self) -> HostileServer:
        return self.server.hostile

    @property
    def route_path(self) -> str:
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def reply(
        self,
        status: int,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        *,
        content_type: str | None = "text/plain; charset=utf-8",
    ) -> None:
        self.send_response(status)
        sent = {k.lower() for k in (headers or {})}
        if content_type and "content-type" not in sent and status != 304:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304 and body:
            self.wfile.write(body)

    def start_stream(self, content_type: str = "application/octet-stream") -> None:
        """Headers of a close-delimited body: the handler then writes to wfile."""
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.flush()

    def do_GET(self) -> None:
        hostile = self.hostile
        headers = {k.lower(): v for k, v in self.headers.items()}
        hostile._enter(
            RecordedRequest(self.route_path, headers, time.monotonic(), self.client_address[:2])
        )
        try:
            handler = hostile._resolve(self.route_path)
            if handler is None:
                self.reply(404, b"not found")
            else:
                handler(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            hostile._leave(self.route_path)

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops SYNs under a burst of parallel clients,
    # which then retry after 1 s and look like slow servers.
    request_queue_size = 1024
    hostile: HostileServer

    def handle_error(self, request: object, client_address: object) -> None:
        """Clients hanging up on hostile answers is the point: stay quiet about it."""
        exc = sys.exc_info()[1]
        if not isinstance(exc, ConnectionError | TimeoutError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class HostileServer:
    """Context manager owning one server thread; see the module docstring."""

    def __init__(self, host: str = "127.0.0.1", *, trickle_interval: float = 1.0) -> None:
        self.host = host
        self.trickle_interval = trickle_interval
        self.robots_txt: str | None = None
        self.private_target: str | None = None
        self.hits: Counter[str] = Counter()
        self.requests: list[RecordedRequest] = []
        self.active = 0
        self.max_active = 0
        self.active_on: Counter[str] = Counter()  # in flight per path
        self.max_active_on: Counter[str] = Counter()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._routes: dict[str, Handler] = {}
        self._prefixes: dict[str, Handler] = {}
        self._guid_counter = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        _builtin_routes(self)

    # -- lifecycle --------------------------------------------------------------------

    def start(self) -> HostileServer:
        self._server = _Server((self.host, 0), Exchange)
        self._server.hostile = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> HostileServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start the server first"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # -- routes -----------------------------------------------------------------------

    def route(self, path: str, handler: Handler, *, prefix: bool = False) -> None:
        """Serve path with handler (replacing any route there); prefix=True matches below it."""
        (self._prefixes if prefix else self._routes)[path] = handler

    def _resolve(self, path: str) -> Handler | None:
        if path in self._routes:
            return self._routes[path]
        matches = [p for p in self._prefixes if path.startswith(p)]
        return self._prefixes[max(matches, key=len)] if matches else None

    # -- bookkeeping ------------------------------------------------------------------

    def reset_counters(self) -> None:
        with self._lock:
            self.hits.clear()
            self.requests.clear()
            self.max_active = self.active
            self.max_active_on = Counter(self.active_on)

    def _enter(self, request: RecordedRequest) -> None:
        with self._lock:
            self.hits[request.path] += 1
            self.requests.append(request)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            self.active_on[request.path] += 1
            path_active = self.active_on[request.path]
            self.max_active_on[request.path] = max(self.max_active_on[request.path], path_active)

    def _leave(self, path: str) -> None:
        with self._lock:
            self.active -= 1
            self.active_on[path] -= 1

    def next_guid_batch(self) -> int:
        return next(self._guid_counter)


def static(
    body: bytes,
    *,
    status: int = 200,
    content_type: str = "application/xml",
    headers: Mapping[str, str] | None = None,
) -> Handler:
    """A handler that always answers the same response."""

    def handle(ex: Exchange) -> None:
        ex.reply(status, body, headers, content_type=content_type)

    return handle


def redirect(location: str, status: int = 302) -> Handler:
    def handle(ex: Exchange) -> None:
        ex.reply(status, b"", {"Location": location})

    return handle


# -- built-in behaviours ----------------------------------------------------------------


def _etag(ex: Exchange) -> None:
    etag, modified = '"v1"', "Mon, 23 Nov 2026 07:00:00 GMT"
    validators = {"ETag": etag, "Last-Modified": modified}
    if ex.headers.get("If-None-Match") == etag or ex.headers.get("If-Modified-Since") == modified:
        ex.reply(304, b"", validators)
    else:
        ex.reply(200, OK_RSS, validators, content_type="application/rss+xml; charset=utf-8")


def _gzip_ok(ex: Exchange) -> None:
    if "gzip" in ex.headers.get("Accept-Encoding", ""):
        ex.reply(
            200,
            gzip.compress(OK_RSS),
            {"Content-Encoding": "gzip"},
            content_type="application/rss+xml",
        )
    else:
        ex.reply(200, OK_RSS, content_type="application/rss+xml")


def _slow_trickle(ex: Exchange) -> None:
    ex.start_stream("application/rss+xml")
    stopping = ex.hostile.stopping
    while not stopping.wait(ex.hostile.trickle_interval):
        ex.wfile.write(b"<")
        ex.wfile.flush()


def _never_answers(ex: Exchange) -> None:
    """Silent until the client hangs up (or the server stops)."""
    ex.close_connection = True
    ex.connection.settimeout(0.1)
    while not ex.hostile.stopping.is_set():
        try:
            if not ex.connection.recv(1024):
                return
        except TimeoutError:
            continue
        except OSError:
            return


def _endless(ex: Exchange) -> None:
    ex.start_stream()
    chunk = b"x" * 65536
    while not ex.hostile.stopping.is_set():
        ex.wfile.write(chunk)


def _huge(ex: Exchange) -> None:
    # Streamed, so the server's own memory does not blur memory measurements of the client.
    ex.send_response(200)
    ex.send_header("Content-Type", "application/octet-stream")
    ex.send_header("Content-Length", str(HUGE_SIZE))
    ex.end_headers()
    chunk = b"y" * 65536
    for _ in range(HUGE_SIZE // len(chunk)):
        ex.wfile.write(chunk)


def _huge_no_length(ex: Exchange) -> None:
    ex.start_stream()
    chunk = b"y" * 65536
    for _ in range(HUGE_SIZE // len(chunk)):
        ex.wfile.write(chunk)


def _gzip_bomb(ex: Exchange) -> None:
    ex.reply(200, gzip_bomb(), {"Content-Encoding": "gzip"}, content_type="application/rss+xml")


def _redirect_chain(ex: Exchange) -> None:
    tail = ex.route_path.rsplit("/", 1)[-1]
    n = int(tail) if tail.isdigit() else 0
    if n <= 0:
        ex.reply(200, OK_RSS, content_type="application/rss+xml; charset=utf-8")
        return
    target = f"/redirect-chain/{n - 1}" if n > 1 else "/ok.xml"
    ex.reply(302, b"", {"Location": target})


def _redirect_to_private(ex: Exchange) -> None:
    target = ex.hostile.private_target or f"http://127.0.0.1:{ex.hostile.port}/ok.xml"
    ex.reply(302, b"", {"Location": target})


def _status(ex: Exchange) -> None:
    tail = ex.route_path.rsplit("/", 1)[-1]
    code = int(tail) if tail.isdigit() and 200 <= int(tail) < 600 else 400
    ex.reply(code, f"status {code}".encode())


def _hold(ex: Exchange) -> None:
    time.sleep(float(ex.query.get("ms", "200")) / 1000)
    ex.reply(200, b"held")


def _robots(ex: Exchange) -> None:
    text = ex.hostile.robots_txt
    if text is None:
        ex.reply(404, b"no robots.txt")
    else:
        ex.reply(200, text.encode(), content_type="text/plain; charset=utf-8")


def _changing_guids(ex: Exchange) -> None:
    body = changing_guids_rss(ex.hostile.next_guid_batch())
    ex.reply(200, body, content_type="application/rss+xml; charset=utf-8")


def _builtin_routes(server: HostileServer) -> None:
    rss = "application/rss+xml; charset=utf-8"
    server.route("/ok.xml", static(OK_RSS, content_type=rss))
    server.route("/gzip-ok.xml", _gzip_ok)
    server.route("/etag.xml", _etag)
    server.route("/slow-trickle", _slow_trickle)
    server.route("/never-answers", _never_answers)
    server.route("/endless", _endless)
    server.route("/huge", _huge)
    server.route("/huge-no-length", _huge_no_length)
    server.route("/gzip-bomb", _gzip_bomb)
    server.route("/entities.xml", static(ENTITIES_XML, content_type=rss))
    server.route("/redirect-loop", redirect("/redirect-loop-b"))
    server.route("/redirect-loop-b", redirect("/redirect-loop"))
    server.route("/redirect-chain/", _redirect_chain, prefix=True)
    server.route("/redirect-to-private", _redirect_to_private)
    for code in (404, 500, 501, 503):
        server.route(f"/{code}", static(f"status {code}".encode(), status=code))
    server.route("/429", static(b"slow down", status=429, headers={"Retry-After": "120"}))
    server.route("/status/", _status, prefix=True)
    server.route("/hold", _hold)
    server.route("/no-charset.xml", static(LATIN1_RSS, content_type="application/rss+xml"))
    server.route(
        "/wrong-charset.xml", static(LATIN1_RSS, content_type="application/rss+xml; charset=utf-8")
    )
    server.route("/changing-guids.xml", _changing_guids)
    server.route("/robots.txt", _robots)
