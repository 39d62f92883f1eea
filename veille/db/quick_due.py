"""Cron's nothing-due check on a SQLite file, on the stdlib `sqlite3` driver alone.

A `veille collect` started by cron every few minutes usually finds nothing due: the
sources table synced from these very bytes of feeds.yaml, no source's time come. Through
SQLAlchemy that answer cost the import of SQLAlchemy Core (~0.25 s of CPU, a third of
the run; benchmarks/README.md, « cron's nothing-due `veille collect` without
SQLAlchemy »). The three statements it runs are fixed, so they are kept here as the SQL
SQLAlchemy compiles them to for SQLite, from the Core statements that stay the rule
(`engine.AT_HEAD`, `feeds_sync.synced_digest`, `due.count_due_query`):
tests/test_quick_due.py compiles those and checks that the statements and parameters
sent to the driver are these, and that both answer alike on the same rows.

`nothing_due` answers True only when it is sure; anything else — another backend, a URL
it does not read as a plain file path, a missing file, a schema not at head, a changed
file, a due source, any driver error — is False: "ask the full path", which runs
through SQLAlchemy as before and reports errors in French as before. A PostgreSQL
database always takes the full path (its driver's import costs as much as SQLAlchemy's).

Importing this module imports no SQLAlchemy (tests/test_collect_lean.py).
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime

from veille.db.engine import AT_HEAD, HEAD_REVISION, SQLITE_CONNECT_ARGS, _sqlite_pragmas

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

_PLAIN_FILE = "sqlite:///"


def sqlite_path(url: str) -> str | None:
    """The file a plain `sqlite:///PATH` URL names; None for any other URL (another
    backend or driver, memory, a query string, an escape), which the full path reads."""
    if not url.startswith(_PLAIN_FILE):
        return None
    path = url[len(_PLAIN_FILE) :]
    if not path or path == ":memory:" or any(c in path for c in "?#%"):
        return None
    return path


def sqlite_datetime(value: datetime) -> str:
    """A datetime as `schema.UTCDateTime` hands it to SQLite: naive UTC, written in
    SQLAlchemy's DATETIME storage format (the column's strings compare with it)."""
    utc = value.astimezone(UTC) if value.tzinfo else value
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d} "
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}"
    )


def nothing_due(url: str, digest: str, now: datetime) -> bool:
    """True when the SQLite file at `url` is at the schema's head, its sources were last
    synced from a file of this digest, and no source is due at `now` (nor leased by
    nobody: `due.count_due`'s rule); False when unsure (see the module's docstring)."""
    path = sqlite_path(url)
    if path is None or not os.path.isfile(path):  # sqlite3 would create a missing file
        return False
    try:
        conn = sqlite3.connect(path, **SQLITE_CONNECT_ARGS)
    except sqlite3.Error:
        return False
    try:
        _sqlite_pragmas(conn, None)
        head = conn.execute(AT_HEAD).fetchone()
        if head is None or head[0] != HEAD_REVISION:
            return False
        synced = conn.execute(SYNCED_DIGEST, (1,)).fetchone()
        if synced is None or synced[0] != digest:
            return False
        at = sqlite_datetime(now)
        (count,) = conn.execute(COUNT_DUE, (at, at)).fetchone()
        return bool(count == 0)
    except sqlite3.Error:
        return False
    finally:
        conn.close()
