"""SSRF guard: which addresses the fetcher may talk to.

Feed URLs come from a file anyone with write access can edit, and from redirects chosen by
remote servers; without this guard a source could make the collector read the cloud
metadata service or an intranet admin page and store the answer as an "article".

Two layers use the same rules:

* `check_url` runs before each request and on every redirect hop (scheme, literal IPs and,
  when asked to, DNS resolution) so the error is early and clear;
* `GuardedBackend` is an httpcore network backend: it resolves the host itself, checks every
  address, then connects to the checked address. The socket therefore goes exactly where the
  check looked, so DNS rebinding (a name that resolves to a public address for the check
  and to 127.0.0.1 for the connection) cannot slip through.

Remaining gap: DNS resolution uses the system resolver, whose own timeout is not bounded by
the fetcher's total budget (glibc defaults to 5 s per attempt).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpcore

from veille.errors import FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]
"""Maps (host, port) to IP address strings; the default asks the system (getaddrinfo)."""

# Metadata services hand out cloud credentials: blocked even when private networks are
# allowed, since no news source ever lives there.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, Oracle
        ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
    }
)
_SHARED_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix embeds an IPv4


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host, in its order, without duplicates."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[str, None] = {}
    for info in infos:
        seen.setdefault(str(info[4][0]), None)
    return list(seen)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """IPv4 address hidden in an IPv6 one (mapped, 6to4, NAT64), which reaches that IPv4."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why a non-public address must not be fetched, or None for a public address."""
    if ip in METADATA_ADDRESSES:
        return "cloud metadata"
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            reason = forbidden_reason(inner)
            return f"{reason} (inside an IPv6 address)" if reason else None
    checks: tuple[tuple[bool, str], ...] = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip in _SHARED_SPACE, "shared (carrier-grade NAT)"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
    )
    for hit, reason in checks:
        if hit:
            return reason
    if not ip.is_global:
        return "non-public"
    return None


@dataclass(frozen=True)
class AddressGuard:
    """The address rules of one fetcher.

    `allowed` lists networks exempt from the private-address rule (an operator may open one
    intranet host without opening them all; tests exempt their own loopback server).
    """

    allow_private: bool = False
    allowed: tuple[IPNetwork, ...] = ()
    resolver: Resolver = field(default=system_resolve, compare=False)

    @classmethod
    def build(
        cls,
        allow_private: bool,
        allowed: Iterable[str] = (),
        resolver: Resolver | None = None,
    ) -> AddressGuard:
        networks = tuple(ipaddress.ip_network(a, strict=False) for a in allowed)
        return cls(allow_private, networks, resolver or system_resolve)

    def reason(self, ip: IPAddress) -> str | None:
        """Why ip is refused under these rules, or None when it may be fetched."""
        if ip in METADATA_ADDRESSES:
            return "cloud metadata"
        if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%")[0])
        if self.allow_private or any(ip in net for net in self.allowed):
            return None
        return forbidden_reason(ip)

    def check_ip(self, ip: IPAddress, host: str) -> None:
        reason = self.reason(ip)
        if reason is None:
            return
        where = f"{host} is" if _literal_ip(host) is not None else f"{host} resolves to {ip},"
        raise FetchError(
            f"Refused to fetch from {host}: {where} a {reason} address, "
            "and only public addresses are collected.",
            kind="blocked",
        )

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address of host, each checked; refuses the host if any one is forbidden.

        Refusing on any bad address (rather than picking a good one) is the safe reading of
        a name that mixes public and internal addresses: it is either misconfigured or hostile.
        """
        literal = _literal_ip(host)
        if literal is not None:
            self.check_ip(literal, host)
            return [literal]
        if _is_localhost_name(host):  # RFC 6761: loopback whatever the resolver says
            for ip in _LOOPBACKS:
                self.check_ip(ip, host)
        try:
            found = [ipaddress.ip_address(a) for a in self.resolver(host, port)]
        except (OSError, UnicodeError, ValueError) as exc:
            raise FetchError(
                f"Could not resolve the host name {host}: {exc}.", kind="network"
            ) from exc
        if not found:
            raise FetchError(f"The host name {host} has no address.", kind="network")
        for ip in found:
            self.check_ip(ip, host)
        return found


_LOOPBACKS = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


def _is_localhost_name(host: str) -> bool:
    name = host.lower().rstrip(".")
    return name == "localhost" or name.endswith(".localhost")


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_url(
    url: str,
    allow_private: bool,
    *,
    resolve: bool = True,
    guard: AddressGuard | None = None,
) -> None:
    """Refuse (FetchError kind "blocked") a URL the collector must never fetch.

    Only http and https; the host's addresses (literal, or resolved unless `resolve` is
    False, as when the connection itself is guarded) must all be public.
    """
    guard = guard or AddressGuard(allow_private=allow_private)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(
            f"Refused to fetch {url!r}: the URL is malformed.", kind="blocked"
        ) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(
            f"Refused to fetch {url}: only http and https URLs are collected.", kind="blocked"
        )
    host = parts.hostname
    if not host:
        raise FetchError(f"Refused to fetch {url}: the URL has no host.", kind="blocked")
    literal = _literal_ip(host)
    if literal is not None:
        guard.check_ip(literal, host)
    elif _is_localhost_name(host):
        for ip in _LOOPBACKS:
            guard.check_ip(ip, host)
    elif resolve:
        guard.resolve(host, port or (443 if scheme == "https" else 80))


# --- connect-time guard -------------------------------------------------------------------

_deadline = threading.local()


class Deadline:
    """A point in time after which no socket operation of this thread may wait.

    httpx's read timeout is per socket read, so a server trickling one byte a second would
    never trip it; capping every read, write and connect at the remaining time does.
    """

    def __init__(self, at: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.at = at
        self.clock = clock

    def remaining(self) -> float:
        return self.at - self.clock()

    def __enter__(self) -> Deadline:
        self._previous = getattr(_deadline, "value", None)
        _deadline.value = self
        return self

    def __exit__(self, *exc: object) -> None:
        _deadline.value = self._previous


def _bounded(timeout: float | None, exc: type[Exception]) -> float | None:
    current: Deadline | None = getattr(_deadline, "value", None)
    if current is None:
        return timeout
    left = current.remaining()
    if left <= 0:
        raise exc("total time limit reached")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: object,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context,  # type: ignore[arg-type]
            server_hostname,
            _bounded(timeout, httpcore.ConnectTimeout),
        )
        return _DeadlineStream(inner)

    def get_extra_info(self, info: str) -> object:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Resolves, checks, then connects to the checked address (no rebinding window).

    TLS still verifies the certificate against the host name: httpcore passes the origin's
    name as `server_hostname`, independently of the address we dial.
    """

    def __init__(self, guard: AddressGuard) -> None:
        self._guard = guard
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._guard.resolve(host, port)
        last: Exception | None = None
        for ip in addresses:
            try:
                stream = self._inner.connect_tcp(
                    str(ip),
                    port,
                    timeout=_bounded(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:  # try the next address (IPv6 then IPv4...)
                last = exc
                continue
            return _DeadlineStream(stream)
        assert last is not None
        raise last

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
