"""Several veilles on one database: collectors share the due sources through leases (each
fetched once, a dead collector's sources taken over after its lease), and what must run
once — the weekly draft, the retraining, an edition's send — runs once whatever the number
of schedulers. Real `veille worker` subprocesses, a real HTTP site, a real SMTP server;
CI reruns the file on PostgreSQL (`FOR UPDATE SKIP LOCKED`, advisory locks)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.hostile_server import Exchange, Handler, HostileServer, static
from tests.site_builder import PARAGRAPHS, Page, article_html, rss
from tests.smtp_server import SmtpTestServer
from tests.test_newsletter_send import add_edition, add_member, by_recipient
from veille import scheduler
from veille.config import Settings
from veille.db import leases
from veille.db.engine import make_engine, session_factory, transaction, upgrade
from veille.db.locks import once
from veille.db.tables import ArticleRow, EditionRow, ModelVersionRow, SourceRow

# Leases and locks: CI reruns the file on PostgreSQL. The workers' cycles load the seed
# model from the run's cache (tests/conftest.py) instead of each training it.
pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("seed_model")]

FEEDS = 6
PER_FEED = 3
SLOW = 0  # the feed held in the kill test


class Site:
    """Feeds and article pages on a local server; `gate` holds feed requests until set,
    `held` holds the first request of the SLOW feed until set; `times` records when each
    feed was asked for (wall clock, comparable with the leases)."""

    def __init__(self, srv: HostileServer) -> None:
        self.srv = srv
        self.gate = threading.Event()
        self.held = threading.Event()
        self.times: dict[int, list[float]] = {f: [] for f in range(FEEDS)}
        self.hold_slow = False
        base = srv.base_url
        self.pages = [
            Page(
                f"partage-{i}",
                f"Données ouvertes, épisode {i} : la commune {i} publie son budget",
                (f"Épisode {i} : la commune numéro {i} ouvre ses données.", *PARAGRAPHS),
                age_hours=i,
            )
            for i in range(FEEDS * PER_FEED)
        ]
        for page in self.pages:
            srv.route(f"/articles/{page.slug}", static(article_html(base, page)))
        for f in range(FEEDS):
            own = self.pages[f * PER_FEED : (f + 1) * PER_FEED]
            body = rss(base, f"Flux {f}", [(f"{base}/articles/{p.slug}", p) for p in own])
            srv.route(f"/feeds/{f}.xml", self._feed(f, body))

    def _feed(self, f: int, body: bytes) -> Handler:
        def handle(ex: Exchange) -> None:
            self.times[f].append(time.time())
            self.gate.wait(30)
            if f == SLOW and self.hold_slow and len(self.times[f]) == 1:
                self.held.wait(30)  # the first collector never gets its answer
            ex.reply(200, body, content_type="application/rss+xml")

        return handle

    def config(self, path: Path) -> Path:
        lines = ["sources:"]
        for f in range(FEEDS):
            url = f"{self.srv.base_url}/feeds/{f}.xml"
            lines.append(f'  - {{key: flux-{f}, name: Flux {f}, url: "{url}"}}')
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path


@pytest.fixture
def site() -> Iterator[Site]:
    with HostileServer() as srv:
        found = Site(srv)
        try:
            yield found
        finally:
            found.gate.set()
            found.held.set()


class Worker:
    """`veille worker` in its own process group, its output in a file."""

    def __init__(self, config: Path, db_url: str, log: Path, lease: int) -> None:
        env = {
            **os.environ,
            "VEILLE_DATABASE_URL": db_url,
            "VEILLE_ALLOW_PRIVATE_NETWORKS": "1",
            "VEILLE_PER_HOST_DELAY": "0",
            "VEILLE_PER_HOST_CONCURRENCY": "8",
            "VEILLE_EXTRACT_WORKERS": "1",
            "VEILLE_COLLECT_TICK_SECONDS": "5",
            "VEILLE_COLLECT_LEASE_SECONDS": str(lease),
        }
        self.log = log
        self._out: IO[str] = log.open("w", encoding="utf-8")
        command = [sys.executable, "-m", "veille", "worker", "--config", str(config)]
        self.proc = subprocess.Popen(
            command, env=env, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def stop(self) -> str:
        """SIGTERM, as an operator stops it; the output once it exited."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._out.close()
        return self.output()

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)


