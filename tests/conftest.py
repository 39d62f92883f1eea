"""Shared fixtures: a fresh database per test (SQLite file, or a new PostgreSQL database
when VEILLE_TEST_POSTGRES_URL points to a server), settings built for it, and the path of
the third-party corpora beside the repository."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from veille.config import Settings, get_settings
from veille.db.engine import make_engine, normalise_url, session_factory, upgrade

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO.parent / "shared" / "corpora"


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One cache of the default theme model per test session, never the user's own."""
    path = tmp_path_factory.mktemp("cache")
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(path)
    yield path
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use a database are marked `db`; CI reruns on PostgreSQL those also marked
    `postgres` (their behaviour depends on the database), so the budget goes where a
    difference between the two backends can show."""
    for item in items:
        if "db_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


@pytest.fixture
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.skip(f"third-party corpora not found at {CORPORA} (../shared is absent)")
    return CORPORA


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    admin = os.environ.get("VEILLE_TEST_POSTGRES_URL")
    if not admin:
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    name = f"veille_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(normalise_url(admin), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = admin.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return get_settings(
        database_url=db_url,
        config_file=tmp_path / "feeds.yaml",
        allow_private_networks=True,
        per_host_delay=0.0,
        per_host_concurrency=4,
        fetch_timeout=10.0,
        extract_workers=1,
    )


@pytest.fixture
def sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()
