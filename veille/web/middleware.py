"""One pure ASGI layer around the whole app: security headers and `Server-Timing` on every
response, and the last-resort 500 page.

Pure ASGI rather than `BaseHTTPMiddleware`: streamed exports pass through untouched, and an
exception escaping a route is caught here, inside the header-adding layer, so the 500 page
carries the same headers as any other page.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("veille.web")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
}

# Sent only when VEILLE_BASE_URL is https: a browser that saw it once refuses plain HTTP to
# this host for a year, so a man in the middle cannot strip TLS on a later visit.
HSTS = (b"strict-transport-security", b"max-age=31536000")

ErrorPage = Callable[[Scope], tuple[int, bytes, str]]


class WebGuard:
    def __init__(self, app: ASGIApp, error_page: ErrorPage, *, hsts: bool = False) -> None:
        self.app = app
        self.error_page = error_page
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                if self.hsts:
                    headers.append(HSTS)
                ms = (time.perf_counter() - start) * 1000
                headers.append((b"server-timing", f"app;dur={ms:.1f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise  # a streamed body broke midway: nothing sensible left to send
            status, body, content_type = self.error_page(scope)
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", content_type.encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send_with_headers({"type": "http.response.body", "body": body})
