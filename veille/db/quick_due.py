"""Cron's nothing-due check on the database's driver alone, without SQLAlchemy.

A `veille collect` started by cron every few minutes usually finds nothing due: the
sources table synced from these very bytes of feeds.yaml, no source's time come. Through
SQLAlchemy that answer cost the import of SQLAlchemy Core (~0.25 s of CPU, a third of
the run; benchmarks/README.md, « cron's nothing-due `veille collect` without
SQLAlchemy »). The three statements it runs are fixed, so they are kept here as the SQL
SQLAlchemy compiles them to for SQLite (the stdlib `sqlite3`) and PostgreSQL (psycopg 3,
the engine's driver), from the Core statements that stay the rule (`engine.AT_HEAD`,
`feeds_sync.synced_digest`, `due.count_due_query`): tests/test_quick_due.py compiles
those and checks that the statements and parameters sent to the driver are these, and
that both answer alike on the same rows.

`nothing_due` answers True only when it is sure; anything else — a URL it does not read
as a plain file path or a plain `postgresql://user:password@host:port/name` (a query
string, several hosts…), a missing SQLite file, a schema not at head, a changed file, a
due source, any driver error — is False: "ask the full path", which runs through
SQLAlchemy as before and reports errors in French as before.

Importing this module imports no SQLAlchemy (tests/test_collect_lean.py).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from veille.db.engine import (
    AT_HEAD,
    HEAD_REVISION,
    SQLITE_CONNECT_ARGS,
    _sqlite_pragmas,
    normalise_url,
)

# `feeds_sync.synced_digest`'s SELECT, compiled by SQLAlchemy for SQLite (its one
# parameter: the row's id, 1).
SYNCED_DIGEST = "SELECT feeds_sync.digest \nFROM feeds_sync \nWHERE feeds_sync.id = ?"

# `due.count_due_query(now, keys=None, force=False)`, compiled by SQLAlchemy for SQLite
# (its two parameters: `now`, as `sqlite_datetime` writes it).
COUNT_DUE = (
    "SELECT count(*) AS count_1 \nFROM sources \nWHERE sources.enabled IS 1 AND "
    "sources.in_config IS 1 AND sources.paused_at IS NULL AND (sources.next_fetch_at IS "
    "NULL OR sources.next_fetch_at <= ?) AND (sources.lease_until IS NULL OR "
    "sources.lease_until < ?)"
)

# The same two statements, compiled by SQLAlchemy for PostgreSQL (psycopg's named
# parameters; `now` as an aware UTC datetime, as `schema.UTCDateTime` hands it over).
PG_SYNCED_DIGEST = (
    "SELECT feeds_sync.digest \nFROM feeds_sync \nWHERE feeds_sync.id = %(id_1)s::INTEGER"
)
PG_COUNT_DUE = (
    "SELECT count(*) AS count_1 \nFROM sources \nWHERE sources.enabled IS true AND "
    "sources.in_config IS true AND sources.paused_at IS NULL AND (sources.next_fetch_at IS "
    "NULL OR sources.next_fetch_at <= %(next_fetch_at_1)s::TIMESTAMP WITH TIME ZONE) AND "
    "(sources.lease_until IS NULL OR sources.lease_until < %(lease_until_1)s::TIMESTAMP "
    "WITH TIME ZONE)"
)

_PLAIN_FILE = "sqlite:///"
_PSYCOPG = "postgresql+psycopg://"


def sqlite_path(url: str) -> str | None:
    """The file a plain `sqlite:///PATH` URL names; None for any other URL (another
    backend or driver, memory, a query string, an escape), which the full path reads."""
    if not url.startswith(_PLAIN_FILE):
        return None
    path = url[len(_PLAIN_FILE) :]
    if not path or path == ":memory:" or any(c in path for c in "?#%"):
        return None
    return path


def postgresql_conninfo(url: str) -> str | None:
    """The libpq URI of a plain `postgresql://user:password@host:port/name` URL (after
    `engine.normalise_url`); None for anything else — a query string, an IPv6 or several
    hosts, another driver — which the full path reads."""
    if not url.startswith(_PSYCOPG):
        return None
    rest = url[len(_PSYCOPG) :]
    if not rest or any(c in rest for c in "?#[],"):
        return None
    return "postgresql://" + rest


def sqlite_datetime(value: datetime) -> str:
    """A datetime as `schema.UTCDateTime` hands it to SQLite: naive UTC, written in
    SQLAlchemy's DATETIME storage format (the column's strings compare with it)."""
    utc = value.astimezone(UTC) if value.tzinfo else value
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d} "
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}"
    )


def nothing_due(url: str, digest: str, now: datetime) -> bool:
    """True when the database at `url` is at the schema's head, its sources were last
    synced from a file of this digest, and no source is due at `now` (nor leased by
    nobody: `due.count_due`'s rule); False when unsure (see the module's docstring)."""
    url = normalise_url(url)
    path = sqlite_path(url)
    if path is not None:
        return _on_sqlite(path, digest, now)
    conninfo = postgresql_conninfo(url)
    if conninfo is not None:
        return _on_postgresql(conninfo, digest, now)
    return False


Execute = Callable[[str, Any], Sequence[Any] | None]


def _answer(execute: Execute, digest: str, digest_sql: str, count_sql: str, args: Any) -> bool:
    """The three statements, on either driver (`execute` returns the first row)."""
    head = execute(AT_HEAD, ())
    if head is None or head[0] != HEAD_REVISION:
        return False
    synced = execute(digest_sql, args[0])
    if synced is None or synced[0] != digest:
        return False
    found = execute(count_sql, args[1])
    return found is not None and found[0] == 0


def _on_sqlite(path: str, digest: str, now: datetime) -> bool:
    if not os.path.isfile(path):  # sqlite3 would create a missing file
        return False
    try:
        conn = sqlite3.connect(path, **SQLITE_CONNECT_ARGS)
    except sqlite3.Error:
        return False
    try:
        _sqlite_pragmas(conn, None)
        at = sqlite_datetime(now)
        return _answer(
            lambda sql, params: conn.execute(sql, params).fetchone(),
            digest,
            SYNCED_DIGEST,
            COUNT_DUE,
            ((1,), (at, at)),
        )
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def _on_postgresql(conninfo: str, digest: str, now: datetime) -> bool:
    """On psycopg 3 (the engine's driver): one read-only transaction, rolled back."""
    import psycopg

    try:
        conn = psycopg.connect(conninfo)
    except psycopg.Error:
        return False
    try:
        at = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
        return _answer(
            lambda sql, params: conn.execute(sql, params).fetchone(),
            digest,
            PG_SYNCED_DIGEST,
            PG_COUNT_DUE,
            ({"id_1": 1}, {"next_fetch_at_1": at, "lease_until_1": at}),
        )
    except psycopg.Error:
        return False
    finally:
        conn.close()
