"""Named locks that hold across processes and machines: the one way veille makes sure
something runs once at a time (an edition's send, the weekly draft, the nightly retraining,
the purges), whatever the number of `veille run` and `veille worker` processes.

`try_lock` never waits: a process that does not get the lock skips its run, and the jobs
it guards are idempotent, so a run just after another does nothing twice.

- PostgreSQL: a session advisory lock (`pg_try_advisory_lock(space, key)`) on a connection
  held for the block, so every machine on the database sees it, and the server drops it
  when the connection dies — a `kill -9` cannot leave it taken.
- SQLite file: `flock` on a file beside the database (one machine by nature); flock
  belongs to the open file, so another thread of this process is refused too, and the
  kernel releases it when the process dies.
- anything else (an in-memory SQLite): a lock of this process.
"""

from __future__ import annotations

import fcntl
import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

JOB_SPACE = 0x76656A62  # "vejb": the advisory-lock namespace of the scheduler's once-jobs

_local_locks: dict[tuple[str, int, int], threading.Lock] = {}
_local_guard = threading.Lock()


def engine_of(sessions: sessionmaker[Session]) -> Engine:
    with sessions() as session:
        engine = session.get_bind()
    assert isinstance(engine, Engine)
    return engine


@contextmanager
def try_lock(engine: Engine, space: int, key: int, file_name: str) -> Iterator[bool]:
    """Yield True holding the lock `(space, key)`, or False when someone else holds it.
    `file_name` names the SQLite lock file (`<database>-<file_name>.lock`)."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, space, key) as acquired:
            yield acquired
        return
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        with _file_lock(Path(f"{database}-{file_name}.lock")) as acquired:
            yield acquired
        return
    with _local_guard:
        lock = _local_locks.setdefault((str(engine.url), space, key), threading.Lock())
    acquired = lock.acquire(blocking=False)
    try:
        yield acquired
    finally:
        if acquired:
            lock.release()


def job_key(name: str) -> int:
    """A stable advisory-lock key for a job name (the same on every machine and version;
    Python's `hash` is salted per process)."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


@contextmanager
def once(sessions: sessionmaker[Session], job: str) -> Iterator[bool]:
    """The right to run the once-job `job` now: yields False when another process (or
    thread) runs it at this moment."""
    with try_lock(engine_of(sessions), JOB_SPACE, job_key(job), f"job-{job}") as acquired:
        yield acquired


@contextmanager
def _advisory_lock(engine: Engine, space: int, key: int) -> Iterator[bool]:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        params = {"a": space, "b": key}
        acquired = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:a, :b)"), params))
        try:
            yield acquired
        finally:
            if acquired:
                conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), params)


@contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
