"""The scheduler as `veille run` sets it up: the same jobs, timing and misfire rules, and no
secret of the settings written to the database; migration 0006 removes what older
versions stored there (APScheduler's job table, whose rows pickled the settings)."""

from __future__ import annotations

from pathlib import Path

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, MetaData, select

from veille import scheduler
from veille.config import Settings
from veille.db.engine import make_engine, normalise_url, table_names, upgrade

pytestmark = pytest.mark.postgres  # behaviour depends on the database: CI reruns it on PostgreSQL

SECRET_KEY = "cle-secrete-que-personne-ne-doit-lire-7f3a"
SMTP_PASSWORD = "mot-de-passe-smtp-9c1e"


def secret_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "secret_key": SECRET_KEY,
            "smtp_url": f"smtp://veille:{SMTP_PASSWORD}@127.0.0.1:1?starttls=1",
        }
    )


def database_dump(engine: Engine) -> str:
    """Every row of every table, as text (bytes decoded loosely: pickles hold plain text)."""
    metadata = MetaData()
    metadata.reflect(engine)
    parts: list[str] = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        parts.append(bytes(value).decode("latin-1"))
                    else:
                        parts.append(str(value))
    return "\n".join(parts)


def sqlite_file_bytes(engine: Engine) -> bytes:
    """The database file and its WAL, when SQLite keeps them on disk."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return b""
    path = Path(engine.url.database)
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def assert_no_secret(engine: Engine) -> None:
    dump = database_dump(engine)
    raw = sqlite_file_bytes(engine)
    for secret in (SECRET_KEY, SMTP_PASSWORD):
        assert secret not in dump
        assert secret.encode() not in raw


def test_scheduler_keeps_its_jobs_and_writes_no_secret(settings: Settings) -> None:
    settings = secret_settings(settings)
    engine = make_engine(settings.database_url)
    upgrade(engine)  # what `veille run` does before starting the scheduler
    running = scheduler.start(settings)
    try:
        jobs = {job.id: job for job in running.get_jobs()}
        assert sorted(jobs) == [
            "collect-due",
            "draft-weekly-edition",
            "mail-alerts",
            "members-housekeeping",
            "members-reconsent",
            "retrain",
            "send-scheduled-editions",
        ]
        for job in jobs.values():
            assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 300)
        assert str(jobs["collect-due"].trigger) == "interval[0:01:00]"
        assert str(jobs["retrain"].trigger) == "cron[hour='3', minute='0']"
        assert str(jobs["members-housekeeping"].trigger) == "cron[hour='4', minute='30']"
        assert str(jobs["draft-weekly-edition"].trigger) == (
            "cron[day_of_week='mon', hour='8', minute='0']"
        )
        assert str(jobs["send-scheduled-editions"].trigger) == "interval[0:01:00]"
    finally:
        running.shutdown(wait=True)  # the first collection tick has run (and failed: no file)
    assert "apscheduler_jobs" not in table_names(engine)
    assert_no_secret(engine)
    engine.dispose()


def test_migration_0006_removes_the_stored_jobs_and_their_secrets(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0005")
    # What the scheduler of revision 0005 left behind: a job whose kwargs are the settings.
    planted = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=normalise_url(db_url))},
        timezone="Europe/Paris",
    )
    planted.add_job(
        "types:SimpleNamespace",  # any callable taking kwargs: the job never runs
        trigger="interval",
        seconds=60,
        id="collect-due",
        kwargs={"settings_data": {"secret_key": SECRET_KEY, "smtp_url": SMTP_PASSWORD}},
    )
    planted.start(paused=True)
    planted.shutdown()
    assert "apscheduler_jobs" in table_names(engine)
    assert SECRET_KEY in database_dump(engine)  # the planted row is really there
    upgrade(engine)
    assert "apscheduler_jobs" not in table_names(engine)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    assert_no_secret(engine)
    upgrade(engine)  # nothing left to drop: a no-op
    engine.dispose()
