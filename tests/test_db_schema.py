"""The migrations and the ORM agree, and upgrading is idempotent on both backends."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from veille.db import fulltext
from veille.db.engine import current_revision, make_engine, table_names, upgrade
from veille.db.tables import Base

pytestmark = pytest.mark.postgres  # behaviour depends on the database: CI reruns it on PostgreSQL


def test_upgrade_twice_and_no_drift(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) is not None
    assert {"sources", "articles", "article_links", "stories", "article_themes"} <= set(
        table_names(engine)
    )
    with engine.connect() as conn:
        # The full-text machinery of migration 0003 is hand-made and not in the ORM.
        context = MigrationContext.configure(conn, opts={"include_name": fulltext.include_name})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], diff
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


def test_bad_database_url_is_one_sentence() -> None:
    import pytest

    from veille.errors import DatabaseError

    with pytest.raises(DatabaseError, match="Invalid database URL"):
        make_engine("nosuchdb://x")
    engine = make_engine("sqlite:////nonexistent-dir/sub/x.db")
    with pytest.raises(DatabaseError, match="Cannot open database"):
        upgrade(engine)


def test_head_revision_constant_is_alembics_head() -> None:
    """`upgrade` skips Alembic when the database is at HEAD_REVISION: it must be the head."""
    from alembic.script import ScriptDirectory

    from veille.db.engine import HEAD_REVISION, _alembic_config, make_engine

    engine = make_engine("sqlite://")
    try:
        assert ScriptDirectory.from_config(_alembic_config(engine)).get_current_head() == (
            HEAD_REVISION
        )
    finally:
        engine.dispose()
