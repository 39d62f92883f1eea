"""Engines, sessions and schema upgrades.

SQLite gets WAL (readers never block the collector), foreign keys, a busy timeout,
`synchronous=FULL` (a commit survives a power loss: the sending ledger must not resend, an
unsubscribe must not come back; measured cost in benchmarks/README.md) and
`secure_delete=ON` (erased members' bytes are overwritten, not left in free pages);
PostgreSQL URLs are routed to psycopg 3. Upgrades run Alembic programmatically so
`veille run` and `veille collect` can bring an empty or old database up to date themselves.

Importing this module imports no SQLAlchemy (each function imports what it uses): cron's
nothing-due `veille collect` on SQLite reads `HEAD_REVISION` and applies `_sqlite_pragmas`
on the stdlib driver (`db/quick_due.py`), without SQLAlchemy's ~0.25 s of imports.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from veille.errors import DatabaseError
from veille.paths import resource_dir

if TYPE_CHECKING:  # the ORM comes with the first session: a nothing-due check needs none
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://) and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# What `sqlite3.connect` is given, by the engine and by `db/quick_due.py`.
SQLITE_CONNECT_ARGS: dict[str, Any] = {"check_same_thread": False, "timeout": 30}


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """Build an engine, turning a malformed URL into one clear sentence."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    url = normalise_url(url)
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(url, connect_args=SQLITE_CONNECT_ARGS)
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise DatabaseError(f"Invalid database URL '{_redact(url)}': {exc}.") from None
    return engine


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable>"


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that bump the data version with any write the archive shows."""
    from sqlalchemy.orm import sessionmaker

    from veille.db.data_version import watch

    return watch(sessionmaker(engine, expire_on_commit=False))


class LazySessions:
    """`session_factory(engine)`, made by the first call: a `veille collect --all` whose
    feeds all answer 304 claims its sources on a Core connection and hands every host its
    first request before any session is needed, so importing the ORM (~0.1 s of CPU) is
    paid in the main thread during the per-host spacing, where it idles, instead of
    before the first request."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._factory: sessionmaker[Session] | None = None

    def __call__(self) -> Session:
        if self._factory is None:
            self._factory = session_factory(self.engine)
        return self._factory()


@contextmanager
def transaction(factory: Callable[[], Session]) -> Iterator[Session]:
    """A session whose work is committed together or not at all (`factory`: a
    `sessionmaker`, or `LazySessions`)."""
    with factory() as session, session.begin():
        yield session


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resource_dir("alembic")))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


# The newest migration (tests/test_db_schema.py checks it against Alembic's head): a
# database already there is recognised with one query, without importing Alembic (~0.2 s
# at the start of every command, a tenth of a cycle in which no feed changed).
HEAD_REVISION = "0014e"
AT_HEAD = "SELECT version_num FROM alembic_version"


def _at_head(engine: Engine) -> bool:
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.connect() as conn:
            found = conn.execute(text(AT_HEAD)).scalar()
    except SQLAlchemyError:
        return False  # no such table yet, or no database: the full path says which
    return found == HEAD_REVISION


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to call on every start."""
    if revision == "head" and _at_head(engine):
        return
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from alembic import command

    cfg = _alembic_config(engine)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except OperationalError as exc:
        raise DatabaseError(
            f"Cannot open database '{_redact(str(engine.url))}': {exc.orig}."
        ) from None
    except SQLAlchemyError as exc:
        raise DatabaseError(f"Database upgrade failed: {exc}.") from None


# Where `upgrade_apart`'s child finds the database (the environment, not its arguments:
# a PostgreSQL URL may hold a password that `ps` would show).
MIGRATE_URL_VARIABLE = "VEILLE_MIGRATE_URL"


def upgrade_apart(engine: Engine) -> None:
    """`upgrade`, with Alembic run in a child process when there is anything to do.

    Alembic brings Mako and Pygments: ~10 MB of modules that a process keeps once
    imported, for one use. The collector and the scheduler (`veille collect`, `veille run`:
    the latter lives for months) bring a new or older database to head through a child
    (`veille.db.migrate`) and never hold them. An in-memory SQLite database is only the
    caller's: it is upgraded in-process."""
    if _at_head(engine):
        return
    if engine.url.get_backend_name() == "sqlite" and engine.url.database in (None, "", ":memory:"):
        upgrade(engine)
        return
    url = engine.url.render_as_string(hide_password=False)
    import subprocess  # (not for cron's nothing-due `veille collect`, which never migrates)

    done = subprocess.run(
        [sys.executable, "-m", "veille.db.migrate"],
        env={**os.environ, MIGRATE_URL_VARIABLE: url},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        said = done.stderr.strip().splitlines()
        raise DatabaseError(said[-1] if said else f"Database upgrade failed ({done.returncode}).")


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def table_names(engine: Engine) -> list[str]:
    from sqlalchemy import inspect

    return inspect(engine).get_table_names()
