"""The fetcher's HTTP transport: per-host connection pools over guarded sockets, and one
GET sent through them without the client's layers the fetcher does not use.

Measured on conditional GETs answered 304 (benchmarks/README.md, « The second cycle,
lean »): httpx's `Client.stream` spent ~35 % of a request's CPU building the request
(merging URL, parameters, headers and cookies), running the auth and redirect generators
and extracting cookies from every answer; `send_get` does what the fetcher needs of that.
"""

from __future__ import annotations

import logging
import re
import ssl
import threading
from collections.abc import Iterable

import httpcore
import httpx
from httpx._transports.default import ResponseStream, map_httpcore_exceptions

from veille.collect.netguard import AddressGuard, GuardedBackend

_httpx_log = logging.getLogger("httpx")  # the client's logger, kept for its INFO line


class PerHostPool:
    """One small httpcore pool per origin, behind the interface of one pool.

    httpcore's pool rescans all its connections for each request under its lock (quadratic
    in the number of pooled connections: measured ~7 ms per request with 100 hosts × 2
    connections, serialised). The collector talks to hundreds of hosts at once, at most a
    few connections each, so per-origin pools keep every scan tiny.
    """

    def __init__(self, guard: AddressGuard, limits: httpx.Limits) -> None:
        self._guard = guard
        self._limits = limits
        # Built with the first https origin: loading the CA bundle costs 20–130 ms of CPU
        # (quiet to loaded machine), which a cycle of plain-http 304s never needs.
        self._ssl: ssl.SSLContext | None = None
        self._pools: dict[tuple[bytes, bytes, int | None], httpcore.ConnectionPool] = {}
        self._lock = threading.Lock()

    def _pool_for(self, url: httpcore.URL) -> httpcore.ConnectionPool:
        origin = (url.scheme, url.host, url.port)
        with self._lock:
            pool = self._pools.get(origin)
            if pool is None:
                if self._ssl is None and url.scheme == b"https":
                    self._ssl = httpx.create_ssl_context(trust_env=False)
                pool = httpcore.ConnectionPool(
                    ssl_context=self._ssl,
                    max_connections=self._limits.max_connections,
                    max_keepalive_connections=self._limits.max_keepalive_connections,
                    keepalive_expiry=self._limits.keepalive_expiry,
                    network_backend=GuardedBackend(self._guard),
                )
                self._pools[origin] = pool
            return pool

    def handle_request(self, request: httpcore.Request) -> httpcore.Response:
        return self._pool_for(request.url).handle_request(request)

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over per-host connection pools whose sockets go through
    `GuardedBackend`."""

    def __init__(self, guard: AddressGuard, limits: httpx.Limits) -> None:
        # httpx builds the SSL context of the pool it makes here, loading the CA bundle
        # (measured 0.09–0.13 s of CPU a cycle under load): that pool is replaced below, so
        # it gets an empty context (0.5 ms); `PerHostPool` loads the bundle for the first
        # https origin (tests/test_fetcher.py counts the loads).
        unused = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        super().__init__(verify=unused, trust_env=False, limits=limits)
        # httpx does not expose the network backend; the pool is replaced with ours. A test
        # (DNS rebinding) fails if an httpx upgrade ever bypasses it.
        self._pool = PerHostPool(guard, limits)  # type: ignore[assignment]


# A URL whose request httpx would build unchanged from its text: lowercase http(s) scheme
# and host name (a dotted-quad host only with plain octets, as httpx checks them), a port
# without leading zero, a path and query of characters httpx never escapes (and `%XX`), no
# fragment, no empty query. Anything else takes httpx's parser (`_plain_target`).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_NAME = r"[a-z0-9-]+(?:\.[a-z0-9-]+)*"
_PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
_PLAIN_URL_RE = re.compile(
    rf"(https?)://({_NAME})(?::([1-9][0-9]{{0,4}}))?"
    rf"((?:/{_PCHAR}*)*)(?:\?((?:{_PCHAR}|[/?])+))?"
)
_IPV4_STYLE_RE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
_IPV4_RE = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")
_DOT_SEGMENT_RE = re.compile(r"/\.\.?(?:/|$)")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_URL = 65_536  # httpx's limit: longer URLs take its path (and its refusal)


def _plain_target(url: str) -> tuple[bytes, bytes, int | None, bytes] | None:
    """(scheme, host, port, target) as `httpx.URL` gives them for a plain URL, else None.

    httpx's parser checks every character of the URL in Python and escapes each component:
    ~0.1–0.2 ms of a ~1.3 ms page request on this machine (benchmarks/README.md, round 26),
    for a text the fetcher's URLs already hold in its final form. tests/test_fetcher.py
    checks the request sent is byte for byte the one httpx builds."""
    match = _PLAIN_URL_RE.fullmatch(url) if len(url) <= _MAX_URL else None
    if match is None:
        return None
    scheme, host, port_text, path, query = match.groups()
    if _IPV4_STYLE_RE.fullmatch(host) and not _IPV4_RE.fullmatch(host):
        return None  # httpx refuses or reads it otherwise
    if _DOT_SEGMENT_RE.search(path):
        return None  # httpx removes dot segments
    port = int(port_text) if port_text else None
    if port == _DEFAULT_PORTS[scheme]:
        port = None
    target = (path or "/") if query is None else f"{path or '/'}?{query}"
    return scheme.encode(), host.encode(), port, target.encode()


def _merged_headers(
    client: httpx.Client, host: bytes, port: int | None, headers: dict[str, str]
) -> list[tuple[bytes, bytes]] | None:
    """The header lines httpx's request would carry: Host, then the client's headers but
    those the request sets, then the request's (`Headers.update`). None for a name or value
    that is not plain ASCII (httpx's encoding rules then decide)."""
    own = []
    for name, value in headers.items():
        if not (name.isascii() and value.isascii()):
            return None
        own.append((name.encode(), value.encode()))
    names = {raw.lower() for raw, _ in own}
    netloc = host if port is None else b"%s:%d" % (host, port)
    lines = [(b"Host", netloc)]
    lines += [(raw, value) for raw, key, value in client.headers._list if key not in names]
    return lines + own


def send_get(
    client: httpx.Client,
    transport: httpx.BaseTransport,
    url: str,
    headers: dict[str, str],
    timeout: httpx.Timeout,
) -> httpx.Response:
    """What `Client.stream("GET", …)` does for one hop, without the layers the fetcher
    does not use: it follows redirects itself and sends no auth, no query parameters,
    no event hooks. Measured: the client's request building, header and cookie merging
    were ~35 % of the CPU of a conditional GET answered 304 (benchmarks/README.md).

    Kept as the client does it: its default headers (ours: User-Agent, Accept-Encoding)
    under the request's, the Host header, the cookie jar shared across requests (sent
    when it holds cookies, filled from Set-Cookie answers) and httpx's INFO log line."""
    if client.is_closed:
        raise RuntimeError("Cannot send a request, as the fetcher has been closed.")
    if isinstance(transport, GuardedTransport) and not client.cookies:
        sent = _send_plain(client, transport, url, headers, timeout)
        if sent is not None:
            return sent
    merged = client.headers.copy()
    merged.update(headers)
    jar = client.cookies
    request = httpx.Request(
        "GET",
        url,
        headers=merged,
        cookies=jar if jar else None,
        extensions={"timeout": timeout.as_dict()},
    )
    response = transport.handle_request(request)
    response.request = request
    if "set-cookie" in response.headers:
        jar.extract_cookies(response)
    if _httpx_log.isEnabledFor(logging.INFO):
        _httpx_log.info(
            'HTTP Request: GET %s "%s %d %s"',
            request.url,
            response.http_version,
            response.status_code,
            response.reason_phrase,
        )
    return response


def _send_plain(
    client: httpx.Client,
    transport: GuardedTransport,
    url: str,
    headers: dict[str, str],
    timeout: httpx.Timeout,
) -> httpx.Response | None:
    """`send_get` for a plain URL on our own transport with an empty cookie jar: the
    httpcore request built from the URL's text, without httpx's Request (its parser, header
    merging, then the transport's conversion back). The answer is the httpx response the
    transport builds; an answer that sets a cookie gets its httpx request (the jar reads
    the URL from it). None: not plain (or httpx's INFO line is on), the caller goes on."""
    target = _plain_target(url)
    if target is None or _httpx_log.isEnabledFor(logging.INFO):
        return None
    scheme, host, port, path = target
    lines = _merged_headers(client, host, port, headers)
    if lines is None:
        return None
    request = httpcore.Request(
        b"GET",
        httpcore.URL(scheme=scheme, host=host, port=port, target=path),
        headers=lines,
        extensions={"timeout": timeout.as_dict()},
    )
    with map_httpcore_exceptions():
        answer = transport._pool.handle_request(request)
    assert isinstance(answer.stream, Iterable)  # a sync pool's answer, as httpx asserts
    response = httpx.Response(
        status_code=answer.status,
        headers=answer.headers,
        stream=ResponseStream(answer.stream),
        extensions=answer.extensions,
    )
    if "set-cookie" in response.headers:
        merged = client.headers.copy()
        merged.update(headers)
        response.request = httpx.Request("GET", url, headers=merged)
        client.cookies.extract_cookies(response)
    return response
