"""The right to send: one run at a time, held for the run's whole life and released when
the process dies, even on `kill -9` — so a run that holds it knows every `sending` row
belongs to a dead run. Two of veille's named locks (`veille.db.locks`): one per edition,
and one for the members' alerts (each its own, so an edition being sent never holds the
alerts back, nor the reverse); a PostgreSQL advisory lock, one flock file on SQLite.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from veille.db.locks import engine_of, try_lock

LOCK_CLASS = 0x76656D6C  # "veml": the advisory-lock namespace of edition sends
ALERTS_CLASS = 0x7665616C  # "veal": the members' alerts (`veille.newsletter.alerts`)


@contextmanager
def edition_send_lock(sessions: sessionmaker[Session], edition_id: int) -> Iterator[bool]:
    """Try to take the right to send an edition; yields False when another run has it.
    Released when the block ends or the process dies (whatever the way)."""
    with try_lock(engine_of(sessions), LOCK_CLASS, edition_id, "send") as acquired:
        yield acquired


@contextmanager
def alerts_send_lock(sessions: sessionmaker[Session]) -> Iterator[bool]:
    """The right to mail the members' alerts, one run at a time."""
    with try_lock(engine_of(sessions), ALERTS_CLASS, 0, "alerts") as acquired:
        yield acquired
