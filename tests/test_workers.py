"""`veille run --workers 2` as a user starts it: two uvicorn worker processes answer, the
scheduler starts once (in the parent, not in each worker), the workers share what they
render through one file in a temporary folder, and SIGTERM stops them all and removes it."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.hostile_server import HostileServer
from tests.site_builder import feeds_yaml, make_pages, mount_site
from tests.test_run import free_port


@pytest.mark.usefixtures("seed_model")  # the child loads it, never trains it
def test_two_workers_one_scheduler(db_url: str, tmp_path: Path) -> None:
    with HostileServer() as site:
        mount_site(site)
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
            "VEILLE_WEB_WORKERS": "1",  # the option wins over the setting
            "TMPDIR": str(tmp_path / "tmp"),  # where the shared answers' folder goes
        }
        (tmp_path / "tmp").mkdir()
        command = [sys.executable, "-m", "veille", "run", "--config", str(config)]
        proc = subprocess.Popen(
            [*command, "--port", str(port), "--workers", "2"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180  # a hang guard: a loaded CI box starts slowly
            articles = 0
            ready_at_first_answer = None
            while time.monotonic() < deadline and articles < len(make_pages()):
                with contextlib.suppress(httpx.HTTPError):
                    articles = httpx.get(f"{base}/healthz", timeout=2).json()["articles"]
                    if ready_at_first_answer is None:  # no worker listens before both
                        ready = (tmp_path / "tmp").glob("veille-answers-*/started/*.ready")
                        ready_at_first_answer = len(list(ready))
                time.sleep(0.3)  # a real child process: no clock of ours to inject
            assert ready_at_first_answer == 2
            assert articles == len(make_pages())
            answers = [httpx.get(f"{base}/api/articles", timeout=5) for _ in range(10)]
            assert {a.status_code for a in answers} == {200}
            assert all(a.headers["etag"] for a in answers)  # the cache is on in the workers
            # Fresh connections reach either worker: each answers the same ETag with a 304.
            etag = answers[0].headers["etag"]
            again = [
                httpx.get(f"{base}/api/articles", headers={"If-None-Match": etag}, timeout=5)
                for _ in range(10)
            ]
            assert {a.status_code for a in again} == {304}
            assert {a.headers["etag"] for a in again} == {etag}
            (shared,) = (tmp_path / "tmp").glob("veille-answers-*/answers.sqlite")
            with contextlib.closing(sqlite3.connect(shared)) as db:
                paths = {row[0].split("\x00")[1] for row in db.execute("SELECT key FROM answers")}
            assert "/api/articles" in paths  # the render one worker kept, for the other
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                out, _ = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
                pytest.fail(f"veille run --workers 2 did not stop on SIGTERM:\n{out}")
    workers = set(re.findall(r"Started server process \[(\d+)\]", out))
    schedulers = re.findall(r"scheduler started \(pid (\d+)\)", out)
    parent = re.findall(r"Started parent process \[(\d+)\]", out)
    assert len(workers) == 2, out
    assert list((tmp_path / "tmp").iterdir()) == []  # the shared answers went with them
    assert len(schedulers) == 1 and schedulers == parent, out
    assert "Traceback" not in out, out
    assert proc.returncode == 0, out
