"""Cron's nothing-due check on the stdlib driver (`db/quick_due.py`) is the Core check's
copy: the statements and parameters it sends are those SQLAlchemy sends for the Core
statements, and it answers as they do on the same rows — or says "unsure"."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tests.site_builder import feeds_yaml
from veille.collect.due import FeedsFile, anything_due, due_if_synced, nothing_due_on_driver
from veille.config import Settings
from veille.db import feeds_sync, quick_due
from veille.db.due import count_due
from veille.db.engine import _at_head, make_engine, session_factory, upgrade
from veille.db.schema import SOURCES

T = datetime(2026, 12, 7, 9, 0, 0, 250_000, tzinfo=UTC)
NOWS = [
    T,
    T.replace(microsecond=0),
    T - timedelta(microseconds=1),
    T + timedelta(microseconds=1),
    T.astimezone(timezone(timedelta(hours=1))),  # the same instant, written in Paris's winter
    T.replace(tzinfo=None),  # naive: UTC, as UTCDateTime takes it
    datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),
]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite file at head (the quick check reads files only), its sources synced from
    feeds.yaml (three sources)."""
    built = make_engine(f"sqlite:///{tmp_path / 'quick.db'}")
    upgrade(built)
    path = tmp_path / "feeds.yaml"
    path.write_text(feeds_yaml("http://exemple.fr"), encoding="utf-8")
    anything_due(session_factory(built), FeedsFile.read(path), T)
    yield built
    built.dispose()


def sent(engine: Engine, run: Any) -> list[tuple[str, Any]]:
    """The statements and parameters SQLAlchemy hands the driver while `run(conn)` runs."""
    seen: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, tuple(parameters)))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with engine.connect() as conn:
            run(conn)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return seen


def test_the_statements_are_those_sqlalchemy_sends(engine: Engine) -> None:
    assert sent(engine, lambda conn: conn.execute(text(quick_due.AT_HEAD))) == [
        (quick_due.AT_HEAD, ())
    ]
    assert sent(engine, feeds_sync.synced_digest) == [(quick_due.SYNCED_DIGEST, (1,))]
    for now in NOWS:
        at = quick_due.sqlite_datetime(now)
        assert sent(engine, lambda conn, now=now: count_due(conn, now)) == [
            (quick_due.COUNT_DUE, (at, at))
        ]


def set_rows(engine: Engine, **values: Any) -> None:
    with engine.begin() as conn:
        for key, row in values.items():
            conn.execute(update(SOURCES).where(SOURCES.c.key == key).values(**row))


def quick_count(engine: Engine, now: datetime) -> int:
    database = engine.url.database
    assert database is not None
    with sqlite3.connect(database) as raw:
        at = quick_due.sqlite_datetime(now)
        return int(raw.execute(quick_due.COUNT_DUE, (at, at)).fetchone()[0])


def test_the_copy_counts_what_the_core_statement_counts(engine: Engine) -> None:
    """On the boundaries of the rule (a due time or lease end at the very microsecond), and
    for every state that takes a source out of it."""
    states: list[dict[str, dict[str, Any]]] = [
        {},  # all three just synced: due at once
        {k: {"next_fetch_at": T} for k in ("flux-a", "flux-b", "annonces")},
        {"flux-a": {"next_fetch_at": T + timedelta(hours=1)}, "flux-b": {"lease_until": T}},
        {"flux-b": {"lease_until": None, "enabled": False}, "annonces": {"in_config": False}},
        {"flux-b": {"enabled": True, "paused_at": T}, "annonces": {"in_config": True}},
    ]
    for state in states:
        set_rows(engine, **state)
        for now in [*NOWS, T + timedelta(hours=1), T + timedelta(hours=2)]:
            with engine.connect() as conn:
                assert quick_count(engine, now) == count_due(conn, now), (state, now)


