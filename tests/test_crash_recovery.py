"""`kill -9` in the middle of a cycle, then a new cycle: the store equals the one a clean
cycle gives — nothing lost, nothing duplicated. Real subprocesses, real server."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from tests.hostile_server import Exchange, Handler, HostileServer, static
from tests.site_builder import PARAGRAPHS, Page, article_html, rss
from veille.db.engine import normalise_url
from veille.db.tables import ArticleLinkRow, ArticleRow, SourceRow

# Behaviour depends on the database: CI reruns it on PostgreSQL. The collect subprocesses
# load the seed model from the run's cache (tests/conftest.py) instead of each training it.
pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("seed_model")]

FEEDS = 8
PER_FEED = 6


def slow(body: bytes, seconds: float) -> Handler:
    def handle(ex: Exchange) -> None:
        time.sleep(seconds)
        ex.reply(200, body, content_type="text/html; charset=utf-8")

    return handle


@pytest.fixture
def site() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        base = srv.base_url
        pages = [
            Page(
                f"crash-{i}",
                f"Données ouvertes, épisode {i} : la commune {i} publie ses jeux de données",
                (
                    f"Épisode {i} d'une série sur la commune numéro {i} et ses données.",
                    *PARAGRAPHS[i % 5 :],
                    *PARAGRAPHS[: i % 5],
                ),
                age_hours=i,
            )
            for i in range(FEEDS * PER_FEED)
        ]
        for page in pages:
            srv.route(f"/articles/{page.slug}", slow(article_html(base, page), 0.15))
        for f in range(FEEDS):
            # Each feed lists its own pages plus two of the next feed's (relistings).
            own = pages[f * PER_FEED : (f + 1) * PER_FEED]
            nxt = pages[((f + 1) % FEEDS) * PER_FEED :][:2]
            items = [(f"{base}/articles/{p.slug}", p) for p in own]
            items += [(f"{base}/articles/{p.slug}?utm_source=feed{f}", p) for p in nxt]
            srv.route(f"/feeds/{f}.xml", static(rss(base, f"Flux {f}", items)))
        yield srv


def write_config(path: Path, base: str) -> Path:
    lines = ["sources:"]
    for f in range(FEEDS):
        lines.append(f'  - {{key: flux-{f}, name: Flux {f}, url: "{base}/feeds/{f}.xml"}}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def collect_cmd(config: Path, db_url: str) -> tuple[list[str], dict[str, str]]:
    env = {
        **os.environ,
        "VEILLE_DATABASE_URL": db_url,
        "VEILLE_ALLOW_PRIVATE_NETWORKS": "1",
        "VEILLE_PER_HOST_DELAY": "0",
        "VEILLE_PER_HOST_CONCURRENCY": "2",
        "VEILLE_EXTRACT_WORKERS": "1",
        "VEILLE_COLLECT_LEASE_SECONDS": "2",
    }
    return [sys.executable, "-m", "veille", "collect", "--config", str(config), "--all"], env


def snapshot(db_url: str) -> tuple[set[tuple[str, str, str]], set[tuple[str, str]], int]:
    engine = create_engine(normalise_url(db_url))
    with Session(engine) as session:
        articles = {
            (a.url, a.title, hashlib.sha1(a.text.encode()).hexdigest())
            for a in session.scalars(select(ArticleRow))
        }
        links = set(
            session.execute(
                select(SourceRow.key, ArticleRow.url)
                .join(ArticleLinkRow, ArticleLinkRow.source_id == SourceRow.id)
                .join(ArticleRow, ArticleRow.id == ArticleLinkRow.article_id)
            ).all()
        )
        count = int(session.scalar(select(func.count()).select_from(ArticleRow)) or 0)
    engine.dispose()
    return articles, links, count


def count_articles(db_url: str) -> int:
    engine = create_engine(normalise_url(db_url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM articles")).scalar() or 0)
    except Exception:
        return 0
    finally:
        engine.dispose()


def lease_expiry(db_url: str) -> datetime | None:
    """When the last lease still written on a source expires."""
    engine = create_engine(normalise_url(db_url))
    try:
        with Session(engine) as session:
            return session.scalar(select(func.max(SourceRow.lease_until)))
    finally:
        engine.dispose()


def second_db(db_url: str, tmp_path: Path) -> Iterator[str]:
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'reference.db'}"
        return
    admin = os.environ["VEILLE_TEST_POSTGRES_URL"]
    name = db_url.rsplit("/", 1)[1] + "_ref"
    engine = create_engine(normalise_url(admin), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def test_kill_9_mid_cycle_then_new_cycle_equals_clean_cycle(
    site: HostileServer, db_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "feeds.yaml", site.base_url)
    total = FEEDS * PER_FEED

    # The crashed run: killed as soon as some, not all, sources are committed.
    cmd, env = collect_cmd(config, db_url)
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline and proc.poll() is None:
        stored = count_articles(db_url)
        if stored > 0:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert 0 < stored < total, f"the kill did not land mid-cycle ({stored}/{total} stored)"
    # The dead run's unfinished sources stay leased to it until their lease expires (a
    # short one here): only then may the next cycle take them (tests/test_scaleout.py).
    until = lease_expiry(db_url)
    assert until is not None, "the dead run held no lease on its unfinished sources"
    time.sleep(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.05)

    cmd, env = collect_cmd(config, db_url)
    subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=120)

    # The reference: one clean cycle on an empty database.
    gen = second_db(db_url, tmp_path)
    reference_url = next(gen)
    try:
        cmd, env = collect_cmd(config, reference_url)
        subprocess.run(cmd, env=env, check=True, capture_output=True, timeout=120)
        recovered, reference = snapshot(db_url), snapshot(reference_url)
    finally:
        gen.close()
    assert recovered[2] == reference[2] == total
    assert recovered[0] == reference[0]
    assert recovered[1] == reference[1]
