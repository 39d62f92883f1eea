"""Whether a collection cycle has anything to do, answered with the database layer only.

The scheduler asks every minute (`collect_due`) and most ticks find nothing due; `veille
collect` from cron is the same. Answering costs one transaction (feeds.yaml synced, one
COUNT), and neither the pipeline nor its workers' modules (httpx, lxml, nh3, trafilatura,
the classifier) are imported, no process is started and no model is loaded: they come
with the first due source (`pipeline.refresh_due`).

A cron `veille collect` pays its imports every time: it asks `due_if_synced` first, on a
plain connection with the Core tables of `db/schema.py`, so that the usual answer (the
file unchanged, nothing due) imports neither SQLAlchemy's ORM nor the 24 mapped tables
(~0.3 s of CPU of its ~1.0 s); with sources due it then claims them on such a connection
too, so a cycle of 304s sends its requests before the ORM comes. A changed file goes on
with `anything_due` (the ORM: the file is synced through it), as the scheduler does,
which has the ORM already. It
asks `nothing_due_on_driver` before both: the same answer on the database's driver alone
(the stdlib `sqlite3`, or psycopg), without importing SQLAlchemy at all (~0.25 s of what
was left), which is why this module imports SQLAlchemy only inside the functions that use
it.

feeds.yaml is parsed and synced only when its bytes are not those the table was last
synced from (`db.feeds_sync`): a `veille collect` whose file did not change reads it,
digests it and compares one row, instead of validating 500 sources and comparing them
with the table (~20 % of the CPU of a cycle of 304s).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from veille import configfile

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from veille.sources import FeedsConfig


@dataclass
class FeedsFile:
    """feeds.yaml as one cycle read it: its bytes, parsed on first need (`config`)."""

    path: Path
    raw: bytes
    parsed: FeedsConfig | None = field(default=None, repr=False)

    @classmethod
    def read(cls, path: Path) -> FeedsFile:
        """Read the file; a missing or unreadable one is a ConfigError."""
        return cls(path, configfile.read_bytes(path))

    @property
    def digest(self) -> str:
        return configfile.digest_of(self.raw)

    @property
    def config(self) -> FeedsConfig:
        """The parsed file (a ConfigError names the line and field of a bad one)."""
        if self.parsed is None:
            from veille.sources import parse_feeds_config

            text = configfile.text_of(self.raw, self.path)
            self.parsed = parse_feeds_config(text, path=self.path)
        return self.parsed


def sync_if_changed(session: Session, feeds: FeedsFile, now: datetime) -> bool:
    """Sync the file into the sources table unless the table was last synced from these
    very bytes; whether it synced."""
    from veille.db import feeds_sync

    digest = feeds.digest
    if feeds_sync.synced_digest(session) == digest:
        return False
    from veille.db import sources as source_db

    source_db.sync_sources(session, feeds.config.sources, now, digest=digest)
    return True


def nothing_due_on_driver(database_url: str, feeds: FeedsFile, now: datetime) -> bool:
    """Whether nothing is due (`due_if_synced` 0) for cron's `veille collect` (no `--source`,
    no `--all`) without importing SQLAlchemy: on the database's driver alone, the stdlib
    `sqlite3` or psycopg (`db/quick_due.py`). False means "ask `due_if_synced`": anything unsure."""
    from veille.db import quick_due

    return quick_due.nothing_due(database_url, feeds.digest, now)


def due_if_synced(
    engine: Engine,
    feeds: FeedsFile,
    now: datetime,
    *,
    keys: Sequence[str] | None = None,
    force: bool = False,
) -> int | None:
    """How many due sources a claim could take, on a Core connection (no session, no
    mapper), when the sources table was last synced from these very bytes; None when the
    file changed and must be synced first (`anything_due`, through the ORM); 0 means a
    cycle surely has nothing to do. `veille collect` asks this before making any session:
    with an unchanged file it then claims on a Core connection too (`CollectContext.engine`),
    so a cycle of 304s hands every host its first request before the ORM is imported."""
    from veille.db import feeds_sync
    from veille.db.due import count_due

    with engine.connect() as conn:
        if feeds_sync.synced_digest(conn) != feeds.digest:
            return None
        return count_due(conn, now, keys=keys, force=force)


def anything_due(
    sessions: Callable[[], Session],
    feeds: FeedsFile | None,
    now: datetime,
    *,
    keys: Sequence[str] | None = None,
    force: bool = False,
) -> bool:
    """Sync feeds.yaml into the sources table when it changed (a source just added is due
    at once), then tell whether a cycle would find a due source."""
    from veille.db.due import count_due
    from veille.db.engine import transaction

    with transaction(sessions) as session:
        if feeds is not None:
            sync_if_changed(session, feeds, now)
        return count_due(session, now, keys=keys, force=force) > 0
