"""The right to send an edition: one run at a time, held for the run's whole life and
released when the process dies, even on `kill -9` — so a run that holds it knows every
`sending` row belongs to a dead run. One of veille's named locks (`veille.db.locks`): a
PostgreSQL advisory lock per edition, one flock per SQLite database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from veille.db.locks import engine_of, try_lock

LOCK_CLASS = 0x76656D6C  # "veml": the advisory-lock namespace of edition sends


@contextmanager
def edition_send_lock(sessions: sessionmaker[Session], edition_id: int) -> Iterator[bool]:
    """Try to take the right to send an edition; yields False when another run has it.
    Released when the block ends or the process dies (whatever the way)."""
    with try_lock(engine_of(sessions), LOCK_CLASS, edition_id, "send") as acquired:
        yield acquired
