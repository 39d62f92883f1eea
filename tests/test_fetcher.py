"""The fetcher against a real local server of hostile sources.

Each hostile route must fail alone, with the right `kind`, in bounded time and memory.
Timeouts are set small in the policy so the suite stays fast; bounds assert real elapsed time.
"""

from __future__ import annotations

import gzip
import itertools
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from tests.hostile_server import OK_RSS, HostileServer, gzip_bomb, static
from veille import PROJECT_URL, USER_AGENT
from veille.collect.decoding import ACCEPT_ENCODING
from veille.collect.fetcher import Fetcher, FetchPolicy
from veille.errors import FetchError

MAX_BYTES = 1_000_000


def policy(**overrides: Any) -> FetchPolicy:
    values: dict[str, Any] = {
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "total_timeout": 3.0,
        "max_bytes": MAX_BYTES,
        "retries": 0,
        "backoff": 0.05,
        "per_host_delay": 0.0,
        "allow_private_networks": True,
    }
    values.update(overrides)
    return FetchPolicy(**values)


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


@pytest.fixture
def fresh_server() -> Iterator[HostileServer]:
    """For tests that change routes or robots.txt."""
    with HostileServer() as srv:
        yield srv


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(policy()) as f:
        yield f


def fail(fetcher: Fetcher, url: str, **kwargs: Any) -> tuple[FetchError, float]:
    start = time.monotonic()
    with pytest.raises(FetchError) as info:
        fetcher.fetch(url, **kwargs)
    return info.value, time.monotonic() - start


