"""`/api/docs` works offline: Swagger UI's script and stylesheet come from this server
(from an installed package), the page names no other host, and its CSP allows no inline
script but the one page script, by hash (a real uvicorn server)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator

import pytest
from lxml import html as lxml_html
from sqlalchemy.orm import Session, sessionmaker

from tests.archive_site import Site, running_archive
from veille.config import Settings


@pytest.fixture
def site(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[Site]:
    with running_archive(settings, sessions) as running:
        yield running


def test_api_docs_load_nothing_from_other_hosts(site: Site) -> None:
    page = site.get("/api/docs")
    assert page.status_code == 200
    doc = lxml_html.fromstring(page.content)
    urls = doc.xpath("//@src | //@href")
    assert urls, "the page loads its assets"
    assert all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert not re.search(r"https?://|//cdn", page.text)  # no host anywhere, not even in JS
    for url in urls:
        asset = site.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000, url
    kinds = {site.get(u).headers["content-type"].split(";")[0] for u in urls}
    assert {"text/javascript", "text/css"} <= kinds

    csp = page.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "http" not in csp and "cdn" not in csp
    inline = [s.text for s in doc.xpath("//script[not(@src)]")]
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp
    assert "/api/openapi.json" in inline[0]
