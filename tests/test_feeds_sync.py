"""feeds.yaml is parsed and synced into the sources table only when its bytes are not those
the table was last synced from (`db.feeds_sync`, `collect.due`); any sync from a file the
caller did not digest (the desk, `veille sources list`) makes the next collector sync again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.site_builder import feeds_yaml
from veille import configfile
from veille.collect.due import FeedsFile, anything_due, due_if_synced
from veille.db import feeds_sync
from veille.db import sources as source_db
from veille.db.engine import transaction
from veille.db.tables import SourceRow
from veille.errors import ConfigError
from veille.sources import parse_feeds_config

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
EXTRA = "  - key: autre\n    name: Autre\n    url: http://exemple.fr/autre.xml\n"


def in_config(sessions: sessionmaker[Session]) -> set[str]:
    with transaction(sessions) as session:
        rows = session.scalars(select(SourceRow).where(SourceRow.in_config.is_(True)))
        return {r.key for r in rows}


def test_an_unchanged_file_is_neither_parsed_nor_synced_again(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(feeds_yaml("http://exemple.fr"), encoding="utf-8")
    first = FeedsFile.read(path)
    assert anything_due(sessions, first, NOW)  # new sources are due at once
    assert first.parsed is not None  # the table had no digest: parsed and synced
    assert in_config(sessions) == {"flux-a", "flux-b", "annonces"}

    again = FeedsFile.read(path)
    assert anything_due(sessions, again, NOW)  # same answer: the rows are the file's
    assert again.parsed is None  # …without parsing it

    path.write_text(feeds_yaml("http://exemple.fr", EXTRA), encoding="utf-8")
    edited = FeedsFile.read(path)
    anything_due(sessions, edited, NOW)
    assert edited.parsed is not None
    assert in_config(sessions) == {"flux-a", "flux-b", "annonces", "autre"}
    with transaction(sessions) as session:
        assert feeds_sync.synced_digest(session) == edited.digest


def test_a_sync_from_an_undigested_file_makes_the_next_collector_sync_again(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """The desk syncs the file it just wrote without a digest: a collector that then reads
    the old bytes again (the edit reverted) must not take the table for their copy."""
    path = tmp_path / "feeds.yaml"
    old = feeds_yaml("http://exemple.fr")
    path.write_text(old, encoding="utf-8")
    anything_due(sessions, FeedsFile.read(path), NOW)

    edited = parse_feeds_config(feeds_yaml("http://exemple.fr", EXTRA))
    with transaction(sessions) as session:  # what the desk and `veille sources list` do
        source_db.sync_sources(session, edited.sources, NOW)
        assert feeds_sync.synced_digest(session) is None
    assert "autre" in in_config(sessions)

    reverted = FeedsFile.read(path)  # the old bytes, whose digest the table had
    anything_due(sessions, reverted, NOW)
    assert reverted.parsed is not None
    assert in_config(sessions) == {"flux-a", "flux-b", "annonces"}


def test_a_newer_veille_reads_the_same_bytes_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """The digest covers the version: new rules may make other rows of the same file."""
    raw = feeds_yaml("http://exemple.fr").encode()
    today = configfile.digest_of(raw)
    assert configfile.digest_of(raw) == today
    monkeypatch.setattr(configfile, "__version__", "99.0")
    assert configfile.digest_of(raw) != today


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError) as missing_error:
        FeedsFile.read(missing)
    assert str(missing_error.value) == f"{missing}: file not found (pass --config FILE)."
    broken = tmp_path / "feeds.yaml"
    broken.write_bytes(b"sources:\n  - key: \xff\n")
    feeds = FeedsFile.read(broken)
    with pytest.raises(ConfigError) as not_utf8:
        _ = feeds.config
    assert str(not_utf8.value).startswith(f"{broken}: cannot be read (")


def test_nothing_is_due_only_for_the_synced_file_and_no_due_source(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """cron's `veille collect` asks `due_if_synced` on a Core connection first: any doubt (a
    file the table was not synced from, a due source) sends it to `anything_due`."""
    engine = sessions.kw["bind"]
    path = tmp_path / "feeds.yaml"
    path.write_text(feeds_yaml("http://exemple.fr"), encoding="utf-8")
    first = FeedsFile.read(path)
    assert due_if_synced(engine, first, NOW) != 0  # never synced: the digest row is missing
    assert first.parsed is None  # …and it was not parsed to say so
    assert anything_due(sessions, first, NOW)  # synced: its new sources are due at once
    assert due_if_synced(engine, FeedsFile.read(path), NOW) != 0  # the same file, all due

    with transaction(sessions) as session:  # every source fetched: next in an hour
        for row in session.scalars(select(SourceRow)):
            row.next_fetch_at = NOW + timedelta(hours=1)
    assert due_if_synced(engine, FeedsFile.read(path), NOW) == 0
    assert due_if_synced(engine, FeedsFile.read(path), NOW, force=True) != 0  # --all
    assert due_if_synced(engine, FeedsFile.read(path), NOW + timedelta(hours=2)) != 0

    path.write_text(feeds_yaml("http://exemple.fr", EXTRA), encoding="utf-8")
    edited = FeedsFile.read(path)
    assert due_if_synced(engine, edited, NOW) != 0  # edited: anything_due syncs it
    assert anything_due(sessions, edited, NOW)  # the source just added is due
