"""Shared fixtures: a fresh database per test (SQLite file, or a new PostgreSQL database
when VEILLE_TEST_POSTGRES_URL points to a server), settings built for it, and the path of
the third-party corpora beside the repository.

The suite runs in parallel (pytest-xdist, one process per worker): everything here is per
worker — its own temporary directories, its own PostgreSQL databases (uuid names) — or
shared by the whole run through an atomic write (the seed-model cache). docs/testing.md
lists what a new test must respect.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from veille.config import Settings, get_settings
from veille.db.engine import make_engine, normalise_url, session_factory, upgrade

REPO = Path(__file__).resolve().parents[1]

if os.environ.get("PYTEST_XDIST_WORKER"):
    # An xdist worker starts with COLUMNS=80 and LINES=24 in its environment, which a rich
    # Console built at import (veille.cli.common) freezes as its width; a serial run has
    # neither, so the CLI's width follows the COLUMNS a test passes (tests/test_source_errors).
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)
CORPORA = REPO.parent / "shared" / "corpora"


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One cache of the default theme model per test run, never the user's own.

    Under xdist each worker has its own base temporary directory inside the run's; the
    cache sits in the run's, so a model trained by one worker is loaded by the others
    (default_model() writes it under a temporary name, then renames it: a reader never
    sees half a file, two writers never mix their bytes)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    path = root / "cache"
    path.mkdir(exist_ok=True)
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(path)
    yield path
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old


@pytest.fixture(scope="session")
def seed_model(model_cache: Path) -> Path:
    """The default theme model, trained into the run's cache before the test starts `veille`
    processes: their cycles then load it (0.1 s) instead of each training it (~16 s).
    Use it (`pytest.mark.usefixtures("seed_model")`) in a test whose subprocesses collect."""
    from veille.classify.classifier import default_model

    default_model()
    return model_cache


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


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated to head once per session (per xdist worker), copied by `db_url`
    for every test that uses `sessions`: running the migrations costs ~0.5-0.8 s a test,
    a copy ~10 ms. A SQLite file (the path is yielded), or a PostgreSQL database used as a
    `CREATE DATABASE … TEMPLATE` (the name is yielded; nothing else ever connects to it,
    as PostgreSQL requires of a template). The migrations themselves still run from an
    empty database here, and in the tests that call `upgrade` on a bare `db_url`."""
    admin = os.environ.get("VEILLE_TEST_POSTGRES_URL")
    if not admin:
        path = tmp_path_factory.mktemp("template") / "head.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        engine.dispose()  # the last connection closed checkpoints the WAL into the file
        yield str(path)
        return
    name = f"veille_template_{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(normalise_url(admin), isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(f"{admin.rsplit('/', 1)[0]}/{name}")
    try:
        upgrade(engine)
        engine.dispose()
        yield name
    finally:
        engine.dispose()
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own for the test — or, when the test uses `sessions`, a
    copy of `migrated_template` (the schema `sessions` would migrate it to anyway)."""
    template = (
        str(request.getfixturevalue("migrated_template"))
        if "sessions" in request.fixturenames
        else None
    )
    admin = os.environ.get("VEILLE_TEST_POSTGRES_URL")
    if not admin:
        path = tmp_path / "test.db"
        if template is not None:
            shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    name = f"veille_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(normalise_url(admin), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        copy = f' TEMPLATE "{template}"' if template is not None else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
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
    upgrade(engine)  # already at head (db_url copied the template): a version check
    yield session_factory(engine)
    engine.dispose()
