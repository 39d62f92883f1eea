"""APScheduler wiring only: ticks that call the pipeline. All scheduling *state* (when each
source is due, its failures and validators, which edition is due or left `sending`) lives on
rows, so a tick is cheap and a restart loses nothing.

The jobs therefore live in a memory job store. They used to be kept in an APScheduler table
of the application database, with `settings.model_dump()` as their arguments: the secret
key and an SMTP URL that may carry a password, pickled into a table nothing else reads.
That store bought nothing, since every start replaced each job (`replace_existing`) and
recomputed its next run from its trigger; migration 0006 drops the table. Keeping the jobs
in memory lets each one receive the very `Settings` object the process runs with, including
what is not in the environment (`veille run --config`, the demo's overrides, tests), and
nothing about a job is written anywhere.

Any number of processes may run these jobs on one database (`veille run` on several
machines, `veille worker` beside them): collection shares the due sources through leases
(`db.leases`), and what must run once — the weekly draft, the nightly retraining, the
purges, re-consent, the bounce mailbox — runs under a named lock (`db.locks.once`): a
process that does not get it skips this run. Sends hold their edition's send lock."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from veille.config import Settings
from veille.frenchformat import PARIS

if TYPE_CHECKING:
    from veille.collect.due import FeedsFile

log = logging.getLogger(__name__)


# Sources one cycle claims at most: with many due sources, collectors then take turns at
# them (each claims a share, comes back for more) instead of the first one leasing all.
CLAIM_PER_CYCLE = 500


@contextmanager
def _job_sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """A job's own engine, disposed when the job ends: jobs run every minute for months,
    and an engine left to the garbage collector keeps its pooled connections open."""
    from veille.db.engine import make_engine, session_factory

    engine = make_engine(settings.database_url)
    try:
        yield session_factory(engine)
    finally:
        engine.dispose()


@contextmanager
def _once_job(settings: Settings, job: str) -> Iterator[sessionmaker[Session] | None]:
    """A once-job's sessions, or None when another process runs this job right now."""
    from veille.db.locks import once

    with _job_sessions(settings) as sessions, once(sessions, job) as acquired:
        if not acquired:
            log.info("%s: already running in another process, skipped", job)
        yield sessions if acquired else None


# The last feeds.yaml a tick read, with its parsed config once a tick needed it.
_feeds_seen: dict[Path, FeedsFile] = {}


def _feeds_file(path: Path) -> FeedsFile:
    """feeds.yaml, parsed again only when its bytes changed: the tick reads it every minute
    and parsing 500 sources (YAML, then validation) was half of a tick with nothing due.
    Parsed at all only when the table was not synced from these bytes (`collect.due`)."""
    from veille.collect.due import FeedsFile

    feeds = FeedsFile.read(path)  # the errors, worded for the log
    seen = _feeds_seen.get(path)
    if seen is not None and seen.raw == feeds.raw:
        return seen
    _feeds_seen[path] = feeds
    return feeds


def collect_due(settings: Settings) -> None:
    """Job: collection cycles over the due sources no other collector holds, a share at a
    time, until a cycle finds fewer than a full share (never raises into APScheduler).

    Most ticks find nothing due: they answer with one transaction (`collect.due`) and never
    import the pipeline, start a worker or load a model (tests/test_collect_lean.py)."""
    from veille.collect.due import anything_due

    try:
        with _job_sessions(settings) as sessions:
            feeds = _feeds_file(settings.config_file)
            if not anything_due(sessions, feeds, datetime.now(UTC)):
                return
            from veille.collect.pipeline import CollectContext, refresh_due

            # anything_due synced feeds.yaml into the table already: the cycles do not.
            ctx = CollectContext(
                settings=settings, sessions=sessions, config=feeds.config, sync=False
            )
            while True:
                summary = refresh_due(ctx, limit=CLAIM_PER_CYCLE)
                if summary.sources:
                    from veille.collect.cycle_report import summary_line

                    log.info("%s", summary_line(summary.as_dict()))
                if len(summary.sources) < CLAIM_PER_CYCLE:
                    break
    except Exception:
        log.exception("collection cycle failed")


