"""The right to send an edition: one run at a time, held for the run's whole life and
released by the operating system when the process dies, even on `kill -9` — so a run that
holds it knows every `sending` row belongs to a dead run.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

LOCK_CLASS = 0x76656D6C  # "veml": the advisory-lock namespace of edition sends
ALERTS_CLASS = 0x7665616C  # "veal": the members' alerts (`veille.newsletter.alerts`)

_local_locks: dict[tuple[str, int], threading.Lock] = {}
_local_guard = threading.Lock()


@contextmanager
def edition_send_lock(sessions: sessionmaker[Session], edition_id: int) -> Iterator[bool]:
    """Try to take the right to send an edition; yields False when another run has it.
    Released when the block ends or the process dies (whatever the way)."""
    with _send_lock(sessions, LOCK_CLASS, edition_id, "send") as acquired:
        yield acquired


@contextmanager
def alerts_send_lock(sessions: sessionmaker[Session]) -> Iterator[bool]:
    """The right to mail the members' alerts, one run at a time; its own lock (on SQLite
    its own file), so an edition being sent never holds the alerts back, nor the reverse."""
    with _send_lock(sessions, ALERTS_CLASS, 0, "alerts") as acquired:
        yield acquired


@contextmanager
def _send_lock(
    sessions: sessionmaker[Session], namespace: int, key: int, name: str
) -> Iterator[bool]:
    with sessions() as session:
        engine = session.get_bind()
    assert isinstance(engine, Engine)
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, namespace, key) as acquired:
            yield acquired
        return
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        with _file_lock(Path(f"{database}-{name}.lock")) as acquired:
            yield acquired
        return
    with _local_guard:
        lock = _local_locks.setdefault((f"{engine.url}#{name}", key), threading.Lock())
    acquired = lock.acquire(blocking=False)
    try:
        yield acquired
    finally:
        if acquired:
            lock.release()


@contextmanager
def _advisory_lock(engine: Engine, namespace: int, key: int) -> Iterator[bool]:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        ids = {"a": namespace, "b": key}
        acquired = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:a, :b)"), ids))
        try:
            yield acquired
        finally:
            if acquired:
                conn.execute(text("SELECT pg_advisory_unlock(:a, :b)"), ids)


@contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    """One send at a time per SQLite database: flock belongs to this open file, so a second
    run — another process or another thread of this one — is refused."""
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
