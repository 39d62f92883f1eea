"""`veille run` as a user starts it: a real subprocess whose scheduler collects due sources
and whose web app shows them in French; SIGTERM stops it cleanly."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.hostile_server import HostileServer
from tests.site_builder import feeds_yaml, make_pages, mount_site
from veille.frenchformat import full_date as date_fr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def site() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        mount_site(srv)
        yield srv


@pytest.mark.usefixtures("seed_model")  # the child loads it, never trains it
def test_run_collects_on_schedule_serves_french_and_stops_cleanly(
    site: HostileServer, db_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(feeds_yaml(site.base_url), encoding="utf-8")
    port = free_port()
    env = {
        **os.environ,
        "VEILLE_DATABASE_URL": db_url,
        "VEILLE_ALLOW_PRIVATE_NETWORKS": "1",
        "VEILLE_PER_HOST_DELAY": "0",
        "VEILLE_EXTRACT_WORKERS": "1",
        "VEILLE_COLLECT_TICK_SECONDS": "5",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "veille", "run", "--config", str(config), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        articles = 0
        while time.monotonic() < deadline and articles < len(make_pages()):
            with contextlib.suppress(httpx.HTTPError):
                articles = httpx.get(f"{base}/healthz", timeout=2).json()["articles"]
            time.sleep(0.3)
        assert articles == len(make_pages())
        page = httpx.get(f"{base}/", timeout=5)
        assert page.status_code == 200
        assert page.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" in page.headers
        html = page.text
        assert '<html lang="fr">' in html
        assert "Archive de la veille" in html
        # Every collected article, whatever its themes (the default lists on-topic ones,
        # one per story).
        every = "theme=none&theme=open_data&theme=ia&theme=donnees_interet_general&group=none"
        html = httpx.get(f"{base}/?{every}", timeout=5).text
        for p in make_pages():
            assert p.title.replace("'", "&#39;") in html
        assert "2026" in html and "novembre" in html  # French dates
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            pytest.fail(f"veille run did not stop on SIGTERM:\n{out}")
    assert proc.returncode == 0, out
    assert "Traceback" not in out, out
    # The cycle's summary is logged in French; APScheduler's per-tick INFO lines are not.
    assert "Collecte : " in out and "nouveaux articles" in out, out
    assert " INFO apscheduler" not in out and "Running job" not in out, out


def test_french_dates_in_paris_time() -> None:
    assert date_fr(datetime(2026, 11, 23, 10, tzinfo=UTC)) == "lundi 23 novembre 2026"
    # 23:30 UTC on the 23rd is already the 24th in Paris.
    assert date_fr(datetime(2026, 11, 23, 23, 30, tzinfo=UTC)) == "mardi 24 novembre 2026"