def test_it_answers_as_the_core_check_or_is_unsure(engine: Engine, tmp_path: Path) -> None:
    url = engine.url.render_as_string(hide_password=False)
    feeds = FeedsFile.read(tmp_path / "feeds.yaml")
    assert not nothing_due_on_driver(url, feeds, T)  # every source due
    set_rows(engine, **{k: {"next_fetch_at": T + timedelta(hours=1)} for k in ("flux-a",)})
    assert not nothing_due_on_driver(url, feeds, T)
    set_rows(
        engine, **{k: {"next_fetch_at": T + timedelta(hours=1)} for k in ("flux-b", "annonces")}
    )
    for now in (T, T + timedelta(minutes=59), T + timedelta(hours=1), T + timedelta(hours=2)):
        assert nothing_due_on_driver(url, feeds, now) == (due_if_synced(engine, feeds, now) == 0), (
            now
        )
    assert nothing_due_on_driver(url, feeds, T)  # the control: sure, and right

    (tmp_path / "feeds.yaml").write_text(feeds_yaml("http://autre.fr"), encoding="utf-8")
    assert not nothing_due_on_driver(url, FeedsFile.read(tmp_path / "feeds.yaml"), T)  # edited

    missing = tmp_path / "absent.db"
    assert not nothing_due_on_driver(f"sqlite:///{missing}", feeds, T)
    assert not missing.exists()  # not created: the full path creates and migrates it
    for other in ("sqlite://", "sqlite:///:memory:", f"{url}?mode=ro", "mysql://x@y/z"):
        assert not nothing_due_on_driver(other, feeds, T), other

    with engine.begin() as conn:  # an older schema: the full path upgrades it
        conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    assert not _at_head(engine) and not nothing_due_on_driver(url, feeds, T)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE feeds_sync"))  # a driver error: unsure, not a crash
    assert not nothing_due_on_driver(url, feeds, T)


@pytest.mark.parametrize(
    "url",
    ["sqlite:///veille.db", "sqlite:////var/lib/veille/veille.db", "sqlite:///a b/é.db"],
)
def test_a_plain_file_url_names_the_file_sqlalchemy_opens(url: str) -> None:
    assert quick_due.sqlite_path(url) == make_url(url).database


@pytest.mark.postgres
def test_on_the_test_database_it_sends_what_sqlalchemy_sends_and_answers_alike(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """Whichever backend the run uses (CI reruns this on PostgreSQL, through psycopg)."""
    engine: Engine = sessions.kw["bind"]
    on_sqlite = engine.dialect.name == "sqlite"
    digest_sql = quick_due.SYNCED_DIGEST if on_sqlite else quick_due.PG_SYNCED_DIGEST
    count_sql = quick_due.COUNT_DUE if on_sqlite else quick_due.PG_COUNT_DUE
    assert [s for s, _ in sent(engine, feeds_sync.synced_digest)] == [digest_sql]
    assert [s for s, _ in sent(engine, lambda conn: count_due(conn, T))] == [count_sql]

    path = settings.config_file
    path.write_text(feeds_yaml("http://exemple.fr"), encoding="utf-8")
    feeds = FeedsFile.read(path)
    url = settings.database_url
    assert not nothing_due_on_driver(url, feeds, T)  # never synced
    anything_due(sessions, feeds, T)
    assert not nothing_due_on_driver(url, feeds, T)  # every source due
    later = {"next_fetch_at": T + timedelta(hours=1)}
    set_rows(engine, **{"flux-a": later, "flux-b": later, "annonces": later})
    for now in (*NOWS, T + timedelta(minutes=59), T + timedelta(hours=1), T + timedelta(hours=2)):
        assert nothing_due_on_driver(url, feeds, now) == (due_if_synced(engine, feeds, now) == 0), (
            now
        )
    assert nothing_due_on_driver(url, feeds, T)  # the control: sure, and right
    set_rows(engine, **{"flux-b": {"lease_until": T, "next_fetch_at": T}})
    # Due since T but leased until T by another collector: not counted until the lease ends.
    assert nothing_due_on_driver(url, feeds, T) and due_if_synced(engine, feeds, T) == 0
    after = T + timedelta(microseconds=1)
    assert not nothing_due_on_driver(url, feeds, after) and due_if_synced(engine, feeds, after) != 0


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://veille@localhost/veille",
        "postgres://veille:s3cr%40t%2F@db.example:5433/veille_prod",
        "postgresql+psycopg://u@127.0.0.1:55432/postgres",
    ],
)
def test_a_plain_postgresql_url_connects_where_sqlalchemy_connects(url: str) -> None:
    from psycopg.conninfo import conninfo_to_dict

    from veille.db.engine import normalise_url

    normal = normalise_url(url)
    conninfo = quick_due.postgresql_conninfo(normal)
    assert conninfo is not None
    engine = make_engine(url)
    _, kwargs = engine.dialect.create_connect_args(engine.url)
    kwargs.pop("context", None)  # SQLAlchemy's adapters (JSON, ranges): none in these reads
    assert conninfo_to_dict(conninfo) == {k: str(v) for k, v in kwargs.items()}
    for unusual in ("?sslmode=require", "?host=/run/postgresql"):
        assert quick_due.postgresql_conninfo(normal + unusual) is None