def retrain_if_needed(settings: Settings) -> None:
    """Job: retrain the theme model when the delegate labelled articles since the last one,
    then reclassify the archive with it (editor labels keep precedence)."""
    from veille.classify.service import needs_retraining, reclassify_all, retrain
    from veille.db.engine import transaction

    try:
        with _once_job(settings, "retrain") as sessions:
            if sessions is None:
                return
            with transaction(sessions) as session:
                if not needs_retraining(session):
                    return
                model = retrain(session)
            from veille.classify.classifier import Classifier
            from veille.classify.service import keywords_of
            from veille.sources import load_feeds_config

            feeds = (
                load_feeds_config(settings.config_file) if settings.config_file.exists() else None
            )
            classifier = Classifier(model, keywords_of(feeds))
            reclassify_all(sessions, classifier)
        log.info("retrained theme model %s and reclassified the archive", model.version)
    except Exception:
        log.exception("nightly retraining failed")


def members_housekeeping(settings: Settings) -> None:
    """Job: delete subscriptions and alerts left unconfirmed for 30 days (data
    minimisation)."""
    from veille.db.engine import transaction
    from veille.members import alerts
    from veille.members.subscriptions import purge_unconfirmed

    try:
        with _once_job(settings, "members-housekeeping") as sessions:
            if sessions is None:
                return
            with transaction(sessions) as session:
                now = datetime.now(UTC)
                purged = purge_unconfirmed(session, now)
                purged_alerts = alerts.purge_unconfirmed(session, now)
        if purged or purged_alerts:
            log.info(
                "deleted %d subscriptions and %d alerts never confirmed", purged, purged_alerts
            )
    except Exception:
        log.exception("members housekeeping failed")


def members_reconsent(settings: Settings, now: datetime | None = None) -> None:
    """Job: the 3-year rule (veille.members.reconsent): one re-consent mail to members
    silent for 3 years, erasure of those who did not answer it within 30 days."""
    from veille.members import reconsent

    try:
        with _once_job(settings, "members-reconsent") as sessions:
            if sessions is None:
                return
            outcome = reconsent.run(sessions, settings, now or datetime.now(UTC))
        if outcome.asked or outcome.erased or outcome.failures:
            log.info("re-consent: %s", outcome.as_dict())
    except Exception:
        log.exception("re-consent job failed")


def draft_weekly_edition(settings: Settings, now: datetime | None = None) -> None:
    """Job: the week's draft edition, pre-filled, unless one was already created this week
    (a second run, a restart that replays the cron, a draft the delegate made by hand)."""
    from veille.db.engine import transaction
    from veille.newsletter.editions import draft_for_week

    try:
        with _once_job(settings, "draft-weekly-edition") as sessions:
            if sessions is None:
                return
            with transaction(sessions) as session:
                edition = draft_for_week(
                    session,
                    now=now or datetime.now(UTC),
                    day=settings.edition_day,
                    at=settings.edition_time,
                )
                number = edition.number if edition is not None else None
        if number is not None:
            log.info("draft edition %d created", number)
    except Exception:
        log.exception("weekly draft edition failed")


def send_scheduled_editions(settings: Settings, now: datetime | None = None) -> None:
    """Job (every minute): send the approved editions whose time has come, and resume the
    sends left `sending` by a crash or an SMTP outage. `send_edition` skips every final
    delivery and holds the edition's send lock, so a resumed send reaches only the members
    not yet served, and a send still running elsewhere just answers `busy`."""
    from veille.db import editions as edition_db
    from veille.newsletter.send import send_edition

    moment = now or datetime.now(UTC)
    try:
        with _job_sessions(settings) as sessions:
            with sessions() as session:
                due = edition_db.due_scheduled(session, moment)
                stalled = [e.number for e in edition_db.list_editions(session, ["sending"])]
            for number in due + [n for n in stalled if n not in due]:
                try:
                    report = send_edition(sessions, settings, number, actor="scheduler")
                    log.info("edition %d, scheduled send: %s", number, report.as_dict())
                except Exception:  # one edition failing must not stop the next one
                    log.exception("sending edition %d failed", number)
    except Exception:
        log.exception("scheduled editions failed")