class FakeClock:
    """A monotonic clock that only moves when the fetcher sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


# -- ordinary answers ---------------------------------------------------------------------


def test_ok_feed(server: HostileServer, fetcher: Fetcher) -> None:
    result = fetcher.fetch(server.url("/ok.xml"), accept="application/rss+xml")
    assert result.status == 200
    assert result.content == OK_RSS
    assert result.url == server.url("/ok.xml")
    assert result.headers["content-type"].startswith("application/rss+xml")
    assert not result.not_modified
    assert result.elapsed >= 0


def test_sends_honest_user_agent_and_compression(server: HostileServer, fetcher: Fetcher) -> None:
    server.reset_counters()
    fetcher.fetch(server.url("/ok.xml"), accept="application/rss+xml")
    sent = server.requests[-1].headers
    assert sent["user-agent"] == USER_AGENT
    assert PROJECT_URL in sent["user-agent"]
    assert "gzip" in sent["accept-encoding"] and "deflate" in sent["accept-encoding"]
    assert sent["accept"] == "application/rss+xml"


def test_sends_what_the_httpx_client_sent(fresh_server: HostileServer) -> None:
    """The fetcher sends a hop without `Client.stream` (`transport.send_get`): the same
    request line and headers, in the same order, as httpx's client with the same defaults,
    and the client's cookie jar: a cookie set by one answer goes back with later requests
    (a consent redirect that sets a cookie, then sends back to the page, still works)."""
    import httpx

    def sets_cookie(exchange: Any) -> None:
        exchange.reply(302, headers={"Location": "/etag.xml", "Set-Cookie": "consent=yes; Path=/"})

    fresh_server.route("/consent", sets_cookie)
    url = fresh_server.url("/etag.xml")
    conditional = {"Accept": "application/rss+xml", "If-None-Match": '"v0"'}
    with httpx.Client(
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": ACCEPT_ENCODING}, trust_env=False
    ) as client:
        client.get(url, headers=conditional)
    expected = fresh_server.requests[-1].headers
    with Fetcher(policy()) as f:
        f.fetch(url, etag='"v0"', accept="application/rss+xml")
        assert list(fresh_server.requests[-1].headers.items()) == list(expected.items())
        assert "cookie" not in expected
        result = f.fetch(fresh_server.url("/consent"))  # 302 + Set-Cookie, then /etag.xml
        assert result.url == url
        assert fresh_server.requests[-1].headers["cookie"] == "consent=yes"
        f.fetch(url)
        assert fresh_server.requests[-1].headers["cookie"] == "consent=yes"


def test_gzip_body_is_decoded(server: HostileServer, fetcher: Fetcher) -> None:
    result = fetcher.fetch(server.url("/gzip-ok.xml"))
    assert result.headers["content-encoding"] == "gzip"
    assert result.content == OK_RSS


@pytest.mark.parametrize(
    "encoded",
    [zlib.compress(OK_RSS), zlib.compress(OK_RSS)[2:-4], gzip.compress(OK_RSS) * 1],
    ids=["zlib-deflate", "raw-deflate", "gzip"],
)
def test_deflate_variants(fresh_server: HostileServer, fetcher: Fetcher, encoded: bytes) -> None:
    encoding = "gzip" if encoded[:2] == b"\x1f\x8b" else "deflate"
    fresh_server.route("/enc", static(encoded, headers={"Content-Encoding": encoding}))
    assert fetcher.fetch(fresh_server.url("/enc")).content == OK_RSS


def test_corrupt_gzip_fails_with_decode(fresh_server: HostileServer, fetcher: Fetcher) -> None:
    fresh_server.route("/bad", static(b"not gzip at all", headers={"Content-Encoding": "gzip"}))
    error, _ = fail(fetcher, fresh_server.url("/bad"))
    assert error.kind == "decode"


def test_unknown_encoding_fails_with_decode(fresh_server: HostileServer, fetcher: Fetcher) -> None:
    fresh_server.route("/zz", static(b"????", headers={"Content-Encoding": "x-unknown"}))
    error, _ = fail(fetcher, fresh_server.url("/zz"))
    assert error.kind == "decode"
    assert "x-unknown" in str(error)


def test_charset_problems_are_not_the_fetchers_business(
    server: HostileServer, fetcher: Fetcher
) -> None:
    """The fetcher returns the bytes as sent; the parser deals with the charset."""
    for path in ("/no-charset.xml", "/wrong-charset.xml", "/entities.xml"):
        result = fetcher.fetch(server.url(path))
        assert result.status == 200 and result.content


def test_changing_guids_route_changes(server: HostileServer, fetcher: Fetcher) -> None:
    first = fetcher.fetch(server.url("/changing-guids.xml")).content
    second = fetcher.fetch(server.url("/changing-guids.xml")).content
    assert first != second
    assert b"/stable/1" in first and b"/stable/1" in second


# -- conditional GET ----------------------------------------------------------------------


def test_conditional_get_with_etag(server: HostileServer, fetcher: Fetcher) -> None:
    first = fetcher.fetch(server.url("/etag.xml"))
    assert first.status == 200 and first.etag == '"v1"' and first.last_modified
    server.reset_counters()
    second = fetcher.fetch(server.url("/etag.xml"), etag=first.etag)
    assert second.status == 304 and second.not_modified and second.content == b""
    assert second.etag == '"v1"'
    assert server.requests[-1].headers["if-none-match"] == '"v1"'


def test_conditional_get_with_last_modified(server: HostileServer, fetcher: Fetcher) -> None:
    first = fetcher.fetch(server.url("/etag.xml"))
    second = fetcher.fetch(server.url("/etag.xml"), last_modified=first.last_modified)
    assert second.not_modified


def test_stale_validator_gets_full_body(server: HostileServer, fetcher: Fetcher) -> None:
    result = fetcher.fetch(server.url("/etag.xml"), etag='"old"')
    assert result.status == 200 and result.content == OK_RSS


# -- time bounds --------------------------------------------------------------------------


def test_never_answering_server_fails_within_read_timeout(server: HostileServer) -> None:
    with Fetcher(policy(read_timeout=1.0, total_timeout=10.0)) as f:
        error, elapsed = fail(f, server.url("/never-answers"))
    assert error.kind == "timeout"
    assert 0.9 <= elapsed < 2.0


def test_retries_stay_within_total_budget(server: HostileServer) -> None:
    server.reset_counters()
    with Fetcher(policy(read_timeout=1.0, total_timeout=2.5, retries=5, backoff=0.1)) as f:
        error, elapsed = fail(f, server.url("/never-answers"))
    assert error.kind == "timeout"
    assert elapsed < 2.5 + 0.7
    assert server.hits["/never-answers"] >= 2  # it did retry, and stopped at the budget


def test_slow_trickle_is_cut_at_total_timeout(server: HostileServer) -> None:
    """One byte a second never trips a 5 s read timeout: only the total budget stops it."""
    with Fetcher(policy(read_timeout=5.0, total_timeout=2.0)) as f:
        error, elapsed = fail(f, server.url("/slow-trickle"))
    assert error.kind == "timeout"
    assert "2 s" in str(error)
    assert 1.9 <= elapsed < 2.8


def test_trickling_headers_are_cut_at_total_timeout(fresh_server: HostileServer) -> None:
    """The budget holds even before the status line is complete (socket-level deadline)."""

    def trickle_headers(ex: Any) -> None:
        ex.close_connection = True
        for char in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
            if fresh_server.stopping.wait(0.2):
                return
            ex.wfile.write(bytes([char]))
            ex.wfile.flush()

    fresh_server.route("/slow-headers", trickle_headers)
    with Fetcher(policy(read_timeout=5.0, total_timeout=1.5)) as f:
        error, elapsed = fail(f, fresh_server.url("/slow-headers"))
    assert error.kind == "timeout"
    assert elapsed < 2.3


def test_connection_refused_is_a_network_error(fetcher: Fetcher) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error, elapsed = fail(fetcher, f"http://127.0.0.1:{port}/feed.xml")
    assert error.kind == "network"
    assert elapsed < 1.0


# -- size bounds --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/endless", "/huge", "/huge-no-length", "/gzip-bomb"])
def test_oversized_bodies_stop_at_max_bytes(server: HostileServer, path: str) -> None:
    gzip_bomb()  # built outside the measurement (the server's memory, not the client's)
    with Fetcher(policy(total_timeout=10.0)) as f:
        tracemalloc.start()
        try:
            error, elapsed = fail(f, server.url(path))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert error.kind == "too_large"
    assert f"{MAX_BYTES:,}" in str(error)
    assert elapsed < 5.0
    # The body (1 MB) plus bounded chunks (measured ~1.7 MB): far from the 15 MB sent or the
    # 120 MB a bomb inflates to.
    assert peak < 2.5 * MAX_BYTES, f"peak {peak:,} bytes"


def test_body_exactly_at_limit_is_accepted(fresh_server: HostileServer) -> None:
    body = b"z" * 5000
    fresh_server.route("/exact", static(body, content_type="text/plain"))
    with Fetcher(policy(max_bytes=5000)) as f:
        assert f.fetch(fresh_server.url("/exact")).content == body
    with Fetcher(policy(max_bytes=4999)) as f:
        error, _ = fail(f, fresh_server.url("/exact"))
    assert error.kind == "too_large"


def test_gzip_within_limit_but_inflating_beyond_is_too_large(fresh_server: HostileServer) -> None:
    """Decompressed bytes count, not the bytes on the wire (20 KB gzip → 2 MB)."""
    packed = gzip.compress(b"a" * 2_000_000)
    assert len(packed) < MAX_BYTES
    fresh_server.route("/inflate", static(packed, headers={"Content-Encoding": "gzip"}))
    with Fetcher(policy()) as f:
        error, _ = fail(f, fresh_server.url("/inflate"))
    assert error.kind == "too_large"


# -- redirects ----------------------------------------------------------------------------


def test_redirect_loop(server: HostileServer, fetcher: Fetcher) -> None:
    error, elapsed = fail(fetcher, server.url("/redirect-loop"))
    assert error.kind == "redirects"
    assert "loop" in str(error).lower()
    assert elapsed < 1.0


def test_redirect_chain_within_limit_is_followed(server: HostileServer, fetcher: Fetcher) -> None:
    result = fetcher.fetch(server.url("/redirect-chain/5"))
    assert result.status == 200
    assert result.url == server.url("/ok.xml")
    assert result.content == OK_RSS


def test_redirect_chain_beyond_limit(server: HostileServer, fetcher: Fetcher) -> None:
    error, _ = fail(fetcher, server.url("/redirect-chain/6"))
    assert error.kind == "redirects"
    assert "more than 5" in str(error)


def test_redirect_without_location(fresh_server: HostileServer, fetcher: Fetcher) -> None:
    fresh_server.route("/nowhere", static(b"", status=302))
    error, _ = fail(fetcher, fresh_server.url("/nowhere"))
    assert error.kind == "http" and error.status == 302


# -- HTTP errors and retries --------------------------------------------------------------


def test_500_is_retried_with_exponential_backoff(server: HostileServer) -> None:
    server.reset_counters()
    sleeps: list[float] = []
    with Fetcher(policy(retries=2, backoff=0.5), sleep=sleeps.append) as f:
        error, _ = fail(f, server.url("/500"))
    assert error.kind == "http" and error.status == 500
    assert "500" in str(error)
    assert sleeps == [0.5, 1.0]
    assert server.hits["/500"] == 3


def test_500_then_success_is_a_success(fresh_server: HostileServer) -> None:
    answers = iter([500, 502, 200])

    def flaky(ex: Any) -> None:
        status = next(answers)
        ex.reply(status, OK_RSS if status == 200 else b"oops")

    fresh_server.route("/flaky", flaky)
    sleeps: list[float] = []
    with Fetcher(policy(retries=2, backoff=0.25), sleep=sleeps.append) as f:
        assert f.fetch(fresh_server.url("/flaky")).content == OK_RSS
    assert sleeps == [0.25, 0.5]


@pytest.mark.parametrize("path,status", [("/404", 404), ("/501", 501), ("/status/403", 403)])
def test_client_errors_and_501_are_not_retried(
    server: HostileServer, path: str, status: int
) -> None:
    server.reset_counters()
    sleeps: list[float] = []
    with Fetcher(policy(retries=2), sleep=sleeps.append) as f:
        error, _ = fail(f, server.url(path))
    assert error.kind == "http" and error.status == status
    assert server.hits[path] == 1 and sleeps == []


def test_429_carries_retry_after_and_is_not_retried(server: HostileServer) -> None:
    server.reset_counters()
    with Fetcher(policy(retries=2), sleep=lambda s: None) as f:
        error, _ = fail(f, server.url("/429"))
    assert error.kind == "http" and error.status == 429
    assert error.retry_after == 120.0
    assert server.hits["/429"] == 1


def test_503_with_http_date_retry_after(fresh_server: HostileServer) -> None:
    when = datetime.now(UTC) + timedelta(seconds=600)
    fresh_server.route(
        "/busy", static(b"busy", status=503, headers={"Retry-After": format_datetime(when, True)})
    )
    with Fetcher(policy(retries=2), sleep=lambda s: None) as f:
        error, _ = fail(f, fresh_server.url("/busy"))
    assert error.status == 503
    assert error.retry_after is not None and 590 <= error.retry_after <= 600
    assert fresh_server.hits["/busy"] == 1


def test_503_without_retry_after_is_retried(server: HostileServer) -> None:
    server.reset_counters()
    with Fetcher(policy(retries=1), sleep=lambda s: None) as f:
        error, _ = fail(f, server.url("/503"))
    assert error.retry_after is None
    assert server.hits["/503"] == 2


def test_non_http_schemes_are_blocked(fetcher: Fetcher) -> None:
    for url in ("file:///etc/passwd", "ftp://example.org/feed", "gopher://x/"):
        error, _ = fail(fetcher, url)
        assert error.kind == "blocked"


# -- politeness ---------------------------------------------------------------------------


def test_per_host_concurrency_never_exceeds_two(server: HostileServer) -> None:
    with Fetcher(policy(per_host_concurrency=2)) as f:
        server.reset_counters()
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda _: f.fetch(server.url("/hold?ms=150")), range(8)))
    assert all(r.content == b"held" for r in results)
    assert server.hits["/hold"] == 8
    assert server.max_active_on["/hold"] == 2  # reached, never exceeded


def test_per_host_concurrency_is_per_host(server: HostileServer) -> None:
    """Two hosts (127.0.0.1 and 127.0.0.2) each get their own two slots."""
    with HostileServer(host="127.0.0.2") as other, Fetcher(policy()) as f:
        server.reset_counters()
        urls = [server.url("/hold?ms=300"), other.url("/hold?ms=300")] * 4
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(f.fetch, urls))
        elapsed = time.monotonic() - start
    assert server.max_active_on["/hold"] == 2 and other.max_active_on["/hold"] == 2
    assert elapsed < 4 * 0.3 * 2  # the hosts ran side by side, not one after the other


def test_per_host_delay_spaces_request_starts(server: HostileServer) -> None:
    clock = FakeClock()
    with Fetcher(policy(per_host_delay=0.5), sleep=clock.sleep, clock=clock) as f:
        for _ in range(3):
            f.fetch(server.url("/ok.xml"))
    assert clock.sleeps == [0.5, 0.5]


def test_per_host_delay_does_not_delay_other_hosts(server: HostileServer) -> None:
    clock = FakeClock()
    with (
        HostileServer(host="127.0.0.2") as other,
        Fetcher(policy(per_host_delay=0.5), sleep=clock.sleep, clock=clock) as f,
    ):
        f.fetch(server.url("/ok.xml"))
        f.fetch(other.url("/ok.xml"))
        assert clock.sleeps == []
        f.fetch(server.url("/ok.xml"))
    assert clock.sleeps == [0.5]


def test_per_host_delay_with_real_threads(server: HostileServer) -> None:
    delay = 0.2
    with Fetcher(policy(per_host_delay=delay, per_host_concurrency=2)) as f:
        server.reset_counters()
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda _: f.fetch(server.url("/ok.xml")), range(4)))
    starts = sorted(r.at for r in server.requests)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(starts) == 4
    assert min(gaps) >= delay - 0.03, gaps


def test_shared_fetcher_is_thread_safe(server: HostileServer) -> None:
    with Fetcher(policy(per_host_concurrency=4)) as f, ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda _: f.fetch(server.url("/ok.xml")), range(60)))
    assert all(r.status == 200 and r.content == OK_RSS for r in results)


def test_hostile_sources_fail_alone(server: HostileServer) -> None:
    """Hostile URLs fetched next to good ones in one pool: good ones all succeed."""
    hostile = ["/never-answers", "/slow-trickle", "/endless", "/gzip-bomb", "/redirect-loop"]
    hostile += ["/500", "/404", "/429"]
    urls = [server.url(p) for p in hostile] + [server.url("/ok.xml")] * 10

    def attempt(url: str) -> str:
        try:
            return "ok" if f.fetch(url).content == OK_RSS else "bad"
        except FetchError as exc:
            return exc.kind

    with Fetcher(policy(total_timeout=2.0, per_host_concurrency=32)) as f:
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=16) as pool:
            outcomes = list(pool.map(attempt, urls))
        elapsed = time.monotonic() - start
    assert outcomes[len(hostile) :] == ["ok"] * 10
    assert outcomes[: len(hostile)] == [
        "timeout",
        "timeout",
        "too_large",
        "too_large",
        "redirects",
        "http",
        "http",
        "http",
    ]
    assert elapsed < 3.5


# -- robots.txt ---------------------------------------------------------------------------


def test_robots_disallow_is_respected(fresh_server: HostileServer) -> None:
    fresh_server.robots_txt = "User-agent: *\nDisallow: /private/\n"
    with Fetcher(policy()) as f:
        assert not f.allowed_by_robots(fresh_server.url("/private/page.html"))
        assert f.allowed_by_robots(fresh_server.url("/ok.xml"))
        error, _ = fail(f, fresh_server.url("/private/page.html"), respect_robots=True)
        assert error.kind == "robots"
        assert f.fetch(fresh_server.url("/ok.xml"), respect_robots=True).status == 200
    assert fresh_server.hits["/robots.txt"] == 1  # cached per host
    assert fresh_server.hits["/private/page.html"] == 0  # never requested


def test_robots_rules_for_our_agent(fresh_server: HostileServer) -> None:
    fresh_server.robots_txt = "User-agent: veille\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    with Fetcher(policy()) as f:
        assert not f.allowed_by_robots(fresh_server.url("/ok.xml"))


@pytest.mark.parametrize("status", [404, 403, 500, 503])
def test_robots_errors_allow_everything(fresh_server: HostileServer, status: int) -> None:
    fresh_server.route("/robots.txt", static(b"Disallow: /", status=status))
    with Fetcher(policy()) as f:
        assert f.allowed_by_robots(fresh_server.url("/anything"))


def test_robots_unreachable_allows(fetcher: Fetcher) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert fetcher.allowed_by_robots(f"http://127.0.0.1:{port}/page")


def test_robots_cache_expires(fresh_server: HostileServer) -> None:
    clock = FakeClock()
    fresh_server.robots_txt = "User-agent: *\nDisallow: /a\n"
    with Fetcher(policy(robots_ttl=100.0), clock=clock, sleep=clock.sleep) as f:
        assert not f.allowed_by_robots(fresh_server.url("/a"))
        fresh_server.robots_txt = "User-agent: *\nDisallow: /b\n"
        clock.now += 50
        assert not f.allowed_by_robots(fresh_server.url("/a"))  # still cached
        clock.now += 60
        assert f.allowed_by_robots(fresh_server.url("/a"))
        assert not f.allowed_by_robots(fresh_server.url("/b"))
    assert fresh_server.hits["/robots.txt"] == 2


def test_robots_fetched_once_under_concurrency(fresh_server: HostileServer) -> None:
    fresh_server.robots_txt = "User-agent: *\nDisallow: /x\n"
    with Fetcher(policy()) as f:
        barrier = threading.Barrier(8)

        def ask(_: int) -> bool:
            barrier.wait()
            return f.allowed_by_robots(fresh_server.url("/y"))

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert all(pool.map(ask, range(8)))
    assert fresh_server.hits["/robots.txt"] == 1


def test_concatenated_gzip_members_and_trailing_padding(fresh_server: HostileServer) -> None:
    half = len(OK_RSS) // 2
    body = gzip.compress(OK_RSS[:half]) + gzip.compress(OK_RSS[half:]) + b"\0" * 16
    fresh_server.route("/multi", static(body, headers={"Content-Encoding": "gzip"}))
    with Fetcher(policy()) as f:
        assert f.fetch(fresh_server.url("/multi")).content == OK_RSS
