"""Serve the demo site on localhost: a ThreadingHTTPServer in a daemon thread.

Every document is rendered once at start from the catalog, with dates computed from each
article's age relative to `now`, so the demo always looks fresh and answers stay stable
(ETag, Last-Modified and 304 work as on a real site).
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import ClassVar
from urllib.parse import urlsplit

from veille.demo import render
from veille.demo.catalog import (
    DemoArticle,
    DemoSource,
    articles_listed_in,
    demo_manifest_tuple,
    demo_sources,
    source_by_key,
)

_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "rss-summary": "application/rss+xml; charset=utf-8",
    "rss-malformed": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
    "page": "text/html; charset=utf-8",
    "sitemap": "application/xml; charset=utf-8",
}
_HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class _Doc:
    body: bytes
    content_type: str
    last_modified: datetime
    status: int = 200

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:20] + '"'


def build_documents(base_url: str, now: datetime) -> dict[str, _Doc]:
    """Every path the site answers, with its document (the broken source's with 500)."""
    base = base_url.rstrip("/")
    sources = list(demo_sources())
    by_key = source_by_key()
    docs: dict[str, _Doc] = {}

    def put(path: str, text: str, ctype: str = _HTML, when: datetime = now) -> None:
        docs[path] = _Doc(text.encode("utf-8"), ctype, when)

    for src in sources:
        items = articles_listed_in(src.key)
        newest = render.published_at(items[0], now) if items else now
        if src.format == "broken":
            err = render.plain_page("Erreur 500", "Le serveur a rencontré une erreur.", base)
            for path in (src.feed_path, src.home_path):
                docs[path] = _Doc(err.encode("utf-8"), _HTML, now, status=500)
            continue
        put(src.feed_path, _render_feed(src, items, base, now), _TYPES[src.format], newest)
        if src.format == "page":
            put(src.home_path, render.listing_page(src, items[:5], base, now, cards=False))
            for name, title in (
                ("qui-sommes-nous", "Qui sommes-nous ?"),
                ("adherer", "Adhérer à l'agence"),
            ):
                put(f"/{src.prefix}/{name}.html", render.plain_page(title, src.description, base))
        else:
            put(src.home_path, render.listing_page(src, items[:15], base, now, cards=False))
    for article in demo_manifest_tuple():
        src = by_key[article.source]
        own = [a for a in articles_listed_in(src.key) if a.source == src.key]
        related = [a for a in own if a.path != article.path][:4]
        when = render.published_at(article, now)
        put(article.path, render.article_page(article, src, related, base, now), when=when)
    put("/", render.index_page(sources, base))
    sitemap_src = next(s for s in sources if s.format == "sitemap")
    put("/robots.txt", render.robots(base, sitemap_src.feed_path), "text/plain; charset=utf-8")
    for name, title in (
        ("a-propos", "À propos"),
        ("contact", "Contact"),
        ("mentions-legales", "Mentions légales"),
        ("accessibilite", "Accessibilité"),
        ("plan-du-site", "Plan du site"),
    ):
        put(f"/{name}.html", render.plain_page(title, "Page de service du site de démo.", base))
    put("/static/site.css", "body{font-family:sans-serif;max-width:60rem;margin:auto}", "text/css")
    return docs


def _render_feed(src: DemoSource, items: list[DemoArticle], base: str, now: datetime) -> str:
    if src.format == "atom":
        return render.atom(src, items, base, now)
    if src.format == "json":
        return render.json_feed(src, items, base, now)
    if src.format == "sitemap":
        return render.sitemap(src, items, base, now)
    if src.format == "page":
        return render.listing_page(src, items, base, now, cards=True)
    return render.rss(src, items, base, now)


class _Handler(BaseHTTPRequestHandler):
    server_version = "DemoVeille/1.0"
    docs: ClassVar[dict[str, _Doc]] = {}

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the demo runs beside the scheduler's own logs."""

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _answer(self, *, head: bool) -> None:
        path = urlsplit(self.path).path
        doc = self.docs.get(path)
        if doc is None:
            doc = _Doc(b"<h1>Page introuvable</h1>", _HTML, datetime.now(UTC), status=404)
        if doc.status == 200 and self._not_modified(doc):
            self.send_response(304)
            self.send_header("ETag", doc.etag)
            self.end_headers()
            return
        body = doc.body
        gzipped = "gzip" in self.headers.get("Accept-Encoding", "") and len(body) > 1024
        if gzipped:
            body = gzip.compress(body, compresslevel=5, mtime=0)
        self.send_response(doc.status)
        self.send_header("Content-Type", doc.content_type)
        self.send_header("Content-Length", str(len(body)))
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        if doc.status == 200:
            self.send_header("ETag", doc.etag)
            self.send_header("Last-Modified", format_datetime(doc.last_modified, usegmt=True))
            self.send_header("Cache-Control", "max-age=300")
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _not_modified(self, doc: _Doc) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            return doc.etag in [t.strip() for t in inm.split(",")]
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                return doc.last_modified.replace(microsecond=0) <= parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
        return False


def _base_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    host = host.decode() if isinstance(host, bytes) else str(host)
    return f"http://{host}:{port}"


class DemoSite:
    """A running demo site; stop it with `.stop()` or use it as a context manager."""

    def __init__(self, server: ThreadingHTTPServer, thread: threading.Thread, now: datetime):
        self._server = server
        self._thread = thread
        self.now = now
        self.base_url = _base_url(server)

    def url(self, path: str) -> str:
        return self.base_url + path

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> DemoSite:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_demo_site(
    host: str = "127.0.0.1", port: int = 0, *, now: datetime | None = None
) -> DemoSite:
    """Start serving the demo site; `port=0` picks a free port (see `.base_url`).

    `now` fixes the reference time the articles' ages count from (default: the current
    hour, UTC), so tests can pin dates and a restarted demo keeps the same documents.
    """
    ref = (now or render.utc_now_hour()).astimezone(UTC)

    class Handler(_Handler):
        docs: ClassVar[dict[str, _Doc]] = {}

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    Handler.docs = build_documents(_base_url(server), ref)
    thread = threading.Thread(target=server.serve_forever, name="veille-demo-site", daemon=True)
    thread.start()
    return DemoSite(server, thread, ref)
