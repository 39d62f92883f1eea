"""Browser fixtures: a real archive served by uvicorn over a real collection, and Debian's
headless Chromium driven by Playwright.

The archive under test is built the way a member's would be: the bundled demo site runs on
localhost, one collection cycle (`refresh_due`) fills a temporary SQLite file, and the web
app from `create_app(settings)` is served by a real uvicorn server in a thread. Both are
module-scoped, so the ~170 fetches happen once.

Playwright never downloads a browser here: it launches the system Chromium. When Chromium,
Playwright or axe-core is missing, the tests skip with the reason, so a developer without
them still runs the rest of the suite; `.ci/run` installs all three.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.archive_site import serve
from veille.collect.pipeline import CollectContext, CycleSummary, refresh_due
from veille.config import get_settings
from veille.db.engine import make_engine, session_factory, upgrade
from veille.demo import demo_feeds_yaml, start_demo_site
from veille.sources import load_feeds_config

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"

# The collector's clock and the demo's "now" are the same fixed hour, as in
# tests/test_demo_collect.py, so what gets stored does not depend on the day tests run.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unavailable(reason: str) -> NoReturn:
    """Skip, unless VEILLE_REQUIRE_BROWSER is set (.ci/run sets it): there a missing browser
    or axe-core is an install bug, and a silent skip would hide it behind a green run."""
    if os.environ.get("VEILLE_REQUIRE_BROWSER"):
        pytest.fail(f"{reason} (VEILLE_REQUIRE_BROWSER is set)")
    pytest.skip(reason)


def chromium_path() -> str | None:
    """Debian's Chromium (VEILLE_CHROMIUM overrides), or None when it is not installed."""
    candidate = os.environ.get("VEILLE_CHROMIUM") or "/usr/bin/chromium"
    if Path(candidate).is_file():
        return candidate
    return shutil.which("chromium")


def axe_path() -> Path | None:
    """axe.min.js installed from npm: VEILLE_AXE_JS, else the folder .ci/run installs into
    (`npm install --no-save --prefix ~/.cache/veille-test axe-core@4`)."""
    explicit = os.environ.get("VEILLE_AXE_JS")
    candidates = [Path(explicit)] if explicit else []
    candidates.append(
        Path.home() / ".cache" / "veille-test" / "node_modules" / "axe-core" / "axe.min.js"
    )
    return next((p for p in candidates if p.is_file()), None)


@dataclass(frozen=True)
class Archive:
    """The running archive: its URL, and what the collection cycle did."""

    base_url: str
    summary: CycleSummary

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    """Collect the demo site once into a fresh SQLite file, then serve the archive."""
    from veille.web.app import create_app

    tmp = tmp_path_factory.mktemp("browser-archive")
    settings = get_settings(
        database_url=f"sqlite:///{tmp / 'archive.db'}",
        config_file=tmp / "feeds.yaml",
        allow_private_networks=True,
        per_host_delay=0.0,
        per_host_concurrency=8,  # the settings maximum: one host serves every demo source
        fetch_timeout=10.0,
        extract_workers=1,
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    try:
        with start_demo_site(now=NOW) as site:
            settings.config_file.write_text(demo_feeds_yaml(site.base_url), encoding="utf-8")
            ctx = CollectContext(
                settings=settings,
                sessions=session_factory(engine),
                config=load_feeds_config(settings.config_file),
            )
            ctx.clock = lambda: NOW
            summary = refresh_due(ctx)
    finally:
        engine.dispose()
    assert summary.new_articles > 0, "the demo collection stored nothing"

    with serve(create_app(settings)) as base_url:
        yield Archive(base_url=base_url, summary=summary)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium; skips (with the reason) when it or Playwright is absent."""
    executable = chromium_path()
    if executable is None:
        _unavailable("Chromium not installed (apt-get install chromium): browser tests skipped")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        # launch() gives Chromium a fresh temporary profile of its own (Playwright refuses an
        # explicit --user-data-dir there), so nothing of a developer's browsing leaks in.
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _context(browser: Any, **extra: Any) -> Any:
    context = browser.new_context(
        locale="fr-FR",
        timezone_id="Europe/Paris",
        viewport={"width": 1280, "height": 900},
        **extra,
    )
    # A ceiling on each wait, not a speed claim: 30 s leaves room for a machine loaded by
    # other workers (a click's navigation took over 10 s once at load 15).
    context.set_default_timeout(30_000)
    return context


@pytest.fixture
def page(browser: Any, archive: Archive) -> Iterator[Any]:
    """A page in a fresh context, under the app's real Content-Security-Policy."""
    context = _context(browser)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/ at the repository root (git-ignored), kept after the run for CI."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def axe_js() -> Path:
    path = axe_path()
    if path is None:
        _unavailable(
            "axe-core not installed (npm install --no-save --prefix ~/.cache/veille-test "
            "axe-core@4, or set VEILLE_AXE_JS): accessibility checks skipped"
        )
    return path


@pytest.fixture
def axe_page(axe_js: Path, browser: Any, archive: Archive) -> Iterator[Any]:
    """A page whose context bypasses CSP, only so the injected axe script may run."""
    context = _context(browser, bypass_csp=True)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