def wait_for(what: Callable[[], object], seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, message
        time.sleep(0.1)  # real child processes: no clock of ours to inject


def open_sessions(db_url: str) -> sessionmaker[Session]:
    engine = make_engine(db_url)
    upgrade(engine)  # once, before the collectors start (docs/operations.md)
    return session_factory(engine)


def sources(sessions: sessionmaker[Session]) -> dict[str, SourceRow]:
    with sessions() as session:
        return {row.key: row for row in session.scalars(select(SourceRow))}


def all_done(sessions: sessionmaker[Session]) -> bool:
    rows = sources(sessions)
    return len(rows) == FEEDS and all(
        r.last_fetched_at is not None and r.lease_owner is None for r in rows.values()
    )


def assert_each_article_once(site: Site, sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        urls = list(session.scalars(select(ArticleRow.url)))
    assert sorted(urls) == sorted(f"{site.srv.base_url}/articles/{p.slug}" for p in site.pages)
    for page in site.pages:
        assert site.srv.hits[f"/articles/{page.slug}"] == 1, page.slug


def test_two_workers_share_the_sources_and_fetch_each_once(
    site: Site, db_url: str, tmp_path: Path
) -> None:
    sessions = open_sessions(db_url)
    config = site.config(tmp_path / "feeds.yaml")
    first = Worker(config, db_url, tmp_path / "first.log", lease=300)
    second = None
    try:
        # The first worker's cycle is under way: it asked for feeds, held at the gate.
        wait_for(lambda: any(site.times.values()), 30, "the first worker fetched nothing")
        second = Worker(config, db_url, tmp_path / "second.log", lease=300)
        wait_for(lambda: "collector started" in second.output(), 30, "second worker")
        time.sleep(1.0)  # its first tick (right at start) claims while the feeds are held
        held = {r.lease_owner for r in sources(sessions).values()}
        assert len(held) == 1 and f":{first.proc.pid}:" in str(held.pop()), held
        site.gate.set()
        wait_for(lambda: all_done(sessions), 30, "the sources were not all collected")
    finally:
        outputs = [first.stop(), second.stop() if second else ""]
    for f in range(FEEDS):
        assert len(site.times[f]) == 1, (f, site.times[f])
    assert_each_article_once(site, sessions)
    for out in outputs:
        assert "collector started" in out and "Traceback" not in out, out
    assert first.proc.returncode == 0 and second is not None and second.proc.returncode == 0


def test_a_killed_workers_sources_are_finished_by_another_after_the_lease(
    site: Site, db_url: str, tmp_path: Path
) -> None:
    sessions = open_sessions(db_url)
    config = site.config(tmp_path / "feeds.yaml")
    site.hold_slow = True
    site.gate.set()
    doomed = Worker(config, db_url, tmp_path / "doomed.log", lease=3)
    heir = None
    try:

        def others_done() -> bool:
            rows = sources(sessions)
            return len(rows) == FEEDS and all(
                r.last_fetched_at is not None for k, r in rows.items() if k != f"flux-{SLOW}"
            )

        wait_for(others_done, 30, "the first worker did not collect its fast sources")
        assert site.times[SLOW], "the slow feed was never asked for"
        doomed.kill()  # mid-cycle: it still holds the slow source
        slow = sources(sessions)[f"flux-{SLOW}"]
        assert slow.last_fetched_at is None and slow.lease_until is not None
        assert f":{doomed.proc.pid}:" in str(slow.lease_owner)
        expiry = slow.lease_until.timestamp()
        heir = Worker(config, db_url, tmp_path / "heir.log", lease=3)
        wait_for(lambda: all_done(sessions), 30, "the dead worker's source was not taken over")
    finally:
        out = heir.stop() if heir else ""
    assert len(site.times[SLOW]) == 2, site.times[SLOW]
    assert site.times[SLOW][1] >= expiry, "taken over before the dead worker's lease expired"
    for f in range(FEEDS):
        if f != SLOW:
            assert len(site.times[f]) == 1, (f, site.times[f])
    assert_each_article_once(site, sessions)
    assert "Traceback" not in out, out


# --- once-jobs ----------------------------------------------------------------------------

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # a Monday at 8:00, the draft's slot


def at_once(count: int, job: Callable[[], None]) -> None:
    """`job` in `count` threads released together (each its own engine, as processes)."""
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            job()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors


def test_weekly_draft_from_four_schedulers_at_once_is_drafted_once(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    at_once(4, lambda: scheduler.draft_weekly_edition(settings, now=NOW))
    scheduler.draft_weekly_edition(settings, now=NOW + timedelta(minutes=1))  # a late replay
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(EditionRow)) == 1


def test_retraining_is_skipped_while_another_process_runs_it(
    settings: Settings, sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    with sessions() as session:
        before = session.scalar(select(func.count()).select_from(ModelVersionRow))
    with once(sessions, "retrain") as mine:  # "another process" holds the job's lock
        assert mine
        with once(sessions, "retrain") as theirs:
            assert not theirs  # a second holder is refused, in this process too
        caplog.set_level("INFO", logger="veille.scheduler")
        scheduler.retrain_if_needed(settings)
    assert "retrain: already running in another process, skipped" in caplog.text
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ModelVersionRow)) == before
    with once(sessions, "retrain") as again:
        assert again  # released with the block


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


def test_two_schedulers_send_a_scheduled_edition_once_to_each_member(
    settings: Settings, sessions: sessionmaker[Session], smtp: SmtpTestServer
) -> None:
    mail = settings.model_copy(
        update={"smtp_url": smtp.url, "send_rate": 200.0, "mail_from": "veille@exemple.fr"}
    )
    emails = [f"membre.{i:03d}@exemple.fr" for i in range(40)]
    with sessions.begin() as session:
        for email in emails:
            add_member(session, email)
        edition = add_edition(session, {"open_data": 2, "ia": 1})
        edition.scheduled_at = NOW - timedelta(minutes=1)

    at_once(2, lambda: scheduler.send_scheduled_editions(mail, now=NOW))

    assert by_recipient(smtp) == {email: 1 for email in emails}
    with sessions() as session:
        assert session.scalar(select(EditionRow.status)) == "sent"


def test_a_worker_schedules_the_collection_tick_alone(settings: Settings) -> None:
    """`veille worker` runs no once-job and no send: those stay with `veille run`."""
    jobs = scheduler.build_scheduler(settings, collect_only=True).get_jobs()
    assert [job.id for job in jobs] == ["collect-due"]
    everything = scheduler.build_scheduler(settings).get_jobs()
    assert "collect-due" in {job.id for job in everything} and len(everything) > 1


def test_claims_at_once_are_disjoint_and_an_expired_lease_is_free_again(
    sessions: sessionmaker[Session],
) -> None:
    """The claim itself (`db.leases`), four collectors at the same instant: every due
    source goes to exactly one of them; a lease renewed stays, an expired one is taken."""
    with sessions.begin() as session:
        for i in range(200):
            session.add(SourceRow(key=f"s{i}", name=f"S {i}", url=f"https://exemple.fr/{i}.xml"))
    lease = timedelta(minutes=5)
    owners = [leases.collector_id() for _ in range(4)]
    claimed: dict[str, list[int]] = {}
    start = threading.Barrier(4)

    def claim(owner: str) -> None:
        start.wait()
        with transaction(sessions) as session:
            rows = leases.claim_due(session, owner, NOW, lease, limit=60)
            claimed[owner] = [r.id for r in rows]

    threads = [threading.Thread(target=claim, args=(o,)) for o in owners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    every = [i for ids in claimed.values() for i in ids]
    assert len(every) == len(set(every)) == 200, {o: len(ids) for o, ids in claimed.items()}

    with transaction(sessions) as session:  # all held: nothing left to claim
        assert leases.claim_due(session, "late", NOW, lease) == []
        assert leases.renew(session, owners[0], NOW + timedelta(minutes=4), lease) == len(
            claimed[owners[0]]
        )
        assert leases.release(session, owners[1]) == len(claimed[owners[1]])
    later = NOW + timedelta(minutes=6)  # owners 2 and 3 died; owner 0 renewed
    with transaction(sessions) as session:
        taken = {r.id for r in leases.claim_due(session, "heir", later, lease)}
    assert taken == set(claimed[owners[1]] + claimed[owners[2]] + claimed[owners[3]])