def mail_alerts(settings: Settings, now: datetime | None = None) -> None:
    """Job (hourly): mail the members' alerts whose period has begun since their last run
    (daily at `alerts_hour`, weekly on `edition_day`); a run marks each alert done, so the
    other ticks of the day find nothing to do, and a tick missed (a restart, an SMTP
    outage) is made up by the next one."""
    from veille.newsletter.alerts import run_alerts

    try:
        with _job_sessions(settings) as sessions:
            run = run_alerts(sessions, settings, clock=lambda: now or datetime.now(UTC))
        if run.due:
            log.info("alerts: %s", run.as_dict())
    except Exception:
        log.exception("mailing the alerts failed")


def check_bounces(settings: Settings) -> None:
    """Job: read the bounce mailbox; bounced and complaining members stop being mailed."""
    from veille.members.bounce_mailbox import check_bounce_mailbox

    try:
        with _once_job(settings, "check-bounces") as sessions:
            if sessions is None:
                return
            run = check_bounce_mailbox(settings, sessions)
        if run.read:
            log.info("bounce mailbox: %s", run.as_dict())
    except Exception:
        log.exception("reading the bounce mailbox failed")


def build_scheduler(settings: Settings, *, collect_only: bool = False) -> BackgroundScheduler:
    """Every job, or with `collect_only` (`veille worker`) the collection tick alone."""
    # The settings object stays in this process: the job store is in memory (see above).
    common: dict[str, Any] = {"replace_existing": True, "args": (settings,)}
    scheduler = BackgroundScheduler(
        jobstores={"default": MemoryJobStore()},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        timezone=PARIS,
    )
    scheduler.add_job(
        collect_due,
        trigger="interval",
        seconds=settings.collect_tick_seconds,
        id="collect-due",
        name="Collect due sources",
        **common,
        next_run_time=_now(),  # first tick right away, not after one interval
    )
    if collect_only:
        return scheduler
    scheduler.add_job(
        retrain_if_needed,
        trigger="cron",
        hour=settings.retrain_hour,
        minute=0,
        id="retrain",
        name="Retrain the theme model on new delegate labels",
        **common,
    )
    scheduler.add_job(
        members_housekeeping,
        trigger="cron",
        hour=(settings.retrain_hour + 1) % 24,
        minute=30,
        id="members-housekeeping",
        name="Delete subscriptions never confirmed",
        **common,
    )
    scheduler.add_job(
        members_reconsent,
        trigger="cron",
        hour=(settings.retrain_hour + 1) % 24,
        minute=45,
        id="members-reconsent",
        name="Ask members silent for 3 years, erase those who did not answer",
        **common,
    )
    scheduler.add_job(
        draft_weekly_edition,
        trigger="cron",
        day_of_week=settings.edition_day,
        hour=int(settings.edition_time.split(":")[0]),
        minute=int(settings.edition_time.split(":")[1]),
        id="draft-weekly-edition",
        name="Create the week's draft edition",
        **common,
    )
    scheduler.add_job(
        send_scheduled_editions,
        trigger="interval",
        minutes=1,
        id="send-scheduled-editions",
        name="Send scheduled editions, resume crashed sends",
        **common,
    )
    scheduler.add_job(
        mail_alerts,
        trigger="cron",
        minute=10,
        id="mail-alerts",
        name="Mail the members' alerts whose period has begun",
        **common,
    )
    if settings.bounce_imap_url:
        scheduler.add_job(
            check_bounces,
            trigger="interval",
            minutes=settings.bounce_check_minutes,
            id="check-bounces",
            name="Read the bounce mailbox",
            **common,
        )
    return scheduler


def start(settings: Settings, *, collect_only: bool = False) -> BackgroundScheduler:
    scheduler = build_scheduler(settings, collect_only=collect_only)
    scheduler.start()
    what = "collector" if collect_only else "scheduler"
    log.info("%s started (pid %d)", what, os.getpid())
    return scheduler


def _now() -> datetime:
    return datetime.now(PARIS)
