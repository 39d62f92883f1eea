"""`/api/docs`: Swagger UI served from this server, never from a CDN.

The page used to load Swagger UI from cdn.jsdelivr.net (blank offline, and a third party
able to run script on our origin) with `'unsafe-inline'` in its CSP. The script and
stylesheet now come from the `fastapi-offline` package, which ships Swagger UI's dist
files, under `/api/docs-assets/`; the page's one inline script (FastAPI's initialiser) is
allowed by its SHA-256 alone, computed from the page itself so a FastAPI upgrade that
changes it cannot break the page silently.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/api/docs-assets"
OPENAPI_URL = "/api/openapi.json"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@cache
def _page() -> tuple[bytes, str]:
    """The page's body and its CSP (the page never changes while the process runs)."""
    page = get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title="veille — API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon.png",
        # No "valid spec" badge fetched from validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )
    body = bytes(page.body)
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _INLINE_SCRIPT.findall(body.decode("utf-8"))
    )
    csp = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    return body, csp


def install(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-assets")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        body, csp = _page()
        return HTMLResponse(body, headers={"Content-Security-Policy": csp})
