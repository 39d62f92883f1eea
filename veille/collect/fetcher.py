"""HTTP fetching: bounded, guarded, polite. Knows HTTP and nothing of feeds.

One `Fetcher` holds one `httpx.Client` shared by every thread of the collection pool (a
shared sync client in threads measured faster than `AsyncClient` at high concurrency).

Bounds on every fetch, so one hostile source cannot stall or exhaust a cycle:

* time: connect and read timeouts per socket operation, plus a total budget for the whole
  call (redirects and retries included) enforced at socket level by `netguard.Deadline`, so a
  server trickling a byte a second is cut at `total_timeout`; time spent queueing for a busy
  host's slot is not charged to the source;
* size: the body is streamed raw and decompressed here, chunk by bounded chunk, counting the
  decompressed bytes, so a gzip bomb stops at `max_bytes` without ever inflating further;
* redirects: followed by hand, at most `max_redirects`, each hop re-checked by the SSRF guard;
* addresses: `netguard` checks the scheme and literal addresses before each hop and every
  resolved address at connect time (the connection goes to the checked address).

Politeness: at most `per_host_concurrency` requests in flight per host and `per_host_delay`
seconds between request starts to a host; global concurrency is the caller's thread pool.

Retries: 5xx (except 501), timeouts and connection errors, `retries` times with exponential
backoff (`backoff`, 2×backoff, ...) inside the total budget. A 429 or 503 carrying
Retry-After is not retried here: the error carries `retry_after` for the scheduler.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

# httpx's package imports its command-line client when click is installed (uvicorn brings
# it): click, rich's progress bar and pygments, half the cost of importing httpx, paid by
# every collection cycle for a tool it never runs. Marked absent, httpx installs its stub.
if "httpx" not in sys.modules:
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx

from veille import USER_AGENT
from veille.collect.decoding import ACCEPT_ENCODING, CHUNK, decode, decode_end, decoder_chain
from veille.collect.httpcache import parse_retry_after
from veille.collect.netguard import AddressGuard, Deadline, Resolver, check_url
from veille.collect.robots import RobotsCache
from veille.collect.transport import GuardedTransport, send_get
from veille.collect.types import FetchResult
from veille.errors import FetchError

if TYPE_CHECKING:
    from veille.config import Settings

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# The Accept header of feed requests (the worker's and discovery's): feed formats first,
# then any XML or JSON, then anything, so a server that cannot negotiate still answers.
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)


@dataclass(frozen=True)
class FetchPolicy:
    """Limits and manners of the fetcher (seconds, bytes)."""

    connect_timeout: float = 10.0
    read_timeout: float = 15.0
    total_timeout: float = 30.0
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    retries: int = 2
    backoff: float = 1.0  # first retry delay; doubles each retry
    allow_private_networks: bool = False
    allowed_addresses: tuple[str, ...] = ()  # IPs/CIDRs exempt from the private-address rule
    per_host_concurrency: int = 2
    per_host_delay: float = 1.0
    user_agent: str = USER_AGENT
    robots_max_bytes: int = 512_000  # RFC 9309 asks to read at least 500 KiB
    robots_ttl: float = 86_400.0
    robots_error_ttl: float = 3_600.0

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> FetchPolicy:
        values: dict[str, Any] = {
            "allow_private_networks": settings.allow_private_networks,
            "per_host_concurrency": settings.per_host_concurrency,
            "per_host_delay": settings.per_host_delay,
            "max_bytes": settings.max_body_bytes,
            "total_timeout": settings.fetch_timeout,
        }
        values.update(overrides)
        return cls(**values)


class _HostGate:
    def __init__(self, concurrency: int) -> None:
        self.slots = threading.BoundedSemaphore(concurrency)
        self.lock = threading.Lock()
        self.next_start = float("-inf")  # the next free place in the host's line
        self.last_left = float("-inf")  # when the host's last request left the gate


def _host_key(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


@dataclass
class _Hop:
    status: int
    headers: dict[str, str]
    content: bytes = b""
    location: str | None = None


class Fetcher:
    """Thread-safe HTTP client of the collector. Use as a context manager or call close()."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        resolver: Resolver | None = None,
    ) -> None:
        self.policy = policy or FetchPolicy()
        self._sleep = sleep
        self._clock = clock
        self._guard = AddressGuard.build(
            self.policy.allow_private_networks, self.policy.allowed_addresses, resolver
        )
        # With our transport the connection itself is guarded, so the pre-check skips DNS
        # (one lookup per connection, not two). A caller's transport gets the full check.
        self._precheck_resolves = transport is not None
        # Per origin (see _PerHostPool): the host gate allows per_host_concurrency at once.
        limits = httpx.Limits(
            max_connections=None,
            max_keepalive_connections=max(4, self.policy.per_host_concurrency * 2),
        )
        self._transport = transport or GuardedTransport(self._guard, limits)
        self._client = httpx.Client(  # its headers, cookie jar and closing (`send_get`)
            transport=self._transport,
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": self.policy.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        )
        self._gates: dict[str, _HostGate] = {}
        self._gates_lock = threading.Lock()
        self._robots = RobotsCache(
            self._fetch_robots,
            user_agent=self.policy.user_agent,
            clock=clock,
            ttl=self.policy.robots_ttl,
            error_ttl=self.policy.robots_error_ttl,
        )

    # -- public API ---------------------------------------------------------------------

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
        respect_robots: bool = False,
    ) -> FetchResult:
        """GET url: a 2xx or 304 result, or FetchError (see the module docstring)."""
        if respect_robots and not self.allowed_by_robots(url):
            host = urlsplit(url).hostname or url
            raise FetchError(f"The robots.txt of {host} disallows fetching {url}.", kind="robots")
        headers = {"Accept": accept or "*/*"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self._fetch(url, headers, self.policy.max_bytes, self.policy.retries)

    def allowed_by_robots(self, url: str) -> bool:
        """Whether robots.txt lets us fetch url (cached per host; see `robots`)."""
        check_url(url, self.policy.allow_private_networks, resolve=False, guard=self._guard)
        return self._robots.allowed(url)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals ----------------------------------------------------------------------

    def _fetch_robots(self, url: str) -> FetchResult:
        return self._fetch(url, {"Accept": "text/plain, */*"}, self.policy.robots_max_bytes, 0)

    def _fetch(
        self, url: str, headers: dict[str, str], max_bytes: int, retries: int
    ) -> FetchResult:
        started = self._clock()
        deadline = Deadline(started + self.policy.total_timeout, self._clock)
        attempt = 0
        while True:
            try:
                final_url, hop = self._follow(url, headers, max_bytes, deadline)
                break
            except FetchError as exc:
                delay = self.policy.backoff * (2**attempt)
                if attempt >= retries or not _retryable(exc) or deadline.remaining() <= delay + 0.1:
                    raise
            self._sleep(delay)
            attempt += 1
        return FetchResult(
            url=final_url,
            status=hop.status,
            content=hop.content,
            headers=hop.headers,
            etag=hop.headers.get("etag"),
            last_modified=hop.headers.get("last-modified"),
            elapsed=self._clock() - started,
        )

    def _follow(
        self, url: str, headers: dict[str, str], max_bytes: int, deadline: Deadline
    ) -> tuple[str, _Hop]:
        seen = {url}
        current = url
        for _ in range(self.policy.max_redirects + 1):
            check_url(
                current,
                self.policy.allow_private_networks,
                resolve=self._precheck_resolves,
                guard=self._guard,
            )
            hop = self._request(current, headers, max_bytes, deadline)
            if hop.location is None:
                return current, hop
            target = urljoin(current, hop.location)
            if target in seen:
                raise FetchError(
                    f"Redirect loop: {current} sends back to {target}.", kind="redirects"
                )
            seen.add(target)
            current = target
        raise FetchError(
            f"Too many redirects (more than {self.policy.max_redirects}) from {url}.",
            kind="redirects",
        )

    @contextmanager
    def _host_slot(self, url: str, deadline: Deadline) -> Iterator[None]:
        """Hold one of the host's slots, starting no sooner than per_host_delay after the last.

        Waiting here is politeness on our side, so it extends the source's time budget.
        """
        key = _host_key(url)
        with self._gates_lock:
            gate = self._gates.get(key)
            if gate is None:
                gate = self._gates[key] = _HostGate(self.policy.per_host_concurrency)
        queued = self._clock()
        gate.slots.acquire()
        try:
            delay = self.policy.per_host_delay
            with gate.lock:  # a place in the host's line: FIFO, `delay` apart
                now = self._clock()
                start = max(now, gate.next_start)
                gate.next_start = start + delay
            while True:
                if start > now:
                    self._sleep(start - now)
                # Spaced from when the previous request really left, not from its place in
                # line: a thread that wakes late (the GIL on a loaded machine, measured up
                # to 0.16 s) would otherwise leave closer than `delay` to the next one.
                with gate.lock:
                    now = self._clock()
                    start = gate.last_left + delay
                    if now >= start:
                        gate.last_left = now
                        gate.next_start = max(gate.next_start, now + delay)
                        break
            deadline.at += max(0.0, self._clock() - queued)
            yield
        finally:
            gate.slots.release()

    def _request(
        self, url: str, headers: dict[str, str], max_bytes: int, deadline: Deadline
    ) -> _Hop:
        host = urlsplit(url).hostname or url
        with self._host_slot(url, deadline), deadline:
            left = deadline.remaining()
            if left <= 0:
                raise _total_timeout(url, self.policy.total_timeout)
            p = self.policy
            timeout = httpx.Timeout(
                connect=min(p.connect_timeout, left),
                read=min(p.read_timeout, left),
                write=min(p.read_timeout, left),
                pool=left,
            )
            try:
                resp = send_get(self._client, self._transport, url, headers, timeout)
                try:
                    return self._read(url, resp, max_bytes, deadline)
                finally:
                    resp.close()
            except httpx.TimeoutException as exc:
                if deadline.remaining() <= 0:
                    raise _total_timeout(url, self.policy.total_timeout) from exc
                what = "connect" if isinstance(exc, httpx.ConnectTimeout) else "answer"
                limit = p.connect_timeout if what == "connect" else p.read_timeout
                raise FetchError(
                    f"The server {host} did not {what} within {limit:g} s.", kind="timeout"
                ) from exc
            except httpx.DecodingError as exc:
                raise FetchError(
                    f"The response from {host} is corrupt: {exc}.", kind="decode"
                ) from exc
            except (httpx.TransportError, httpx.InvalidURL) as exc:
                raise FetchError(
                    f"Could not talk to {host}: {_describe(exc)}.", kind="network"
                ) from exc

    def _read(self, url: str, resp: httpx.Response, max_bytes: int, deadline: Deadline) -> _Hop:
        status = resp.status_code
        headers = {k.lower(): v for k, v in resp.headers.items()}
        host = urlsplit(url).hostname or url
        if status in _REDIRECTS or status == 304:
            # No body worth reading, but read to its end (none for a 304, a few bytes for a
            # redirect) so the connection goes back to the pool: a response left unread
            # makes httpcore close it, and every 304 then paid a new connection (with
            # HTTPS, a new TLS handshake).
            _drain(resp, REDIRECT_BODY_MAX)
        if status in _REDIRECTS:
            location = headers.get("location")
            if not location:
                raise FetchError(
                    f"The server {host} answered a redirect ({status}) without a target.",
                    kind="http",
                    status=status,
                )
            return _Hop(status, headers, location=location.strip())
        if status == 304:
            return _Hop(status, headers)
        if not 200 <= status < 300:
            retry_after = None
            if status in (429, 503):
                retry_after = parse_retry_after(headers.get("retry-after"), datetime.now(UTC))
            raise FetchError(
                f"The server {host} answered HTTP {status} ({_phrase(status)}).",
                kind="http",
                status=status,
                retry_after=retry_after,
            )
        too_large = FetchError(
            f"The response from {host} is larger than the {max_bytes:,} bytes limit.",
            kind="too_large",
        )
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise too_large
        decoders = decoder_chain(headers.get("content-encoding", ""))
        body = bytearray()
        try:
            for raw in resp.iter_raw(CHUNK):
                for piece in decode(decoders, raw):
                    body += piece
                    if len(body) > max_bytes:
                        raise too_large
                if deadline.remaining() <= 0:
                    raise _total_timeout(url, self.policy.total_timeout)
            for piece in decode_end(decoders):
                body += piece
                if len(body) > max_bytes:
                    raise too_large
        except zlib.error as exc:
            raise FetchError(
                f"The compressed response from {host} is corrupt: {exc}.", kind="decode"
            ) from exc
        return _Hop(status, headers, bytes(body))


# A redirect's body (a line of HTML, usually) is read up to this much to keep the
# connection; a longer one is left unread and its connection closed.
REDIRECT_BODY_MAX = 64 * 1024


def _drain(resp: httpx.Response, limit: int) -> None:
    """Read and drop a body we do not use, up to `limit` bytes (then stop: the connection
    is closed instead of reused). Network errors are left to the caller's response close. A
    transport that hands back a body already read (a custom or test transport) has nothing
    left to drain."""
    if resp.is_stream_consumed:
        return
    read = 0
    with contextlib.suppress(httpx.HTTPError):
        for raw in resp.iter_raw(CHUNK):
            read += len(raw)
            if read > limit:
                return


def _retryable(exc: FetchError) -> bool:
    if exc.kind in ("timeout", "network"):
        return True
    return (
        exc.kind == "http"
        and exc.status is not None
        and exc.status >= 500
        and exc.status != 501
        and exc.retry_after is None
    )


def _total_timeout(url: str, total: float) -> FetchError:
    host = urlsplit(url).hostname or url
    return FetchError(
        f"Fetching from {host} took longer than the {total:g} s limit.", kind="timeout"
    )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "unknown status"


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__
