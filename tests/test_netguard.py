"""The SSRF guard: address rules, URL checks, redirects and connect-time pinning.

Redirect and rebinding tests use two real loopback servers: 127.0.0.2 is exempted in the
policy (standing in for a public host), 127.0.0.1 is not (standing in for the internal
target), so the real rules decide the outcome.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.hostile_server import OK_RSS, HostileServer, redirect, static
from veille.collect.fetcher import Fetcher, FetchPolicy
from veille.collect.netguard import AddressGuard, check_url, forbidden_reason
from veille.errors import FetchError

FORBIDDEN = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "169.254.1.1": "link-local",
    "169.254.169.254": "cloud metadata",
    "100.64.0.1": "shared",
    "100.100.100.200": "cloud metadata",
    "0.0.0.0": "unspecified",
    "224.0.0.1": "multicast",
    "240.0.0.1": "",  # reserved (Python files it under private too)
    "255.255.255.255": "",
    "192.0.2.10": "",  # documentation range
    "::1": "loopback",
    "::": "unspecified",
    "fe80::1": "link-local",
    "fc00::1": "private",
    "fd00:ec2::254": "cloud metadata",
    "ff02::1": "multicast",
    "::ffff:127.0.0.1": "loopback",
    "::ffff:10.0.0.1": "private",
    "::ffff:169.254.169.254": "cloud metadata",
    "64:ff9b::7f00:1": "loopback",  # NAT64 of 127.0.0.1
    "2002:7f00:1::": "loopback",  # 6to4 of 127.0.0.1
}
PUBLIC = ["93.184.216.34", "1.1.1.1", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address,reason", sorted(FORBIDDEN.items()))
def test_forbidden_addresses(address: str, reason: str) -> None:
    found = forbidden_reason(ipaddress.ip_address(address))
    assert found is not None
    assert reason in found


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed",
        "https://10.0.0.1:8443/feed",
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost/feed",  # resolved by the system
        "http://LOCALHOST./feed",  # RFC 6761 names, refused without asking DNS
        "http://admin.localhost/",
        "http://0x7f000001/",  # the resolver reads hex and short forms as 127.0.0.1
        "http://2130706433/",
        "http://127.1/",
        "file:///etc/passwd",
        "ftp://example.org/",
        "javascript:alert(1)",
        "http:///nohost",
        "http://[::1/",
    ],
)
def test_check_url_blocks(url: str) -> None:
    with pytest.raises(FetchError) as info:
        check_url(url, allow_private=False)
    assert info.value.kind == "blocked"
    assert str(info.value).startswith("Refused to fetch")


def test_check_url_accepts_public_literal() -> None:
    check_url("https://93.184.216.34/feed.xml", allow_private=False)


def test_allow_private_opens_loopback_but_never_metadata() -> None:
    check_url("http://127.0.0.1:8000/feed", allow_private=True)
    check_url("http://localhost/feed", allow_private=True)
    with pytest.raises(FetchError) as info:
        check_url("http://169.254.169.254/latest/", allow_private=True)
    assert "metadata" in str(info.value)


def test_resolved_names_are_checked() -> None:
    table = {
        "intranet.example": ["10.0.0.5"],
        "mixed.example": ["93.184.216.34", "192.168.0.10"],
        "public.example": ["93.184.216.34", "2606:4700:4700::1111"],
    }
    guard = AddressGuard.build(False, resolver=lambda host, port: table[host])
    with pytest.raises(FetchError, match=r"intranet\.example resolves to 10\.0\.0\.5"):
        check_url("http://intranet.example/feed", False, guard=guard)
    with pytest.raises(FetchError, match=r"192\.168\.0\.10"):
        check_url("http://mixed.example/feed", False, guard=guard)
    check_url("http://public.example/feed", False, guard=guard)


def test_unresolvable_name_is_a_network_error() -> None:
    def nowhere(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    guard = AddressGuard.build(False, resolver=nowhere)
    with pytest.raises(FetchError) as info:
        check_url("http://missing.example/", False, guard=guard)
    assert info.value.kind == "network"


def test_allowed_addresses_exempt_only_themselves() -> None:
    guard = AddressGuard.build(False, ["127.0.0.2", "10.9.0.0/16"])
    check_url("http://127.0.0.2/", False, guard=guard)
    check_url("http://10.9.1.1/", False, guard=guard)
    for url in ("http://127.0.0.1/", "http://10.8.0.1/", "http://169.254.169.254/"):
        with pytest.raises(FetchError):
            check_url(url, False, guard=guard)


# -- through the fetcher ----------------------------------------------------------------


def guarded(**overrides: Any) -> FetchPolicy:
    values: dict[str, Any] = {
        "allow_private_networks": False,
        "allowed_addresses": ("127.0.0.2",),
        "per_host_delay": 0.0,
        "retries": 0,
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "total_timeout": 3.0,
    }
    values.update(overrides)
    return FetchPolicy(**values)


@pytest.fixture
def servers() -> Iterator[tuple[HostileServer, HostileServer]]:
    """(outside, inside): outside on the exempted 127.0.0.2, inside on 127.0.0.1."""
    with HostileServer(host="127.0.0.2") as outside, HostileServer() as inside:
        outside.private_target = inside.url("/ok.xml")
        yield outside, inside


def test_default_policy_blocks_loopback_server(
    servers: tuple[HostileServer, HostileServer],
) -> None:
    _, inside = servers
    with Fetcher(FetchPolicy(per_host_delay=0)) as f, pytest.raises(FetchError) as info:
        f.fetch(inside.url("/ok.xml"))
    assert info.value.kind == "blocked"
    assert inside.hits["/ok.xml"] == 0


def test_redirect_to_private_is_blocked(servers: tuple[HostileServer, HostileServer]) -> None:
    outside, inside = servers
    with Fetcher(guarded()) as f:
        assert f.fetch(outside.url("/ok.xml")).content == OK_RSS  # the outside is reachable
        with pytest.raises(FetchError) as info:
            f.fetch(outside.url("/redirect-to-private"))
    assert info.value.kind == "blocked"
    assert "127.0.0.1" in str(info.value)
    assert outside.hits["/redirect-to-private"] == 1
    assert inside.hits["/ok.xml"] == 0  # the internal target was never contacted
    # Control: with the inside exempted too, the same redirect is followed.
    with Fetcher(guarded(allowed_addresses=("127.0.0.2", "127.0.0.1"))) as f:
        assert f.fetch(outside.url("/redirect-to-private")).url == inside.url("/ok.xml")


def test_redirect_to_localhost_name_is_blocked(
    servers: tuple[HostileServer, HostileServer],
) -> None:
    outside, inside = servers
    outside.route("/to-localhost", redirect(f"http://localhost:{inside.port}/ok.xml"))
    with Fetcher(guarded()) as f, pytest.raises(FetchError) as info:
        f.fetch(outside.url("/to-localhost"))
    assert info.value.kind == "blocked"
    assert inside.hits["/ok.xml"] == 0


def test_dns_rebinding_cannot_swap_the_address(
    servers: tuple[HostileServer, HostileServer],
) -> None:
    """The name is resolved once per connection, by the guard, and the socket goes there.

    `feed.test` exists in no DNS: the first fetch succeeding proves the connection used the
    guard's own resolution. When the name then "rebinds" to 127.0.0.1, the next connection
    is refused before any byte is sent.
    """
    outside, inside = servers
    for server in (outside, inside):
        server.route("/close.xml", static(OK_RSS, headers={"Connection": "close"}))
    answers = iter([["127.0.0.2"], ["127.0.0.1"], ["127.0.0.1"]])
    asked: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        asked.append(host)
        return next(answers)

    with Fetcher(guarded(), resolver=rebinding) as f:
        result = f.fetch(f"http://feed.test:{outside.port}/close.xml")
        assert result.content == OK_RSS
        assert outside.requests[-1].headers["host"] == f"feed.test:{outside.port}"
        with pytest.raises(FetchError) as info:
            f.fetch(f"http://feed.test:{inside.port}/close.xml")
    assert info.value.kind == "blocked"
    assert inside.hits["/close.xml"] == 0
    assert asked == ["feed.test", "feed.test"]


def test_custom_transport_gets_the_full_precheck() -> None:
    """Without our connection-level guard, every hop is resolved and checked up front."""
    seen: list[str] = []

    def app(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path == "/start":
            return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/"})
        return httpx.Response(200, content=b"secret")

    table = {"news.example": ["93.184.216.34"], "internal.example": ["10.0.0.7"]}
    with Fetcher(
        guarded(allowed_addresses=()),
        transport=httpx.MockTransport(app),
        resolver=lambda host, port: table[host],
    ) as f:
        with pytest.raises(FetchError) as info:
            f.fetch("http://news.example/start")
        assert "metadata" in str(info.value)
        with pytest.raises(FetchError):
            f.fetch("http://internal.example/feed")
    assert seen == ["http://news.example/start"]
