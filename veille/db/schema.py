"""The part of the schema that needs no ORM: the `MetaData` every table is on (with its
naming convention), the UTC datetime column type, and the two tables a collector reads
before it knows whether a cycle runs — `sources` and `feeds_sync` — as Core `Table`s, with
`coverage_marks`, which every cycle's end reads (`db/coverage_marks.py`), and the two a
cycle in which every feed answered 304 writes besides `sources`: `cycles` (its summary)
and `data_version` (bumped by any write the archive shows, `db/data_version.py`).

A `veille collect` from cron with nothing due reads one row of `feeds_sync` and counts
due `sources` (`collect.due.due_if_synced`). Importing `sqlalchemy.orm` and mapping the
24 classes of `tables.py` to answer that was ~0.3 s of its ~1.0 s of CPU (benchmarks/
README.md, « cron's `veille collect` without the ORM »). These tables are defined once,
here; `tables.SourceRow` maps `SOURCES` (its `Mapped` annotations type the attributes,
`tests/test_db_schema.py` checks they name these columns), and `db/feeds_sync.py` only
needs Core.

A cycle of 304s (the benchmark's second cycle, most cycles of a steady collector) claims,
saves and releases its sources on these tables too, so it never maps the 24 classes
either (`db/leases.py`, `collect/unchanged.py`; « The second cycle through a new process »
in benchmarks/README.md).

Importing this module must not import `sqlalchemy.orm` (tests/test_collect_lean.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Every table's (`tables.Base.metadata` is this one): Alembic compares the migrations with it.
METADATA = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# A source from feeds.yaml plus its fetch health and scheduling state (`tables.SourceRow`).
SOURCES = Table(
    "sources",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("name", String(300), nullable=False),
    Column("url", Text, nullable=False),
    Column("kind", String(16), nullable=False, default="feed"),
    Column("weight", Float, nullable=False, default=1.0),
    Column("interval", Integer, nullable=False, default=60),
    Column("tags", JSON, nullable=False, default=list),
    Column("selector", Text, nullable=True),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("in_config", Boolean, nullable=False, default=True),
    Column("feed_title", Text, nullable=True),
    Column("etag", Text, nullable=True),
    Column("last_modified", Text, nullable=True),
    Column("last_status", String(32), nullable=True),
    Column("last_http_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_warning", Text, nullable=True),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("last_fetched_at", UTCDateTime, nullable=True),
    Column("last_success_at", UTCDateTime, nullable=True),
    Column("last_new_article_at", UTCDateTime, nullable=True),
    Column("next_fetch_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
    # Set after too many failures in a row: not fetched until the delegate resumes it.
    Column("paused_at", UTCDateTime, nullable=True),
    # The collector fetching it now (host:pid:cycle) and until when (`db.leases`).
    Column("lease_owner", String(120), nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Index("ix_sources_next_fetch_at", "next_fetch_at"),
)

# One row: the digest of the feeds.yaml the sources table mirrors, or None when the last
# sync came from a file nobody digested (`db/feeds_sync.py`, its only queries).
FEEDS_SYNC = Table(
    "feeds_sync",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("digest", String(64), nullable=True),
    Column("synced_at", UTCDateTime, nullable=True),
)

# Stories that gained a source (or a member) in a collection cycle whose articles' coverage
# is not rescored yet (`db/coverage_marks.py`): marked in the transaction that widens them,
# taken by the rescoring at the cycle's end, so a cycle killed between the two leaves the
# mark for the next cycle. Empty between cycles.
COVERAGE_MARKS = Table(
    "coverage_marks",
    METADATA,
    Column("story_id", Integer, primary_key=True, autoincrement=False),
)

# One row per collection cycle: its summary, for `veille sources list` and operations
# (`tables.CycleRow` maps it; `db.collection.record_cycle` writes it).
CYCLES = Table(
    "cycles",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("started_at", UTCDateTime, nullable=False, default=utcnow),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("summary", JSON, nullable=False, default=dict),
)

# One row counting the writes the public archive shows (`db/data_version.py`): the web's
# ETags and response cache are keyed on it (`counter_tables.DataVersionRow` maps it).
DATA_VERSION = Table(
    "data_version",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
)
