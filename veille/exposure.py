"""What `veille run`, `serve` and `demo` may expose to the network, checked before
listening: the signing secret, and which proxies may speak for clients.

The shipped `change-me` secret signs setup links, member links and CSRF tokens: anyone
who knows it (everyone: it is in the README) forges them. On a loopback interface only the
machine's own users reach the app, so a laptop trial still starts; anything else is
refused. `veille demo` gets a random secret of its own instead (`demo_secret`).

`VEILLE_TRUSTED_PROXIES` lists the reverse proxies whose `X-Forwarded-For` /
`X-Forwarded-Proto` uvicorn believes; empty (the default) means no proxy headers at all —
uvicorn would otherwise trust them from 127.0.0.1, i.e. from anyone on the machine and from
any local proxy passing the header through.
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any

from veille.config import Settings
from veille.errors import ConfigError

DEFAULT_SECRET = "change-me"
LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_secret(settings: Settings, host: str) -> None:
    """ConfigError (one line, exit code 1 in the CLI) when the default secret would be
    served beyond this machine."""
    if settings.secret_key.strip() in ("", DEFAULT_SECRET) and not is_loopback(host):
        raise ConfigError(
            f"Refusing to listen on {host} with the default VEILLE_SECRET_KEY 'change-me': "
            "set it to a long random value (python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))') or listen on 127.0.0.1."
        )


def demo_secret(settings: Settings) -> str:
    """The demo's secret: the configured one, or a fresh random one when it is the default
    (sessions then end with the demo, which is what a demo wants)."""
    if settings.secret_key.strip() in ("", DEFAULT_SECRET):
        return secrets.token_urlsafe(32)
    return settings.secret_key


def trusted_proxies(settings: Settings) -> list[str]:
    """The parsed `VEILLE_TRUSTED_PROXIES` (IPs or CIDR networks); ConfigError on a typo, so
    a proxy meant to be trusted is not silently ignored."""
    found: list[str] = []
    for item in settings.trusted_proxies.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ConfigError(
                f"Invalid VEILLE_TRUSTED_PROXIES entry '{item}': expected an IP address or "
                "a network such as 10.0.0.0/8."
            ) from None
        found.append(str(network) if "/" in item else str(network.network_address))
    return found


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """`uvicorn.Config` keywords: proxy headers only from the trusted proxies."""
    proxies = trusted_proxies(settings)
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies}
