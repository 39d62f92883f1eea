"""What the web layer knows about the connection: the client's address, and the cookie
names and flags that depend on whether the site is served over HTTPS.

The client address is `request.client`, nothing else. Behind a reverse proxy, uvicorn
rewrites it from `X-Forwarded-For` only when the connection comes from one of
`VEILLE_TRUSTED_PROXIES` (see `veille.server.uvicorn_options`); otherwise such a header
is ignored, so nobody can pick the IP the throttles count or the consent proof stores.

When `VEILLE_BASE_URL` is https, every cookie of ours is `Secure` and named with the
`__Host-` prefix: browsers then refuse it unless it was set over HTTPS, with `Path=/` and
no `Domain`, so a sibling subdomain or a plain-HTTP man in the middle cannot plant or
overwrite it (session fixation, CSRF-cookie tossing).
"""

from __future__ import annotations

from fastapi import Request

from veille.config import Settings

HOST_PREFIX = "__Host-"
UNKNOWN_CLIENT = "unknown"


def client_ip(request: Request) -> str:
    """The one client address of the whole web layer (throttles, consent proof, logs)."""
    return request.client.host if request.client else UNKNOWN_CLIENT


def is_https(settings: Settings) -> bool:
    return settings.base_url.strip().lower().startswith("https://")


def request_is_https(request: Request) -> bool:
    """Whether the app serving `request` is configured for HTTPS (not what the proxy says)."""
    return is_https(request.app.state.web.settings)


def cookie_name(base: str, secure: bool) -> str:
    """`__Host-<base>` when cookies are Secure (they are then always Path=/, no Domain)."""
    return HOST_PREFIX + base if secure else base
