"""The fetcher's HTTP transport: per-host connection pools over guarded sockets, and one
GET sent through them without the client's layers the fetcher does not use.

Measured on conditional GETs answered 304 (benchmarks/README.md, « The second cycle,
lean »): httpx's `Client.stream` spent ~35 % of a request's CPU building the request
(merging URL, parameters, headers and cookies), running the auth and redirect generators
and extracting cookies from every answer; `send_get` does what the fetcher needs of that.
"""

from __future__ import annotations

import logging
import ssl
import threading

import httpcore
import httpx

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
